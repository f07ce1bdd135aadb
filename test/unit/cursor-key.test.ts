import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CURSOR_KEY_MESSAGE, cursorKey } from '../../shared/adapters/crypto/cursor-key.js';
import { resetConfig } from '../../shared/config.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  resetConfig();
});

function useEnv(env: Record<string, string>) {
  process.env = { ...saved, TABLE_NAME: 't', PUBLIC_BASE_URL: 'https://notify.example.net', ...env };
  delete process.env.CREDENTIALS_LOCAL_KEY;
  delete process.env.CREDENTIALS_KMS_KEY_ID;
  delete process.env.CURSOR_MAC_KEY_ID;
  Object.assign(process.env, env);
  resetConfig();
}

describe('the list-cursor signing key', () => {
  it('on AWS is the KMS HMAC of a fixed message, asked for once per process', async () => {
    useEnv({ CREDENTIALS_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:111122223333:key/creds', CURSOR_MAC_KEY_ID: 'arn:aws:kms:eu-west-1:111122223333:key/cursor' });
    const kms = mockClient(KMSClient);
    kms.on(GenerateMacCommand).resolves({ Mac: new Uint8Array(32).fill(7) });
    const client = new KMSClient({ region: 'eu-west-1' });
    const first = await cursorKey(() => client);
    const second = await cursorKey(() => client);
    expect(first).toEqual(Buffer.alloc(32, 7));
    expect(second).toBe(first);
    expect(kms.commandCalls(GenerateMacCommand)).toHaveLength(1);
    expect(kms.commandCalls(GenerateMacCommand)[0]!.args[0].input).toEqual({
      KeyId: 'arn:aws:kms:eu-west-1:111122223333:key/cursor',
      MacAlgorithm: 'HMAC_SHA_256',
      Message: Buffer.from(CURSOR_KEY_MESSAGE, 'utf8'),
    });
    kms.restore();
  });

  it('asks KMS again after a failed first attempt, rather than failing every list until a restart', async () => {
    useEnv({ CREDENTIALS_KMS_KEY_ID: 'k', CURSOR_MAC_KEY_ID: 'cursor-key' });
    const kms = mockClient(KMSClient);
    kms.on(GenerateMacCommand).rejectsOnce(new Error('throttled')).resolves({ Mac: new Uint8Array(32).fill(1) });
    const client = new KMSClient({ region: 'eu-west-1' });
    await expect(cursorKey(() => client)).rejects.toThrow(/throttled/);
    expect(await cursorKey(() => client)).toEqual(Buffer.alloc(32, 1));
    kms.restore();
  });

  it('locally derives a 32-byte key from the local credentials key, the same in every process', async () => {
    useEnv({ CREDENTIALS_LOCAL_KEY: Buffer.alloc(32, 3).toString('base64') });
    const a = await cursorKey();
    resetConfig();
    const b = await cursorKey();
    expect(a).toHaveLength(32);
    expect(b.equals(a)).toBe(true);
    expect(a.equals(Buffer.alloc(32, 3))).toBe(false); // derived, not the credentials key itself
  });
});
