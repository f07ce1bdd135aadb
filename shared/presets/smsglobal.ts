import type { GatewayPreset } from './preset.js';

/**
 * SMSGlobal HTTP-API (one-way): POST /http-api.php, form with action=sendsms, user, password, from,
 * to (country code, no +) and text; replies in plain text "OK: 0; Sent queued message ID: …
 * SMSGlobalMsgID:…", an error as "ERROR: …".
 */
export const smsglobal: GatewayPreset = {
  id: 'smsglobal',
  name: 'SMSGlobal',
  country: 'AU',
  docs: 'https://www.smsglobal.com/http-api/',
  credentials: ['user', 'password'],
  operatorSettings: ['sender'],
  settings: {
    request: {
      method: 'POST',
      url: 'https://api.smsglobal.com/http-api.php',
      contentType: 'form',
      body: { action: 'sendsms', user: '{{credentials.user}}', password: '{{credentials.password}}', from: '{{sender}}', to: '{{to}}', text: '{{text}}' },
    },
    numberFormat: 'digits',
    success: { regex: '^OK: 0;' },
    messageId: { regex: 'SMSGlobalMsgID:\\s*(\\d+)' },
  },
};
