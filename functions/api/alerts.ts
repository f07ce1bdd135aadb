import { AlertInput, AlertPurpose, AlertRouteInput } from '../../shared/domain/schemas.js';
import { deps } from '../../shared/deps.js';
import { getAlertRoute, putAlertRoute, sendAlert } from '../../shared/services/alerts.js';
import { api, json, parse } from './_middleware.js';

const purposeParam = (params: Record<string, string>) => parse(AlertPurpose, params.purpose, 'purpose in the path', { field: 'purpose' });

export const handler = api({
  'PUT /v1/alert-routes/{purpose}': async ({ operator, params, body }) => {
    const { route, created } = await putAlertRoute(deps(), operator, purposeParam(params), parse(AlertRouteInput, body));
    return json(created ? 201 : 200, route);
  },
  'GET /v1/alert-routes/{purpose}': async ({ operator, params }) => json(200, await getAlertRoute(deps(), operator, purposeParam(params))),
  'GET /v1/alert-routes': async ({ operator }) => json(200, { items: await deps().alertRoutes.list(operator.id) }),
  'POST /v1/alerts': async ({ operator, body }) => {
    const { message, collapsed, repeats } = await sendAlert(deps(), operator, parse(AlertInput, body));
    return json(collapsed ? 200 : 202, { messageId: message.id, collapsed, ...(repeats !== undefined ? { repeats } : {}) }, { location: `/v1/messages/${message.id}` });
  },
});
