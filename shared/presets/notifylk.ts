import type { GatewayPreset } from './preset.js';

/** Notify.lk (Sri Lanka): POST /api/v1/send with user_id, api_key, sender_id, to (9471XXXXXXX) and message; "status": "success" when accepted. */
export const notifylk: GatewayPreset = {
  id: 'notifylk',
  name: 'Notify.lk',
  country: 'LK',
  docs: 'https://developer.notify.lk/api-endpoints',
  credentials: ['userId', 'apiKey'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://app.notify.lk/api/v1/send',
      contentType: 'form',
      body: { user_id: '{{credentials.userId}}', api_key: '{{credentials.apiKey}}', sender_id: '{{sender}}', to: '{{to}}', message: '{{text}}' },
    },
    numberFormat: 'digits',
    // The reply has no message id ({"status": "success", "data": "Sent"}): ours is kept.
    success: { statusCodes: [200], jsonPath: '$.status', equals: 'success' },
  },
};
