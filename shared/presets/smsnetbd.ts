import type { GatewayPreset } from './preset.js';

/**
 * Alpha SMS (sms.net.bd) send API: POST /sendsms, form with api_key, msg, to (8801XXXXXXXXX) and
 * sender_id; "error": 0 and data.request_id when accepted, else "error": <code> and msg.
 */
export const smsnetbd: GatewayPreset = {
  id: 'smsnetbd',
  name: 'Alpha SMS (sms.net.bd)',
  country: 'BD',
  docs: 'https://sms.net.bd/api',
  credentials: ['apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.sms.net.bd/sendsms',
      contentType: 'form',
      body: { api_key: '{{credentials.apiKey}}', msg: '{{text}}', to: '{{to}}', sender_id: '{{sender}}' },
    },
    numberFormat: 'digits',
    success: { statusCodes: [200], jsonPath: '$.error', equals: '0' },
    messageId: { jsonPath: '$.data.request_id' },
    // The error codes of sms.net.bd's own SDKs (github.com/smsnetbd): 416 no valid recipient, 409
    // unknown server error; bad request, authorization, expired account, sender id and balance are
    // the gateway's configuration.
    errors: [
      { match: { regex: '"error"\\s*:\\s*"?416\\b' }, kind: 'recipient' },
      { match: { regex: '"error"\\s*:\\s*"?409\\b' }, kind: 'temporary' },
      { match: { regex: '"error"\\s*:\\s*"?(400|403|404|405|410|411|413|417)\\b' }, kind: 'gateway' },
    ],
  },
};
