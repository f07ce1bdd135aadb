import { createHash } from 'node:crypto';
import { assertDestination } from '../domain/destination.js';
import { conflict, DomainError, invalid, notFound } from '../domain/errors.js';
import { applyRoutingRules, gatewayOrder } from '../domain/gateway-order.js';
import { newId } from '../domain/ids.js';
import { normalizeMobile } from '../domain/phone.js';
import type { Channel, Customer, Gateway, Lane, Message, MessageStatus, Operator, Template, WhatsAppTemplateContent } from '../domain/records.js';
import { chooseRoute, type RequestedChannel, type Route } from '../domain/routing.js';
import { sendQueue } from '../catalog.js';
import { logger } from '../logger.js';
import { defaultGatewayField } from './gateways.js';
import { MessageView, type PreviewMessageInput, type SendMessageInput } from '../domain/schemas.js';
import { assertWithinMaxSegments, MAX_SMS_SEGMENTS, measureSms } from '../domain/segments.js';
import { renderTemplate } from '../domain/template.js';
import { assertSendableText } from '../domain/text.js';
import { escapeHtml, htmlToText } from '../domain/html.js';
import { canonicalJson } from '../domain/canonical-json.js';
import type { Deps } from '../deps.js';
import type { CreateOutcome, IdempotencyKey, MessageFilter, Page } from '../ports.js';
import { getCustomer } from './customers.js';
import { takeDailyMessage, type TakenMessage } from './send-limits.js';
import { getTemplate } from './templates.js';
import { costOf, holdCost, pricesFor, releaseCost } from './billing.js';
import { getExampleNumber, type CountryCode } from 'libphonenumber-js';
import examples from 'libphonenumber-js/mobile/examples';

type D = Pick<Deps, 'customers' | 'templates' | 'gateways' | 'messages' | 'counters' | 'queue' | 'clock' | 'cipher' | 'suppressions' | 'billing'>;

