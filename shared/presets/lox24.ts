import type { GatewayPreset } from './preset.js';

/** LOX24 SMS API: POST /sms with the X-LOX24-AUTH-TOKEN header, JSON; 201 Created when accepted. */
export const lox24: GatewayPreset = {
  id: 'lox24',
  name: 'LOX24',
  country: 'DE',
  docs: 'https://doc.lox24.eu/api/operations/api_sms_post_collection/',
  credentials: ['authToken'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.lox24.eu/sms',
      contentType: 'json',
      headers: { 'X-LOX24-AUTH-TOKEN': '{{credentials.authToken}}' },
      body: { sender_id: '{{sender}}', phone: '{{to}}', service_code: 'direct', text: '{{text}}', callback_data: '{{messageId}}' },
    },
    numberFormat: 'e164',
    success: { statusCodes: [201] },
    messageId: { jsonPath: '$.uuid' },
    errors: [{ match: { statusCode: 402 }, kind: 'gateway' }],
  },
};
