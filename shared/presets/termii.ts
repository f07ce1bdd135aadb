import type { GatewayPreset } from './preset.js';

/** Termii Messaging API: POST /api/sms/send, JSON with the API key in the body; number in international format without +. */
export const termii: GatewayPreset = {
  id: 'termii',
  name: 'Termii',
  country: 'NG',
  docs: 'https://developers.termii.com/messaging-api',
  credentials: ['apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.ng.termii.com/api/sms/send',
      contentType: 'json',
      body: { to: '{{to}}', from: '{{sender}}', sms: '{{text}}', type: 'plain', channel: 'generic', api_key: '{{credentials.apiKey}}' },
    },
    numberFormat: 'digits',
    success: { statusCodes: [200], jsonPath: '$.message_id' },
    messageId: { jsonPath: '$.message_id' },
    // A 400 about the key, the balance or the sender id is the gateway's problem, not the number's.
    errors: [{ match: { statusCode: 400, regex: '[Aa]pi[ _]?[Kk]ey|[Bb]alance|[Ss]ender' }, kind: 'gateway' }],
  },
};
