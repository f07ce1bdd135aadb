/**
 * Which channel a message goes by (POST /v1/messages `channel`, default `auto`), and to which number.
 * Pure: the API, fallbacks and OTPs route the same way, and the reply says why.
 */
import { conflict, invalid } from './errors.js';
import type { Channel, Customer, Operator } from './records.js';

export type RequestedChannel = Channel | 'auto';

export interface Route {
  channel: Channel;
  /** E.164. */
  to: string;
  /** Why, in words (shown in the reply and the history). */
  reason: string;
}

export interface Recipient {
  customer?: Pick<Customer, 'id' | 'mobile' | 'whatsapp' | 'email'>;
  /** A raw number given instead of a customer, already in E.164. */
  number?: string;
  /** A raw email address given instead of a customer's. */
  email?: string;
  /** Telegram: the chat. */
  chatId?: string;
}

/**
 * `auto`: WhatsApp when the operator has an enabled WhatsApp gateway and the recipient has a
 * WhatsApp number (a customer's `whatsapp`, or, with the operator's `whatsappUsesMobile`, its
 * mobile or the raw number); otherwise SMS. An explicit channel is kept, or refused when it
 * cannot be used.
 */
export function chooseRoute(
  requested: RequestedChannel,
  operator: Pick<Operator, 'whatsappUsesMobile'>,
  recipient: Recipient,
  hasWhatsAppGateway: boolean,
  field = 'channel',
): Route {
  if (requested === 'email') {
    const to = recipient.email ?? recipient.customer?.email;
    if (!to) throw invalid(recipient.customer ? `Customer "${recipient.customer.id}" has no email address.` : 'There is no email address to send to.', [{ field, message: 'needs an email address' }]);
    return { channel: 'email', to: to.toLowerCase(), reason: 'Email was asked for.' };
  }
  if (requested === 'telegram') {
    if (!recipient.chatId) throw invalid('A Telegram message needs a chat.', [{ field, message: 'needs a chat id' }]);
    return { channel: 'telegram', to: recipient.chatId, reason: 'Telegram was asked for.' };
  }
  const mobile = recipient.customer?.mobile ?? recipient.number!;
  const whatsappNumber = recipient.customer?.whatsapp ?? (operator.whatsappUsesMobile ? mobile : undefined);
  if (requested === 'sms') return { channel: 'sms', to: mobile, reason: 'SMS was asked for.' };
  if (requested === 'whatsapp') {
    if (!hasWhatsAppGateway) throw conflict('This operator has no enabled WhatsApp gateway; add one with POST /v1/gateways (channel "whatsapp") or send by SMS.');
    // Asked for explicitly: the customer's WhatsApp number, else the number we have.
    const to = recipient.customer?.whatsapp ?? mobile;
    if (!to) throw invalid('There is no number to send the WhatsApp message to.', [{ field, message: 'needs a WhatsApp number' }]);
    return { channel: 'whatsapp', to, reason: 'WhatsApp was asked for.' };
  }
  if (!hasWhatsAppGateway) return { channel: 'sms', to: mobile, reason: 'auto: SMS, because this operator has no enabled WhatsApp gateway.' };
  if (whatsappNumber === undefined) {
    const why = recipient.customer
      ? `customer "${recipient.customer.id}" has no WhatsApp number and the setting whatsappUsesMobile is off`
      : 'a raw number is used on WhatsApp only with the setting whatsappUsesMobile on';
    return { channel: 'sms', to: mobile, reason: `auto: SMS, because ${why}.` };
  }
  const which = recipient.customer?.whatsapp ? "the customer's WhatsApp number" : 'the mobile number (whatsappUsesMobile is on)';
  return { channel: 'whatsapp', to: whatsappNumber, reason: `auto: WhatsApp, because this operator has an enabled WhatsApp gateway and ${which} is known.` };
}
