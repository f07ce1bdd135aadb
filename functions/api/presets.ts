import { listGatewayPresets } from '../../shared/services/presets.js';
import { api, json } from './_middleware.js';

/** Ready descriptions of real SMS gateways for the generic HTTP provider. */
export const handler = api({
  'GET /v1/gateway-presets': async () => json(200, { items: listGatewayPresets() }),
});
