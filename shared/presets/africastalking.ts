import type { GatewayPreset } from './preset.js';

/** Africa's Talking: POST /version1/messaging, form with username, to (E.164), message and from; the API key in the apiKey header. */
export const africastalking: GatewayPreset = {
  id: 'africastalking',
  name: "Africa's Talking",
  country: 'KE',
  docs: 'http://docs.africastalking.com/sms/sending/nodejs',
  credentials: ['username', 'apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.africastalking.com/version1/messaging',
      contentType: 'form',
      headers: { apiKey: '{{credentials.apiKey}}', Accept: 'application/json' },
      body: { username: '{{credentials.username}}', to: '{{to}}', message: '{{text}}', from: '{{sender}}' },
    },
    numberFormat: 'e164',
    // One SMSMessageData.Recipients entry per number, with its status and messageId.
    success: { statusCodes: [200, 201], jsonPath: '$.SMSMessageData.Recipients[0].status', equals: 'Success' },
    messageId: { jsonPath: '$.SMSMessageData.Recipients[0].messageId' },
  },
};
