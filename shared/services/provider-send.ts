/**
 * One provider call for a message, whatever its channel: the sender, gateway tests and the
 * reconciler all send through here, so each channel's request shape is decided in one place.
 */
import type { WhatsAppTemplateContent } from '../domain/records.js';
import { escapeHtml } from '../domain/html.js';
import type { ChannelProvider, ProviderContext, WhatsAppContent } from '../ports.js';

export interface Outbound {
  messageId: string;
  to: string;
  /** The text; for a WhatsApp template, its rendering (what a text-only bridge sends). */
  text: string;
  whatsappTemplate?: WhatsAppTemplateContent;
  /** Email: the subject and the HTML part (`text` is the plain-text part). */
  email?: { subject: string; html: string };
  /** Telegram: the forum topic, and the message replied to. `to` is the chat id, `text` the HTML. */
  telegram?: { threadId?: number; replyToProviderMessageId?: string };
  statusCallbackUrl?: string;
}

export interface OpenedProvider {
  provider: ChannelProvider;
  credentials: Record<string, unknown>;
  settings: Record<string, unknown>;
}

/** What a WhatsApp provider is given: the approved template, or free-form text when there is none or it sends text only. */
export function whatsappContent(outbound: Outbound, textOnly: boolean): WhatsAppContent {
  return outbound.whatsappTemplate && !textOnly ? { kind: 'template', ...outbound.whatsappTemplate } : { kind: 'text', text: outbound.text };
}

export function sendThrough(opened: OpenedProvider, outbound: Outbound, ctx: ProviderContext): Promise<{ providerMessageId: string }> {
  const gateway = { credentials: opened.credentials, settings: opened.settings };
  const { messageId, to, statusCallbackUrl } = outbound;
  const callback = statusCallbackUrl ? { statusCallbackUrl } : {};
  switch (opened.provider.channel) {
    case 'whatsapp':
      return opened.provider.send({ messageId, to, content: whatsappContent(outbound, opened.provider.textOnly === true), ...callback }, gateway, ctx);
    case 'email': {
      // A gateway test sends its text as both parts.
      const email = outbound.email ?? { subject: 'ispnotify test message', html: escapeHtml(outbound.text) };
      return opened.provider.send({ messageId, to, subject: email.subject, html: email.html, text: outbound.text }, gateway, ctx);
    }
    case 'telegram':
      return opened.provider.send(
        {
          messageId,
          chatId: to,
          html: outbound.telegram ? outbound.text : escapeHtml(outbound.text),
          ...(outbound.telegram?.threadId !== undefined ? { threadId: outbound.telegram.threadId } : {}),
          ...(outbound.telegram?.replyToProviderMessageId ? { replyToProviderMessageId: outbound.telegram.replyToProviderMessageId } : {}),
        },
        gateway,
        ctx,
      );
    case 'sms':
      return opened.provider.send({ messageId, to, text: outbound.text, ...callback }, gateway, ctx);
  }
}
