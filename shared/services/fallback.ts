/**
 * WhatsApp to SMS fallback: when a WhatsApp message fails for good (not on WhatsApp, outside the
 * 24-hour window, template rejected) or is not delivered in the operator's fallbackAfterSeconds,
 * the same content goes by SMS, linked both ways (fallbackOf / fallbackMessageId).
 *
 * Never twice: the SMS and the original's link are written in one transaction that holds only while
 * the original has no fallback, so repeated or out-of-order failure receipts create one SMS. Never
 * lost: a failed WhatsApp message waits in the pending index (part "fallback") until its fallback is
 * made or declined, so a crash between the failure and the fallback is finished by the reconciler.
 */
import { DomainError, notFound } from '../domain/errors.js';
import type { GatewayTry, Message, MessageStatus, StatusChange } from '../domain/records.js';
import type { Deps } from '../deps.js';
import { logger } from '../logger.js';
import { createMessage, sendableContent } from './messages.js';
import { releaseCost } from './billing.js';
import { withStorageRetries } from './record-outcome.js';

type D = Pick<Deps, 'customers' | 'templates' | 'gateways' | 'messages' | 'counters' | 'queue' | 'clock' | 'operators' | 'cipher' | 'suppressions' | 'billing'>;

export type FallbackOutcome = 'created' | 'exists' | 'declined' | 'not-due' | 'gone';

/**
 * Records a status change and, when it failed a WhatsApp message, falls back to SMS. The one way a
 * failure is recorded (sender, receipts, reconciler), so no path forgets the fallback.
 */
export async function recordStatus(
  d: D,
  message: Pick<Message, 'operatorId' | 'id' | 'channel'> & Partial<Pick<Message, 'holdId'>>,
  change: StatusChange,
  extra: { providerMessageId?: string; gatewayId?: string; receiptDueAt?: string; tried?: GatewayTry } = {},
  options: {
    fallback?: boolean;
    /** A receipt that named the message: recorded only if it went out through this gateway with this provider id (else NotFound). */
    receiptFor?: { gatewayId: string; providerMessageId: string };
  } = {},
): Promise<boolean> {
  const awaitingFallback = change.status === 'failed' && message.channel === 'whatsapp' && options.fallback !== false;
  const receiptFor = options.receiptFor;
  let changed: boolean;
  if (receiptFor) {
    const outcome = await withStorageRetries(() => d.messages.receiptByMessageId(message.operatorId, message.id, receiptFor.gatewayId, receiptFor.providerMessageId, change));
    if (outcome === 'unknown') throw notFound(`Message ${message.id} sent with provider id "${receiptFor.providerMessageId}"`);
    changed = outcome === 'changed';
  } else {
    changed = await withStorageRetries(() => d.messages.transition(message.operatorId, message.id, change, { ...extra, awaitingFallback }));
  }
  // Failed before a provider accepted it (a send that failed after acceptance was settled then): its hold goes back
  // (a page's hold goes back with the page's settlement).
  if (changed && (change.status === 'failed' || change.status === 'cancelled') && message.holdId === undefined) await releaseCost(d, message.operatorId, message.id);
  if (changed && awaitingFallback) {
    // Best effort now; if it cannot be made now, the pending index keeps it for the reconciler.
    await fallBackToSms(d, message.operatorId, message.id, ['failed']).catch((error: unknown) =>
      logger.warn('WhatsApp fallback deferred to the reconciler', { error, messageId: message.id }),
    );
  }
  return changed;
}

/**
 * Creates the SMS fallback of a WhatsApp message in one of `originalStatuses`, once. Declined (and
 * taken out of the pending index) when the operator turned fallback off, or the number cannot take SMS.
 */
export async function fallBackToSms(d: D, operatorId: string, messageId: string, originalStatuses: MessageStatus[]): Promise<FallbackOutcome> {
  const original = await d.messages.get(operatorId, messageId);
  if (!original || original.channel !== 'whatsapp') return 'gone';
  if (original.fallbackMessageId) return 'exists';
  if (!originalStatuses.includes(original.status)) return 'not-due';
  const operator = await d.operators.get(operatorId);
  const decline = async (why: string) => {
    logger.info('No SMS fallback', { messageId, why });
    if (original.status === 'failed') await d.messages.clearPending(operatorId, messageId);
    return 'declined' as const;
  };
  if (!operator || operator.fallbackToSms === false) return decline('fallbackToSms is off');
  // The customer's mobile when it differs from its WhatsApp number.
  const customer = original.customerId ? await d.customers.get(operatorId, original.customerId) : undefined;
  const secret = original.sealedContent ? await sendableContent(d, original) : undefined;
  try {
    const { created } = await createMessage(
      d,
      operator,
      {
        channel: 'sms',
        ...(customer ? { customer } : { number: original.to, customerId: original.customerId }),
        content: { text: original.text },
        ...(secret ? { secret: { text: secret.text } } : {}),
        ...(original.kind ? { kind: original.kind } : {}),
        templateId: original.templateId,
        lane: original.lane ?? 'bulk',
        recipientWords: `the SMS fallback of message ${original.id} (${original.to})`,
        fields: { recipient: 'to', content: 'text' },
      },
      // The original already counted against the day's messages: its replacement does not.
      { link: { original, field: 'fallbackMessageId', originalStatuses }, quota: false },
    );
    return created ? 'created' : 'exists';
  } catch (error) {
    // Refused for good (no SMS gateway, destination not allowed, too long for SMS): say so and stop.
    if (error instanceof DomainError && error.kind !== 'Unavailable') return decline(error.message);
    throw error;
  }
}

/** The pending index's failed WhatsApp messages still waiting for their fallback (a crash, a storage error). */
export async function finishFallbacks(d: D, before: string): Promise<number> {
  let made = 0;
  for await (const page of d.messages.pending('fallback', before)) {
    for (const pending of page) {
      try {
        if ((await fallBackToSms(d, pending.operatorId, pending.messageId, ['failed'])) === 'created') made++;
      } catch (error) {
        logger.warn('Could not make a WhatsApp fallback yet', { error, messageId: pending.messageId });
      }
    }
  }
  return made;
}
