import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import { chunks } from '../../domain/chunks.js';
import { documentClient } from './client.js';

const BATCH_SIZE = 25;
const MAX_ROUNDS = 8;

/** Puts items 25 to a request, retrying what DynamoDB leaves unprocessed with backoff. */
export async function batchPut(items: Record<string, unknown>[]): Promise<void> {
  const table = config().TABLE_NAME;
  for (const part of chunks(items, BATCH_SIZE)) {
    let requests = part.map((Item) => ({ PutRequest: { Item } }));
    for (let round = 0; requests.length > 0; round++) {
      if (round === MAX_ROUNDS) throw new Error(`DynamoDB left ${requests.length} items unprocessed after ${MAX_ROUNDS} tries`);
      if (round > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
      const reply = await documentClient().send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = (reply.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  }
}
