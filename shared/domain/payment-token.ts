/**
 * The token of a personal payment link (`<base>/p/<token>`): 20 bytes, 27 base64url characters.
 *
 *   bytes 0-8    link id (the PaymentLink record's key; see paymentLinkId)
 *   bytes 9-11   expiry, whole hours since the Unix epoch, big-endian (24 bits: until the year 3883)
 *   bytes 12-19  the first 8 bytes of HMAC-SHA256(key, "token:" ‖ bytes 0-11 ‖ operatorId ‖ customerId ‖ billId)
 *
 * The MAC binds the token to its operator, customer and bill (stored on the link, never read from the
 * token), so a token cannot be moved to another bill. Hours keep the expiry to 3 bytes; a link
 * expires at the end of the hour its expiry falls in, never earlier.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const LINK_ID_BYTES = 9;
const EXPIRY_BYTES = 3;
const MAC_BYTES = 8;
const TOKEN_BYTES = LINK_ID_BYTES + EXPIRY_BYTES + MAC_BYTES;
/** 20 bytes in base64url without padding. */
export const PAYMENT_TOKEN_LENGTH = Math.ceil((TOKEN_BYTES * 8) / 6);
const HOUR_MS = 60 * 60 * 1000;
const MAX_HOURS = 2 ** (EXPIRY_BYTES * 8) - 1;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** What the MAC binds a token to: the link's stored owner, customer and bill. */
export interface PaymentTokenBinding {
  operatorId: string;
  customerId: string;
  billId: string;
}

export interface PaymentTokenInput extends PaymentTokenBinding {
  linkId: string;
  expiresAt: Date;
}

export interface PaymentTokenContents {
  linkId: string;
  expiresAt: Date;
}

export type PaymentTokenCheck = 'ok' | 'tampered' | 'expired' | 'malformed';

/**
 * The link id of a message's payment link: the first 9 bytes of HMAC(key, "link:<operator>:<message>"),
 * 12 base64url characters. Deterministic, so a redelivered broadcast page makes the same link.
 */
export function paymentLinkId(key: Uint8Array, operatorId: string, messageId: string): string {
  return createHmac('sha256', key).update(`link:${operatorId}:${messageId}`, 'utf8').digest().subarray(0, LINK_ID_BYTES).toString('base64url');
}

/** The expiry a token can carry for `expiresAt`: rounded up to the next whole hour. */
export function paymentTokenExpiry(expiresAt: Date): Date {
  return new Date(expiryHours(expiresAt) * HOUR_MS);
}

export function signPaymentToken(key: Uint8Array, input: PaymentTokenInput): string {
  const linkId = decodeCanonical(input.linkId);
  if (!linkId || linkId.length !== LINK_ID_BYTES) throw new Error(`A payment link id is ${LINK_ID_BYTES} bytes in base64url; got "${input.linkId}".`);
  const head = Buffer.alloc(LINK_ID_BYTES + EXPIRY_BYTES);
  linkId.copy(head, 0);
  head.writeUIntBE(expiryHours(input.expiresAt), LINK_ID_BYTES, EXPIRY_BYTES);
  return Buffer.concat([head, mac(key, head, input)]).toString('base64url');
}

/** The link id and expiry a token claims (unverified: look the link up, then verifyPaymentToken). */
export function readPaymentToken(token: string): PaymentTokenContents | 'malformed' {
  const bytes = tokenBytes(token);
  if (!bytes) return 'malformed';
  return {
    linkId: bytes.subarray(0, LINK_ID_BYTES).toString('base64url'),
    expiresAt: new Date(bytes.readUIntBE(LINK_ID_BYTES, EXPIRY_BYTES) * HOUR_MS),
  };
}

/** The MAC first, so an expired token that was also altered says nothing about its expiry. */
export function verifyPaymentToken(key: Uint8Array, token: string, binding: PaymentTokenBinding, now: Date): PaymentTokenCheck {
  const bytes = tokenBytes(token);
  if (!bytes) return 'malformed';
  const head = bytes.subarray(0, LINK_ID_BYTES + EXPIRY_BYTES);
  if (!timingSafeEqual(bytes.subarray(LINK_ID_BYTES + EXPIRY_BYTES), mac(key, head, binding))) return 'tampered';
  const expiresAt = bytes.readUIntBE(LINK_ID_BYTES, EXPIRY_BYTES) * HOUR_MS;
  return now.getTime() >= expiresAt ? 'expired' : 'ok';
}

function expiryHours(expiresAt: Date): number {
  const hours = Math.ceil(expiresAt.getTime() / HOUR_MS);
  if (!Number.isFinite(hours) || hours < 0 || hours > MAX_HOURS) throw new RangeError(`A payment link cannot expire at ${String(expiresAt)}.`);
  return hours;
}

/** Length-prefixed fields: ("ab", "c") and ("a", "bc") must not give the same MAC. */
function mac(key: Uint8Array, head: Buffer, binding: PaymentTokenBinding): Buffer {
  const hmac = createHmac('sha256', key).update('token:', 'utf8').update(head);
  for (const field of [binding.operatorId, binding.customerId, binding.billId]) {
    const bytes = Buffer.from(field, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hmac.update(length).update(bytes);
  }
  return hmac.digest().subarray(0, MAC_BYTES);
}

function tokenBytes(token: string): Buffer | undefined {
  if (token.length !== PAYMENT_TOKEN_LENGTH) return undefined;
  const bytes = decodeCanonical(token);
  return bytes?.length === TOKEN_BYTES ? bytes : undefined;
}

/**
 * base64url that re-encodes to the same text. Node ignores the unused low bits of the last
 * character, so without this check two different tokens would read as the same bytes.
 */
function decodeCanonical(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}
