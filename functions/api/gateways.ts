import { GatewayInput, GatewayTest, ResourceId } from '../../shared/domain/schemas.js';
import { deps } from '../../shared/deps.js';
import { deleteGateway, getGateway, listGateways, saveGateway, testGateway } from '../../shared/services/gateways.js';
import { api, json, parse } from './_middleware.js';

const idParam = (params: Record<string, string>) => parse(ResourceId, params.id, 'gateway id in the path', { field: 'id' });

export const handler = api({
  'POST /v1/gateways': async ({ operator, body }) => {
    const { view } = await saveGateway(deps(), operator, parse(GatewayInput, body));
    return json(201, view, { location: `/v1/gateways/${view.id}` });
  },
  'PUT /v1/gateways/{id}': async ({ operator, params, body }) => {
    const { view } = await saveGateway(deps(), operator, parse(GatewayInput, body), idParam(params));
    return json(200, view);
  },
  'GET /v1/gateways/{id}': async ({ operator, params }) => json(200, await getGateway(deps(), operator, idParam(params))),
  'GET /v1/gateways': async ({ operator }) => json(200, { items: await listGateways(deps(), operator) }),
  'DELETE /v1/gateways/{id}': async ({ operator, params }) => {
    await deleteGateway(deps(), operator, idParam(params));
    return { statusCode: 204 };
  },
  // A provider's refusal is an answer (200, ok: false), not an error of this API.
  'POST /v1/gateways/{id}/test': async ({ operator, params, body }) => {
    const id = idParam(params);
    return json(200, await testGateway(deps(), operator, id, parse(GatewayTest, body)));
  },
});
