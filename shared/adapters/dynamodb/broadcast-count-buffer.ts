/**
 * A broadcast's counters follow its messages (one ADD per status change). Within one worker batch
 * (a send worker's ten records), the changes of one broadcast are added up and written as one ADD
 * when the batch ends: a tenth of the counter writes of a bulk send. Outside such a scope (an API
 * request, a receipt) each change is written at once, as before.
 *
 * Best effort, like the single ADD: a process that dies before the batch's flush leaves the
 * counters short by that batch (the messages themselves are right).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { logger } from '../../logger.js';
import type { BroadcastCounts } from '../../ports.js';
import { dynamoBroadcastStore } from './broadcasts.js';

type Deltas = Partial<Record<keyof BroadcastCounts, number>>;

interface Pending {
  operatorId: string;
  broadcastId: string;
  /** The first message's id: which counter shard the sum goes to. */
  shardKey: string;
  deltas: Deltas;
  /** The latest time a message of the sum left us, and how many did. */
  at?: string;
  left: number;
}

const batchScope = new AsyncLocalStorage<Map<string, Pending>>();

/** Runs a worker batch with its broadcast counter changes summed and written once at its end. */
export async function withBatchedCounts<T>(work: () => Promise<T>): Promise<T> {
  const buffer = new Map<string, Pending>();
  try {
    return await batchScope.run(buffer, work);
  } finally {
    await flush(buffer);
  }
}

/** Counts one message's move: at once, or into the batch's sum. */
export async function countMove(operatorId: string, broadcastId: string, messageId: string, deltas: Deltas, at?: string): Promise<void> {
  const buffer = batchScope.getStore();
  if (!buffer) return dynamoBroadcastStore.count(operatorId, broadcastId, messageId, deltas, at);
  // The recent-rate window is 10 s: sums are kept per window so each lands in its own.
  const window = at ? Math.floor(Date.parse(at) / 10_000) : 'none';
  const key = `${operatorId}\u0000${broadcastId}\u0000${window}`;
  const pending = buffer.get(key) ?? { operatorId, broadcastId, shardKey: messageId, deltas: {}, left: 0 };
  for (const [field, n] of Object.entries(deltas) as Array<[keyof BroadcastCounts, number]>) pending.deltas[field] = (pending.deltas[field] ?? 0) + n;
  if (at) {
    pending.left++;
    if (!pending.at || at > pending.at) pending.at = at;
  }
  buffer.set(key, pending);
}

async function flush(buffer: Map<string, Pending>): Promise<void> {
  await Promise.all(
    [...buffer.values()].map(async (p) => {
      try {
        await dynamoBroadcastStore.count(p.operatorId, p.broadcastId, p.shardKey, p.deltas, p.at, p.left);
      } catch (error) {
        logger.warn('Could not count a batch of broadcast message moves', { error, broadcastId: p.broadcastId, deltas: p.deltas });
      }
    }),
  );
  buffer.clear();
}
