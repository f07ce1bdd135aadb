import { MessageQuery, PreviewMessage, ResourceId, SendMessage } from '../../shared/domain/schemas.js';
import { deps } from '../../shared/deps.js';
import { getMessage, listMessages, messageView, previewMessage, resendMessage, sendMessage } from '../../shared/services/messages.js';
import { api, idempotencyKey, json, parse } from './_middleware.js';

const idParam = (params: Record<string, string>) => parse(ResourceId, params.id, 'message id in the path', { field: 'id' });

export const handler = api({
  'POST /v1/messages': async (request) => {
    const input = parse(SendMessage, request.body);
    const message = await sendMessage(deps(), request.operator, input, idempotencyKey(request));
    return json(202, messageView(message), { location: `/v1/messages/${message.id}` });
  },
  'POST /v1/messages/preview': async ({ operator, body }) => json(200, await previewMessage(deps(), operator, parse(PreviewMessage, body))),
  'GET /v1/messages': async ({ operator, query }) => {
    const { limit, cursor, ...filter } = parse(MessageQuery, query, 'query string');
    const page = await listMessages(deps(), operator, filter, limit, cursor);
    return json(200, { items: page.items.map(messageView), cursor: page.cursor });
  },
  'GET /v1/messages/{id}': async ({ operator, params }) => json(200, messageView(await getMessage(deps(), operator, idParam(params)))),
  'POST /v1/messages/{id}/resend': async (request) => {
    // 202 for the one resend; 200 with that same resend for every later click, whatever its key.
    const { message, created } = await resendMessage(deps(), request.operator, idParam(request.params), idempotencyKey(request));
    return json(created ? 202 : 200, messageView(message), { location: `/v1/messages/${message.id}` });
  },
});
