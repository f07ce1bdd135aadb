import { createHash } from 'node:crypto';
import { assertDestination } from '../domain/destination.js';
import { conflict, DomainError, invalid, notFound } from '../domain/errors.js';
import { gatewayOrder } from '../domain/gateway-order.js';
import { newId } from '../domain/ids.js';
import { normalizeMobile } from '../domain/phone.js';
import type { Customer, Message, Operator } from '../domain/records.js';
import { MessageView, type PreviewMessageInput, type SendMessageInput } from '../domain/schemas.js';
import { assertWithinMaxSegments, MAX_SMS_SEGMENTS, measureSms } from '../domain/segments.js';
import { renderTemplate } from '../domain/template.js';
import { assertSendableText } from '../domain/text.js';
import { canonicalJson } from '../domain/canonical-json.js';
import type { Deps } from '../deps.js';
import type { CreateOutcome, IdempotencyKey, MessageFilter, Page } from '../ports.js';
import { getCustomer } from './customers.js';
import { takeDailyMessage, type TakenMessage } from './send-limits.js';
import { getTemplate } from './templates.js';

type D = Pick<Deps, 'customers' | 'templates' | 'gateways' | 'messages' | 'counters' | 'queue' | 'clock'>;

/** The variables every template gets for free. */
function builtInVariables(operator: Operator, customer: Customer | undefined) {
  return {
    operator: { name: operator.name },
    ...(customer
      ? {
          customer: {
            id: customer.id,
            name: customer.name,
            mobile: customer.mobile,
            zone: customer.zone,
            package: customer.package,
            expiresAt: customer.expiresAt,
          },
        }
      : {}),
  };
}

async function renderText(d: D, operator: Operator, input: PreviewMessageInput, customer: Customer | undefined): Promise<string> {
  if (input.text !== undefined) {
    assertSendableText(input.text, 'text');
    return input.text;
  }
  const template = await getTemplate(d, operator, input.templateId!, 'templateId');
  const text = renderTemplate(template.body, { ...input.variables, ...builtInVariables(operator, customer) });
  // Blank, or a control character from a stored customer field: nothing an SMS should carry.
  assertSendableText(text, 'templateId');
  return text;
}

const findCustomer = (d: D, operator: Operator, customerId: string | undefined) =>
  customerId === undefined ? undefined : getCustomer(d, operator, customerId, 'customerId');

export async function previewMessage(d: D, operator: Operator, input: PreviewMessageInput) {
  const customer = await findCustomer(d, operator, input.customerId);
  const text = await renderText(d, operator, input, customer);
  return { text, ...measureSms(text), maxSegments: MAX_SMS_SEGMENTS };
}

/**
 * The same key with the same request repeats the first answer; with another request it is a conflict.
 * The fingerprint is over canonical JSON, so the same request with its keys in another order is the same request.
 */
const idempotency = (key: string | undefined, request: unknown): IdempotencyKey | undefined =>
  key === undefined ? undefined : { key, fingerprint: createHash('sha256').update(canonicalJson(request) ?? '').digest('base64url') };

/**
 * Writes with one of the operator's daily messages taken first (the last check before the write, so
 * a request refused for anything else spends nothing); gives it back when the write created nothing.
 */
async function withDailyQuota(
  d: D,
  operator: Operator,
  claimKey: string | undefined,
  write: () => Promise<CreateOutcome>,
): Promise<{ outcome: CreateOutcome; quota: TakenMessage }> {
  const quota = await takeDailyMessage(d, operator, claimKey);
  let outcome: CreateOutcome;
  try {
    outcome = await write();
  } catch (error) {
    await quota.giveBack();
    throw error;
  }
  // A repeat (or a reused key) creates nothing: a repeat found its claim and took nothing, a conflict gives its unit back.
  if (!outcome.created) await quota.giveBack();
  return { outcome, quota };
}

async function queueMessage(d: D, operator: Operator, message: Message, idempotencyKey?: IdempotencyKey): Promise<Message> {
  const claim = idempotencyKey && `send:${idempotencyKey.key}`;
  const { outcome, quota } = await withDailyQuota(d, operator, claim, () => d.messages.create(message, idempotencyKey));
  if (!outcome.created) {
    if (!outcome.sameRequest) {
      throw conflict(`The Idempotency-Key "${idempotencyKey!.key}" was already used for a different request; use a new key for a new message.`);
    }
    // A repeated request with the same Idempotency-Key: the first one's message, nothing new.
    return (await d.messages.get(message.operatorId, outcome.existingMessageId))!;
  }
  await enqueueNew(d, message, quota);
  return message;
}

