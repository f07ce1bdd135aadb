import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import { chunks } from '../../domain/chunks.js';
import { documentClient } from './client.js';

const BATCH_SIZE = 100;
const MAX_ROUNDS = 8;

/**
 * Reads items 100 keys to a request, retrying unprocessed keys with backoff; missing items are
 * absent. Strongly consistent unless asked otherwise (half the read units, for bulk reads that a
 * later check covers, such as a broadcast page's customers).
 */
export async function batchGet(keys: Record<string, unknown>[], options: { consistent?: boolean } = {}): Promise<Record<string, unknown>[]> {
  const table = config().TABLE_NAME;
  const found: Record<string, unknown>[] = [];
  for (const part of chunks(keys, BATCH_SIZE)) {
    let pending = part;
    for (let round = 0; pending.length > 0; round++) {
      if (round === MAX_ROUNDS) throw new Error(`DynamoDB left ${pending.length} reads unprocessed after ${MAX_ROUNDS} tries`);
      if (round > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
      const reply = await documentClient().send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: options.consistent ?? true } } }));
      found.push(...(reply.Responses?.[table] ?? []));
      pending = reply.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  return found;
}
