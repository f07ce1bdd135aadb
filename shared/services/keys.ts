/** API keys with roles: made by an operator's admin (or the platform), shown once, stored only hashed. */
import { generateApiKey, hashApiKey } from '../domain/api-keys.js';
import { invalid, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Deps } from '../deps.js';
import type { ApiKeyRecord, Role } from '../ports.js';

export interface NewKey {
  role: Role;
  label: string;
  resellerId?: string;
}

/** Makes a key for `ownerId` (an operator, or PLATFORM_OWNER) and answers it once with its record. */
export async function createKey(d: Pick<Deps, 'operators' | 'clock'>, ownerId: string, input: NewKey): Promise<{ apiKey: string; record: ApiKeyRecord }> {
  if (input.role === 'reseller' && !input.resellerId) throw invalid('A reseller key names its reseller.', [{ field: 'resellerId', message: 'is required for role reseller' }]);
  if (input.role !== 'reseller' && input.resellerId) throw invalid('Only reseller keys have a resellerId.', [{ field: 'resellerId', message: 'is for role reseller only' }]);
  const apiKey = generateApiKey();
  const record: ApiKeyRecord = {
    id: newId(d.clock.now()),
    ownerId,
    role: input.role,
    ...(input.resellerId ? { resellerId: input.resellerId } : {}),
    label: input.label,
    last4: apiKey.slice(-4),
    createdAt: d.clock.now().toISOString(),
  };
  await d.operators.putKey(hashApiKey(apiKey), record);
  return { apiKey, record };
}

/** The API's view: never the key, only its last four characters. */
export const keyView = (record: ApiKeyRecord) => ({
  id: record.id,
  role: record.role,
  ...(record.resellerId ? { resellerId: record.resellerId } : {}),
  label: record.label,
  key: `isk_…${record.last4}`,
  createdAt: record.createdAt,
});

export async function deleteKey(d: Pick<Deps, 'operators'>, ownerId: string, keyId: string): Promise<void> {
  if (!(await d.operators.deleteKey(ownerId, keyId))) throw notFound(`API key "${keyId}"`);
}
