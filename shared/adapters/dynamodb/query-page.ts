import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Page } from '../../ports.js';
import { documentClient } from './client.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** How many Query calls one page may take when a filter discards most items. */
const MAX_QUERIES_PER_PAGE = 8;

/**
 * One page of a key-condition Query, filled up to `limit` items even when a FilterExpression
 * drops some. The cursor is the key of the last item returned, so no item is skipped or repeated.
 */
export async function queryPage<T>(
  input: QueryCommandInput & { TableName: string },
  options: {
    limit: number;
    cursor?: string;
    /** The partition key attribute and value this query is bound to (cursors must match it). */
    partition: { attribute: string; value: string };
    /** The key attributes of an item in this query (table key plus index key when querying an index). */
    keyAttributes: string[];
    map: (item: Record<string, unknown>) => T;
  },
): Promise<Page<T>> {
  const items: Record<string, unknown>[] = [];
  let startKey = decodeCursor(options.cursor, options.partition) as Record<string, unknown> | undefined;
  for (let round = 0; round < MAX_QUERIES_PER_PAGE; round++) {
    const reply = await documentClient().send(
      new QueryCommand({ ...input, ExclusiveStartKey: startKey, Limit: Math.max(options.limit - items.length, 25) }),
    );
    for (const item of reply.Items ?? []) {
      items.push(item);
      if (items.length === options.limit) {
        const moreAfter = reply.LastEvaluatedKey !== undefined || item !== reply.Items?.at(-1);
        return { items: items.map(options.map), cursor: moreAfter ? encodeCursor(pick(item, options.keyAttributes)) : undefined };
      }
    }
    startKey = reply.LastEvaluatedKey;
    if (!startKey) return { items: items.map(options.map) };
  }
  return { items: items.map(options.map), cursor: encodeCursor(startKey) };
}

function pick(item: Record<string, unknown>, attributes: string[]): Record<string, unknown> {
  return Object.fromEntries(attributes.map((a) => [a, item[a]]));
}

/** Removes the storage attributes (keys, index keys, ttl) from an item. */
export function stripKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ttl: _ttl, entity: _e, ...rest } = item;
  return rest as T;
}
