/**
 * What customers write back, and what the team answers: an inbound message is recorded once, linked
 * to the customer by number, checked for opt-out words (STOP, START and the operator's own), and
 * forwarded to the operator's `customer-support` Telegram chat; a team member's reply there to the
 * forwarded message goes back to the customer on the channel the customer used (WhatsApp within its
 * 24-hour window, else SMS).
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../domain/errors.js';
import { escapeHtml } from '../domain/html.js';
import { newId } from '../domain/ids.js';
import type { Customer, Gateway, Message, Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import { logger } from '../logger.js';
import type { ProviderInboundMessage, TelegramChatMessage } from '../ports.js';
import { createMessage } from './messages.js';

type D = Pick<
  Deps,
  'customers' | 'templates' | 'gateways' | 'messages' | 'counters' | 'queue' | 'clock' | 'cipher' | 'suppressions' | 'billing' | 'operators' | 'alertRoutes'
>;

/** Words that put a number on the suppression list (marketing only), and that take it off. Matched on the whole message, any case. */
export const OPT_OUT_WORDS = ['STOP', 'UNSUBSCRIBE', 'STOPALL', 'CANCEL', 'END', 'QUIT'];
export const OPT_IN_WORDS = ['START', 'UNSTOP', 'SUBSCRIBE'];

/** WhatsApp lets a business write free text for 24 hours after the customer's last message. */
const WHATSAPP_WINDOW_MS = 24 * 60 * 60 * 1000;

const CHANNEL_WORDS: Record<Message['channel'], string> = { sms: 'SMS', whatsapp: 'WhatsApp', email: 'email', telegram: 'Telegram' };

/** Records a customer's message once per provider id; false when it was recorded before (a retried webhook). */
export async function recordInbound(d: D, gateway: Gateway, update: ProviderInboundMessage): Promise<boolean> {
  const now = d.clock.now();
  const at = update.at || now.toISOString();
  const customer = await d.customers.findByNumber(gateway.operatorId, update.from).catch(() => undefined);
  const message: Message = {
    id: newId(now),
    operatorId: gateway.operatorId,
    channel: gateway.channel,
    direction: 'in',
    ...(customer ? { customerId: customer.id } : {}),
    to: gateway.name,
    from: update.from,
    text: update.text,
    gatewayId: gateway.id,
    provider: gateway.provider,
    providerMessageId: update.providerMessageId,
    status: 'delivered',
    history: [{ status: 'delivered', at, providerStatus: 'inbound' }],
    attempts: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  if (!(await d.messages.createInbound(message, gateway.id, update.providerMessageId))) return false;
  const operator = await d.operators.get(gateway.operatorId);
  if (!operator) return true;
  // Recorded: what follows never makes the provider send it again (its webhook is answered 200 regardless).
  await applyOptWords(d, operator, message).catch((error: unknown) => logger.warn('Could not apply an opt-out word', { error, messageId: message.id }));
  await forwardToSupport(d, operator, message, customer).catch((error: unknown) => logger.warn('Could not forward an inbound message to the support chat', { error, messageId: message.id }));
  return true;
}

async function applyOptWords(d: D, operator: Operator, message: Message): Promise<void> {
  const word = message.text.trim().toUpperCase();
  const optOut = [...OPT_OUT_WORDS, ...(operator.optOutWords ?? []).map((w) => w.toUpperCase())];
  const optIn = [...OPT_IN_WORDS, ...(operator.optInWords ?? []).map((w) => w.toUpperCase())];
  if (optOut.includes(word)) {
    await d.suppressions.put(operator.id, {
      kind: 'phone',
      address: message.from!,
      reason: `"${message.text.trim()}" by ${CHANNEL_WORDS[message.channel]} (message ${message.id})`,
      scope: 'marketing',
      createdAt: message.createdAt,
    });
  } else if (optIn.includes(word)) {
    await d.suppressions.delete(operator.id, 'phone', message.from!);
  }
}

/** The support chat's copy of a customer's message: who wrote, on which channel, and what. */
async function forwardToSupport(d: D, operator: Operator, message: Message, customer: Customer | undefined): Promise<void> {
  const route = await d.alertRoutes.get(operator.id, 'customer-support');
  if (!route) return;
  const who = customer ? `${escapeHtml(customer.name)} (${escapeHtml(customer.id)}), ${escapeHtml(message.from!)}` : `${escapeHtml(message.from!)} (no customer has this number)`;
  const html = `<b>${CHANNEL_WORDS[message.channel]} from ${who}</b>\n${escapeHtml(message.text)}\n\n<i>Reply to this message to answer the customer.</i>`;
  await createMessage(
    d,
    operator,
    {
      channel: 'telegram',
      telegram: { chatId: route.chatId, ...(route.threadId !== undefined ? { threadId: route.threadId } : {}) },
      ...(route.gatewayId ? { gatewayId: route.gatewayId } : {}),
      content: { text: html },
      forwardOf: message.id,
      alert: { purpose: 'customer-support', severity: 'info' },
      lane: 'priority',
      fields: { recipient: 'customer-support', content: 'text' },
    },
    // The team's own chat: not a message to a customer, so not counted in messagesPerDay.
    { quota: false },
  );
}

/**
 * A team member wrote in a chat. A reply to a forwarded customer message is sent to that customer;
 * anything else is the team talking among themselves. Once per Telegram message, even when Telegram
 * retries the webhook (the Telegram message id is the send's idempotency key).
 */
export async function handleTeamMessage(d: D, gateway: Gateway, chat: TelegramChatMessage): Promise<boolean> {
  if (!chat.replyToProviderMessageId || chat.text.trim() === '') return false;
  const pointer = await d.messages.findByProviderId(gateway.id, chat.replyToProviderMessageId);
  if (!pointer) return false;
  const forwarded = await d.messages.get(pointer.operatorId, pointer.messageId);
  if (!forwarded?.forwardOf) return false;
  const inbound = await d.messages.get(pointer.operatorId, forwarded.forwardOf);
  const operator = await d.operators.get(pointer.operatorId);
  if (!inbound?.from || !operator) return false;
  const now = d.clock.now();
  const withinWindow = inbound.channel === 'whatsapp' && now.getTime() - Date.parse(inbound.createdAt) < WHATSAPP_WINDOW_MS;
  const key = `telegram-reply:${chat.providerMessageId}`;
  try {
    await createMessage(
      d,
      operator,
      {
        channel: withinWindow ? 'whatsapp' : 'sms',
        number: inbound.from,
        ...(inbound.customerId ? { customerId: inbound.customerId } : {}),
        content: { text: chat.text },
        kind: 'reply',
        lane: 'priority',
        recipientWords: `the customer who wrote message ${inbound.id} (${inbound.from})`,
        fields: { recipient: 'reply', content: 'text' },
      },
      {
        idempotency: { key, fingerprint: createHash('sha256').update(chat.text).digest('base64url') },
        quota: { claimKey: key },
      },
    );
    return true;
  } catch (error) {
    // Refused for good (no gateway, destination not allowed): say so in the log; the webhook still answers 200.
    if (error instanceof DomainError && error.kind !== 'Unavailable') {
      logger.warn('A team reply could not be sent to the customer', { reason: error.message, inboundId: inbound.id });
      return false;
    }
    throw error;
  }
}
