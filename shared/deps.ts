/** The composition root: the real adapters behind the ports, built once per process. */
import { otpKey, paymentLinkKey } from './adapters/crypto/cursor-key.js';
import { kmsCipher } from './adapters/crypto/kms-cipher.js';
import { localCipher } from './adapters/crypto/local-cipher.js';
import { dynamoCounterStore } from './adapters/dynamodb/counters.js';
import { dynamoGatewayCircuits } from './adapters/dynamodb/circuits.js';
import { dynamoGatewayRate } from './adapters/dynamodb/gateway-rate.js';
import { dynamoCustomerStore } from './adapters/dynamodb/customers.js';
import { dynamoErasureStore } from './adapters/dynamodb/erasure.js';
import { dynamoGatewayStore } from './adapters/dynamodb/gateways.js';
import { dynamoMessageStore } from './adapters/dynamodb/messages.js';
import { dynamoOperatorStore } from './adapters/dynamodb/operators.js';
import { dynamoOtpStore } from './adapters/dynamodb/otps.js';
import { dynamoPaymentLinkStore } from './adapters/dynamodb/payment-links.js';
import { dynamoSuppressionStore } from './adapters/dynamodb/suppressions.js';
import { dynamoAlertRouteStore } from './adapters/dynamodb/alert-routes.js';
import { dynamoBillingStore } from './adapters/dynamodb/billing.js';
import { dynamoBillStore } from './adapters/dynamodb/bills.js';
import { dynamoCustomerBillStore } from './adapters/dynamodb/customer-bills.js';
import { dynamoBroadcastStore } from './adapters/dynamodb/broadcasts.js';
import { dynamoSendGroupStore } from './adapters/dynamodb/send-groups.js';
import { dynamoAudienceReader } from './adapters/dynamodb/audience.js';
import { dynamoNotifierStore } from './adapters/dynamodb/notifiers.js';
import { dynamoEventRuleStore, dynamoEventStore } from './adapters/dynamodb/events.js';
import { dynamoProviderJournal } from './adapters/dynamodb/provider-journal.js';
import { dynamoTemplateStore } from './adapters/dynamodb/templates.js';
import { schedulerFor } from './adapters/scheduler/scheduler-for.js';
import { sqsTaskQueue } from './adapters/sqs/task-queue.js';
import { config, onConfigReset } from './config.js';
import type {
  Clock,
  CounterStore,
  CredentialsCipher,
  CustomerStore,
  ErasureStore,
  GatewayCircuits,
  GatewayRate,
  GatewayStore,
  MessageStore,
  OperatorStore,
  OtpStore,
  PaymentLinkStore,
  SuppressionStore,
  AlertRouteStore,
  BillingStore,
  BillStore,
  CustomerBillStore,
  BroadcastStore,
  AudienceReader,
  NotifierStore,
  EventRuleStore,
  EventStore,
  ProviderJournal,
  Scheduler,
  TaskQueue,
  TemplateStore,
  SendGroupStore,
} from './ports.js';

export interface Deps {
  operators: OperatorStore;
  customers: CustomerStore;
  templates: TemplateStore;
  gateways: GatewayStore;
  circuits: GatewayCircuits;
  gatewayRate: GatewayRate;
  messages: MessageStore;
  /** Send groups' claims: a broadcast's messages sent ten under one claim (shared/services/deliver-group.ts). */
  sendGroups: SendGroupStore;
  /** Daily message limits (shared/services/send-limits.ts). */
  counters: CounterStore;
  /** Customer erasure (shared/services/erase-customer.ts). */
  erasure: ErasureStore;
  /** One-time passwords (shared/services/otp.ts). */
  otps: OtpStore;
  /** The key OTP codes are hashed with. */
  otpKey: () => Promise<Buffer>;
  /** Personal payment links (shared/services/payment-links.ts) and the key their tokens are signed with. */
  paymentLinks: PaymentLinkStore;
  paymentLinkKey: () => Promise<Buffer>;
  /** The base of `<base>/p/<token>`: PAYMENT_LINK_BASE_URL (a short custom domain) or PUBLIC_BASE_URL. */
  paymentLinkBaseUrl: string;
  suppressions: SuppressionStore;
  alertRoutes: AlertRouteStore;
  /** Prices, balances, holds and the ledger (shared/services/billing.ts). */
  billing: BillingStore;
  bills: BillStore;
  /** The ISP's bills to its customers (/v1/bills). */
  customerBills: CustomerBillStore;
  /** Broadcasts, their counters and expand pages (shared/services/broadcasts.ts). */
  broadcasts: BroadcastStore;
  /** A broadcast's audience, a page at a time, by Query. */
  audience: AudienceReader;
  /** The due-date and expiry reminder ladders (shared/services/notifiers.ts). */
  notifiers: NotifierStore;
  /** Received billing events, once per id (shared/services/events.ts). */
  events: EventStore;
  eventRules: EventRuleStore;
  queue: TaskQueue;
  /** One-time and recurring schedules that put a task on a queue: EventBridge Scheduler, or the local stand-in. */
  scheduler: Scheduler;
  cipher: CredentialsCipher;
  clock: Clock;
  fetch: typeof fetch;
  /** A gateway's own provider records (see ProviderContext.journal). */
  journal: (gatewayId: string) => ProviderJournal;
  publicBaseUrl: string;
  /** The base of webhook URLs given to providers: WEBHOOK_BASE_URL (on AWS the webhooks' function URL) or PUBLIC_BASE_URL. */
  webhookBaseUrl: string;
}

let built: Deps | undefined;

export function deps(): Deps {
  if (built) return built;
  const env = config();
  const clock: Clock = { now: () => new Date() };
  built = {
    operators: dynamoOperatorStore,
    customers: dynamoCustomerStore,
    templates: dynamoTemplateStore,
    gateways: dynamoGatewayStore,
    circuits: dynamoGatewayCircuits,
    gatewayRate: dynamoGatewayRate,
    messages: dynamoMessageStore,
    sendGroups: dynamoSendGroupStore,
    counters: dynamoCounterStore,
    erasure: dynamoErasureStore,
    otps: dynamoOtpStore,
    otpKey: () => otpKey(),
    paymentLinks: dynamoPaymentLinkStore,
    paymentLinkKey: () => paymentLinkKey(),
    paymentLinkBaseUrl: (env.PAYMENT_LINK_BASE_URL ?? env.PUBLIC_BASE_URL).replace(/\/$/, ''),
    suppressions: dynamoSuppressionStore,
    alertRoutes: dynamoAlertRouteStore,
    billing: dynamoBillingStore,
    bills: dynamoBillStore,
    customerBills: dynamoCustomerBillStore,
    broadcasts: dynamoBroadcastStore,
    audience: dynamoAudienceReader,
    notifiers: dynamoNotifierStore,
    events: dynamoEventStore,
    eventRules: dynamoEventRuleStore,
    queue: sqsTaskQueue,
    scheduler: schedulerFor(env, clock),
    cipher: env.CREDENTIALS_KMS_KEY_ID ? kmsCipher(env.CREDENTIALS_KMS_KEY_ID) : localCipher(env.CREDENTIALS_LOCAL_KEY!),
    clock,
    fetch: (...args) => fetch(...args),
    journal: (gatewayId) => dynamoProviderJournal(gatewayId),
    publicBaseUrl: env.PUBLIC_BASE_URL.replace(/\/$/, ''),
    webhookBaseUrl: (env.WEBHOOK_BASE_URL ?? env.PUBLIC_BASE_URL).replace(/\/$/, ''),
  };
  return built;
}

onConfigReset(() => {
  built = undefined;
});
