import { SettingsPatch } from '../../shared/domain/schemas.js';
import { deps } from '../../shared/deps.js';
import { settingsView, updateSettings } from '../../shared/services/settings.js';
import { api, json, parse } from './_middleware.js';

export const handler = api({
  // The operator was read for this request by the authentication middleware.
  'GET /v1/settings': async ({ operator }) => json(200, settingsView(operator)),
  'PATCH /v1/settings': async ({ operator, body }) => json(200, await updateSettings(deps(), operator, parse(SettingsPatch, body))),
});
