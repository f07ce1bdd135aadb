/**
 * The billing system's events (`POST /v1/events`, or the EventBridge bus) and the rules that turn
 * them into messages (`/v1/event-rules/{type}`). Each type's `data` has its own schema, so a receipt
 * template can count on `amount` and `receiptNumber` being there.
 */
import { z } from 'zod';
import { AlertPurpose, CustomerInput, ResourceId } from './schemas.js';
import { safeText } from './text.js';

const text = (max: number) => safeText(z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`));
const isoDate = z.iso.date({ error: 'must be a date, YYYY-MM-DD' });
const isoDateOrTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'must be an ISO 8601 date or date-time' });
const amount = z
  .number({ error: 'must be a number' })
  .int('must be whole minor units (poisha, cents)')
  .min(0, 'must be at least 0')
  .max(1_000_000_000_000)
  .describe('Integer minor units (poisha, cents).');
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code such as BDT');
const paymentMethod = z.enum(['cash', 'online', 'card', 'mobile']);

/** Each type's `data`. Every schema is strict: a misspelt field is a 400, not a variable that silently renders empty. */
export const eventData = {
  'payment.received': z
    .strictObject({
      amount,
      currency,
      method: paymentMethod,
      receiptNumber: text(64),
      billId: ResourceId.optional().describe('The bill this pays: it is marked paid, with paidAt = occurredAt.'),
      newExpiresAt: isoDateOrTime.optional().describe('The service now runs until then: the customer\'s expiresAt moves forward to it (never back).'),
    })
    .meta({ id: 'PaymentReceivedData' }),
  'payment.failed': z
    .strictObject({ amount, currency, method: paymentMethod, reason: text(200).optional(), billId: ResourceId.optional() })
    .meta({ id: 'PaymentFailedData' }),
  'customer.suspended': z.strictObject({ reason: text(200).optional() }).meta({ id: 'CustomerSuspendedData' }),
  'customer.activated': z.strictObject({ reason: text(200).optional() }).meta({ id: 'CustomerActivatedData' }),
  'customer.registered': CustomerInput,
  'service.expiring': z.strictObject({ expiresAt: isoDateOrTime }).meta({ id: 'ServiceExpiringData' }),
  'bill.due': z
    .strictObject({ billId: ResourceId, amount, currency, dueDate: isoDate, payLink: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048).optional() })
    .meta({ id: 'BillDueData' }),
} as const;

export type EventType = keyof typeof eventData;
export const eventTypes = Object.keys(eventData) as EventType[];
export const EventTypeSchema = z.enum(eventTypes as [EventType, ...EventType[]], { error: `must be one of ${eventTypes.join(', ')}` });

const envelope = {
  id: ResourceId.describe('The billing system\'s id of the event: the same id is handled once (a repeat answers the first result).'),
  customerId: ResourceId,
  occurredAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
};

const eventOf = <T extends EventType>(type: T) => z.strictObject({ ...envelope, type: z.literal(type), data: eventData[type] });

export const EventInput = z
  .discriminatedUnion('type', [
    eventOf('payment.received'),
    eventOf('payment.failed'),
    eventOf('customer.suspended'),
    eventOf('customer.activated'),
    eventOf('customer.registered'),
    eventOf('service.expiring'),
    eventOf('bill.due'),
  ])
  .meta({ id: 'EventInput' });
export type EventInputT = z.infer<typeof EventInput>;

/** Variables a rule's template may use for an event of `type`, besides the built-in customer.* and operator.name. */
export function eventVariables(type: EventType): string[] {
  const dataFields = Object.keys(eventData[type].shape);
  const formatted = dataFields.includes('amount') ? ['amountFormatted'] : [];
  return ['event.id', 'event.type', 'event.occurredAt', 'event.customerId', ...dataFields, ...formatted];
}

export const EventRuleChannel = z.strictObject({
  channel: z.enum(['sms', 'whatsapp', 'email', 'auto']).describe('auto: WhatsApp when the operator and customer have it, else SMS.'),
  templateId: ResourceId,
});

export const EventRuleInput = z
  .strictObject({
    enabled: z.boolean(),
    channels: z.array(EventRuleChannel).max(4, 'must hold at most 4 channels').default([]).describe('Each entry is one message per event.'),
    alert: z
      .strictObject({ purpose: AlertPurpose, severity: z.enum(['info', 'warning', 'critical']).default('info') })
      .optional()
      .describe('Also alert the team: a Telegram alert to this purpose\'s chat (PUT /v1/alert-routes/{purpose}) for each event.'),
  })
  .meta({ id: 'EventRuleInput' });
export type EventRuleInputT = z.infer<typeof EventRuleInput>;

export const EventRuleView = EventRuleInput.extend({ type: EventTypeSchema, updatedAt: z.string() }).meta({ id: 'EventRule' });

/** What handling an event did: the answer to the first POST, and to every repeat of it. */
export const EventResult = z
  .object({
    id: z.string(),
    type: EventTypeSchema,
    customerId: z.string(),
    effects: z.array(z.object({ kind: z.string(), applied: z.boolean(), detail: z.string() })).describe('What the event changed (applied: false when it was so already).'),
    messages: z.array(z.object({ index: z.number().int(), id: z.string(), channel: z.string(), status: z.string() })).describe('The messages made by the rule, one per channel entry.'),
    skipped: z.array(z.object({ index: z.number().int().optional(), reason: z.string() })).describe('Rule entries (or the alert, without index) that made no message, with why.'),
    alert: z.object({ messageId: z.string(), purpose: z.string() }).optional(),
  })
  .meta({ id: 'EventResult' });
export type EventResultT = z.infer<typeof EventResult>;
