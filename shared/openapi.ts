import { OpenApiGeneratorV31, OpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  Customer,
  CustomerImport,
  CustomerInput,
  CustomerQuery,
  GatewayInput,
  GatewayTest,
  GatewayTestResult,
  GatewayView,
  MessageQuery,
  MessageView,
  OtpCreated,
  OtpRequest,
  OtpVerified,
  OtpVerify,
  Preview,
  PreviewMessage,
  Problem,
  ProviderView,
  SendMessage,
  Settings,
  SettingsPatch,
  TemplateInput,
  TemplateView,
} from './domain/schemas.js';
import { GatewayPresetView } from './services/presets.js';

/** /openapi.json, generated from the same zod schemas the handlers parse with. */
export function openApiDocument(serverUrl?: string) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: Problem } } });
  const errors = {
    400: problem('Malformed JSON or invalid fields; `errors` names each field.'),
    401: problem('Missing or wrong API key.'),
    404: problem('Not found (or belongs to another operator).'),
    415: problem('The body is not application/json.'),
    503: { ...problem('Storage or the queue is throttled or unavailable right now: retry.'), headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' as const } } } },
    429: {
      ...problem('Over a limit of the operator (`limit` says which, with its value): requestsPerSecond, or messagesPerDay on sends.'),
      headers: { 'Retry-After': { description: 'Seconds to wait: about a second for the request rate, until the operator\'s next midnight for the daily messages.', schema: { type: 'integer' as const } } },
    },
  };
  const ok = (schema: z.ZodType, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
  const idPath = z.object({ id: z.string() });
  const page = (item: z.ZodType) => z.object({ items: z.array(item), cursor: z.string().optional() });
  const idempotencyHeader = z.object({ 'Idempotency-Key': z.string().max(255).optional().describe('Repeat a request safely: the same key returns the first result for 24 hours.') });

  const route = (config: Omit<RouteConfig, 'security'>) => registry.registerPath({ ...config, security: [{ [bearer.name]: [] }] });

  route({ method: 'put', path: '/v1/customers/{id}', summary: 'Create or replace a customer', request: { params: idPath, body: { content: { 'application/json': { schema: CustomerInput } } } }, responses: { 200: ok(Customer), 201: ok(Customer, 'Created'), ...errors } });
  route({ method: 'get', path: '/v1/customers/{id}', summary: 'Get a customer', request: { params: idPath }, responses: { 200: ok(Customer), ...errors } });
  route({ method: 'delete', path: '/v1/customers/{id}', summary: 'Erase a customer\'s personal data: the customer is deleted, its messages keep their statuses and counts with the number masked and the text "[erased]". A repeat answers 204 too', request: { params: idPath }, responses: { 204: { description: 'Erased' }, ...errors } });
  route({ method: 'get', path: '/v1/customers', summary: 'List customers (filters, text search, cursor paging)', request: { query: CustomerQuery }, responses: { 200: ok(page(Customer)), ...errors } });
  route({ method: 'post', path: '/v1/customers/import', summary: 'Import up to 1,000 customers; valid rows are kept, invalid rows reported', request: { body: { content: { 'application/json': { schema: CustomerImport } } } }, responses: { 200: ok(z.object({ received: z.number(), imported: z.number(), failed: z.array(z.object({ index: z.number(), id: z.string().optional(), errors: z.array(z.object({ field: z.string(), message: z.string() })) })) })), ...errors } });
  route({ method: 'post', path: '/v1/otp', summary: 'Send a one-time code (WhatsApp authentication template or SMS, on the priority queue)', request: { body: { content: { 'application/json': { schema: OtpRequest } } } }, responses: { 202: ok(OtpCreated, 'Accepted: the code is on its way'), 409: problem('No gateway for the channel, or WhatsApp asked for without an authentication template.'), ...errors } });
  route({ method: 'post', path: '/v1/otp/verify', summary: 'Check a code: valid once, 5 wrong tries or 5 minutes end it', request: { body: { content: { 'application/json': { schema: OtpVerify } } } }, responses: { 200: ok(OtpVerified), ...errors } });
  route({ method: 'post', path: '/v1/messages', summary: 'Send one message (SMS or WhatsApp, routed by `channel`) to a customer or a number', request: { headers: idempotencyHeader, body: { content: { 'application/json': { schema: SendMessage } } } }, responses: { 202: ok(MessageView, 'Accepted: queued for sending'), 409: problem('No enabled gateway for the channel.'), ...errors } });
  route({ method: 'post', path: '/v1/messages/preview', summary: 'Render a text and count its encoding, characters and segments', request: { body: { content: { 'application/json': { schema: PreviewMessage } } } }, responses: { 200: ok(Preview), ...errors } });
  route({ method: 'get', path: '/v1/messages', summary: 'Message history, newest first', request: { query: MessageQuery }, responses: { 200: ok(page(MessageView)), ...errors } });
  route({ method: 'get', path: '/v1/messages/{id}', summary: 'A message with its status history', request: { params: idPath }, responses: { 200: ok(MessageView), ...errors } });
  route({ method: 'post', path: '/v1/messages/{id}/resend', summary: 'Resend a failed message (as a new message), once', request: { params: idPath, headers: idempotencyHeader }, responses: { 202: ok(MessageView, 'Accepted: the resend, queued'), 200: ok(MessageView, 'Already resent: the one resend of this message, whatever the Idempotency-Key'), 409: problem('The message is not failed.'), ...errors } });
  route({ method: 'get', path: '/v1/settings', summary: 'The operator\'s settings, defaults filled in', responses: { 200: ok(Settings), ...errors } });
  route({ method: 'patch', path: '/v1/settings', summary: 'Change only the settings given (null restores a default); unknown fields are refused', request: { body: { content: { 'application/json': { schema: SettingsPatch } } } }, responses: { 200: ok(Settings), ...errors } });
  route({ method: 'put', path: '/v1/templates/{id}', summary: 'Create or replace a template', request: { params: idPath, body: { content: { 'application/json': { schema: TemplateInput } } } }, responses: { 200: ok(TemplateView), 201: ok(TemplateView, 'Created'), ...errors } });
  route({ method: 'get', path: '/v1/templates/{id}', summary: 'Get a template', request: { params: idPath }, responses: { 200: ok(TemplateView), ...errors } });
  route({ method: 'get', path: '/v1/templates', summary: 'List templates', responses: { 200: ok(page(TemplateView)), ...errors } });
  route({ method: 'post', path: '/v1/gateways', summary: 'Add an SMS gateway (credentials are sealed and never returned)', request: { body: { content: { 'application/json': { schema: GatewayInput } } } }, responses: { 201: ok(GatewayView, 'Created'), ...errors } });
  route({ method: 'put', path: '/v1/gateways/{id}', summary: 'Replace a gateway', request: { params: idPath, body: { content: { 'application/json': { schema: GatewayInput } } } }, responses: { 200: ok(GatewayView), ...errors } });
  route({ method: 'get', path: '/v1/gateways/{id}', summary: 'Get a gateway', request: { params: idPath }, responses: { 200: ok(GatewayView), ...errors } });
  route({ method: 'get', path: '/v1/gateways', summary: 'List gateways', responses: { 200: ok(z.object({ items: z.array(GatewayView) })), ...errors } });
  route({ method: 'delete', path: '/v1/gateways/{id}', summary: 'Delete a gateway. The default SMS gateway can be deleted only when it is the operator\'s last one (the default is then cleared); messages still queued through a deleted gateway fail with "Gateway … no longer exists"', request: { params: idPath }, responses: { 204: { description: 'Deleted' }, 409: problem('It is the operator\'s default SMS gateway and another gateway exists: make that one the default first.'), ...errors } });
  route({ method: 'post', path: '/v1/gateways/{id}/test', summary: 'Send a real test message through the gateway now and say what the provider answered (not stored in the history, not counted in messagesPerDay; destination rules apply)', request: { params: idPath, body: { content: { 'application/json': { schema: GatewayTest } } } }, responses: { 200: ok(GatewayTestResult, 'What the provider said: ok, or why not (a provider\'s refusal is never a 5xx)'), ...errors } });
  route({ method: 'get', path: '/v1/providers', summary: 'Every provider of every channel, with JSON Schemas of its credentials (writeOnly) and settings, for building gateway setup forms', responses: { 200: ok(z.object({ items: z.array(ProviderView) })), ...errors } });
  route({ method: 'get', path: '/v1/gateway-presets', summary: 'Ready descriptions of real SMS gateways for the generic HTTP provider: create one with POST /v1/gateways { provider: "http", preset, credentials, settings: { sender } }', responses: { 200: ok(z.object({ items: z.array(GatewayPresetView) })), ...errors } });
  const webhookParams = z.object({ channel: z.string(), provider: z.string(), gatewayId: z.string() });
  registry.registerPath({ method: 'post', path: '/webhooks/{channel}/{provider}/{gatewayId}', summary: 'Provider delivery receipts (signed by the provider; no API key)', request: { params: webhookParams }, responses: { 200: ok(z.object({ recorded: z.number(), unchanged: z.number() })), 401: problem('Signature does not match.'), 404: problem('Unknown gateway or message.') } });
  registry.registerPath({ method: 'get', path: '/webhooks/{channel}/{provider}/{gatewayId}', summary: 'A provider\'s webhook verification handshake (e.g. Meta\'s hub.challenge); 404 for providers without one', request: { params: webhookParams }, responses: { 200: { description: 'The challenge, as the provider expects it', content: { 'text/plain': { schema: z.string() } } }, 403: { description: 'Wrong verify token' }, 404: problem('Unknown gateway, or a provider without a handshake.') } });
  registry.registerPath({ method: 'get', path: '/health', summary: 'Liveness', responses: { 200: ok(z.object({ status: z.literal('ok') })) } });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'ispnotify API',
      version: '1.0.0',
      description: 'Notifications for ISP billing. Errors are application/problem+json (RFC 9457). Texts may be at most 10 SMS segments.',
    },
    servers: serverUrl ? [{ url: serverUrl }] : [],
  });
}