/** Puts a just-stored message on the send queue; if the queue refuses, the message is failed with the reason. */
async function enqueueNew(d: D, message: Message, quota?: TakenMessage): Promise<void> {
  try {
    await d.queue.enqueue('send-sms', [{ operatorId: message.operatorId, messageId: message.id }]);
  } catch (error) {
    // Stored but not queued: record why, so it shows in the history and can be resent.
    const reason = `Could not be queued for sending (${error instanceof Error ? error.message : String(error)}); resend it.`;
    await d.messages.transition(message.operatorId, message.id, { status: 'failed', at: d.clock.now().toISOString(), reason });
    await quota?.giveBack(); // never sent
    throw new DomainError('Unavailable', `Message ${message.id} was stored but could not be queued, so it is marked failed; resend it with POST /v1/messages/${message.id}/resend.`);
  }
}

/** A queued message through the operator's SMS gateway, ready to store. */
async function newMessage(
  d: D,
  operator: Operator,
  fields: { to: string; text: string; customerId?: string; templateId?: string; resendOf?: string },
): Promise<Message> {
  // The first enabled gateway by priority (the default first among equals); the sender fails over from it.
  const [gateway] = gatewayOrder(await d.gateways.list(operator.id), 'sms', operator.smsGatewayId);
  if (!gateway) {
    throw conflict('This operator has no enabled SMS gateway to send through; add one with POST /v1/gateways (or enable one).');
  }
  const now = d.clock.now();
  const at = now.toISOString();
  return {
    id: newId(now),
    operatorId: operator.id,
    channel: 'sms',
    ...fields,
    ...measureSms(fields.text),
    gatewayId: gateway.id,
    provider: gateway.provider,
    status: 'queued',
    history: [{ status: 'queued', at }],
    attempts: 0,
    createdAt: at,
    updatedAt: at,
  };
}

export async function sendMessage(d: D, operator: Operator, input: SendMessageInput, idempotencyKey?: string): Promise<Message> {
  const customer = await findCustomer(d, operator, input.customerId);
  const to = customer ? customer.mobile : normalizeMobile(input.mobile!, operator.defaultCountry, 'mobile');
  // Against SMS pumping: mobile numbers of the operator's destination countries only.
  if (customer) assertDestination(to, operator, 'customerId', `customer "${customer.id}"'s mobile ${to}`);
  else assertDestination(to, operator, 'mobile', `mobile ${to}`);
  const text = await renderText(d, operator, input, customer);
  assertWithinMaxSegments(text, input.text !== undefined ? 'text' : 'templateId');
  const message = await newMessage(d, operator, { to, text, customerId: customer?.id, templateId: input.templateId });
  return queueMessage(d, operator, message, idempotency(idempotencyKey, { send: input }));
}

/**
 * A failed message can be resent once: the resend and the original's link to it are written in one
 * transaction, so any later resend of it (whatever its Idempotency-Key) answers that first resend.
 */
export async function resendMessage(d: D, operator: Operator, id: string, _idempotencyKey?: string): Promise<{ message: Message; created: boolean }> {
  const original = await getMessage(d, operator, id);
  const existingResend = async (resendId: string) => ({ message: await getMessage(d, operator, resendId), created: false });
  if (original.resentAs) return existingResend(original.resentAs);
  if (original.status !== 'failed') {
    throw conflict(`Only failed messages can be resent; message ${id} is ${original.status}.`);
  }
  if (original.erasedAt) throw conflict(`Message ${id} belongs to a customer whose personal data was erased; it cannot be resent.`);
  const { to, text, customerId, templateId } = original;
  // The operator's destinations may have changed since the original was sent.
  assertDestination(to, operator, 'id', `the number of message ${id}, ${to},`);
  const message = await newMessage(d, operator, { to, text, customerId, templateId, resendOf: original.id });
  // An original has one resend, so its id is the claim: a repeated resend never takes a second unit.
  const { outcome, quota } = await withDailyQuota(d, operator, `resend:${original.id}`, () => d.messages.createResend(original, message));
  if (!outcome.created) return existingResend(outcome.existingMessageId);
  await enqueueNew(d, message, quota);
  return { message, created: true };
}

export async function getMessage(d: Pick<D, 'messages'>, operator: Operator, id: string): Promise<Message> {
  const message = await d.messages.get(operator.id, id);
  if (!message) throw notFound(`Message "${id}"`);
  return message;
}

export function listMessages(d: Pick<D, 'messages'>, operator: Operator, filter: MessageFilter, limit: number, cursor?: string): Promise<Page<Message>> {
  if (filter.from && filter.to && Date.parse(filter.from) > Date.parse(filter.to)) {
    throw invalid('"from" must not be after "to".', [{ field: 'from', message: 'must be before or equal to "to"' }]);
  }
  return d.messages.list(operator.id, filter, limit, cursor);
}

/** The API's view of a message: the schema's fields in the schema's order, storage-only fields dropped. */
export const messageView = (message: Message) => MessageView.parse(message);
