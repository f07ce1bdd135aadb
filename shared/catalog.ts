/**
 * Every Lambda entry point, route and queue, listed once. The CDK stack (lib/) and the local
 * runtime (shared/local/) both read this file, so the two runtimes cannot drift apart.
 */

import type { Channel, Lane } from './domain/records.js';

export type QueueName = 'send-sms' | 'send-whatsapp' | 'send-email' | 'send-telegram' | 'send-priority' | 'provider-callbacks' | 'broadcasts';

/** The send queues: one per channel for bulk traffic, and one for OTPs and single sends of any channel. */
export const sendQueues = ['send-sms', 'send-whatsapp', 'send-email', 'send-telegram', 'send-priority'] as const satisfies readonly QueueName[];

/** The queue a message's send tasks go on: a password or a receipt never waits behind a broadcast. */
export function sendQueue(message: { channel: Channel; lane?: Lane }): (typeof sendQueues)[number] {
  // Telegram has its own queue whatever the lane: its bounded worker concurrency keeps each bot under Telegram's limits.
  if (message.channel === 'telegram') return 'send-telegram';
  if (message.lane === 'priority') return 'send-priority';
  return `send-${message.channel}`;
}

export interface QueueDefinition {
  name: QueueName;
  /** Deliveries before SQS moves a message to the queue's DLQ. */
  maxReceiveCount: number;
  /** Seconds a received message stays invisible; at least 6 x the consumer's timeout (AWS guidance). */
  visibilityTimeoutSeconds: number;
  /** Env var through which handlers learn this queue's URL. */
  urlEnv: string;
  /**
   * Set on the queues a schedule may target (shared/ports.ts Scheduler): CDK lets the schedules' role
   * send to them and gives functions with needsScheduler their ARN in this env var (an ARN is not
   * derivable from a URL in every partition).
   */
  arnEnv?: string;
}

export const queues: Record<QueueName, QueueDefinition> = {
  'send-sms': { name: 'send-sms', maxReceiveCount: 5, visibilityTimeoutSeconds: 180, urlEnv: 'SEND_SMS_QUEUE_URL' },
  'send-whatsapp': { name: 'send-whatsapp', maxReceiveCount: 5, visibilityTimeoutSeconds: 180, urlEnv: 'SEND_WHATSAPP_QUEUE_URL' },
  'send-email': { name: 'send-email', maxReceiveCount: 5, visibilityTimeoutSeconds: 180, urlEnv: 'SEND_EMAIL_QUEUE_URL' },
  'send-telegram': { name: 'send-telegram', maxReceiveCount: 5, visibilityTimeoutSeconds: 180, urlEnv: 'SEND_TELEGRAM_QUEUE_URL' },
  'send-priority': { name: 'send-priority', maxReceiveCount: 5, visibilityTimeoutSeconds: 180, urlEnv: 'SEND_PRIORITY_QUEUE_URL' },
  // Callbacks a provider owes us later (the sandbox's delivery receipts): durable, retried, never a timer.
  'provider-callbacks': { name: 'provider-callbacks', maxReceiveCount: 10, visibilityTimeoutSeconds: 60, urlEnv: 'PROVIDER_CALLBACKS_QUEUE_URL' },
  // A broadcast's steps: plan a page of its audience, expand a page into messages, cancel what has not left.
  // A schedule target: a broadcast with sendAt starts from a one-time schedule.
  broadcasts: { name: 'broadcasts', maxReceiveCount: 8, visibilityTimeoutSeconds: 360, urlEnv: 'BROADCASTS_QUEUE_URL', arnEnv: 'BROADCASTS_QUEUE_ARN' },
};

export const dlqName = (queue: QueueName) => `${queue}-dlq`;

