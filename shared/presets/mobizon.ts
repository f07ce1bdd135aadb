import type { GatewayPreset } from './preset.js';

/**
 * Mobizon (Kazakhstan) API v1: POST /service/Message/SendSmsMessage with apiKey, output=json and
 * api=v1 in the query, form with recipient (7XXXXXXXXXX), text and from; code 0 and
 * data.messageId when accepted.
 */
export const mobizon: GatewayPreset = {
  id: 'mobizon',
  name: 'Mobizon',
  country: 'KZ',
  docs: 'https://mobizon.kz/help/api-docs/message',
  credentials: ['apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.mobizon.kz/service/Message/SendSmsMessage',
      contentType: 'form',
      query: { output: 'json', api: 'v1', apiKey: '{{credentials.apiKey}}' },
      body: { recipient: '{{to}}', text: '{{text}}', from: '{{sender}}' },
    },
    numberFormat: 'digits',
    success: { statusCodes: [200], jsonPath: '$.code', equals: '0' },
    messageId: { jsonPath: '$.data.messageId' },
    // The API response codes (help/api-docs/other): 8 login failed, 9 method access, 11 missing
    // parameters are the gateway's; 3 application error and 10 saving error are passing.
    errors: [
      { match: { regex: '"code"\\s*:\\s*"?(8|9|11)\\b' }, kind: 'gateway' },
      { match: { regex: '"code"\\s*:\\s*"?(3|10)\\b' }, kind: 'temporary' },
    ],
  },
};
