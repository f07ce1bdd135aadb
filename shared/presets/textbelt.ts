import type { GatewayPreset } from './preset.js';

/** Textbelt: POST /text, form with phone (E.164 outside the US), message, key and sender; "success": true and a textId when accepted. */
export const textbelt: GatewayPreset = {
  id: 'textbelt',
  name: 'Textbelt',
  country: 'US',
  docs: 'https://docs.textbelt.com/',
  credentials: ['apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://textbelt.com/text',
      contentType: 'form',
      body: { phone: '{{to}}', message: '{{text}}', key: '{{credentials.apiKey}}', sender: '{{sender}}' },
    },
    numberFormat: 'e164',
    // Textbelt answers 200 with "success": false and an error message when it refuses.
    success: { statusCodes: [200], jsonPath: '$.success', equals: 'true' },
    messageId: { jsonPath: '$.textId' },
    errors: [{ match: { regex: '[Qq]uota|[Kk]ey' }, kind: 'gateway' }],
  },
};
