import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Page } from '../../ports.js';
import { batchGet } from './batch-get.js';
import { documentClient } from './client.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { pick } from './query-page.js';
import { tableDefinition } from './table.js';

/** Index Queries one page may take when `accept` discards most items, once it holds at least one item. */
const MAX_QUERIES_PER_FILLED_PAGE = 8;
/** Keys read per index Query when items are filtered in code: fewer rounds for a selective filter, few items read for nothing. */
const MIN_KEYS_PER_FILTERED_QUERY = 10;

const { partitionKey, sortKey } = tableDefinition;

/**
 * One page of a KEYS_ONLY index: Query the index for keys, BatchGetItem the items, keep those
 * `accept` takes, in index order. The promises of queryPage hold: filled up to `limit` (in a
 * bounded number of rounds once it holds an item), the cursor is the index key of the last item
 * returned, so no item is skipped or repeated, and a page with a cursor holds at least one item.
 *
 * Items are read eventually consistent (half the read units): the index itself is eventually
 * consistent, so a strongly consistent item read would promise nothing more.
 */
export async function keysThenItems<T>(
  input: Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues' | 'ScanIndexForward'> & {
    TableName: string;
    IndexName: string;
  },
  options: {
    limit: number;
    cursor?: string;
    /** The index partition key attribute and value this query is bound to (cursors are signed with it and the query). */
    partition: { attribute: string; value: string };
    /** The key attributes of an index entry: the table key plus the index key. */
    keyAttributes: string[];
    /** What to keep, applied to the items read (the index holds keys only); absent: every item. */
    accept?: (item: Record<string, unknown>) => boolean;
    /** What `accept` keeps, as data: part of the cursor's binding, so a cursor is good for one filter only. */
    filter?: unknown;
    map: (item: Record<string, unknown>) => T;
  },
): Promise<Page<T>> {
  const values = Object.entries(input.ExpressionAttributeValues ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  const binding = JSON.stringify(['keys', input.IndexName, options.partition, input.KeyConditionExpression, values, options.filter ?? null]);
  const found: { item: Record<string, unknown>; entry: Record<string, unknown> }[] = [];
  const page = () => found.map(({ item }) => options.map(item));
  let startKey = (await decodeCursor(options.cursor, binding, options.keyAttributes)) as Record<string, unknown> | undefined;
  for (let round = 0; found.length === 0 || round < MAX_QUERIES_PER_FILLED_PAGE; round++) {
    const wanted = options.limit - found.length;
    const reply = await documentClient().send(
      new QueryCommand({ ...input, ExclusiveStartKey: startKey, Limit: options.accept ? Math.max(wanted, MIN_KEYS_PER_FILTERED_QUERY) : wanted }),
    );
    const entries = reply.Items ?? [];
    const items = await batchGet(entries.map(tableKey), { consistent: false });
    const byKey = new Map(items.map((item) => [keyOf(item), item]));
    for (const entry of entries) {
      const item = byKey.get(keyOf(entry));
      // Absent: deleted after the index was read.
      if (!item || (options.accept && !options.accept(item))) continue;
      found.push({ item, entry });
      if (found.length === options.limit) {
        const moreAfter = reply.LastEvaluatedKey !== undefined || entry !== entries.at(-1);
        return { items: page(), cursor: moreAfter ? await encodeCursor(pick(entry, options.keyAttributes), binding) : undefined };
      }
    }
    startKey = reply.LastEvaluatedKey;
    if (!startKey) return { items: page() };
  }
  return { items: page(), cursor: await encodeCursor(pick(found.at(-1)!.entry, options.keyAttributes), binding) };
}

const tableKey = (entry: Record<string, unknown>) => ({ [partitionKey]: entry[partitionKey], [sortKey]: entry[sortKey] });
const keyOf = (item: Record<string, unknown>) => JSON.stringify([item[partitionKey], item[sortKey]]);
