import type { GatewayPreset } from './preset.js';

/** BulkGate Simple API: POST /api/1.0/simple/transactional, JSON with application_id, application_token, number (international, no +), text and a text sender (gText). */
export const bulkgate: GatewayPreset = {
  id: 'bulkgate',
  name: 'BulkGate',
  country: 'CZ',
  docs: 'https://help.bulkgate.com/docs/en/http-simple-transactional.html',
  credentials: ['applicationId', 'applicationToken'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://portal.bulkgate.com/api/1.0/simple/transactional',
      contentType: 'json',
      body: {
        application_id: '{{credentials.applicationId}}',
        application_token: '{{credentials.applicationToken}}',
        number: '{{to}}',
        text: '{{text}}',
        sender_id: 'gText',
        sender_id_value: '{{sender}}',
      },
    },
    numberFormat: 'digits',
    // A success is wrapped in "data", a refusal is {"error": ..., "code": ...}; the id is not relied on, ours is kept.
    success: { regex: '^\\s*\\{\\s*"data"\\s*:' },
  },
};
