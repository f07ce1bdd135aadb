import { z } from 'zod';
import { SuppressionQuery } from '../../shared/domain/schemas.js';
import { deps } from '../../shared/deps.js';
import { deleteSuppression } from '../../shared/services/suppressions.js';
import { api, json, parse } from './_middleware.js';

const Address = z.string().min(3).max(254);

export const handler = api({
  'GET /v1/suppressions': async ({ operator, query }) => {
    const { limit, cursor } = parse(SuppressionQuery, query, 'query string');
    const page = await deps().suppressions.list(operator.id, limit, cursor);
    return json(200, { items: page.items, cursor: page.cursor });
  },
  'DELETE /v1/suppressions/{address}': async ({ operator, params }) => {
    await deleteSuppression(deps(), operator, parse(Address, decodeURIComponent(params.address ?? ''), 'address in the path', { field: 'address' }));
    return { statusCode: 204, body: '' };
  },
});
