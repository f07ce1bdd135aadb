/** Every WhatsApp provider this version knows, by id. Adding a provider is one file and one line here. */
import type { WhatsAppProvider } from '../../../ports.js';
import { metaWhatsApp } from './meta.js';

export const whatsappProviders: Record<string, WhatsAppProvider<any, any>> = {
  [metaWhatsApp.id]: metaWhatsApp,
};

export function whatsappProvider(id: string): WhatsAppProvider<any, any> | undefined {
  return Object.hasOwn(whatsappProviders, id) ? whatsappProviders[id] : undefined;
}
