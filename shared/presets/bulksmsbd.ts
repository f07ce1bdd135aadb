import type { GatewayPreset } from './preset.js';

/**
 * BulkSMSBD single SMS API: /api/smsapi with api_key, type, number (88017XXXXXXXX), senderid and
 * message; response_code 202 is success. (There is also a native `bulksmsbd` provider; this preset
 * is the same gateway described as data.)
 */
export const bulksmsbd: GatewayPreset = {
  id: 'bulksmsbd',
  name: 'BulkSMSBD',
  country: 'BD',
  docs: 'https://bulksmsbd.com/bulksms-api-bangladesh.php',
  credentials: ['apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://bulksmsbd.net/api/smsapi',
      contentType: 'form',
      body: { api_key: '{{credentials.apiKey}}', type: 'text', number: '{{to}}', senderid: '{{sender}}', message: '{{text}}' },
    },
    numberFormat: 'digits',
    success: { statusCodes: [200], jsonPath: '$.response_code', equals: '202' },
    messageId: { jsonPath: '$.message_id' },
    errors: [
      { match: { regex: '"response_code"\\s*:\\s*"?1005\\b' }, kind: 'temporary' },
      { match: { regex: '"response_code"\\s*:\\s*"?(1002|1006|1007|1011|1012|101[3-9]|102[01]|1031|1032)\\b' }, kind: 'gateway' },
    ],
  },
};
