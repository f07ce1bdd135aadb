import type { GatewayPreset } from './preset.js';

/** Textlocal India send API: POST /send/, form-encoded with apikey; numbers with the country code, no +. */
export const textlocal: GatewayPreset = {
  id: 'textlocal',
  name: 'Textlocal (India)',
  country: 'IN',
  docs: 'https://api.textlocal.in/docs/sendsms',
  credentials: ['apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.textlocal.in/send/',
      contentType: 'form',
      body: { apikey: '{{credentials.apiKey}}', numbers: '{{to}}', sender: '{{sender}}', message: '{{text}}', custom: '{{messageId}}' },
    },
    numberFormat: 'digits',
    // Textlocal answers 200 with "status": "failure" and an errors list when it refuses.
    success: { statusCodes: [200], jsonPath: '$.status', equals: 'success' },
    messageId: { jsonPath: '$.messages[0].id' },
    errors: [{ match: { regex: '"code"\\s*:\\s*(3|4|7|8|43|80|191|192)\\b' }, kind: 'gateway' }],
  },
};
