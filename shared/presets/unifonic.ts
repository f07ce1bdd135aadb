import type { GatewayPreset } from './preset.js';

/** Unifonic REST API: POST /rest/SMS/messages, form-encoded, AppSid; Recipient in international format without 00 or +. */
export const unifonic: GatewayPreset = {
  id: 'unifonic',
  name: 'Unifonic',
  country: 'SA',
  docs: 'https://docs.unifonic.com/docs/sending-your-first-sms-via-unifonic-api',
  credentials: ['appSid'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://el.cloud.unifonic.com/rest/SMS/messages',
      contentType: 'form',
      body: { AppSid: '{{credentials.appSid}}', SenderID: '{{sender}}', Recipient: '{{to}}', Body: '{{text}}', responseType: 'JSON', CorrelationID: '{{messageId}}' },
    },
    numberFormat: 'digits',
    success: { statusCodes: [200], jsonPath: '$.success', equals: 'true' },
    messageId: { jsonPath: '$.data.MessageID' },
  },
};
