/** Every Telegram provider this version knows, by id. Adding a provider is one file and one line here. */
import type { TelegramProvider } from '../../../ports.js';
import { telegramBot } from './telegram.js';

export const telegramProviders: Record<string, TelegramProvider<any, any>> = {
  [telegramBot.id]: telegramBot,
};

export function telegramProvider(id: string): TelegramProvider<any, any> | undefined {
  return Object.hasOwn(telegramProviders, id) ? telegramProviders[id] : undefined;
}
