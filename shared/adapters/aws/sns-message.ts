/**
 * Amazon SNS messages posted to an HTTP(S) subscription: reading them and checking their signature
 * as the SNS developer guide documents ("Verifying the signatures of Amazon SNS messages").
 *
 * - The body is a JSON document whose `Type` is Notification, SubscriptionConfirmation or
 *   UnsubscribeConfirmation.
 * - The string to sign is made of some of its fields, in this order, each as "Name\nValue\n":
 *   Notification: Message, MessageId, Subject (only when present), Timestamp, TopicArn, Type;
 *   the two confirmations: Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type.
 * - `Signature` is the base64 RSA signature of that string: SignatureVersion "1" is SHA1withRSA,
 *   "2" is SHA256withRSA.
 * - The public key is in the X.509 certificate at `SigningCertURL`. That URL comes from the
 *   (not yet verified) message, so it is fetched only over https from an SNS host
 *   (sns.<region>.amazonaws.com, or .amazonaws.com.cn in China); anything else is refused without
 *   a request. Certificates are cached per URL (a bounded map), so a burst of receipts costs one fetch.
 * - A message must also come from the topic the caller expects (`TopicArn`), or anyone with an
 *   SNS topic of their own could post validly signed messages to our endpoint.
 */
import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { ProviderUnavailable } from '../../domain/errors.js';

/** The hosts SNS serves its signing certificates from. */
export const SNS_CERTIFICATE_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

export interface SnsMessage {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  /** Confirmations only. */
  SubscribeURL?: string;
  Token?: string;
  /** Notifications only. */
  UnsubscribeURL?: string;
}

const TYPES: ReadonlySet<string> = new Set(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']);
const REQUIRED = ['Type', 'MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'] as const;
const OPTIONAL = ['Subject', 'SubscribeURL', 'Token', 'UnsubscribeURL'] as const;

/** A body larger than this is not an SNS message (SNS messages are at most 256 KB, plus the envelope). */
const MAX_BODY_CHARS = 400 * 1024;

/**
 * The SNS message in an HTTP body, or undefined when it is not one (not JSON, an unknown Type, a
 * required field missing or not a string). Nothing is verified here.
 */
export function parseSnsMessage(rawBody: string): SnsMessage | undefined {
  if (typeof rawBody !== 'string' || rawBody.length > MAX_BODY_CHARS) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const record = json as Record<string, unknown>;
  const message: Record<string, string> = {};
  for (const name of REQUIRED) {
    const value = record[name];
    if (typeof value !== 'string') return undefined;
    message[name] = value;
  }
  for (const name of OPTIONAL) {
    const value = record[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') return undefined;
    message[name] = value;
  }
  if (!TYPES.has(message.Type!)) return undefined;
  return message as unknown as SnsMessage;
}

/** The documented string to sign for `message`, or undefined when a field it needs is missing. */
export function snsStringToSign(message: SnsMessage): string | undefined {
  const names =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', ...(message.Subject !== undefined ? ['Subject'] : []), 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  let text = '';
  for (const name of names) {
    const value = (message as unknown as Record<string, unknown>)[name];
    if (typeof value !== 'string') return undefined;
    text += `${name}\n${value}\n`;
  }
  return text;
}

/** Whether `url` may be fetched as an SNS signing certificate: https, an SNS host, no credentials or port. */
export function isSnsCertificateUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === 'https:' &&
    parsed.username === '' &&
    parsed.password === '' &&
    parsed.port === '' &&
    SNS_CERTIFICATE_HOST.test(parsed.hostname) &&
    parsed.pathname.toLowerCase().endsWith('.pem')
  );
}

const SIGNATURE_ALGORITHMS: Record<string, string> = { '1': 'RSA-SHA1', '2': 'RSA-SHA256' };

/** At most this many certificates are kept; SNS uses a handful (one per region and rotation). */
const CERTIFICATE_CACHE_LIMIT = 32;
const CERTIFICATE_FETCH_TIMEOUT_MS = 5_000;
const MAX_CERTIFICATE_CHARS = 16 * 1024;

/** url → the certificate's public key (or the fetch under way), least recently used first. */
const certificates = new Map<string, Promise<KeyObject | undefined>>();

/** Forgets every cached certificate (tests; a rotated certificate comes under a new URL anyway). */
export function clearSnsCertificateCache(): void {
  certificates.clear();
}

