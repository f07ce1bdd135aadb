import type { GatewayPreset } from './preset.js';

/**
 * D7 Networks Messages API: POST /messages/v1/send with a Bearer token, JSON messages[] (channel
 * sms, recipients in E.164, content) and message_globals.originator; replies request_id and
 * status "accepted".
 */
export const d7networks: GatewayPreset = {
  id: 'd7networks',
  name: 'D7 Networks',
  country: 'AE',
  docs: 'https://d7networks.com/docs/Messages/Send_Message/',
  credentials: ['apiToken'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.d7networks.com/messages/v1/send',
      contentType: 'json',
      headers: { Authorization: 'Bearer {{credentials.apiToken}}' },
      body: {
        messages: [{ channel: 'sms', recipients: ['{{to}}'], content: '{{text}}', msg_type: 'text', data_coding: 'auto' }],
        message_globals: { originator: '{{sender}}' },
      },
    },
    numberFormat: 'e164',
    success: { statusCodes: [200, 201, 202], jsonPath: '$.status', equals: 'accepted' },
    messageId: { jsonPath: '$.request_id' },
    // 401 is a bad token (already the gateway's by default); D7's SDKs read 402 as insufficient credit.
    errors: [{ match: { statusCode: 402 }, kind: 'gateway' }],
  },
};
