import type { GatewayPreset } from './preset.js';

/**
 * eSMS.vn (Vietnam) customer care message: POST SendMultipleMessage_V4_post_json/, JSON with ApiKey,
 * SecretKey, Phone (0XXXXXXXXX), Content, Brandname and SmsType 2; CodeResult "100" and SMSID when
 * accepted. The content must match a customer care template registered for the brandname.
 */
export const esms: GatewayPreset = {
  id: 'esms',
  name: 'eSMS.vn',
  country: 'VN',
  docs: 'https://developers.esms.vn/en/esms-api/send-sms-api/send-otp-customer-care-message',
  credentials: ['apiKey', 'secretKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/',
      contentType: 'json',
      body: { ApiKey: '{{credentials.apiKey}}', SecretKey: '{{credentials.secretKey}}', Phone: '{{to}}', Content: '{{text}}', Brandname: '{{sender}}', SmsType: '2' },
    },
    numberFormat: 'national',
    success: { statusCodes: [200], jsonPath: '$.CodeResult', equals: '100' },
    messageId: { jsonPath: '$.SMSID' },
    // The table of error codes (developers.esms.vn/en/esms-api/table-of-error-codes): 99 number
    // blocked, 108 bad number format; 101 wrong keys, 102 no price list, 103 no balance, 104
    // unknown brandname, 140 IP not whitelisted, 146 wrong template, 177 network not registered.
    errors: [
      { match: { regex: '"CodeResult"\\s*:\\s*"?(99|108)\\b' }, kind: 'recipient' },
      { match: { regex: '"CodeResult"\\s*:\\s*"?(101|102|103|104|140|146|177)\\b' }, kind: 'gateway' },
    ],
  },
};
