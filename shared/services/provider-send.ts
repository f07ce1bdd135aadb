/**
 * One provider call for a message, whatever its channel: the sender, gateway tests and the
 * reconciler all send through here, so each channel's request shape is decided in one place.
 */
import type { WhatsAppTemplateContent } from '../domain/records.js';
import type { ChannelProvider, ProviderContext, WhatsAppContent } from '../ports.js';

export interface Outbound {
  messageId: string;
  to: string;
  /** The text; for a WhatsApp template, its rendering (what a text-only bridge sends). */
  text: string;
  whatsappTemplate?: WhatsAppTemplateContent;
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
  if (opened.provider.channel === 'whatsapp') {
    return opened.provider.send({ messageId, to, content: whatsappContent(outbound, opened.provider.textOnly === true), ...callback }, gateway, ctx);
  }
  return opened.provider.send({ messageId, to, text: outbound.text, ...callback }, gateway, ctx);
}
