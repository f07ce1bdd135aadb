import { hashApiKey, looksLikeApiKey } from '../domain/api-keys.js';
import { unauthorized } from '../domain/errors.js';
import type { Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';

/** Resolves `Authorization: Bearer <key>` to the one operator the key belongs to. */
export async function authenticate(d: Pick<Deps, 'operators'>, authorization: string | undefined): Promise<Operator> {
  if (!authorization) throw unauthorized('Missing Authorization header; send "Authorization: Bearer <api key>".');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthorized('The Authorization header must be "Bearer <api key>".');
  const apiKey = match[1]!;
  const operatorId = looksLikeApiKey(apiKey) ? await d.operators.operatorIdForKey(hashApiKey(apiKey)) : undefined;
  const operator = operatorId ? await d.operators.get(operatorId) : undefined;
  if (!operator) throw unauthorized('The API key is not valid.');
  return operator;
}
