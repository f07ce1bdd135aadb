/**
 * Every Lambda entry point, route and queue, listed once. The CDK stack (lib/) and the local
 * runtime (shared/local/) both read this file, so the two runtimes cannot drift apart.
 */

export type QueueName = 'send-sms' | 'provider-callbacks';

export interface QueueDefinition {
  name: QueueName;
  /** Deliveries before SQS moves a message to the queue's DLQ. */
  maxReceiveCount: number;
  /** Seconds a received message stays invisible; at least 6 x the consumer's timeout (AWS guidance). */
  visibilityTimeoutSeconds: number;
  /** Env var through which handlers learn this queue's URL. */
  urlEnv: string;
}

export const queues: Record<QueueName, QueueDefinition> = {
  'send-sms': { name: 'send-sms', maxReceiveCount: 5, visibilityTimeoutSeconds: 180, urlEnv: 'SEND_SMS_QUEUE_URL' },
  // Callbacks a provider owes us later (the sandbox's delivery receipts): durable, retried, never a timer.
  'provider-callbacks': { name: 'provider-callbacks', maxReceiveCount: 10, visibilityTimeoutSeconds: 60, urlEnv: 'PROVIDER_CALLBACKS_QUEUE_URL' },
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
  /** API Gateway throttling of these routes, apart from the stage default (requests per second). */
  throttle?: { rateLimit: number; burstLimit: number };
}

export interface WorkerFunction {
  id: string;
  entry: string;
  queue: QueueName;
  batchSize: number;
  /** Concurrent batches at most (SQS event source maxConcurrency): caps the load on providers. */
  maxConcurrency: number;
  timeoutSeconds: number;
  /** Queues this worker itself sends to. */
  needsQueue?: QueueName[];
}

/** A function EventBridge Scheduler invokes (the local runtime runs the same schedule in process). */
export interface ScheduledFunction {
  id: string;
  entry: string;
  /** `rate(N minutes)`: the same expression CDK gives EventBridge Scheduler and the local runner parses. */
  schedule: `rate(${number} minute${'' | 's'})`;
  timeoutSeconds: number;
  needsQueue?: QueueName[];
}

export const scheduledFunctions: ScheduledFunction[] = [
  {
    // Finds queued messages whose send task was lost and sent messages whose receipt is overdue, and asks the provider.
    id: 'Reconciler',
    entry: 'functions/scheduled/reconcile.ts',
    schedule: 'rate(5 minutes)',
    timeoutSeconds: 300,
    needsQueue: ['send-sms'],
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
    needsQueue: ['send-sms'],
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
    routes: ['POST /webhooks/{channel}/{provider}/{gatewayId}', 'GET /webhooks/{channel}/{provider}/{gatewayId}'],
    timeoutSeconds: 10,
    // Receipts come in bursts after a broadcast; they have their own limit, apart from tenants' API calls.
    throttle: { rateLimit: 1000, burstLimit: 2000 },
  },
];

export const workerFunctions: WorkerFunction[] = [
  // needsQueue: an outcome that could not be stored is queued for recording; the sandbox queues its receipts.
  { id: 'SendSmsWorker', entry: 'functions/workers/send-sms.ts', queue: 'send-sms', batchSize: 10, maxConcurrency: 10, timeoutSeconds: 30, needsQueue: ['send-sms', 'provider-callbacks'] },
  { id: 'ProviderCallbacksWorker', entry: 'functions/workers/provider-callbacks.ts', queue: 'provider-callbacks', batchSize: 10, maxConcurrency: 2, timeoutSeconds: 10 },
];
