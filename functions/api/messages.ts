import { MessageQuery, PreviewMessage, ResourceId, SendMessage } from '../../shared/domain/schemas.js';
import { deps } from '../../shared/deps.js';
import { getMessage, listMessages, messageView, previewMessage, resendMessage, sendMessage } from '../../shared/services/messages.js';
import { api, idempotencyKey, json, parse } from './_middleware.js';
import { assertOwnCustomerId, assertOwnMessage, resellerOf } from './reseller-scope.js';

const idParam = (params: Record<string, string>) => parse(ResourceId, params.id, 'message id in the path', { field: 'id' });

export const handler = api({
  'POST /v1/messages': async (request) => {
    const input = parse(SendMessage, request.body);
    await assertOwnCustomerId(deps(), request.principal, request.operator.id, input.customerId, 'sends to');
    const message = await sendMessage(deps(), request.operator, { ...input, resellerId: resellerOf(request.principal) }, idempotencyKey(request));
    return json(202, messageView(message), { location: `/v1/messages/${message.id}` });
  },
  'POST /v1/messages/preview': async ({ operator, principal, body }) => {
    const input = parse(PreviewMessage, body);
    if (input.customerId !== undefined || resellerOf(principal) !== undefined) await assertOwnCustomerId(deps(), principal, operator.id, input.customerId, 'previews for');
    return json(200, await previewMessage(deps(), operator, input));
  },
  'GET /v1/messages': async ({ operator, principal, query }) => {
    const { limit, cursor, ...filter } = parse(MessageQuery, query, 'query string');
    await assertOwnCustomerId(deps(), principal, operator.id, filter.customerId, 'lists the messages of');
    const page = await listMessages(deps(), operator, filter, limit, cursor);
    return json(200, { items: page.items.map(messageView), cursor: page.cursor });
  },
  'GET /v1/messages/{id}': async ({ operator, principal, params }) => {
    const message = await getMessage(deps(), operator, idParam(params));
    assertOwnMessage(principal, message);
    return json(200, messageView(message));
  },
  'POST /v1/messages/{id}/resend': async (request) => {
    // 202 for the one resend; 200 with that same resend for every later click, whatever its key.
    const { message, created } = await resendMessage(deps(), request.operator, idParam(request.params), idempotencyKey(request));
    return json(created ? 202 : 200, messageView(message), { location: `/v1/messages/${message.id}` });
  },
});