/**
 * The public key in a PEM document: an X.509 certificate (refused when outside its validity
 * period) or, for tests and tooling, a bare public key. Undefined when it is neither.
 */
function publicKeyOf(pem: string, now: Date): KeyObject | undefined {
  try {
    const certificate = new X509Certificate(pem);
    const validFrom = Date.parse(certificate.validFrom);
    const validTo = Date.parse(certificate.validTo);
    if (!Number.isNaN(validFrom) && now.getTime() < validFrom) return undefined;
    if (!Number.isNaN(validTo) && now.getTime() > validTo) return undefined;
    return certificate.publicKey;
  } catch {
    // Not a certificate: perhaps a PEM public key.
  }
  try {
    const key = createPublicKey(pem);
    return key.type === 'public' ? key : undefined;
  } catch {
    return undefined;
  }
}

async function fetchPublicKey(url: string, fetchFn: typeof fetch, now: Date): Promise<KeyObject | undefined> {
  let response: Response;
  let text: string;
  try {
    response = await fetchFn(url, { method: 'GET', redirect: 'error', signal: AbortSignal.timeout(CERTIFICATE_FETCH_TIMEOUT_MS) });
    text = await response.text();
  } catch (error) {
    throw new ProviderUnavailable(
      `Could not fetch the SNS signing certificate from ${new URL(url).host}: ${error instanceof Error ? error.message : String(error)}`,
      'sns-certificate',
    );
  }
  if (response.status >= 500 || response.status === 429) {
    throw new ProviderUnavailable(`The SNS signing certificate host ${new URL(url).host} answered HTTP ${response.status}.`, 'sns-certificate');
  }
  if (response.status !== 200 || text.length > MAX_CERTIFICATE_CHARS) return undefined;
  return publicKeyOf(text, now);
}

/** The public key at `url`, from the cache or fetched (a failed fetch is not cached). */
async function signingKey(url: string, fetchFn: typeof fetch, now: Date): Promise<KeyObject | undefined> {
  const cached = certificates.get(url);
  if (cached) {
    certificates.delete(url);
    certificates.set(url, cached);
    return cached;
  }
  const pending = fetchPublicKey(url, fetchFn, now);
  certificates.set(url, pending);
  while (certificates.size > CERTIFICATE_CACHE_LIMIT) {
    const oldest = certificates.keys().next().value;
    if (oldest === undefined) break;
    certificates.delete(oldest);
  }
  try {
    const key = await pending;
    if (!key && certificates.get(url) === pending) certificates.delete(url);
    return key;
  } catch (error) {
    if (certificates.get(url) === pending) certificates.delete(url);
    throw error;
  }
}

export interface SnsVerifyOptions {
  /** Used only for the signing certificate, and only for an https SNS host. */
  fetch: typeof fetch;
  /** The topic the message must come from; a message from any other topic is refused. */
  expectedTopicArn: string;
  /** For the certificate's validity period. */
  now?: Date;
}

/**
 * Whether `message` (a parsed SNS message, or the raw HTTP body) is a message SNS signed, from the
 * expected topic. False for anything refused; throws ProviderUnavailable only when the signing
 * certificate could not be fetched for a passing reason (network, 5xx), so the caller answers an
 * error SNS retries.
 */
export async function verifySnsMessage(message: SnsMessage | string, options: SnsVerifyOptions): Promise<boolean> {
  const parsed = typeof message === 'string' ? parseSnsMessage(message) : message;
  if (!parsed) return false;
  if (!options.expectedTopicArn || parsed.TopicArn !== options.expectedTopicArn) return false;
  const algorithm = SIGNATURE_ALGORITHMS[parsed.SignatureVersion];
  if (!algorithm) return false;
  if (!isSnsCertificateUrl(parsed.SigningCertURL)) return false;
  const stringToSign = snsStringToSign(parsed);
  if (stringToSign === undefined) return false;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(parsed.Signature)) return false;
  const signature = Buffer.from(parsed.Signature, 'base64');
  if (signature.length === 0) return false;

  const key = await signingKey(parsed.SigningCertURL, options.fetch, options.now ?? new Date());
  if (!key) return false;
  try {
    return verify(algorithm, Buffer.from(stringToSign, 'utf8'), key, signature);
  } catch {
    return false;
  }
}