export interface HttpFunction {
  /** Construct id and function name suffix. */
  id: string;
  /** Path from the project root to the module exporting `handler`. */
  entry: string;
  /** API Gateway HTTP API route keys served by this function. */
  routes: string[];
  timeoutSeconds: number;
  /** Queues this function sends to (CDK grants SendMessage and sets the URL env var). */
  needsQueue?: QueueName[];
  /** Calls SMS/WhatsApp providers: with the fixedEgressIp context flag it runs in the VPC whose one Elastic IP gateways whitelist. */
  callsProviders?: true;
  /** Creates and deletes schedules (deps().scheduler): CDK grants that on the app's schedule group and sets the scheduler env. */
  needsScheduler?: true;
  /** API Gateway throttling of these routes, apart from the stage default (requests per second). */
  throttle?: { rateLimit: number; burstLimit: number };
  /**
   * Also served by a Lambda function URL (no API Gateway request charge), whose base every other
   * function gets as WEBHOOK_BASE_URL for the callback URLs it gives providers. One function at most.
   */
  functionUrl?: true;
  /** Lambda memory, MB (default DEFAULT_MEMORY_MB). */
  memoryMb?: number;
}

/** Lambda memory of a function whose catalog entry names none. */
export const DEFAULT_MEMORY_MB = 512;

export interface WorkerFunction {
  id: string;
  entry: string;
  queue: QueueName;
  batchSize: number;
  /** Concurrent batches at most (SQS event source maxConcurrency): caps the load on providers. */
  maxConcurrency: number;
  /** How long Lambda may wait to fill a batch (MaximumBatchingWindowInSeconds); default 1. 0: hand over at once. */
  batchingWindowSeconds?: number;
  timeoutSeconds: number;
  /** Queues this worker itself sends to. */
  needsQueue?: QueueName[];
  /** Calls SMS/WhatsApp providers (see HttpFunction.callsProviders). */
  callsProviders?: true;
  /** Creates and deletes schedules (deps().scheduler): CDK grants that on the app's schedule group and sets the scheduler env. */
  needsScheduler?: true;
}

/** A function EventBridge Scheduler invokes (the local runtime runs the same schedule in process). */
export interface ScheduledFunction {
  id: string;
  entry: string;
  /** `rate(N minutes)`: the same expression CDK gives EventBridge Scheduler and the local runner parses. */
  schedule: `rate(${number} minute${'' | 's'})`;
  timeoutSeconds: number;
  needsQueue?: QueueName[];
  /** Calls SMS/WhatsApp providers (see HttpFunction.callsProviders). */
  callsProviders?: true;
  /** Creates and deletes schedules (deps().scheduler): CDK grants that on the app's schedule group and sets the scheduler env. */
  needsScheduler?: true;
}

/** The `source` of billing events on the EventBridge bus (lib/constructs/billing-events.ts routes them). */
export const BILLING_EVENT_SOURCE = 'ispnotify.billing';

/** A function an EventBridge rule invokes (asynchronously: the rule's retry policy, then its DLQ). */
export interface EventFunction {
  id: string;
  entry: string;
  /** The rule matches events of this source on the stack's billing bus. */
  source: string;
  timeoutSeconds: number;
  needsQueue?: QueueName[];
}

export const eventFunctions: EventFunction[] = [
  // The billing system's events through EventBridge: the same service as POST /v1/events.
  { id: 'BillingEvents', entry: 'functions/events/billing-bus.ts', source: BILLING_EVENT_SOURCE, timeoutSeconds: 29, needsQueue: [...sendQueues] },
];

/**
 * A function the table's stream (NEW_AND_OLD_IMAGES) invokes through a Lambda event source mapping
 * (free reads); the local runtime polls DynamoDB Local's stream and calls the same handler.
 */
export interface StreamFunction {
  id: string;
  entry: string;
  timeoutSeconds: number;
  /** Records a batch holds at most. */
  batchSize: number;
  /** How long Lambda may wait to fill a batch (MaximumBatchingWindowInSeconds). */
  batchingWindowSeconds: number;
  /** Retries of a failed batch (bisected) before it goes to the function's DLQ. */
  retryAttempts: number;
  /**
   * Only records whose new image has `entity` equal to this and the attribute `withAttribute` reach
   * the function (Lambda event filtering: filtered-out records cost nothing).
   */
  newImage: { entity: string; withAttribute: string };
  /** Queues it sends to (none so far). */
  needsQueue?: QueueName[];
}

