import type { GatewayPreset } from './preset.js';

/** Sparrow SMS (Nepal) v2: POST /v2/sms/ with token, from, to (10-digit national number) and text. */
export const sparrow: GatewayPreset = {
  id: 'sparrow',
  name: 'Sparrow SMS',
  country: 'NP',
  docs: 'http://docs.sparrowsms.com/en/latest/',
  credentials: ['token'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.sparrowsms.com/v2/sms/',
      contentType: 'form',
      body: { token: '{{credentials.token}}', from: '{{sender}}', to: '{{to}}', text: '{{text}}' },
    },
    numberFormat: 'national',
    success: { statusCodes: [200], jsonPath: '$.response_code', equals: '200' },
    errors: [{ match: { statusCode: 403 }, kind: 'gateway' }],
  },
};
