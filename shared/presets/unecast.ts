import type { GatewayPreset } from './preset.js';

/** Unecast SMS API: POST /v1.0/sms/send with a Bearer API key, JSON {from, to, message}. */
export const unecast: GatewayPreset = {
  id: 'unecast',
  name: 'Unecast',
  country: 'GH',
  docs: 'https://developer.unecast.com/rest-api/sms-api',
  credentials: ['apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.unecast.com/v1.0/sms/send',
      contentType: 'json',
      headers: { Authorization: 'Bearer {{credentials.apiKey}}' },
      body: { from: '{{sender}}', to: '{{to}}', message: '{{text}}' },
    },
    numberFormat: 'digits',
    success: { statusCodes: [200], jsonPath: '$.status', equals: 'success' },
    messageId: { jsonPath: '$.data[0].message_id' },
  },
};