export const streamFunctions: StreamFunction[] = [
  {
    // A broadcast's counters (per status, spent, the recent rate) from its messages' INSERTs and status changes.
    id: 'BroadcastCounters',
    entry: 'functions/streams/broadcast-counters.ts',
    timeoutSeconds: 60,
    batchSize: 1000,
    batchingWindowSeconds: 2,
    retryAttempts: 10,
    newImage: { entity: 'message', withAttribute: 'broadcastId' },
  },
];

/** Whether a stream record's new image (DynamoDB JSON) passes a stream function's filter. */
export function passesStreamFilter(fn: StreamFunction, newImage: Record<string, { S?: string } | undefined> | undefined): boolean {
  return newImage?.entity?.S === fn.newImage.entity && newImage[fn.newImage.withAttribute]?.S !== undefined;
}

export const scheduledFunctions: ScheduledFunction[] = [
  {
    // Finds queued messages whose send task was lost and sent messages whose receipt is overdue, and asks the provider.
    id: 'Reconciler',
    entry: 'functions/scheduled/reconcile.ts',
    // Asks the provider about each overdue message.
    callsProviders: true,
    schedule: 'rate(5 minutes)',
    timeoutSeconds: 300,
    needsQueue: [...sendQueues],
  },
  {
    // Each operator's bill (postpaid) or statement (prepaid) of the month that ended, once, at the start of its month.
    id: 'BillingRun',
    entry: 'functions/scheduled/billing-run.ts',
    schedule: 'rate(30 minutes)',
    timeoutSeconds: 300,
  },
];

