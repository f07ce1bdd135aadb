import type { GatewayPreset } from './preset.js';

/** Zenvia API v2: POST /v2/channels/sms/messages with X-API-TOKEN, JSON contents of type text. */
export const zenvia: GatewayPreset = {
  id: 'zenvia',
  name: 'Zenvia',
  country: 'BR',
  docs: 'https://zenvia.github.io/zenvia-openapi-spec/v2',
  credentials: ['apiToken'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.zenvia.com/v2/channels/sms/messages',
      contentType: 'json',
      headers: { 'X-API-TOKEN': '{{credentials.apiToken}}' },
      body: { from: '{{sender}}', to: '{{to}}', contents: [{ type: 'text', text: '{{text}}' }] },
    },
    numberFormat: 'digits',
    success: { statusCodes: [200] },
    messageId: { jsonPath: '$.id' },
  },
};
