import { isPageHold } from '../domain/broadcast-ids.js';
import type { Message } from '../domain/records.js';
import type { Deps } from '../deps.js';
import type { PendingMessage, SendTask } from '../ports.js';
import { safeReason } from './error-text.js';
import { sendQueue } from '../catalog.js';
import { finishFallbacks, recordStatus } from './fallback.js';
import { openGateway, providerContext } from './gateways.js';
import { DEFAULT_RECEIPT_WINDOW_SECONDS, receiptDueAt, recordSent } from './record-outcome.js';

type D = Pick<Deps, 'messages' | 'gateways' | 'cipher' | 'clock' | 'fetch' | 'queue' | 'journal' | 'operators' | 'customers' | 'templates' | 'counters' | 'suppressions' | 'billing' | 'alertRoutes'>;

/** A queued message untouched this long has no live send task (SQS retries end well before: 5 x 180 s). */
export const STRANDED_AFTER_MS = 20 * 60 * 1000;

export interface ReconcileReport {
  /** Queued messages with no send task, put back on the send queue. */
  requeued: number;
  /** Sent messages whose overdue status the provider gave us. */
  resolved: number;
  /** Sent messages past their receipt window that the provider could not (or cannot) tell us about: they stay sent. */
  overdue: number;
  /** Failed WhatsApp messages whose SMS fallback was made now (it was not made when they failed). */
  fallbacks: number;
  /** Holds left open by a crash: settled (the message was sent) or released (it failed, or was never stored). */
  holdsSettled: number;
  holdsReleased: number;
}

/**
 * The scheduled sweep that keeps every message final or retrying: it reads only the sparse
 * pending index, so its cost follows the messages in flight, not the history.
 */
export async function reconcileMessages(d: D, options: { strandedAfterMs?: number } = {}): Promise<ReconcileReport> {
  const now = d.clock.now();
  const report: ReconcileReport = { requeued: 0, resolved: 0, overdue: 0, fallbacks: 0, holdsSettled: 0, holdsReleased: 0 };
  report.requeued = await requeueStranded(d, new Date(now.getTime() - (options.strandedAfterMs ?? STRANDED_AFTER_MS)));
  // Sent messages sort by when their receipt is due: only the overdue ones are read.
  for await (const page of d.messages.pending('sent', now.toISOString())) {
    for (const pending of page) {
      const outcome = await askAboutOverdue(d, pending, now);
      if (outcome === 'resolved') report.resolved++;
      else if (outcome === 'overdue') report.overdue++;
    }
  }
  // Failed a minute ago or more: the failure's own fallback call has had its chance.
  report.fallbacks = await finishFallbacks(d, new Date(now.getTime() - 60_000).toISOString());
  await finishHolds(d, new Date(now.getTime() - (options.strandedAfterMs ?? STRANDED_AFTER_MS)).toISOString(), report);
  return report;
}

/** Holds still open long after their message was accepted: settle what was sent, release what failed or never was. */
async function finishHolds(d: D, before: string, report: ReconcileReport): Promise<void> {
  const at = d.clock.now().toISOString();
  for await (const page of d.billing.openHolds(before)) {
    const messages = new Map((await d.messages.getMany(page)).map((m) => [`${m.operatorId}/${m.id}`, m]));
    for (const hold of page) {
      // A broadcast page's hold is settled by its page's own settle step (queued with the page, repeated until it is done).
      if (isPageHold(hold.messageId)) continue;
      const message = messages.get(`${hold.operatorId}/${hold.messageId}`);
      if (message?.status === 'queued') continue; // still on its way
      const wasSent = message !== undefined && (message.providerMessageId !== undefined || ['sent', 'delivered', 'read'].includes(message.status));
      if (wasSent) {
        if (typeof (await d.billing.settle(hold.operatorId, hold.messageId, at)) === 'object') report.holdsSettled++;
      } else if ((await d.billing.release(hold.operatorId, hold.messageId, at)) === 'released') report.holdsReleased++;
    }
  }
}

/**
 * Queued messages last touched before `before` go back on the send queue. A duplicate task is
 * harmless: the sender's claim lets one send happen, and an expired claim is reconciled first.
 */
