import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import { documentClient } from './client.js';

const BATCH_SIZE = 25;
const MAX_ROUNDS = 8;

/** Puts items 25 to a request, retrying what DynamoDB leaves unprocessed with backoff. */
export async function batchPut(items: Record<string, unknown>[]): Promise<void> {
  const table = config().TABLE_NAME;
  for (let start = 0; start < items.length; start += BATCH_SIZE) {
    let requests = items.slice(start, start + BATCH_SIZE).map((Item) => ({ PutRequest: { Item } }));
    for (let round = 0; requests.length > 0; round++) {
      if (round === MAX_ROUNDS) throw new Error(`DynamoDB left ${requests.length} items unprocessed after ${MAX_ROUNDS} tries`);
      if (round > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
      const reply = await documentClient().send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = (reply.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  }
}