/** The variables every template gets for free. */
export function builtInVariables(operator: Operator, customer: Customer | undefined) {
  return {
    operator: { name: operator.name, ...(operator.supportPhone ? { phone: operator.supportPhone } : {}) },
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

/** A template's text and, when it has a WhatsApp part, its rendered parameters; or the text given. */
export interface RenderedContent {
  text: string;
  whatsappTemplate?: WhatsAppTemplateContent;
  /** Email: the subject, the HTML part and the plain-text part (the message's `text` when it goes by email). */
  email?: { subject: string; html: string; text: string };
}

async function renderContent(
  d: D,
  operator: Operator,
  input: PreviewMessageInput & { subject?: string },
  customer: Customer | undefined,
): Promise<RenderedContent> {
  if (input.text !== undefined) {
    assertSendableText(input.text, 'text');
    return { text: input.text, ...(input.subject !== undefined ? { email: textEmail(input.subject, input.text) } : {}) };
  }
  const template = await getTemplate(d, operator, input.templateId!, 'templateId');
  return renderTemplateContent(template, { ...input.variables, ...builtInVariables(operator, customer) });
}

/** An email of a text: the text is the plain part, and, escaped, the HTML part. */
export const textEmail = (subject: string, text: string) => ({ subject, html: escapeHtml(text).replace(/\n/g, '<br>\n'), text });

/** A template rendered with its variables: the text, and its WhatsApp and email parts when it has them. */
export function renderTemplateContent(template: Template, variables: Record<string, unknown>): RenderedContent {
  const text = renderTemplate(template.body, variables);
  // Blank, or a control character from a stored customer field: nothing a message should carry.
  assertSendableText(text, 'templateId');
  const content: RenderedContent = { text };
  if (template.whatsapp) {
    const parameters = template.whatsapp.parameters.map((parameter, i) => {
      const value = renderTemplate(parameter, variables);
      // WhatsApp refuses an empty parameter (132000): say so now, not after the provider call.
      if (value.trim() === '') throw invalid(`WhatsApp parameter ${i + 1} of template "${template.id}" renders empty.`, [{ field: `variables`, message: `parameter ${i + 1} ("${parameter}") is empty` }]);
      assertSendableText(value, 'templateId');
      return value;
    });
    content.whatsappTemplate = { name: template.whatsapp.name, language: template.whatsapp.language, parameters };
  }
  if (template.email) {
    // Values are escaped in the HTML part only; the subject and the text part are plain text.
    const html = renderTemplate(template.email.html, variables, { html: true });
    const subject = renderTemplate(template.email.subject, variables).replace(/[\r\n]+/g, ' ').trim();
    content.email = { subject, html, text: template.email.text !== undefined ? renderTemplate(template.email.text, variables) : htmlToText(html) };
  }
  return content;
}

const findCustomer = (d: D, operator: Operator, customerId: string | undefined) =>
  customerId === undefined ? undefined : getCustomer(d, operator, customerId, 'customerId');

export async function previewMessage(d: D, operator: Operator, input: PreviewMessageInput) {
  const customer = await findCustomer(d, operator, input.customerId);
  const { text } = await renderContent(d, operator, input, customer);
  const measured = measureSms(text);
  // What it would cost by SMS: to the customer's mobile, else to a number of the operator's country.
  const prices = await pricesFor(d, operator.id);
  const to = customer?.mobile ?? (getExampleNumber(operator.defaultCountry as CountryCode, examples)?.number ?? '');
  const amount = costOf(prices, { channel: 'sms', to, segments: measured.segments });
  return { text, ...measured, maxSegments: MAX_SMS_SEGMENTS, cost: { amount, currency: prices.currency } };
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

const CHANNEL_NAMES: Record<Channel, string> = { sms: 'SMS', whatsapp: 'WhatsApp', email: 'email', telegram: 'Telegram' };

/**
 * The suppression list: an email address that bounced or complained is refused for every message;
 * a number that sent STOP only for marketing (OTPs and receipts still go).
 */
async function assertNotSuppressed(d: Pick<Deps, 'suppressions'>, operator: Operator, route: Route, category: 'transactional' | 'marketing', field: string) {
  if (route.channel === 'telegram') return;
  const kind = route.channel === 'email' ? 'email' : 'phone';
  if (kind === 'phone' && category !== 'marketing') return;
  const suppressed = await d.suppressions.get(operator.id, kind, route.to.toLowerCase());
  if (suppressed) {
    throw conflict(`${route.to} is on this operator's suppression list (${suppressed.reason}, since ${suppressed.createdAt}); remove it with DELETE /v1/suppressions/${encodeURIComponent(route.to)} if that was a mistake.`);
  }
}

/** What a message says and where it goes, before routing picks the channel. */
export interface MessageDraft {
  /** A message id made by the caller (an OTP names its message before the message exists). */
  id?: string;
  channel: RequestedChannel;
  customer?: Customer;
  /** E.164, when there is no customer. */
  number?: string;
  /** An email address given instead of a customer's (channel email). */
  email?: string;
  /** Telegram: the chat (and forum topic, and message replied to). */
  telegram?: { chatId: string; threadId?: number; replyToProviderMessageId?: string };
  /** Telegram: the customer's inbound message this forwards. */
  forwardOf?: string;
  /** A gateway to use first when it is enabled for the channel (an alert route's bot). */
  gatewayId?: string;
  alert?: Message['alert'];
  /** A reseller's key sent it: its debit names the reseller. */
  resellerId?: string;
  /** Marketing messages are refused to suppressed numbers; default transactional. */
  category?: Message['category'];
  /** With `number`: the customer the message is for, kept on the message (a resend). */
  customerId?: string;
  /** How the recipient is named in errors, e.g. `customer "c1"'s mobile`; default: the recipient field. */
  recipientWords?: string;
  content: RenderedContent;
  /** Content to send but not store readable (an OTP's code): `content` then holds it masked. */
  secret?: RenderedContent;
  templateId?: string;
  lane: Lane;
  kind?: Message['kind'];
  /** Names of the request's fields, for errors. */
  fields: { recipient: string; content: string };
  /** Part of a broadcast (its id and the message-id prefix its messages share). */
  broadcast?: { id: string; messagePrefix: string };
  billId?: string;
  paymentLinkId?: string;
}

export interface CreateOptions {
  idempotency?: IdempotencyKey;
  /** A resend or a fallback: written with the original's link in one transaction, once. */
  link?: { original: Message; field: 'resentAs' | 'fallbackMessageId'; originalStatuses: MessageStatus[] };
  /** The daily message limit: taken with this claim key (undefined: no key), or not at all (false: a fallback replaces a message already counted). */
  quota: { claimKey?: string } | false;
}

/**
 * The one way a message comes to be: the API, resends, fallbacks, OTPs (and later broadcasts,
 * reminders and event rules) all call it, so routing, destinations, limits and queues live here.
 * Routes the draft, checks it, stores it (with its daily unit, idempotency key or link) and queues it.
 */
export async function createMessage(d: D, operator: Operator, draft: MessageDraft, options: CreateOptions): Promise<{ message: Message; created: boolean }> {
  const message = await buildMessage(d, operator, draft, await d.gateways.list(operator.id), options.link);
  // Its cost is held before it is stored (402 when a prepaid balance cannot cover it); given back if nothing is stored.
  if (message.channel !== 'telegram') message.cost = await holdCost(d, operator, message, draft.resellerId);
  if (draft.resellerId) message.resellerId = draft.resellerId;
  return writeMessage(d, operator, message, options);
}

/**
 * A draft routed and checked (destination, suppressions, segments, a gateway), as the message to
 * store: queued, not yet held nor written. Broadcasts build a page of these, then write them together.
 */
export async function buildMessage(
  d: Pick<D, 'suppressions' | 'clock' | 'cipher'>,
  operator: Operator,
  draft: MessageDraft,
  gateways: Gateway[],
  link?: CreateOptions['link'],
): Promise<Message> {
  const enabled = (channel: Channel) => gatewayOrder(gateways, channel, operator[defaultGatewayField(channel)]);
  const route = chooseRoute(
    draft.channel,
    operator,
    { customer: draft.customer, number: draft.number, email: draft.email, chatId: draft.telegram?.chatId },
    enabled('whatsapp').length > 0,
    draft.fields.recipient,
  );
  if (route.channel === 'sms' || route.channel === 'whatsapp') {
    // Against SMS pumping: numbers of the operator's destination countries only, on every phone channel.
    const words = draft.customer
      ? `customer "${draft.customer.id}"'s ${route.channel === 'whatsapp' && route.to !== draft.customer.mobile ? 'WhatsApp number' : 'mobile'} ${route.to}`
      : (draft.recipientWords ?? `${draft.fields.recipient} ${route.to}`);
    assertDestination(route.to, operator, draft.fields.recipient, words);
  }
  await assertNotSuppressed(d, operator, route, draft.category ?? 'transactional', draft.fields.recipient);
  const sendable = draft.secret ?? draft.content;
  if (route.channel === 'sms') assertWithinMaxSegments(sendable.text, draft.fields.content);
  if (route.channel === 'email' && !draft.content.email) {
    throw invalid('An email needs a subject and an HTML part: use a template with an `email` part, or give `subject`.', [{ field: draft.fields.content, message: 'has no email part' }]);
  }
  // The operator's routing rules first, else the first enabled gateway by priority (the default first among equals); the sender fails over from it.
  const kind = draft.kind === 'otp' ? 'otp' : draft.lane === 'priority' ? 'single' : 'bulk';
  const candidates = applyRoutingRules(enabled(route.channel), operator.routingRules, { to: route.to, kind: kind === 'otp' || kind === 'single' ? kind : 'bulk' });
  const gateway = candidates.find((g) => g.id === draft.gatewayId) ?? candidates[0];
  if (!gateway) {
    throw conflict(`This operator has no enabled ${CHANNEL_NAMES[route.channel]} gateway to send through; add one with POST /v1/gateways (or enable one).`);
  }
  const now = d.clock.now();
  const at = now.toISOString();
  const id = draft.id ?? newId(now);
  if (draft.broadcast && !id.startsWith(draft.broadcast.messagePrefix)) throw new Error(`Message ${id} is not under its broadcast's id prefix.`);
  const message: Message = {
    id,
    operatorId: operator.id,
    channel: route.channel,
    direction: 'out',
    ...(draft.customer || draft.customerId ? { customerId: draft.customer?.id ?? draft.customerId } : {}),
    to: route.to,
    // By email the history shows the plain-text part.
    text: route.channel === 'email' && draft.content.email ? draft.content.email.text : draft.content.text,
    ...(route.channel === 'sms' ? measureSms(sendable.text) : {}),
    ...(route.channel === 'whatsapp' && draft.content.whatsappTemplate ? { whatsappTemplate: draft.content.whatsappTemplate } : {}),
    ...(route.channel === 'email' && draft.content.email ? { subject: draft.content.email.subject, html: draft.content.email.html } : {}),
    ...(route.channel === 'telegram' && draft.telegram?.threadId !== undefined ? { threadId: draft.telegram.threadId } : {}),
    ...(route.channel === 'telegram' && draft.telegram?.replyToProviderMessageId ? { replyToProviderMessageId: draft.telegram.replyToProviderMessageId } : {}),
    ...(draft.forwardOf ? { forwardOf: draft.forwardOf } : {}),
    ...(draft.alert ? { alert: draft.alert } : {}),
    ...(draft.category ? { category: draft.category } : {}),
    ...(draft.secret ? { sealedContent: await sealContent(d, operator.id, draft.secret) } : {}),
    lane: draft.lane,
    routing: route.reason,
    ...(draft.kind ? { kind: draft.kind } : {}),
    ...(draft.templateId ? { templateId: draft.templateId } : {}),
    ...(link?.field === 'resentAs' ? { resendOf: link.original.id } : {}),
    ...(link?.field === 'fallbackMessageId' ? { fallbackOf: link.original.id } : {}),
    ...(draft.broadcast ? { broadcastId: draft.broadcast.id } : {}),
    ...(draft.billId ? { billId: draft.billId } : {}),
    ...(draft.paymentLinkId ? { paymentLinkId: draft.paymentLinkId } : {}),
    gatewayId: gateway.id,
    provider: gateway.provider,
    status: 'queued',
    history: [{ status: 'queued', at }],
    attempts: 0,
    createdAt: at,
    updatedAt: at,
  };
  return message;
}

async function writeMessage(d: D, operator: Operator, message: Message, options: CreateOptions): Promise<{ message: Message; created: boolean }> {
  const write = () => (options.link ? d.messages.createLinked(options.link.original, message, options.link.field, options.link.originalStatuses) : d.messages.create(message, options.idempotency));
  let written: { outcome: CreateOutcome; quota?: TakenMessage };
  try {
    written = options.quota === false ? { outcome: await write() } : await withDailyQuota(d, operator, options.quota.claimKey, write);
  } catch (error) {
    if (message.cost) await releaseCost(d, operator.id, message.id);
    throw error;
  }
  const { outcome, quota } = written;
  if (!outcome.created && message.cost) await releaseCost(d, operator.id, message.id);
  if (!outcome.created) {
    if (!outcome.sameRequest) {
      throw conflict(`The Idempotency-Key "${options.idempotency!.key}" was already used for a different request; use a new key for a new message.`);
    }
    // A repeated request (or a second resend or fallback): the first one's message, nothing new.
    return { message: (await d.messages.get(operator.id, outcome.existingMessageId))!, created: false };
  }
  await enqueueNew(d, message, quota);
  if (message.channel === 'whatsapp' && operator.fallbackToSms !== false && operator.fallbackAfterSeconds) {
    await scheduleFallbackCheck(d, message, operator.fallbackAfterSeconds);
  }
  return { message, created: true };
}

/** Puts a just-stored message on its send queue; if the queue refuses, the message is failed with the reason. */
async function enqueueNew(d: D, message: Message, quota?: TakenMessage): Promise<void> {
  try {
    await d.queue.enqueue(sendQueue(message), [{ operatorId: message.operatorId, messageId: message.id }]);
  } catch (error) {
    // Stored but not queued: record why, so it shows in the history and can be resent.
    const reason = `Could not be queued for sending (${error instanceof Error ? error.message : String(error)}); resend it.`;
    await d.messages.transition(message.operatorId, message.id, { status: 'failed', at: d.clock.now().toISOString(), reason });
    await quota?.giveBack(); // never sent
    if (message.cost) await releaseCost(d, message.operatorId, message.id);
    throw new DomainError('Unavailable', `Message ${message.id} was stored but could not be queued, so it is marked failed; resend it with POST /v1/messages/${message.id}/resend.`);
  }
}

/** SQS holds a task back at most 15 minutes: a later check goes in steps (see deliver-message's fallbackCheck). */
export const MAX_TASK_DELAY_SECONDS = 900;

/**
 * The operator's fallbackAfterSeconds: a task that checks, when it is due, whether the WhatsApp
 * message was delivered. Best effort: a lost check leaves the message as it is (it is not lost).
 */
async function scheduleFallbackCheck(d: D, message: Message, afterSeconds: number): Promise<void> {
  const dueAt = new Date(Date.parse(message.createdAt) + afterSeconds * 1000).toISOString();
  try {
    await d.queue.enqueue(sendQueue(message), [{ operatorId: message.operatorId, messageId: message.id, fallbackCheck: { dueAt } }], {
      delaySeconds: Math.min(afterSeconds, MAX_TASK_DELAY_SECONDS),
    });
  } catch (error) {
    logger.warn('Could not schedule the WhatsApp fallback check', { error, messageId: message.id });
  }
}

/** The encryption context binds sealed content to its operator. */
const contentContext = (operatorId: string) => ({ operatorId, purpose: 'message-content' });

async function sealContent(d: Pick<Deps, 'cipher'>, operatorId: string, content: RenderedContent): Promise<string> {
  return d.cipher.seal(JSON.stringify(content), contentContext(operatorId));
}

/** What the provider is sent: the sealed content when there is one (an OTP), else the message's own. */
export async function sendableContent(d: Pick<Deps, 'cipher'>, message: Message): Promise<RenderedContent> {
  if (!message.sealedContent) {
    return {
      text: message.text,
      ...(message.whatsappTemplate ? { whatsappTemplate: message.whatsappTemplate } : {}),
      ...(message.subject !== undefined && message.html !== undefined ? { email: { subject: message.subject, html: message.html, text: message.text } } : {}),
    };
  }
  return JSON.parse(await d.cipher.open(message.sealedContent, contentContext(message.operatorId))) as RenderedContent;
}

export async function sendMessage(
  d: D,
  operator: Operator,
  input: Omit<SendMessageInput, 'channel' | 'category'> & { channel?: RequestedChannel; category?: SendMessageInput['category']; resellerId?: string },
  idempotencyKey?: string,
): Promise<Message> {
  const customer = await findCustomer(d, operator, input.customerId);
  const number = customer || input.mobile === undefined ? undefined : normalizeMobile(input.mobile, operator.defaultCountry, 'mobile');
  const content = await renderContent(d, operator, input, customer);
  const { message } = await createMessage(
    d,
    operator,
    {
      channel: input.channel ?? 'auto',
      customer,
      number,
      ...(input.email ? { email: input.email } : {}),
      category: input.category ?? 'transactional',
      ...(input.resellerId ? { resellerId: input.resellerId } : {}),
      content,
      templateId: input.templateId,
      // A single send: it must not wait behind a broadcast.
      lane: 'priority',
      fields: { recipient: customer ? 'customerId' : input.email ? 'email' : 'mobile', content: input.text !== undefined ? 'text' : 'templateId' },
    },
    { idempotency: idempotency(idempotencyKey, { send: { ...input, resellerId: undefined } }), quota: { claimKey: idempotencyKey && `send:${idempotencyKey}` } },
  );
  return message;
}

/**
 * A failed message can be resent once: the resend and the original's link to it are written in one
 * transaction, so any later resend of it (whatever its Idempotency-Key) answers that first resend.
 * It goes by the original's channel, to the original's number.
 */
export async function resendMessage(d: D, operator: Operator, id: string, _idempotencyKey?: string): Promise<{ message: Message; created: boolean }> {
  const original = await getMessage(d, operator, id);
  if (original.resentAs) return { message: await getMessage(d, operator, original.resentAs), created: false };
  if (original.direction === 'in') throw conflict(`Message ${id} was written by a customer; only messages we sent can be resent.`);
  if (original.status !== 'failed') {
    throw conflict(`Only failed messages can be resent; message ${id} is ${original.status}.`);
  }
  if (original.erasedAt) throw conflict(`Message ${id} belongs to a customer whose personal data was erased; it cannot be resent.`);
  if (original.kind === 'otp') throw conflict(`Message ${id} carried a one-time code; ask for a new code with POST /v1/otp instead.`);
  // An original has one resend, so its id is the claim: a repeated resend never takes a second unit.
  return createMessage(
    d,
    operator,
    {
      channel: original.channel,
      number: original.to,
      customerId: original.customerId,
      content: { text: original.text, ...(original.whatsappTemplate ? { whatsappTemplate: original.whatsappTemplate } : {}) },
      templateId: original.templateId,
      lane: original.lane ?? 'bulk',
      // The operator's destinations may have changed since the original was sent.
      recipientWords: `the number of message ${id}, ${original.to},`,
      fields: { recipient: 'id', content: 'id' },
    },
    { link: { original, field: 'resentAs', originalStatuses: ['failed'] }, quota: { claimKey: `resend:${original.id}` } },
  );
}

export async function getMessage(d: Pick<D, 'messages'>, operator: Operator, id: string): Promise<Message> {
  const message = await d.messages.get(operator.id, id);
  if (!message) throw notFound(`Message "${id}"`);
  return message;
}

export async function listMessages(
  d: Pick<Deps, 'messages' | 'broadcasts'>,
  operator: Operator,
  { broadcastId, ...filter }: MessageFilter & { broadcastId?: string },
  limit: number,
  cursor?: string,
): Promise<Page<Message>> {
  if (filter.from && filter.to && Date.parse(filter.from) > Date.parse(filter.to)) {
    throw invalid('"from" must not be after "to".', [{ field: 'from', message: 'must be before or equal to "to"' }]);
  }
  if (broadcastId !== undefined) {
    const broadcast = await d.broadcasts.get(operator.id, broadcastId);
    if (!broadcast) throw invalid(`Broadcast "${broadcastId}" was not found.`, [{ field: 'broadcastId', message: `no broadcast with id "${broadcastId}"` }]);
    // Not started yet: no message has its prefix.
    if (!broadcast.messagePrefix) return { items: [] };
    filter.broadcast = { id: broadcast.id, messagePrefix: broadcast.messagePrefix };
  }
  return d.messages.list(operator.id, filter, limit, cursor);
}

/** The API's view of a message: the schema's fields in the schema's order, storage-only fields dropped. */
export const messageView = (message: Message) => MessageView.parse(message);
