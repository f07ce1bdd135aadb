import type { GatewayPreset } from './preset.js';

/**
 * MoceanAPI (Malaysia) SMS: POST /rest/2/sms, form with mocean-api-key, mocean-api-secret,
 * mocean-from, mocean-to (country code, no +), mocean-text and mocean-resp-format=json; each
 * message has a status, 0 when accepted, and a msgid.
 */
export const mocean: GatewayPreset = {
  id: 'mocean',
  name: 'MoceanAPI',
  country: 'MY',
  docs: 'https://moceanapi.com/docs/',
  credentials: ['apiKey', 'apiSecret'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://rest.moceanapi.com/rest/2/sms',
      contentType: 'form',
      body: {
        'mocean-api-key': '{{credentials.apiKey}}',
        'mocean-api-secret': '{{credentials.apiSecret}}',
        'mocean-from': '{{sender}}',
        'mocean-to': '{{to}}',
        'mocean-text': '{{text}}',
        'mocean-resp-format': 'json',
      },
    },
    numberFormat: 'digits',
    success: { statusCodes: [200, 201, 202], jsonPath: '$.messages[0].status', equals: '0' },
    messageId: { jsonPath: '$.messages[0].msgid' },
    // A refused request is {"status": <code>, "err_msg": ...}; a wrong key or secret says so.
    errors: [{ match: { regex: '"err_msg"\\s*:\\s*"Authorization failed"' }, kind: 'gateway' }],
  },
};
