/**
 * A billing event, handled once per id (`POST /v1/events` and the EventBridge bus both come here).
 *
 * The same id with the same body answers the first result; with another body it is a conflict.
 * Everything is checked before the event is recorded (a 400 writes nothing). Then, each step safe
 * to repeat, so a retry after a crash completes what is missing: the changes the event makes
 * (event-effects.ts), one message per rule entry (an idempotency key per entry), the team's alert,
 * and last the result.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json.js';
import { conflict, DomainError } from '../domain/errors.js';
import type { EventInputT, EventResultT } from '../domain/event-schemas.js';
import type { Customer, Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import type { EventRecord } from '../ports.js';
import { sendAlert } from './alerts.js';
import { eventTemplateVariables, formatAmount, renderEventContent } from './event-content.js';
import { applyEffects, resolveTarget } from './event-effects.js';
import { createMessage } from './messages.js';

type D = Pick<
  Deps,
  'customers' | 'customerBills' | 'templates' | 'gateways' | 'messages' | 'counters' | 'queue' | 'clock' | 'cipher' | 'suppressions' | 'billing' | 'alertRoutes' | 'events' | 'eventRules'
>;

type Plan = NonNullable<EventRecord['plan']>;

const sha256 = (value: unknown) => createHash('sha256').update(canonicalJson(value) ?? '').digest('base64url');

/** Over canonical JSON (as Idempotency-Keys are): the same event with its keys in another order is the same event. */
export const eventFingerprint = (event: EventInputT) => sha256({ event });

/**
 * Errors that belong to one rule entry and will not pass on a retry (no email address, no gateway,
 * a template that no longer renders): noted on the result, the other entries still go. Anything
 * else (storage, queue, balance, the daily limit) is thrown again: the request fails and a retry completes it.
 */
const PER_ENTRY_KINDS = new Set<DomainError['kind']>(['Invalid', 'NotFound', 'Conflict', 'Forbidden']);
function perEntryReason(error: unknown): string {
  if (!(error instanceof DomainError) || !PER_ENTRY_KINDS.has(error.kind)) throw error;
  return [error.message, ...error.fields.map((f) => `${f.field}: ${f.message}`)].join(' ');
}

function assertSameEvent(record: EventRecord, fingerprint: string): void {
  if (record.fingerprint !== fingerprint) {
    throw conflict(`Event "${record.id}" was received before with a different body (type ${record.type}, customer ${record.customerId}, at ${record.occurredAt}); an event id is used once.`);
  }
}

export async function handleEvent(d: D, operator: Operator, event: EventInputT): Promise<{ result: EventResultT; repeat: boolean }> {
  const fingerprint = eventFingerprint(event);
  let record = await d.events.get(operator.id, event.id);
  if (record) {
    assertSameEvent(record, fingerprint);
    if (record.state === 'done') return { result: record.result!, repeat: true };
  }
  const target = await resolveTarget(d, operator, event);
  if (!record) {
    const rule = await d.eventRules.get(operator.id, event.type);
    const candidate: EventRecord = {
      id: event.id,
      type: event.type,
      customerId: event.customerId,
      occurredAt: event.occurredAt,
      fingerprint,
      ...(rule?.enabled ? { plan: { channels: rule.channels, ...(rule.alert ? { alert: rule.alert } : {}) } } : {}),
      state: 'pending',
      receivedAt: d.clock.now().toISOString(),
    };
    const begun = await d.events.begin(operator.id, candidate);
    record = begun.created ? candidate : begun.existing;
    assertSameEvent(record, fingerprint);
    if (record.state === 'done') return { result: record.result!, repeat: true };
  }
  const { customer, effects } = await applyEffects(d, operator, event, target);
  const sent = await sendRuleMessages(d, operator, event, customer, record.plan, fingerprint);
  const result: EventResultT = { id: event.id, type: event.type, customerId: event.customerId, effects, ...sent };
  const finished = await d.events.finish(operator.id, event.id, result, d.clock.now().toISOString());
  return { result: finished.record.result!, repeat: !finished.finishedNow };
}

async function sendRuleMessages(d: D, operator: Operator, event: EventInputT, customer: Customer, plan: Plan | undefined, fingerprint: string) {
  const messages: EventResultT['messages'] = [];
  const skipped: EventResultT['skipped'] = [];
  if (!plan) return { messages, skipped };
  const variables = eventTemplateVariables(operator, event, customer);
  // The entries are independent: made side by side, so a receipt on two channels costs one round of latency.
  const outcomes = await Promise.allSettled(
    plan.channels.map(async (entry, index) => {
      const content = await renderEventContent(d, operator, entry.templateId, variables);
      const claim = `event:${event.id}:${index}`;
      const { message } = await createMessage(
        d,
        operator,
        {
          channel: entry.channel,
          customer,
          content,
          templateId: entry.templateId,
          category: 'transactional',
          // A receipt must not wait behind a broadcast.
          lane: 'priority',
          fields: { recipient: 'customerId', content: `channels.${index}.templateId` },
        },
        { idempotency: { key: claim, fingerprint: sha256({ event: fingerprint, index, entry }) }, quota: { claimKey: claim } },
      );
      return { index, id: message.id, channel: message.channel, status: message.status };
    }),
  );
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') messages.push(outcome.value);
    else skipped.push({ index, reason: perEntryReason(outcome.reason) });
  }
  if (!plan.alert) return { messages, skipped };
  try {
    const text = alertText(event, customer);
    const { message } = await sendAlert(d, operator, { purpose: plan.alert.purpose, severity: plan.alert.severity, text }, { idempotency: { key: `event:${event.id}:alert`, fingerprint } });
    return { messages, skipped, alert: { messageId: message.id, purpose: plan.alert.purpose } };
  } catch (error) {
    skipped.push({ reason: `alert: ${perEntryReason(error)}` });
    return { messages, skipped };
  }
}

/** One line a person on the team can act on: what happened, to whom, and the event to look up. */
function alertText(event: EventInputT, customer: Customer): string {
  const who = `${customer.name} (${customer.id}, ${customer.mobile})`;
  const detail =
    'amount' in event.data && 'currency' in event.data
      ? ` · ${event.data.currency} ${formatAmount(event.data.amount, event.data.currency)}${'method' in event.data ? ` by ${event.data.method}` : ''}${'reason' in event.data && event.data.reason ? ` · ${event.data.reason}` : ''}`
      : 'reason' in event.data && event.data.reason
        ? ` · ${event.data.reason}`
        : '';
  return `${event.type} · ${who}${detail} · event ${event.id} at ${event.occurredAt}`;
}
