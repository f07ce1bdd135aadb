import { hkdfSync } from 'node:crypto';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { config, onConfigReset } from '../../config.js';

/** The fixed message whose MAC is the cursor key: deterministic, so every Lambda derives the same key. */
export const CURSOR_KEY_MESSAGE = 'ispnotify cursor signing key v1';
/** The same for the key that hashes one-time passwords. */
export const OTP_KEY_MESSAGE = 'ispnotify otp hashing key v1';
/** The same for the key that signs payment-link tokens and derives their link ids. */
export const PAYMENT_LINK_KEY_MESSAGE = 'ispnotify payment link key v1';

const cached = new Map<string, Promise<Buffer>>();

/**
 * The key that signs list cursors. On AWS it is the HMAC of a fixed message under a KMS HMAC key
 * (one GenerateMac per cold start; only holders of that key can compute it); locally it is derived
 * from the local credentials key with HKDF. Never from anything a request sends.
 */
export function cursorKey(kms: () => KMSClient = () => new KMSClient({})): Promise<Buffer> {
  return derivedKey(CURSOR_KEY_MESSAGE, kms);
}

/** The key OTP codes are hashed with (HMAC), derived like the cursor key under its own message. */
export function otpKey(kms: () => KMSClient = () => new KMSClient({})): Promise<Buffer> {
  return derivedKey(OTP_KEY_MESSAGE, kms);
}

/** The key payment-link tokens are signed with (shared/domain/payment-token.ts), derived like the cursor key under its own message. */
export function paymentLinkKey(kms: () => KMSClient = () => new KMSClient({})): Promise<Buffer> {
  return derivedKey(PAYMENT_LINK_KEY_MESSAGE, kms);
}

function derivedKey(message: string, kms: () => KMSClient): Promise<Buffer> {
  let key = cached.get(message);
  if (!key) {
    key = derive(message, kms).catch((error: unknown) => {
      cached.delete(message); // a KMS hiccup at cold start is retried on the next request
      throw error;
    });
    cached.set(message, key);
  }
  return key;
}

async function derive(message: string, kms: () => KMSClient): Promise<Buffer> {
  const env = config();
  if (env.CURSOR_MAC_KEY_ID) {
    const reply = await kms().send(
      new GenerateMacCommand({ KeyId: env.CURSOR_MAC_KEY_ID, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from(message, 'utf8') }),
    );
    if (!reply.Mac) throw new Error('KMS GenerateMac returned no MAC for the cursor key.');
    return Buffer.from(reply.Mac);
  }
  if (!env.CREDENTIALS_LOCAL_KEY) throw new Error('Set CURSOR_MAC_KEY_ID (AWS) or CREDENTIALS_LOCAL_KEY (local) to sign list cursors.');
  return Buffer.from(hkdfSync('sha256', Buffer.from(env.CREDENTIALS_LOCAL_KEY, 'base64'), Buffer.alloc(0), message, 32));
}

onConfigReset(() => {
  cached.clear();
});
