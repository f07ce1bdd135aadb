import type { GatewayPreset } from './preset.js';

/** SMSAPI: POST /sms.do with a Bearer OAuth token, form with to (country code, no +), message, from and format=json; the ids are in list[]. */
export const smsapi: GatewayPreset = {
  id: 'smsapi',
  name: 'SMSAPI',
  country: 'PL',
  docs: 'https://smsapi.com/docs',
  credentials: ['token'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.smsapi.com/sms.do',
      contentType: 'form',
      headers: { Authorization: 'Bearer {{credentials.token}}' },
      body: { to: '{{to}}', message: '{{text}}', from: '{{sender}}', format: 'json' },
    },
    numberFormat: 'digits',
    // A refusal is {"error": <code>, "message": ...}; an accepted message has list[0].id.
    success: { statusCodes: [200], jsonPath: '$.list[0].id' },
    messageId: { jsonPath: '$.list[0].id' },
  },
};
