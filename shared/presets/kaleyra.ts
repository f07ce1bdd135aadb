import type { GatewayPreset } from './preset.js';

/** Kaleyra.io SMS: POST /v1/<SID>/messages with the api-key header, form-encoded; the number in E.164. */
export const kaleyra: GatewayPreset = {
  id: 'kaleyra',
  name: 'Kaleyra',
  country: 'IN',
  docs: 'https://developers.kaleyra.io/docs/send-your-first-sms',
  credentials: ['sid', 'apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.kaleyra.io/v1/{{credentials.sid}}/messages',
      contentType: 'form',
      headers: { 'api-key': '{{credentials.apiKey}}' },
      body: { to: '{{to}}', sender: '{{sender}}', type: 'DEFAULT', body: '{{text}}', ref: '{{messageId}}' },
    },
    numberFormat: 'e164',
    success: { statusCodes: [200, 201, 202] },
    messageId: { jsonPath: '$.id' },
  },
};
