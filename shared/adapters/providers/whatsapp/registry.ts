/** Every WhatsApp provider this version knows, by id. Adding a provider is one file and one line here. */
import type { WhatsAppProvider } from '../../../ports.js';
import { metaWhatsApp } from './meta.js';
import { threeSixtyDialogWhatsApp } from './three-sixty-dialog.js';
import { sandboxWhatsApp } from './sandbox.js';
import { twilioWhatsApp } from './twilio.js';
import { wahaWhatsApp } from './waha.js';

export const whatsappProviders: Record<string, WhatsAppProvider<any, any>> = {
  [metaWhatsApp.id]: metaWhatsApp,
  [threeSixtyDialogWhatsApp.id]: threeSixtyDialogWhatsApp,
  [sandboxWhatsApp.id]: sandboxWhatsApp,
  [twilioWhatsApp.id]: twilioWhatsApp,
  [wahaWhatsApp.id]: wahaWhatsApp,
};

export function whatsappProvider(id: string): WhatsAppProvider<any, any> | undefined {
  return Object.hasOwn(whatsappProviders, id) ? whatsappProviders[id] : undefined;
}
