/** Every SMS provider this version knows, by id. Adding a provider is one file and one line here. */
import type { SmsProvider } from '../../../ports.js';
import { sandboxSms } from './sandbox.js';
import { twilioSms } from './twilio.js';

export const smsProviders: Record<string, SmsProvider<any, any>> = {
  [sandboxSms.id]: sandboxSms,
  [twilioSms.id]: twilioSms,
};

export function smsProvider(id: string): SmsProvider<any, any> | undefined {
  return Object.hasOwn(smsProviders, id) ? smsProviders[id] : undefined;
}
