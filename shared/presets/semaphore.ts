import type { GatewayPreset } from './preset.js';

/** Semaphore (Philippines) v4: POST /api/v4/messages, form with apikey, number (09XXXXXXXXX), message and sendername; replies with a list of messages. */
export const semaphore: GatewayPreset = {
  id: 'semaphore',
  name: 'Semaphore',
  country: 'PH',
  docs: 'https://api.semaphore.co/docs',
  credentials: ['apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.semaphore.co/api/v4/messages',
      contentType: 'form',
      body: { apikey: '{{credentials.apiKey}}', number: '{{to}}', message: '{{text}}', sendername: '{{sender}}' },
    },
    numberFormat: 'national',
    // One entry per recipient, each with its message_id.
    success: { statusCodes: [200], jsonPath: '$[0].message_id' },
    messageId: { jsonPath: '$[0].message_id' },
  },
};
