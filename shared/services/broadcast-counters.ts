/**
 * Broadcast counters from the table's stream: a batch of records becomes one change per broadcast,
 * each applied once per stream shard (see BroadcastStore.applyStreamCounts).
 */
import { broadcastCountChanges, type StreamChange } from '../domain/broadcast-count-deltas.js';
import type { BroadcastStore } from '../ports.js';

export interface CountedBatch {
  /** Broadcasts whose counters moved. */
  applied: number;
  /** Broadcasts whose part of the batch had been counted before (a replay). */
  alreadyCounted: number;
}

/**
 * Applies every broadcast's change, all of them even when one fails (each is idempotent), then
 * throws the first failure so the whole batch is retried.
 */
export async function countBroadcastMoves(d: { broadcasts: Pick<BroadcastStore, 'applyStreamCounts'> }, changes: readonly StreamChange[], streamShard: string): Promise<CountedBatch> {
  const outcomes = await Promise.allSettled(broadcastCountChanges(changes).map((change) => d.broadcasts.applyStreamCounts(change, streamShard)));
  const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  const done = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<'applied' | 'already-counted'>).value);
  return { applied: done.filter((o) => o === 'applied').length, alreadyCounted: done.filter((o) => o === 'already-counted').length };
}
