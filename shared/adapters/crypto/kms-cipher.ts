import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { CredentialsCipher } from '../../ports.js';

/** Gateway credentials are small (< 4 KB), so KMS encrypts them directly, bound to an encryption context. */
export function kmsCipher(keyId: string, client = new KMSClient({})): CredentialsCipher {
  return {
    async seal(plaintext, context) {
      const reply = await client.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(plaintext, 'utf8'), EncryptionContext: context }),
      );
      if (!reply.CiphertextBlob) throw new Error('KMS returned no ciphertext.');
      return `kms:v1:${Buffer.from(reply.CiphertextBlob).toString('base64')}`;
    },
    async open(sealed, context) {
      const [scheme, version, payload] = sealed.split(':');
      if (scheme !== 'kms' || version !== 'v1' || !payload) throw new Error('Credentials were not sealed by KMS.');
      const reply = await client.send(
        new DecryptCommand({ KeyId: keyId, CiphertextBlob: Buffer.from(payload, 'base64'), EncryptionContext: context }),
      );
      if (!reply.Plaintext) throw new Error('KMS returned no plaintext.');
      return Buffer.from(reply.Plaintext).toString('utf8');
    },
  };
}