export const httpFunctions: HttpFunction[] = [
  { id: 'PublicApi', entry: 'functions/api/public.ts', routes: ['GET /health', 'GET /openapi.json'], timeoutSeconds: 10 },
  {
    id: 'CustomersApi',
    entry: 'functions/api/customers.ts',
    routes: ['PUT /v1/customers/{id}', 'GET /v1/customers/{id}', 'DELETE /v1/customers/{id}', 'GET /v1/customers', 'POST /v1/customers/import'],
    timeoutSeconds: 29,
  },
  {
    id: 'MessagesApi',
    entry: 'functions/api/messages.ts',
    routes: [
      'POST /v1/messages',
      'GET /v1/messages',
      'GET /v1/messages/{id}',
      'POST /v1/messages/{id}/resend',
      'POST /v1/messages/preview',
    ],
    timeoutSeconds: 29,
    needsQueue: [...sendQueues],
  },
  {
    // One-time passwords: sent on the priority queue, verified against a keyed hash.
    id: 'OtpApi',
    entry: 'functions/api/otp.ts',
    routes: ['POST /v1/otp', 'POST /v1/otp/verify'],
    timeoutSeconds: 10,
    needsQueue: ['send-priority'],
  },
  {
    // The operator's own settings: name, country, time zone, send limits, destination countries.
    id: 'SettingsApi',
    entry: 'functions/api/settings.ts',
    routes: ['GET /v1/settings', 'PATCH /v1/settings'],
    timeoutSeconds: 10,
  },
  {
    id: 'TemplatesApi',
    entry: 'functions/api/templates.ts',
    routes: ['PUT /v1/templates/{id}', 'GET /v1/templates/{id}', 'GET /v1/templates'],
    timeoutSeconds: 10,
  },
  {
    id: 'GatewaysApi',
    entry: 'functions/api/gateways.ts',
    // POST /v1/gateways/{id}/test sends through the provider.
    callsProviders: true,
    routes: [
      'POST /v1/gateways',
      'PUT /v1/gateways/{id}',
      'GET /v1/gateways/{id}',
      'GET /v1/gateways',
      'DELETE /v1/gateways/{id}',
      'POST /v1/gateways/{id}/test',
    ],
    timeoutSeconds: 10,
    // A test send runs the provider's adapter with the sender's context (the sandbox schedules through this queue).
    needsQueue: ['provider-callbacks'],
  },
  {
    // The ISP's bills to its customers (what reminders and payment links need to know).
    id: 'BillsApi',
    entry: 'functions/api/bills.ts',
    routes: ['PUT /v1/bills/{id}', 'GET /v1/bills/{id}', 'GET /v1/bills', 'POST /v1/bills/import'],
    timeoutSeconds: 29,
  },
  {
    // The billing system's events (payment received, suspended, ...), once per event id, and the rules that turn them into messages.
    id: 'EventsApi',
    entry: 'functions/api/events.ts',
    routes: ['POST /v1/events', 'GET /v1/event-rules', 'GET /v1/event-rules/{type}', 'PUT /v1/event-rules/{type}'],
    timeoutSeconds: 29,
    needsQueue: [...sendQueues],
  },
  {
    // Broadcasts: estimate, dry run, start or schedule, progress, cancel, the collection report.
    id: 'BroadcastsApi',
    entry: 'functions/api/broadcasts.ts',
    routes: ['POST /v1/broadcasts', 'GET /v1/broadcasts', 'GET /v1/broadcasts/{id}', 'POST /v1/broadcasts/{id}/cancel', 'GET /v1/broadcasts/{id}/report'],
    timeoutSeconds: 29,
    needsQueue: ['broadcasts'],
    needsScheduler: true,
  },
  {
    // Due-date and expiry reminder ladders, their daily schedules, and a catch-up run for a day.
    id: 'NotifiersApi',
    entry: 'functions/api/notifiers.ts',
    routes: ['GET /v1/notifiers/{kind}', 'PUT /v1/notifiers/{kind}', 'POST /v1/notifiers/{kind}/run'],
    timeoutSeconds: 29,
    needsQueue: ['broadcasts'],
    needsScheduler: true,
  },
  {
    // An operator's API keys with their roles.
    id: 'KeysApi',
    entry: 'functions/api/keys.ts',
    routes: ['POST /v1/keys', 'GET /v1/keys', 'DELETE /v1/keys/{id}'],
    timeoutSeconds: 10,
  },
  {
    // The operator's balance, ledger (JSON or CSV), usage, bills (JSON or PDF) and payment pages.
    id: 'BillingApi',
    entry: 'functions/api/billing.ts',
    routes: [
      'GET /v1/billing/balance',
      'GET /v1/billing/ledger',
      'GET /v1/billing/usage',
      'GET /v1/billing/bills',
      'GET /v1/billing/bills/{id}',
      'POST /v1/billing/bills/{id}/checkout',
      'POST /v1/billing/topups/checkout',
    ],
    timeoutSeconds: 29,
  },
  {
    // The platform's routes: operators, prices, top-ups, payments of bills.
    id: 'PlatformApi',
    entry: 'functions/api/platform.ts',
    routes: [
      'POST /v1/platform/operators',
      'GET /v1/platform/operators',
      'PUT /v1/platform/prices',
      'PUT /v1/platform/operators/{id}/prices',
      'PATCH /v1/platform/operators/{id}',
      'POST /v1/platform/operators/{id}/topups',
      'POST /v1/platform/operators/{id}/adjustments',
      'POST /v1/platform/bills/{id}/payments',
    ],
    timeoutSeconds: 10,
  },
  {
    // The team's Telegram chats per purpose, and alerts to them.
    id: 'AlertsApi',
    entry: 'functions/api/alerts.ts',
    routes: ['PUT /v1/alert-routes/{purpose}', 'GET /v1/alert-routes/{purpose}', 'GET /v1/alert-routes', 'POST /v1/alerts'],
    timeoutSeconds: 10,
    needsQueue: ['send-telegram'],
  },
  {
    // Addresses and numbers not to message: hard bounces, complaints, STOP.
    id: 'SuppressionsApi',
    entry: 'functions/api/suppressions.ts',
    routes: ['GET /v1/suppressions', 'DELETE /v1/suppressions/{address}'],
    timeoutSeconds: 10,
  },
  {
    // Every provider of every channel, with JSON Schemas of their credentials and settings.
    id: 'ProvidersApi',
    entry: 'functions/api/providers.ts',
    routes: ['GET /v1/providers'],
    timeoutSeconds: 10,
  },
  {
    // Ready descriptions of real SMS gateways for the generic HTTP provider.
    id: 'PresetsApi',
    entry: 'functions/api/presets.ts',
    routes: ['GET /v1/gateway-presets'],
    timeoutSeconds: 10,
  },
  {
    // One entry point for every channel and provider: POST receipts and inbound messages, GET handshakes.
    id: 'Webhooks',
    entry: 'functions/webhooks/receive.ts',
    routes: ['POST /webhooks/{channel}/{provider}/{gatewayId}', 'GET /webhooks/{channel}/{provider}/{gatewayId}', 'POST /webhooks/payments/{provider}'],
    timeoutSeconds: 10,
    // A receipt is a signature check and two small writes: I/O, not CPU; half the memory halves its GB-seconds.
    memoryMb: 256,
    // Receipts come in bursts after a broadcast; they have their own limit, apart from tenants' API calls.
    throttle: { rateLimit: 1000, burstLimit: 2000 },
    // A failed WhatsApp message's SMS fallback is created (and queued) where its failure receipt lands.
    needsQueue: [...sendQueues],
    // Providers call the function URL (a receipt costs one Lambda invocation, no API Gateway request);
    // the routes above stay for gateways configured with them.
    functionUrl: true,
  },
  {
    // Customers' personal payment links (no API key): count the click, redirect to the operator's payment page.
    id: 'PaymentLinks',
    entry: 'functions/api/payment-links.ts',
    routes: ['GET /p/{token}'],
    timeoutSeconds: 10,
    // Clicks come in bursts after a payment-link broadcast; apart from tenants' API calls, like receipts.
    throttle: { rateLimit: 1000, burstLimit: 2000 },
  },
];