export async function requeueStranded(d: Pick<D, 'messages' | 'queue'>, before: Date): Promise<number> {
  let requeued = 0;
  for await (const page of d.messages.pending('queued', before.toISOString())) {
    const tasks: Array<SendTask & { queue: ReturnType<typeof sendQueue> }> = [];
    // Re-read (a batch read per page): a message touched since (claimed, retried) still has its task.
    for (const message of await d.messages.getMany(page)) {
      if (message.status !== 'queued' || message.updatedAt >= before.toISOString()) continue;
      tasks.push({ operatorId: message.operatorId, messageId: message.id, queue: sendQueue(message) });
    }
    // Each to its own send queue (by channel and lane).
    for (const queue of new Set(tasks.map((task) => task.queue))) {
      await d.queue.enqueue(queue, tasks.filter((task) => task.queue === queue).map(({ operatorId, messageId }) => ({ operatorId, messageId })));
    }
    requeued += tasks.length;
  }
  return requeued;
}

async function askAboutOverdue(d: D, pending: PendingMessage, now: Date): Promise<'resolved' | 'overdue' | 'not-due'> {
  const message = await d.messages.get(pending.operatorId, pending.messageId);
  if (!message || message.status !== 'sent') return 'not-due';
  const opened = await openGateway(d, message.gatewayId);
  const asked = await askProviderAbout(d, message, opened, now);
  if (asked === 'no-receipts') {
    // This gateway never sends receipts: sent is its last word, nothing is overdue.
    await d.messages.stopReceiptChecks(message.operatorId, message.id);
    return 'not-due';
  }
  if (asked === 'unanswered') {
    // Whatever the answer, ask again a window later, not on every run.
    await d.messages.postponeReceiptCheck(message.operatorId, message.id, receiptDueAt(opened?.provider, now));
    return 'overdue';
  }
  return asked;
}

type OpenedGateway = Awaited<ReturnType<typeof openGateway>>;

/** How long after a send its provider's receipt is overdue. */
export const receiptWindowMs = (opened: OpenedGateway): number => (opened?.provider.receiptWindowSeconds ?? DEFAULT_RECEIPT_WINDOW_SECONDS) * 1000;

/** When a sent message's receipt is overdue: its sent time plus its provider's receipt window. */
export function receiptOverdueAt(message: Message, opened: OpenedGateway): number {
  return Date.parse(sentAt(message)) + receiptWindowMs(opened);
}

/**
 * Asks the provider what became of a sent message whose receipt is overdue, and records what it says.
 * `unanswered`: it could not tell (no lookup, not found, still sent, or the call failed); the message stays sent.
 */
export async function askProviderAbout(d: D, message: Message, opened: OpenedGateway, now: Date): Promise<'resolved' | 'unanswered' | 'not-due' | 'no-receipts'> {
  if (opened && (opened.provider.receipts === false || opened.provider.sendsReceipts?.(opened.settings) === false)) return 'no-receipts';
  if (receiptOverdueAt(message, opened) > now.getTime()) return 'not-due';
  if (!opened?.provider.lookup) return 'unanswered';
  try {
    const answer = await opened.provider.lookup(
      { messageId: message.id, to: message.to, text: message.text, providerMessageId: message.providerMessageId, sentAfter: message.createdAt },
      { credentials: opened.credentials, settings: opened.settings },
      providerContext(d, opened.gateway.id),
    );
    if (!answer.found || !answer.status || answer.status.status === 'sent') return 'unanswered';
    if (!message.providerMessageId) {
      await recordSent(d, message.operatorId, message.id, { providerMessageId: answer.providerMessageId, gatewayId: opened.gateway.id, at: now.toISOString() }, message);
    }
    const { status, reason, providerStatus } = answer.status;
    await recordStatus(d, message, { status, at: now.toISOString(), reason, providerStatus });
    return 'resolved';
  } catch (error) {
    console.warn(`reconcile: could not ask ${opened.gateway.provider} about message ${message.id}: ${safeReason(error)}`);
    return 'unanswered';
  }
}

const sentAt = (message: Message) => message.history.findLast((change) => change.status === 'sent')?.at ?? message.updatedAt;
