/**
 * A broadcast's counters, kept from the table's stream (functions/streams/broadcast-counters.ts):
 *
 *   OP#<op>  BCOUNT#<id>#<shard>   queued, sent, delivered, read, failed, cancelled, spent (ADDed);
 *                                  w<window>: messages that left us in that 10 s window (the recent rate);
 *                                  s<hash of a stream shard>: the last sequence number counted from it
 *
 * A stream batch writes one UpdateItem per broadcast, on the counter shard its stream shard hashes to
 * (so two stream shards rarely share an item, and one never writes it concurrently with itself). The
 * condition on the stream shard's last sequence number makes a replayed batch count nothing twice.
 * Summed on read (one BatchGet of the shards and the broadcast), never by reading the messages.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { config } from '../../config.js';
import { after, type BroadcastCountChange, type CountField } from '../../domain/broadcast-count-deltas.js';
import type { BroadcastCounts } from '../../ports.js';
import { batchGet } from './batch-get.js';
import { documentClient } from './client.js';

export const COUNTER_SHARDS = 8;
/** The "now" rate is counted in windows of this many seconds. */
export const RATE_WINDOW_SECONDS = 10;
/** Windows of the rate kept on a counter item; older ones are removed as new ones are counted. */
const RATE_WINDOWS_KEPT = 6;
/** Tries of one change when its counter item moves on between the read of a failed condition and the retry. */
const MAX_TRIES = 4;

export const broadcastKey = (op: string, id: string) => ({ pk: `OP#${op}`, sk: `BCAST#${id}` });
const counterKey = (op: string, id: string, shard: number) => ({ pk: `OP#${op}`, sk: `BCOUNT#${id}#${shard}` });

const hashOf = (text: string) => createHash('sha1').update(text).digest();
/** The counter shard a stream shard's records go to. */
const counterShardOf = (streamShard: string) => hashOf(streamShard)[0]! % COUNTER_SHARDS;
/** The attribute holding the last sequence number counted from a stream shard (short: it is on every write). */
const sequenceAttribute = (streamShard: string) => `s${hashOf(streamShard).subarray(0, 4).toString('hex')}`;
const windowOf = (at: Date) => Math.floor(at.getTime() / 1000 / RATE_WINDOW_SECONDS);

const COUNTED = ['queued', 'sent', 'delivered', 'read', 'failed', 'cancelled', 'spent'] as const satisfies readonly CountField[];
/** On the broadcast item: messages its expanded pages wrote (BroadcastStore.update's add.messagesWritten). */
export const MESSAGES_WRITTEN = 'messagesWritten';

/** The UpdateItem of one change: ADD its deltas and windows, remember its last sequence number. */
function counterUpdate(change: BroadcastCountChange, streamShard: string, seen: string | undefined) {
  const names: Record<string, string> = { '#seq': sequenceAttribute(streamShard) };
  const values: Record<string, unknown> = { ':max': change.maxSequence };
  const adds: string[] = [];
  for (const field of COUNTED) {
    const n = change.deltas[field];
    if (!n) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = n;
    adds.push(`#${field} :${field}`);
  }
  // The recent rate: messages that left us per 10 s window, the newest few windows kept.
  const windows = new Map<number, number>();
  for (const at of change.left) {
    const window = windowOf(new Date(at));
    windows.set(window, (windows.get(window) ?? 0) + 1);
  }
  const removes: string[] = [];
  if (windows.size > 0) {
    const newest = Math.max(...windows.keys());
    for (const [window, n] of windows) {
      // Already past what is kept: counting it would only be removed again.
      if (window <= newest - RATE_WINDOWS_KEPT) continue;
      names[`#w${window}`] = `w${window}`;
      values[`:w${window}`] = n;
      adds.push(`#w${window} :w${window}`);
    }
    for (let i = 0; i < RATE_WINDOWS_KEPT; i++) removes.push(`w${newest - RATE_WINDOWS_KEPT - i}`);
  }
  // First sight of this stream shard, or only records after those counted; retried exactly after the one seen.
  const condition = seen === undefined ? 'attribute_not_exists(#seq) OR #seq < :min' : '#seq = :seen';
  if (seen === undefined) values[':min'] = change.minSequence;
  else values[':seen'] = seen;
  return {
    TableName: config().TABLE_NAME,
    Key: counterKey(change.operatorId, change.broadcastId, counterShardOf(streamShard)),
    UpdateExpression: [`SET #seq = :max`, adds.length ? `ADD ${adds.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim(),
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

/**
 * Applies a change once. A failed condition means the counters have seen part or all of it from
 * this stream shard (a replay, a bisected retry, a batch that straddles what was counted before a
 * crash): what comes after the sequence number they have seen is counted, the rest is not.
 */
export async function applyStreamCounts(change: BroadcastCountChange, streamShard: string): Promise<'applied' | 'already-counted'> {
  let left: BroadcastCountChange | undefined = change;
  let seen: string | undefined;
  for (let attempt = 0; left && attempt < MAX_TRIES; attempt++) {
    try {
      await documentClient().send(new UpdateCommand(counterUpdate(left, streamShard, seen)));
      return 'applied';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = error.Item ? unmarshall(error.Item) : {};
      const last = item[sequenceAttribute(streamShard)];
      // The item moved on while we looked: try again from the start.
      if (typeof last !== 'string') {
        seen = undefined;
        continue;
      }
      seen = last;
      left = after(change, last);
    }
  }
  if (!left) return 'already-counted';
  throw new Error(`The counters of broadcast ${change.broadcastId} kept changing under stream shard ${streamShard}; the batch is retried.`);
}

/**
 * The counters summed over their shards. Messages written (the broadcast's messagesWritten) that the
 * stream has not counted yet are queued: they were inserted so, and until then the broadcast must
 * not look finished (its completion waits for queued to reach 0).
 */
export async function readCounts(operatorId: string, broadcastId: string, now: Date): Promise<BroadcastCounts> {
  const keys = [broadcastKey(operatorId, broadcastId), ...Array.from({ length: COUNTER_SHARDS }, (_, shard) => counterKey(operatorId, broadcastId, shard))];
  const items = await batchGet(keys);
  const total: BroadcastCounts = { queued: 0, sent: 0, delivered: 0, read: 0, failed: 0, cancelled: 0, spent: 0, recentSent: 0 };
  // The last complete window.
  const recent = `w${windowOf(now) - 1}`;
  let written = 0;
  for (const item of items) {
    if (String(item.sk).startsWith('BCAST#')) {
      written = typeof item[MESSAGES_WRITTEN] === 'number' ? (item[MESSAGES_WRITTEN] as number) : 0;
      continue;
    }
    for (const field of COUNTED) total[field] += typeof item[field] === 'number' ? (item[field] as number) : 0;
    if (typeof item[recent] === 'number') total.recentSent += item[recent] as number;
  }
  const counted = total.queued + total.sent + total.delivered + total.read + total.failed + total.cancelled;
  total.queued += Math.max(0, written - counted);
  return total;
}
