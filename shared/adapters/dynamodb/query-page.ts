import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Page } from '../../ports.js';
import { documentClient } from './client.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** Query calls one page may take when a filter discards most items, once it holds at least one item. */
const MAX_QUERIES_PER_FILLED_PAGE = 8;

/**
 * One page of a key-condition Query, filled up to `limit` items even when a FilterExpression
 * drops some. The cursor is the key of the last item returned, so no item is skipped or repeated,
 * and a page with a cursor always holds at least one item (an empty page means the end).
 */
export async function queryPage<T>(
  input: QueryCommandInput & { TableName: string },
  options: {
    limit: number;
    cursor?: string;
    /** The partition key attribute and value this query is bound to (cursors are signed with it and the query). */
    partition: { attribute: string; value: string };
    /** The key attributes of an item in this query (table key plus index key when querying an index). */
    keyAttributes: string[];
    map: (item: Record<string, unknown>) => T;
  },
): Promise<Page<T>> {
  // A cursor is good for exactly the list it came from: same index, partition, key range and filters.
  const values = Object.entries(input.ExpressionAttributeValues ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  const binding = JSON.stringify([input.IndexName ?? 'table', options.partition, input.KeyConditionExpression, input.FilterExpression ?? '', values]);
  const items: Record<string, unknown>[] = [];
  let startKey = (await decodeCursor(options.cursor, binding, options.keyAttributes)) as Record<string, unknown> | undefined;
  for (let round = 0; items.length === 0 || round < MAX_QUERIES_PER_FILLED_PAGE; round++) {
    const reply = await documentClient().send(
      new QueryCommand({ ...input, ExclusiveStartKey: startKey, Limit: Math.max(options.limit - items.length, 25) }),
    );
    for (const item of reply.Items ?? []) {
      items.push(item);
      if (items.length === options.limit) {
        const moreAfter = reply.LastEvaluatedKey !== undefined || item !== reply.Items?.at(-1);
        return { items: items.map(options.map), cursor: moreAfter ? await encodeCursor(pick(item, options.keyAttributes), binding) : undefined };
      }
    }
    startKey = reply.LastEvaluatedKey;
    if (!startKey) return { items: items.map(options.map) };
  }
  return { items: items.map(options.map), cursor: await encodeCursor(pick(items.at(-1)!, options.keyAttributes), binding) };
}

export function pick(item: Record<string, unknown>, attributes: string[]): Record<string, unknown> {
  return Object.fromEntries(attributes.map((a) => [a, item[a]]));
}

/** Removes the storage attributes (keys, index keys, ttl) from an item. */
export function stripKeys<T>(item: Record<string, unknown>): T {
  const {
    pk: _pk, sk: _sk,
    gsi1pk: _g1, gsi1sk: _g2, gsi2pk: _g3, gsi2sk: _g4, gsi3pk: _g5, gsi3sk: _g6, gsi4pk: _g7, gsi4sk: _g8, gsi5pk: _g9, gsi5sk: _g10,
    ttl: _ttl, entity: _e, ...rest
  } = item;
  return rest as T;
}
