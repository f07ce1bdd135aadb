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
  AlertAccepted,
  AlertInput,
  AlertRouteInput,
  AlertRouteView,
  SuppressionQuery,
  SuppressionView,
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
import { EventInput, EventResult, EventRuleInput, EventRuleView } from './domain/event-schemas.js';
import { GatewayPresetView } from './services/presets.js';
import { CustomerBillInput, CustomerBillQuery } from './services/customer-bills.js';
import { BroadcastInput, BroadcastListQuery } from './services/broadcasts.js';
import { NotifierInput, NotifierRunInput } from './services/notifiers.js';

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
  route({ method: 'post', path: '/v1/gateways', summary: 'Add a gateway of a channel: SMS, WhatsApp, email or Telegram (credentials are sealed and never returned)', request: { body: { content: { 'application/json': { schema: GatewayInput } } } }, responses: { 201: ok(GatewayView, 'Created'), ...errors } });
  route({ method: 'put', path: '/v1/gateways/{id}', summary: 'Replace a gateway', request: { params: idPath, body: { content: { 'application/json': { schema: GatewayInput } } } }, responses: { 200: ok(GatewayView), ...errors } });
  route({ method: 'get', path: '/v1/gateways/{id}', summary: 'Get a gateway', request: { params: idPath }, responses: { 200: ok(GatewayView), ...errors } });
  route({ method: 'get', path: '/v1/gateways', summary: 'List gateways', responses: { 200: ok(z.object({ items: z.array(GatewayView) })), ...errors } });
  route({ method: 'delete', path: '/v1/gateways/{id}', summary: 'Delete a gateway. The default SMS gateway can be deleted only when it is the operator\'s last one (the default is then cleared); messages still queued through a deleted gateway fail with "Gateway … no longer exists"', request: { params: idPath }, responses: { 204: { description: 'Deleted' }, 409: problem('It is the operator\'s default SMS gateway and another gateway exists: make that one the default first.'), ...errors } });
  route({ method: 'post', path: '/v1/gateways/{id}/test', summary: 'Send a real test message through the gateway now and say what the provider answered (not stored in the history, not counted in messagesPerDay; destination rules apply)', request: { params: idPath, body: { content: { 'application/json': { schema: GatewayTest } } } }, responses: { 200: ok(GatewayTestResult, 'What the provider said: ok, or why not (a provider\'s refusal is never a 5xx)'), ...errors } });
  route({ method: 'get', path: '/v1/providers', summary: 'Every provider of every channel, with JSON Schemas of its credentials (writeOnly) and settings, for building gateway setup forms', responses: { 200: ok(z.object({ items: z.array(ProviderView) })), ...errors } });
  route({ method: 'get', path: '/v1/gateway-presets', summary: 'Ready descriptions of real SMS gateways for the generic HTTP provider: create one with POST /v1/gateways { provider: "http", preset, credentials, settings: { sender } }', responses: { 200: ok(z.object({ items: z.array(GatewayPresetView) })), ...errors } });
  const purposePath = z.object({ purpose: z.string() });
  const anyJson = (description: string) => ok(z.record(z.string(), z.unknown()), description);
  route({ method: 'put', path: '/v1/alert-routes/{purpose}', summary: 'The team\'s Telegram chat (and forum topic, and bot) for alerts of a purpose', request: { params: purposePath, body: { content: { 'application/json': { schema: AlertRouteInput } } } }, responses: { 200: ok(AlertRouteView), 201: ok(AlertRouteView, 'Created'), ...errors } });
  route({ method: 'get', path: '/v1/alert-routes/{purpose}', summary: 'An alert route', request: { params: purposePath }, responses: { 200: ok(AlertRouteView), ...errors } });
  route({ method: 'get', path: '/v1/alert-routes', summary: 'Every alert route', responses: { 200: ok(z.object({ items: z.array(AlertRouteView) })), ...errors } });
  route({ method: 'post', path: '/v1/alerts', summary: 'Send an alert to its purpose\'s Telegram chat; the same alert within a minute is counted on the first, not sent again', request: { body: { content: { 'application/json': { schema: AlertInput } } } }, responses: { 202: ok(AlertAccepted, 'Sent'), 200: ok(AlertAccepted, 'Collapsed into the same alert sent less than a minute ago'), 409: problem('No chat is set for the purpose.'), ...errors } });
  const typePath = z.object({ type: z.string().describe('An event type: payment.received, payment.failed, customer.suspended, customer.activated, customer.registered, service.expiring, bill.due.') });
  route({ method: 'post', path: '/v1/events', summary: 'A billing event: applies its changes (bill paid, expiry, status, new customer) and sends its rule\'s messages, once per event id (admin keys)', request: { body: { content: { 'application/json': { schema: EventInput } } } }, responses: { 202: ok(EventResult, 'Handled: its messages are queued'), 200: ok(EventResult, 'A repeat of an event already handled: the first answer'), 409: problem('The event id was used before with a different body.'), ...errors } });
  route({ method: 'get', path: '/v1/event-rules', summary: 'The operator\'s event rules', responses: { 200: ok(z.object({ items: z.array(EventRuleView) })), ...errors } });
  route({ method: 'get', path: '/v1/event-rules/{type}', summary: 'The rule for an event type (404 until set)', request: { params: typePath }, responses: { 200: ok(EventRuleView), ...errors } });
  route({ method: 'put', path: '/v1/event-rules/{type}', summary: 'Set the rule for an event type: its messages (channel and template per entry; templates may use customer.*, event.* and the event\'s data) and an optional team alert', request: { params: typePath, body: { content: { 'application/json': { schema: EventRuleInput } } } }, responses: { 200: ok(EventRuleView), 201: ok(EventRuleView, 'Created'), ...errors } });
  route({ method: 'get', path: '/v1/suppressions', summary: 'Addresses and numbers not to message (bounces, complaints, STOP)', request: { query: SuppressionQuery }, responses: { 200: ok(page(SuppressionView)), ...errors } });
  route({ method: 'delete', path: '/v1/suppressions/{address}', summary: 'Take an address or number off the suppression list', request: { params: z.object({ address: z.string() }) }, responses: { 204: { description: 'Removed' }, ...errors } });
  route({ method: 'post', path: '/v1/otp', summary: 'Send a one-time code', request: { body: { content: { 'application/json': { schema: OtpRequest } } } }, responses: { 202: ok(OtpCreated), ...errors } });
  route({ method: 'post', path: '/v1/keys', summary: 'A new API key with a role (admin, billing, read-only, reseller + resellerId), shown once', responses: { 201: anyJson('The key (apiKey, shown once) and its record'), ...errors } });
  route({ method: 'get', path: '/v1/keys', summary: 'The operator\'s keys, masked', responses: { 200: anyJson('{items}'), ...errors } });
  route({ method: 'delete', path: '/v1/keys/{id}', summary: 'Revoke a key', request: { params: idPath }, responses: { 204: { description: 'Revoked' }, ...errors } });
  route({ method: 'get', path: '/v1/billing/balance', summary: 'Balance, reserved, available, currency, credit limit, low-balance threshold and prices', responses: { 200: anyJson('The balance'), ...errors } });
  route({ method: 'get', path: '/v1/billing/ledger', summary: 'The append-only ledger (from, to, type; cursor paging); Accept: text/csv exports it', responses: { 200: anyJson('{items, cursor}, or text/csv'), ...errors } });
  route({ method: 'get', path: '/v1/billing/usage', summary: 'Messages, segments and spend by day or channel (from, to, groupBy)', responses: { 200: anyJson('{groupBy, currency, items}'), ...errors } });
  route({ method: 'get', path: '/v1/billing/bills', summary: 'Monthly bills (postpaid) and statements (prepaid)', responses: { 200: anyJson('{items, cursor}'), ...errors } });
  route({ method: 'get', path: '/v1/billing/bills/{id}', summary: 'A bill; Accept: application/pdf for its PDF', request: { params: idPath }, responses: { 200: anyJson('The bill, or application/pdf'), ...errors } });
  route({ method: 'post', path: '/v1/billing/bills/{id}/checkout', summary: 'A payment page for an open bill (Stripe or SSLCommerz)', request: { params: idPath }, responses: { 201: anyJson('{provider, url, sessionId, reference, amount, currency}'), ...errors } });
  route({ method: 'post', path: '/v1/billing/topups/checkout', summary: 'A payment page for a top-up of `amount` minor units', responses: { 201: anyJson('{provider, url, sessionId, reference, amount, currency}'), ...errors } });
  route({ method: 'post', path: '/v1/broadcasts', summary: 'A broadcast to the customers a filter finds (status, zone, package, resellerId; overdueDays), by channel auto/sms/whatsapp/email, text or templateId, now or at sendAt, with maxCost; dryRun shows five samples. 202: id, recipients, segments, estimated cost by channel; 402 when a prepaid balance cannot cover it', request: { body: { content: { 'application/json': { schema: BroadcastInput } } } }, responses: { 200: anyJson('A dry run: the estimate and samples'), 202: anyJson('{id, state, recipients, segments, cost, byChannel}'), ...errors } });
  route({ method: 'get', path: '/v1/broadcasts', summary: 'Broadcasts, newest first, with their progress', request: { query: BroadcastListQuery }, responses: { 200: anyJson('{items, cursor}'), ...errors } });
  route({ method: 'get', path: '/v1/broadcasts/{id}', summary: 'A broadcast: state, recipients, counts per status, percent done, started and finished, messages per second now and on average, spent', request: { params: idPath }, responses: { 200: anyJson('The broadcast'), ...errors } });
  route({ method: 'post', path: '/v1/broadcasts/{id}/cancel', summary: 'Stops what has not left: those messages become cancelled and their holds are given back', request: { params: idPath }, responses: { 200: anyJson('The broadcast'), ...errors } });
  route({ method: 'get', path: '/v1/broadcasts/{id}/report', summary: 'A payment-link broadcast\'s collection report: recipients, sent, delivered, clicked, paid after the message, collected, conversion rate, median minutes to pay, by zone and by channel', request: { params: idPath }, responses: { 200: anyJson('The report'), ...errors } });
  route({ method: 'get', path: '/v1/notifiers/{kind}', summary: 'A reminder ladder (kind due-date or expiration): {enabled, steps: [{offsetDays, templateId, channel}], sendAt, timezone}', request: { params: z.object({ kind: z.enum(['due-date', 'expiration']) }) }, responses: { 200: anyJson('The notifier'), ...errors } });
  route({ method: 'put', path: '/v1/notifiers/{kind}', summary: 'Saves a reminder ladder and creates, updates or (disabled) deletes its daily EventBridge Scheduler schedule at sendAt in its time zone', request: { params: z.object({ kind: z.enum(['due-date', 'expiration']) }), body: { content: { 'application/json': { schema: NotifierInput } } } }, responses: { 200: anyJson('The notifier'), ...errors } });
  route({ method: 'post', path: '/v1/notifiers/{kind}/run', summary: 'Runs the notifier for a day (a run that did not happen, or "fire now" in a demo), safely: a day that ran sends nothing more. Answers each step\'s broadcast id and recipients', request: { params: z.object({ kind: z.enum(['due-date', 'expiration']) }), body: { content: { 'application/json': { schema: NotifierRunInput } } } }, responses: { 200: anyJson('{kind, date, steps: [{step, offsetDays, dueOn|expiresOn, broadcastId, state, recipients}]}'), ...errors } });
  route({ method: 'put', path: '/v1/bills/{id}', summary: 'Create or replace one of the ISP\'s bills to a customer {customerId, amount, currency, dueDate, status, paidAt, reference}', request: { params: idPath, body: { content: { 'application/json': { schema: CustomerBillInput } } } }, responses: { 200: anyJson('The bill'), 201: anyJson('Created'), ...errors } });
  route({ method: 'get', path: '/v1/bills/{id}', summary: 'A customer bill', request: { params: idPath }, responses: { 200: anyJson('The bill'), ...errors } });
  route({ method: 'get', path: '/v1/bills', summary: 'Customer bills by status and due date (a Query): customerId, status, dueAfter, dueBefore, overdueDays', request: { query: CustomerBillQuery }, responses: { 200: anyJson('{items, cursor}'), ...errors } });
  route({ method: 'post', path: '/v1/bills/import', summary: 'Import up to 1,000 customer bills; valid rows are kept, invalid rows reported', responses: { 200: anyJson('{received, imported, failed}'), ...errors } });
  for (const [method, path, summary] of [
    ['post', '/v1/platform/operators', 'Platform key: a new operator {id, name, country, billing} and its first admin key (apiKey, shown once)'],
    ['get', '/v1/platform/operators', 'Platform key: every operator'],
    ['put', '/v1/platform/prices', 'Platform key: the default price table (minor units per SMS segment, per WhatsApp and email message, by country)'],
    ['put', '/v1/platform/operators/{id}/prices', 'Platform key: an operator\'s price overrides'],
    ['post', '/v1/platform/operators/{id}/topups', 'Platform key: a top-up {amount, currency, reference}, once per reference'],
    ['patch', '/v1/platform/operators/{id}', 'Platform key: billing terms {billing, creditLimit, lowBalanceThreshold, billingEmail}'],
    ['post', '/v1/platform/operators/{id}/adjustments', 'Platform key: an adjustment (either sign) or a refund {type, amount, currency, reason, reference}, once per reference'],
    ['post', '/v1/platform/bills/{id}/payments', 'Platform key: a manual payment of a bill, once per reference'],
  ] as const) {
    route({ method, path, summary, ...(path.includes('{id}') ? { request: { params: idPath } } : {}), responses: { 200: anyJson('OK'), 201: anyJson('Created'), ...errors } });
  }
  registry.registerPath({ method: 'post', path: '/webhooks/payments/{provider}', summary: 'The platform\'s payment provider (stripe: Stripe-Signature; sslcommerz: IPN validated with its API): a bill paid or a top-up, credited once', request: { params: z.object({ provider: z.string() }) }, responses: { 200: ok(z.object({ credited: z.boolean(), reference: z.string().optional() })), 401: problem('Forged or stale.') } });
  const webhookParams = z.object({ channel: z.string(), provider: z.string(), gatewayId: z.string() });
  registry.registerPath({ method: 'post', path: '/webhooks/{channel}/{provider}/{gatewayId}', summary: 'Provider delivery receipts (signed by the provider; no API key)', request: { params: webhookParams }, responses: { 200: ok(z.object({ recorded: z.number(), unchanged: z.number() })), 401: problem('Signature does not match.'), 404: problem('Unknown gateway or message.') } });
  registry.registerPath({ method: 'get', path: '/webhooks/{channel}/{provider}/{gatewayId}', summary: 'A provider\'s webhook verification handshake (e.g. Meta\'s hub.challenge); 404 for providers without one', request: { params: webhookParams }, responses: { 200: { description: 'The challenge, as the provider expects it', content: { 'text/plain': { schema: z.string() } } }, 403: { description: 'Wrong verify token' }, 404: problem('Unknown gateway, or a provider without a handshake.') } });
  registry.registerPath({ method: 'get', path: '/health', summary: 'Liveness', responses: { 200: ok(z.object({ status: z.literal('ok') })) } });
  registry.registerPath({
    method: 'get',
    path: '/p/{token}',
    summary: 'A customer\'s payment link (no API key): counts the click and redirects to the operator\'s payment page (settings.paymentUrlTemplate)',
    request: { params: z.object({ token: z.string() }) },
    responses: {
      302: { description: 'To the payment page of the bill' },
      200: { description: 'The bill is already paid (or void)', content: { 'text/html': { schema: z.string() } } },
      400: { description: 'Not a payment link', content: { 'text/html': { schema: z.string() } } },
      404: { description: 'Not a valid payment link', content: { 'text/html': { schema: z.string() } } },
      409: { description: 'The operator has no payment page', content: { 'text/html': { schema: z.string() } } },
      410: { description: 'The link has expired', content: { 'text/html': { schema: z.string() } } },
    },
  });

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