export const workerFunctions: WorkerFunction[] = [
  // needsQueue: an outcome that could not be stored is queued for recording; the sandbox queues its receipts;
  // a WhatsApp failure queues its SMS fallback. One handler serves every send queue (functions/workers/send.ts).
  { id: 'SendSmsWorker', entry: 'functions/workers/send-sms.ts', callsProviders: true, queue: 'send-sms', batchSize: 10, maxConcurrency: 10, timeoutSeconds: 30, needsQueue: [...sendQueues, 'provider-callbacks'] },
  { id: 'SendWhatsAppWorker', entry: 'functions/workers/send-whatsapp.ts', callsProviders: true, queue: 'send-whatsapp', batchSize: 10, maxConcurrency: 10, timeoutSeconds: 30, needsQueue: [...sendQueues, 'provider-callbacks'] },
  { id: 'SendEmailWorker', entry: 'functions/workers/send-email.ts', callsProviders: true, queue: 'send-email', batchSize: 10, maxConcurrency: 5, timeoutSeconds: 30, needsQueue: [...sendQueues, 'provider-callbacks'] },
  // Two batches at most: with each bot's maxPerSecond (30, Telegram's documented rate) and 429 retry_after honoured.
  { id: 'SendTelegramWorker', entry: 'functions/workers/send-telegram.ts', callsProviders: true, queue: 'send-telegram', batchSize: 10, maxConcurrency: 2, timeoutSeconds: 30, needsQueue: [...sendQueues, 'provider-callbacks'] },
  // Its own queue, concurrency and no batching window: an OTP is picked up at once, whatever the bulk queues hold.
  { id: 'SendPriorityWorker', entry: 'functions/workers/send-priority.ts', callsProviders: true, queue: 'send-priority', batchSize: 10, batchingWindowSeconds: 0, maxConcurrency: 5, timeoutSeconds: 30, needsQueue: [...sendQueues, 'provider-callbacks'] },
  // A broadcast's steps (plan a page, expand a page into messages, cancel a page); each page queues its sends on the bulk queues.
  { id: 'BroadcastWorker', entry: 'functions/workers/broadcasts.ts', queue: 'broadcasts', batchSize: 5, maxConcurrency: 4, timeoutSeconds: 60, needsQueue: [...sendQueues, 'broadcasts'] },
  // The sandbox's receipts, one a message: as many batches at once as the bulk sender, so they keep up with a broadcast.
  { id: 'ProviderCallbacksWorker', entry: 'functions/workers/provider-callbacks.ts', queue: 'provider-callbacks', batchSize: 10, maxConcurrency: 4, timeoutSeconds: 10 },
];
