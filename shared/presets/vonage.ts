import type { GatewayPreset } from './preset.js';

/**
 * Vonage (Nexmo) SMS API: POST https://rest.nexmo.com/sms/json, form with api_key, api_secret, from,
 * to (country code, no +) and text; each message has a status, "0" when accepted, and a message-id.
 */
export const vonage: GatewayPreset = {
  id: 'vonage',
  name: 'Vonage SMS API',
  country: 'US',
  docs: 'https://developer.vonage.com/messaging/sms/technical-details',
  credentials: ['apiKey', 'apiSecret'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://rest.nexmo.com/sms/json',
      contentType: 'form',
      body: { api_key: '{{credentials.apiKey}}', api_secret: '{{credentials.apiSecret}}', from: '{{sender}}', to: '{{to}}', text: '{{text}}', 'client-ref': '{{messageId}}' },
    },
    numberFormat: 'digits',
    success: { statusCodes: [200], jsonPath: '$.messages[0].status', equals: '0' },
    messageId: { jsonPath: '$.messages[0].message-id' },
    // The SMS API error codes (developer.vonage.com/api-errors/sms): 1 throttled, 5 internal error,
    // 10 too many binds; 2 missing parameters, 4 invalid credentials, 8 account barred, 9 no credit;
    // 6 unrecognised number prefix, 7 number barred.
    errors: [
      { match: { regex: '"status"\\s*:\\s*"(1|5|10)"' }, kind: 'temporary' },
      { match: { regex: '"status"\\s*:\\s*"(2|4|8|9)"' }, kind: 'gateway' },
      { match: { regex: '"status"\\s*:\\s*"(6|7)"' }, kind: 'recipient' },
    ],
  },
};
