/** Every SMS provider this version knows, by id. Adding a provider is one file and one line here. */
import type { SmsProvider } from '../../../ports.js';
import { africasTalkingSms } from './africastalking.js';
import { awsSms } from './aws-sms.js';
import { msg91Sms } from './msg91.js';
import { sandboxSms } from './sandbox.js';
import { twilioSms } from './twilio.js';
import { plivoSms } from './plivo.js';
import { vonageSms } from './vonage.js';
import { infobipSms } from './infobip.js';
import { sinchSms } from './sinch.js';
import { telnyxSms } from './telnyx.js';
import { messageBirdSms } from './messagebird.js';
import { sslWirelessSms } from './sslwireless.js';
import { bulkSmsBdSms } from './bulksmsbd.js';
import { httpGatewaySms } from './http-gateway.js';

export const smsProviders: Record<string, SmsProvider<any, any>> = {
  [africasTalkingSms.id]: africasTalkingSms,
  [awsSms.id]: awsSms,
  [msg91Sms.id]: msg91Sms,
  [sandboxSms.id]: sandboxSms,
  [twilioSms.id]: twilioSms,
  [plivoSms.id]: plivoSms,
  [vonageSms.id]: vonageSms,
  [infobipSms.id]: infobipSms,
  [sinchSms.id]: sinchSms,
  [telnyxSms.id]: telnyxSms,
  [messageBirdSms.id]: messageBirdSms,
  [sslWirelessSms.id]: sslWirelessSms,
  [bulkSmsBdSms.id]: bulkSmsBdSms,
  [httpGatewaySms.id]: httpGatewaySms,
};

export function smsProvider(id: string): SmsProvider<any, any> | undefined {
  return Object.hasOwn(smsProviders, id) ? smsProviders[id] : undefined;
}
