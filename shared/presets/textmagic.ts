import type { GatewayPreset } from './preset.js';

/**
 * Textmagic REST API v2: POST /api/v2/messages with the X-TM-Username and X-TM-Key headers, form
 * with text, phones (E.164 without +), from and referenceId; 201 Created with the message id.
 */
export const textmagic: GatewayPreset = {
  id: 'textmagic',
  name: 'Textmagic',
  country: 'GB',
  docs: 'https://www.textmagic.com/docs/api/send-sms/',
  credentials: ['username', 'apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://rest.textmagic.com/api/v2/messages',
      contentType: 'form',
      headers: { 'X-TM-Username': '{{credentials.username}}', 'X-TM-Key': '{{credentials.apiKey}}' },
      body: { text: '{{text}}', phones: '{{to}}', from: '{{sender}}', referenceId: '{{messageId}}' },
    },
    numberFormat: 'digits',
    // Response codes (textmagic.com/docs/api/response-codes): 401 is the credentials, 429 and 5xx
    // are passing, 400 invalid parameters: the defaults already read them so.
    success: { statusCodes: [200, 201], jsonPath: '$.id' },
    messageId: { jsonPath: '$.id' },
  },
};
