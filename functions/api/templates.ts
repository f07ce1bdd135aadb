import { z } from 'zod';
import { Limit, ResourceId, TemplateInput } from '../../shared/domain/schemas.js';
import { deps } from '../../shared/deps.js';
import { getTemplate, listTemplates, putTemplate } from '../../shared/services/templates.js';
import { api, json, parse } from './_middleware.js';

const idParam = (params: Record<string, string>) => parse(ResourceId, params.id, 'template id in the path', { field: 'id' });
const TemplateQuery = z.strictObject({ limit: Limit, cursor: z.string().max(2048).optional() });

export const handler = api({
  'PUT /v1/templates/{id}': async ({ operator, params, body }) => {
    const { template, created } = await putTemplate(deps(), operator, idParam(params), parse(TemplateInput, body));
    return json(created ? 201 : 200, template);
  },
  'GET /v1/templates/{id}': async ({ operator, params }) => json(200, await getTemplate(deps(), operator, idParam(params))),
  'GET /v1/templates': async ({ operator, query }) => {
    const { limit, cursor } = parse(TemplateQuery, query, 'query string');
    return json(200, await listTemplates(deps(), operator, limit, cursor));
  },
});
