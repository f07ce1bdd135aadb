/** Every provider of every channel: the gateway service, the sender and the webhooks find providers here. */
import type { Channel } from '../../domain/records.js';
import type { ChannelProvider } from '../../ports.js';
import { emailProviders } from './email/registry.js';
import { smsProviders } from './sms/registry.js';
import { telegramProviders } from './telegram/registry.js';
import { whatsappProviders } from './whatsapp/registry.js';

/** Each channel's registry: another channel is one more entry here. */
export const providersByChannel: Readonly<Record<Channel, Record<string, ChannelProvider>>> = {
  sms: smsProviders,
  whatsapp: whatsappProviders,
  email: emailProviders,
  telegram: telegramProviders,
};

export const channels = Object.keys(providersByChannel) as Channel[];

export const isChannel = (value: string): value is Channel => Object.hasOwn(providersByChannel, value);

/** The provider `id` of `channel`; undefined for an unknown one (own properties only: "toString" is no provider). */
export function providerFor(channel: string, id: string): ChannelProvider | undefined {
  if (!isChannel(channel)) return undefined;
  const registry = providersByChannel[channel];
  return Object.hasOwn(registry, id) ? registry[id] : undefined;
}
