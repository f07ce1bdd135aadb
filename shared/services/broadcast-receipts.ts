/**
 * A broadcast's messages whose receipt never came. They are kept out of the pending index (their
 * page's settle step watches them until they leave), so the scheduled reconciler does not ask about
 * them. Once a broadcast's last page is settled, a `receipts` step looks: only when the broadcast's
 * counters say some of its messages are still `sent`, it walks those (a Query on the broadcast's id
 * prefix) and asks each one's provider, as the reconciler does for a single message. What the
 * provider cannot tell stays `sent`, and is asked again a while later, a few rounds at most.
 */
import type { Deps } from '../deps.js';
import { openGateway } from './gateways.js';
import { askProviderAbout, receiptOverdueAt, receiptWindowMs } from './reconcile.js';

export interface ReceiptsTask {
  type: 'receipts';
  operatorId: string;
  broadcastId: string;
  /** 0 for the first look; each later round comes back after CHASE_AGAIN_MAX_SECONDS at most. */
  round: number;
  /** Where this round's walk goes on. */
  cursor?: string;
  /** Messages of this round still without an answer, from the pages walked before the cursor. */
  unanswered?: number;
  /** The latest time (ms) a message seen this round becomes overdue, when some were not yet. */
  dueAt?: number;
}

type D = Parameters<typeof askProviderAbout>[0] & Pick<Deps, 'broadcasts'>;

/** Rounds of asking before a message is left `sent` for good (the provider never said). */
export const RECEIPT_CHASE_ROUNDS = 6;
/** SQS holds a task back 15 minutes at most. */
const CHASE_AGAIN_MAX_SECONDS = 900;
const CHASE_AGAIN_MIN_SECONDS = 60;
/** Sent messages asked about per step. */
const CHASE_PAGE = 100;

/** Queues a broadcast's first look, once the receipt window of the gateways its messages went through has passed (15 minutes at most). */
export async function queueFirstReceiptsLook(d: D, operatorId: string, broadcastId: string, gatewayIds: string[], now: Date): Promise<void> {
  let windowMs = 0;
  for (const id of new Set(gatewayIds)) windowMs = Math.max(windowMs, receiptWindowMs(await openGateway(d, id)));
  const task: ReceiptsTask = { type: 'receipts', operatorId, broadcastId, round: 0 };
  await d.queue.enqueue('broadcasts', [task], { delaySeconds: delayUntil(now.getTime() + windowMs, now) });
}

const delayUntil = (dueAt: number, now: Date) => Math.min(CHASE_AGAIN_MAX_SECONDS, Math.max(CHASE_AGAIN_MIN_SECONDS, Math.ceil((dueAt - now.getTime()) / 1000) + 1));

export async function chaseReceipts(d: D, task: ReceiptsTask): Promise<string> {
  const now = d.clock.now();
  const broadcast = await d.broadcasts.get(task.operatorId, task.broadcastId);
  if (!broadcast?.messagePrefix) return 'nothing';
  // A round starts only when some message is still sent: no walk for a broadcast whose receipts all came.
  if (task.cursor === undefined && (await d.broadcasts.counts(task.operatorId, task.broadcastId, now)).sent <= 0) return 'all-answered';

  const page = await d.messages.list(task.operatorId, { broadcast: { id: broadcast.id, messagePrefix: broadcast.messagePrefix }, status: 'sent' }, CHASE_PAGE, task.cursor);
  // Opened once a step: a broadcast's messages go through one gateway or a few.
  const gateways = new Map<string, ReturnType<typeof openGateway>>();
  const gatewayOf = (id: string) => {
    if (!gateways.has(id)) gateways.set(id, openGateway(d, id));
    return gateways.get(id)!;
  };
  let unanswered = task.unanswered ?? 0;
  let dueAt = task.dueAt;
  for (const message of page.items) {
    if (message.status !== 'sent') continue;
    const opened = await gatewayOf(message.gatewayId);
    const asked = await askProviderAbout(d, message, opened, now);
    if (asked === 'unanswered') unanswered++;
    if (asked === 'not-due') {
      unanswered++;
      dueAt = Math.max(dueAt ?? 0, receiptOverdueAt(message, opened));
    }
  }
  const next = { type: 'receipts' as const, operatorId: task.operatorId, broadcastId: task.broadcastId };
  if (page.cursor) {
    await d.queue.enqueue('broadcasts', [{ ...next, round: task.round, cursor: page.cursor, unanswered, ...(dueAt !== undefined ? { dueAt } : {}) }]);
    return 'asked';
  }
  if (unanswered === 0) return 'all-answered';
  if (task.round + 1 >= RECEIPT_CHASE_ROUNDS) return 'left-sent';
  // Again once the last of them is due, or a while later for those the provider could not tell about.
  await d.queue.enqueue('broadcasts', [{ ...next, round: task.round + 1 }], { delaySeconds: dueAt !== undefined && dueAt > now.getTime() ? delayUntil(dueAt, now) : CHASE_AGAIN_MAX_SECONDS });
  return 'again-later';
}
