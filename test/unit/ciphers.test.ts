import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kmsCipher } from '../../shared/adapters/crypto/kms-cipher.js';
import { localCipher } from '../../shared/adapters/crypto/local-cipher.js';

const context = { gatewayId: 'gw1', operatorId: 'op1' };

describe('local credentials cipher', () => {
  const cipher = localCipher(randomBytes(32).toString('base64'));

  it('opens what it sealed, and the sealed text does not contain the secret', async () => {
    const sealed = await cipher.seal('{"authToken":"s3cr3t-token"}', context);
    expect(sealed).not.toContain('s3cr3t');
    expect(await cipher.open(sealed, context)).toBe('{"authToken":"s3cr3t-token"}');
  });

  it('refuses to open credentials moved to another gateway', async () => {
    const sealed = await cipher.seal('secret', context);
    await expect(cipher.open(sealed, { ...context, gatewayId: 'gw2' })).rejects.toThrow();
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => localCipher(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});

describe('KMS credentials cipher', () => {
  it('encrypts with the key and the gateway as encryption context, and decrypts with the same context', async () => {
    const kms = mockClient(KMSClient);
    kms.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('CIPHERTEXT') });
    kms.on(DecryptCommand).resolves({ Plaintext: Buffer.from('plain') });
    const cipher = kmsCipher('alias/ispnotify-credentials', new KMSClient({ region: 'us-east-1' }));

    const sealed = await cipher.seal('plain', context);
    expect(sealed).toBe(`kms:v1:${Buffer.from('CIPHERTEXT').toString('base64')}`);
    expect(kms.commandCalls(EncryptCommand)[0]!.args[0].input).toEqual({
      KeyId: 'alias/ispnotify-credentials',
      Plaintext: Buffer.from('plain', 'utf8'),
      EncryptionContext: context,
    });

    expect(await cipher.open(sealed, context)).toBe('plain');
    expect(kms.commandCalls(DecryptCommand)[0]!.args[0].input).toEqual({
      KeyId: 'alias/ispnotify-credentials',
      CiphertextBlob: Buffer.from('CIPHERTEXT'),
      EncryptionContext: context,
    });
    kms.restore();
  });

  it('rejects a value that KMS did not seal', async () => {
    const cipher = kmsCipher('k', new KMSClient({ region: 'us-east-1' }));
    await expect(cipher.open('local:v1:abc', context)).rejects.toThrow(/not sealed by KMS/);
  });
});
