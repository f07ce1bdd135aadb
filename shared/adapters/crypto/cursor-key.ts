import { hkdfSync } from 'node:crypto';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { config, onConfigReset } from '../../config.js';

/** The fixed message whose MAC is the cursor key: deterministic, so every Lambda derives the same key. */
export const CURSOR_KEY_MESSAGE = 'ispnotify cursor signing key v1';

let cached: Promise<Buffer> | undefined;

/**
 * The key that signs list cursors. On AWS it is the HMAC of a fixed message under a KMS HMAC key
 * (one GenerateMac per cold start; only holders of that key can compute it); locally it is derived
 * from the local credentials key with HKDF. Never from anything a request sends.
 */
export function cursorKey(kms: () => KMSClient = () => new KMSClient({})): Promise<Buffer> {
  cached ??= derive(kms).catch((error: unknown) => {
    cached = undefined; // a KMS hiccup at cold start is retried on the next request
    throw error;
  });
  return cached;
}

async function derive(kms: () => KMSClient): Promise<Buffer> {
  const env = config();
  if (env.CURSOR_MAC_KEY_ID) {
    const reply = await kms().send(
      new GenerateMacCommand({ KeyId: env.CURSOR_MAC_KEY_ID, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from(CURSOR_KEY_MESSAGE, 'utf8') }),
    );
    if (!reply.Mac) throw new Error('KMS GenerateMac returned no MAC for the cursor key.');
    return Buffer.from(reply.Mac);
  }
  if (!env.CREDENTIALS_LOCAL_KEY) throw new Error('Set CURSOR_MAC_KEY_ID (AWS) or CREDENTIALS_LOCAL_KEY (local) to sign list cursors.');
  return Buffer.from(hkdfSync('sha256', Buffer.from(env.CREDENTIALS_LOCAL_KEY, 'base64'), Buffer.alloc(0), CURSOR_KEY_MESSAGE, 32));
}

onConfigReset(() => {
  cached = undefined;
});
