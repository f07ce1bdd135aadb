import { EventInput, EventRuleInput, EventTypeSchema } from '../../shared/domain/event-schemas.js';
import { deps } from '../../shared/deps.js';
import { getEventRule, listEventRules, putEventRule } from '../../shared/services/event-rules.js';
import { handleEvent } from '../../shared/services/events.js';
import { api, json, parse } from './_middleware.js';

const typeParam = (params: Record<string, string>) => parse(EventTypeSchema, params.type, 'event type in the path', { field: 'type' });

export const handler = api({
  // 202: the messages are queued; 200: a repeat of an event already handled, with the first answer.
  'POST /v1/events': async ({ operator, body }) => {
    const { result, repeat } = await handleEvent(deps(), operator, parse(EventInput, body));
    return json(repeat ? 200 : 202, result);
  },
  'GET /v1/event-rules': async ({ operator }) => json(200, { items: await listEventRules(deps(), operator) }),
  'GET /v1/event-rules/{type}': async ({ operator, params }) => json(200, await getEventRule(deps(), operator, typeParam(params))),
  'PUT /v1/event-rules/{type}': async ({ operator, params, body }) => {
    const { rule, created } = await putEventRule(deps(), operator, typeParam(params), parse(EventRuleInput, body));
    return json(created ? 201 : 200, rule);
  },
});
