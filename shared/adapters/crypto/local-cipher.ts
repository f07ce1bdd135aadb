import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CredentialsCipher } from '../../ports.js';

/**
 * AES-256-GCM with a key kept on the laptop (under .data/). The encryption context is bound as
 * additional authenticated data, as KMS does, so a sealed value cannot be moved to another gateway.
 */
export function localCipher(base64Key: string): CredentialsCipher {
  const keyBytes = Buffer.from(base64Key, 'base64');
  if (keyBytes.length !== 32) throw new Error('CREDENTIALS_LOCAL_KEY must be 32 bytes, base64-encoded.');
  const aad = (context: Record<string, string>) => Buffer.from(JSON.stringify(Object.entries(context).sort()));
  return {
    async seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keyBytes, iv);
      cipher.setAAD(aad(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `local:v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    async open(sealed, context) {
      const [scheme, version, payload] = sealed.split(':');
      if (scheme !== 'local' || version !== 'v1' || !payload) throw new Error('Credentials were not sealed by the local cipher.');
      const bytes = Buffer.from(payload, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', keyBytes, bytes.subarray(0, 12));
      decipher.setAAD(aad(context));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}
