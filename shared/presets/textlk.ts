import type { GatewayPreset } from './preset.js';

/** Text.lk (Sri Lanka) v3: POST /api/v3/sms/send, JSON with a Bearer API key; recipient with the country code (94XXXXXXXXX), type "plain". */
export const textlk: GatewayPreset = {
  id: 'textlk',
  name: 'Text.lk',
  country: 'LK',
  docs: 'https://text.lk/docs/send-sms',
  credentials: ['apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://app.text.lk/api/v3/sms/send',
      contentType: 'json',
      headers: { Authorization: 'Bearer {{credentials.apiKey}}' },
      body: { recipient: '{{to}}', sender_id: '{{sender}}', type: 'plain', message: '{{text}}' },
    },
    numberFormat: 'digits',
    // "status": "success" when accepted, "error" with a message otherwise; the docs show no message id.
    success: { statusCodes: [200], jsonPath: '$.status', equals: 'success' },
  },
};
