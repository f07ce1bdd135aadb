import type { GatewayPreset } from './preset.js';

/** Hubtel Simple SEND SMS (GET): client id and secret as query parameters (URL authentication). */
export const hubtel: GatewayPreset = {
  id: 'hubtel',
  name: 'Hubtel',
  country: 'GH',
  docs: 'https://businessdocs-developers.hubtel.com/docs/simple-messaging',
  credentials: ['clientId', 'clientSecret'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'GET',
      url: 'https://sms.hubtel.com/v1/messages/send',
      contentType: 'form',
      query: { clientid: '{{credentials.clientId}}', clientsecret: '{{credentials.clientSecret}}', from: '{{sender}}', to: '{{to}}', content: '{{text}}' },
    },
    numberFormat: 'digits',
    // The docs show messageId at the top level (and, on another page, under data): accept by status, id when found.
    success: { statusCodes: [200, 201] },
    messageId: { jsonPath: '$.messageId' },
  },
};
