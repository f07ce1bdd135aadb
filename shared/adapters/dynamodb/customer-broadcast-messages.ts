/**
 * A customer's broadcast messages, found without a customer-index (gsi4) entry of their own: that
 * entry would cost one more write unit per message, a third of its create. A broadcast message's id
 * derives from (broadcast, customer) (domain/broadcast-ids.ts), so the customer's message of each
 * broadcast is read by key; a key not found means the customer was not in that broadcast's audience.
 *
 * The broadcasts come from their own keys-only gsi4 entries (OP#<op>#BCASTS / <message prefix>#<id>,
 * written once, when a broadcast takes its prefix), in the order of their messages' ids. Not the
 * broadcasts' own keys: those sort by broadcast id, and a scheduled broadcast or a reminder run (whose
 * id is its day's) takes its message prefix later, or earlier, than its id says.
 *
 * A message that has gsi4 keys (written before broadcast messages left the index) is skipped here:
 * the index lists it.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../../config.js';
import { broadcastMessageId } from '../../domain/broadcast-ids.js';
import { batchGet } from './batch-get.js';
import { documentClient } from './client.js';
import { key } from './table.js';

/** Broadcast entries read per index Query. */
const ENTRIES_PER_QUERY = 100;
/** Index Queries a history page may take once it holds an item (as keysThenItems). */
const MAX_QUERIES_PER_FILLED_PAGE = 8;
const PREFIX_LENGTH = 10;
/** The lowest id with a given time prefix. */
const lowestIdOf = (prefix: string) => `${prefix}${'0'.repeat(26 - PREFIX_LENGTH)}`;

interface Started {
  prefix: string;
  broadcastId: string;
}

/** The index keys of a started broadcast: written once, with the prefix its messages' ids start with. */
export const startedBroadcastKeys = (operatorId: string, broadcastId: string, messagePrefix: string) => ({
  gsi4pk: key.startedBroadcastsIndex(operatorId),
  gsi4sk: key.startedBroadcastSort(messagePrefix, broadcastId),
});

/**
 * The started broadcasts whose prefix is in [low, high], newest first, one batch per index Query.
 * A batch ends with a whole prefix (broadcasts started in the same millisecond, such as a reminder
 * run's steps, may straddle two Queries: those of the last prefix wait for the next), so after each
 * batch every broadcast from the batch's last prefix up is known.
 */
async function* startedBroadcasts(operatorId: string, low: string, high: string): AsyncGenerator<{ batch: Started[]; more: boolean }> {
  let startKey: Record<string, unknown> | undefined;
  let held: Started[] = [];
  do {
    const reply = await documentClient().send(
      new QueryCommand({
        TableName: config().TABLE_NAME,
        IndexName: 'gsi4',
        // "~" sorts after the "#" that follows the prefix: every broadcast of the high prefix is in.
        KeyConditionExpression: 'gsi4pk = :p AND gsi4sk BETWEEN :low AND :high',
        ExpressionAttributeValues: { ':p': key.startedBroadcastsIndex(operatorId), ':low': low, ':high': `${high}~` },
        ScanIndexForward: false,
        Limit: ENTRIES_PER_QUERY,
        ExclusiveStartKey: startKey,
      }),
    );
    startKey = reply.LastEvaluatedKey;
    const entries = [...held, ...(reply.Items ?? []).map(parseEntry)];
    const last = startKey ? entries.at(-1)?.prefix : undefined;
    held = entries.filter((e) => e.prefix === last);
    yield { batch: entries.filter((e) => e.prefix !== last), more: startKey !== undefined };
  } while (startKey);
}

function parseEntry(item: Record<string, unknown>): Started {
  const sort = String(item.gsi4sk);
  return { prefix: sort.slice(0, PREFIX_LENGTH), broadcastId: sort.slice(PREFIX_LENGTH + 1) };
}

/** The customer's messages of these broadcasts that are not in gsi4: derived keys read, absent ones not theirs. */
async function customerItems(
  operatorId: string,
  customerId: string,
  batch: Started[],
  keep: (id: string) => boolean,
  consistent: boolean,
): Promise<Record<string, unknown>[]> {
  const ids = batch.map((b) => broadcastMessageId(b.prefix, b.broadcastId, customerId)).filter(keep);
  const items = await batchGet(ids.map((id) => key.message(operatorId, id)), { consistent });
  return items.filter((item) => item.customerId === customerId && item.gsi4pk === undefined);
}

/**
 * The customer's broadcast messages with ids in [lowest, highest] (and below `before`) that `accept`
 * takes, for one page of their history. Walks the broadcasts newest first and stops once it holds
 * `want` items, or after a bounded number of Queries once the page holds an item (one of these, or
 * `above`: the other side's newest). `floor`: what is known is every such message with an id from
 * it up; absent, every one down to `lowest`.
 */
export async function customerBroadcastMessages(
  operatorId: string,
  customerId: string,
  range: { lowest: string; highest: string; before?: string },
  options: { want: number; accept: (item: Record<string, unknown>) => boolean; above?: string },
): Promise<{ items: Record<string, unknown>[]; floor?: string }> {
  const { lowest, highest, before } = range;
  const inRange = (id: string) => id >= lowest && id <= highest && (before === undefined || id < before);
  const top = (before !== undefined && before < highest ? before : highest).slice(0, PREFIX_LENGTH);
  const found: Record<string, unknown>[] = [];
  let queries = 0;
  for await (const { batch, more } of startedBroadcasts(operatorId, lowest.slice(0, PREFIX_LENGTH), top)) {
    queries++;
    if (batch.length > 0) found.push(...(await customerItems(operatorId, customerId, batch, inRange, false)).filter(options.accept));
    if (!more) break;
    if (batch.length === 0) continue;
    const floor = lowestIdOf(batch.at(-1)!.prefix);
    const holdsOne = found.length > 0 || (options.above !== undefined && options.above >= floor);
    if (found.length >= options.want || (queries >= MAX_QUERIES_PER_FILLED_PAGE && holdsOne)) return { items: found, floor };
  }
  return { items: found };
}

/** Every message of the customer's among all the operator's broadcasts (not in gsi4), a page at a time: for erasure. */
export async function* customerBroadcastMessageIds(operatorId: string, customerId: string): AsyncGenerator<string[]> {
  for await (const { batch } of startedBroadcasts(operatorId, '0'.repeat(PREFIX_LENGTH), 'Z'.repeat(PREFIX_LENGTH))) {
    if (batch.length === 0) continue;
    const items = await customerItems(operatorId, customerId, batch, () => true, true);
    const ids = items.map((item) => String(item.id));
    if (ids.length > 0) yield ids;
  }
}
