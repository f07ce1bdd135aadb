import { deps } from '../../shared/deps.js';
import { ResourceId } from '../../shared/domain/schemas.js';
import { BroadcastInput, BroadcastListQuery, broadcastView, cancelBroadcast, createBroadcast, getBroadcast, listBroadcasts } from '../../shared/services/broadcasts.js';
import { broadcastReport } from '../../shared/services/broadcast-report.js';
import { api, json, parse } from './_middleware.js';
import { resellerOf } from './reseller-scope.js';

const idParam = (params: Record<string, string>) => parse(ResourceId, params.id, 'broadcast id in the path', { field: 'id' });

/** Broadcasts: ask (or dry-run) one, follow its progress, cancel it, and a payment-link broadcast's collection report. */
export const handler = api({
  'POST /v1/broadcasts': async ({ operator, principal, body }) => {
    const reseller = resellerOf(principal);
    const { status, body: reply } = await createBroadcast(deps(), operator, parse(BroadcastInput, body), reseller ? { resellerId: reseller } : {});
    return json(status, reply);
  },
  'GET /v1/broadcasts': async ({ operator, principal, query }) => {
    const { limit, cursor } = parse(BroadcastListQuery, query, 'query string');
    const page = await listBroadcasts(deps(), operator, limit, cursor, resellerOf(principal));
    return json(200, { items: page.items, cursor: page.cursor });
  },
  'GET /v1/broadcasts/{id}': async ({ operator, principal, params }) =>
    json(200, await broadcastView(deps(), await getBroadcast(deps(), operator, idParam(params), resellerOf(principal)))),
  'POST /v1/broadcasts/{id}/cancel': async ({ operator, principal, params }) => json(200, await cancelBroadcast(deps(), operator, idParam(params), resellerOf(principal))),
  'GET /v1/broadcasts/{id}/report': async ({ operator, principal, params }) =>
    json(200, await broadcastReport(deps(), operator, await getBroadcast(deps(), operator, idParam(params), resellerOf(principal)))),
});
