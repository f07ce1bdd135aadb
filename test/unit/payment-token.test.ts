import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  PAYMENT_TOKEN_LENGTH,
  paymentLinkId,
  paymentTokenExpiry,
  readPaymentToken,
  signPaymentToken,
  verifyPaymentToken,
} from '../../shared/domain/payment-token.js';

const key = randomBytes(32);
const binding = { operatorId: 'demo', customerId: 'c-0001', billId: 'INV-2026-12' };
const now = new Date('2026-12-01T10:20:00Z');
const expiresAt = new Date('2026-12-15T00:00:00Z');
const linkId = paymentLinkId(key, 'demo', '01JF0000000000000000000000');
const token = signPaymentToken(key, { linkId, expiresAt, ...binding });

/** `text` with the character at `i` replaced by every other base64url character. */
function everyChangeAt(text: string, i: number): string[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return [...alphabet].filter((c) => c !== text[i]).map((c) => text.slice(0, i) + c + text.slice(i + 1));
}

describe('payment link tokens', () => {
  it('are base64url and at most 27 characters', () => {
    expect(PAYMENT_TOKEN_LENGTH).toBe(27);
    expect(token).toMatch(/^[A-Za-z0-9_-]{27}$/);
    const far = signPaymentToken(key, { linkId, expiresAt: new Date('2999-01-01T00:00:00Z'), operatorId: 'o'.repeat(64), customerId: 'c'.repeat(64), billId: 'b'.repeat(64) });
    expect(far.length).toBeLessThanOrEqual(27);
  });

  it('read back the link id and the expiry they were signed with', () => {
    expect(readPaymentToken(token)).toEqual({ linkId, expiresAt });
  });

  it('verify with the same key and binding before the expiry', () => {
    expect(verifyPaymentToken(key, token, binding, now)).toBe('ok');
  });

  it('round the expiry up to the next whole hour, never earlier', () => {
    const asked = new Date('2026-12-15T09:00:00.001Z');
    expect(paymentTokenExpiry(asked)).toEqual(new Date('2026-12-15T10:00:00Z'));
    const rounded = signPaymentToken(key, { linkId, expiresAt: asked, ...binding });
    expect(readPaymentToken(rounded)).toEqual({ linkId, expiresAt: new Date('2026-12-15T10:00:00Z') });
    expect(verifyPaymentToken(key, rounded, binding, new Date('2026-12-15T09:59:59Z'))).toBe('ok');
  });

  it('are expired from the expiry on', () => {
    expect(verifyPaymentToken(key, token, binding, new Date(expiresAt.getTime() - 1))).toBe('ok');
    expect(verifyPaymentToken(key, token, binding, expiresAt)).toBe('expired');
  });

  it('refuse a token with any one byte changed', () => {
    const bytes = Buffer.from(token, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const changed = Buffer.from(bytes);
        changed[i]! ^= flip;
        expect(verifyPaymentToken(key, changed.toString('base64url'), binding, now), `byte ${i} ^ ${flip}`).toBe('tampered');
      }
    }
  });

  it('refuse a token with any one character changed, the last one included', () => {
    for (let i = 0; i < token.length; i++) {
      for (const changed of everyChangeAt(token, i)) {
        expect(['tampered', 'malformed'], `${changed} (position ${i})`).toContain(verifyPaymentToken(key, changed, binding, now));
      }
    }
  });

  it('say "tampered" rather than "expired" for an altered expired token', () => {
    const bytes = Buffer.from(token, 'base64url');
    bytes[19]! ^= 1;
    expect(verifyPaymentToken(key, bytes.toString('base64url'), binding, new Date('2030-01-01T00:00:00Z'))).toBe('tampered');
  });

  it('are bound to the operator, the customer and the bill', () => {
    expect(verifyPaymentToken(key, token, { ...binding, operatorId: 'other' }, now)).toBe('tampered');
    expect(verifyPaymentToken(key, token, { ...binding, customerId: 'c-0002' }, now)).toBe('tampered');
    expect(verifyPaymentToken(key, token, { ...binding, billId: 'INV-2026-11' }, now)).toBe('tampered');
    // Fields are length-prefixed: moving a character from one to the next is another binding.
    expect(verifyPaymentToken(key, token, { operatorId: 'demo', customerId: 'c-000', billId: '1INV-2026-12' }, now)).toBe('tampered');
  });

  it('need the key they were signed with', () => {
    expect(verifyPaymentToken(randomBytes(32), token, binding, now)).toBe('tampered');
  });

  it('are malformed when not 27 base64url characters that re-encode to themselves', () => {
    for (const bad of ['', token.slice(0, 26), `${token}A`, `${token.slice(0, 26)}=`, `${token.slice(0, 26)}+`, `${token.slice(0, 20)}/${token.slice(21)}`, 'é'.repeat(27)]) {
      expect(readPaymentToken(bad), JSON.stringify(bad)).toBe('malformed');
      expect(verifyPaymentToken(key, bad, binding, now)).toBe('malformed');
    }
    // The last character carries 2 unused bits: only the canonical one is the token.
    const last = Buffer.from(token, 'base64url').toString('base64url').at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sameBits = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(readPaymentToken(token.slice(0, 26) + sameBits)).toBe('malformed');
  });

  it('are the same for the same input (a redelivered page makes the same link)', () => {
    expect(signPaymentToken(key, { linkId, expiresAt, ...binding })).toBe(token);
  });

  it('refuse a link id that is not 9 bytes and an expiry outside 24 bits of hours', () => {
    expect(() => signPaymentToken(key, { linkId: 'short', expiresAt, ...binding })).toThrow(/9 bytes/);
    expect(() => signPaymentToken(key, { linkId, expiresAt: new Date('1969-12-31T00:00:00Z'), ...binding })).toThrow(RangeError);
    expect(() => signPaymentToken(key, { linkId, expiresAt: new Date(Number.NaN), ...binding })).toThrow(RangeError);
  });
});

describe('payment link ids', () => {
  it('are 9 bytes (12 base64url characters), the same for the same operator and message', () => {
    expect(linkId).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(Buffer.from(linkId, 'base64url')).toHaveLength(9);
    expect(paymentLinkId(key, 'demo', '01JF0000000000000000000000')).toBe(linkId);
  });

  it('differ by message, by operator and by key', () => {
    expect(paymentLinkId(key, 'demo', '01JF0000000000000000000001')).not.toBe(linkId);
    expect(paymentLinkId(key, 'other', '01JF0000000000000000000000')).not.toBe(linkId);
    expect(paymentLinkId(randomBytes(32), 'demo', '01JF0000000000000000000000')).not.toBe(linkId);
  });
});
