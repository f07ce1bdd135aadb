import type { Deps } from '../deps.js';
import { requeueStranded } from '../services/reconcile.js';

/**
 * The local SQS server keeps its queues in memory, so a restart of `npm start` loses tasks that
 * were waiting. Their messages are still `queued` in DynamoDB Local (kept under .data/): put them
 * back on the queue at start-up, read from the sparse pending index (not a Scan), so start-up time
 * follows the messages in flight, not the history. A duplicate is harmless: the sender's claim
 * makes each send happen at most once, and a claim left by the stopped process is reconciled.
 */
export async function requeueStrandedMessages(d: Pick<Deps, 'queue' | 'messages' | 'clock'>): Promise<number> {
  return requeueStranded(d, new Date(d.clock.now().getTime() + 1));
}
