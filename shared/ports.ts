/** The interfaces services need. Adapters in shared/adapters implement them. */
import type { z } from 'zod';
import type { QueueName } from './catalog.js';
import type {
  Channel,
  Customer,
  CustomerStatus,
  Gateway,
  GatewayTry,
  Message,
  MessageStatus,
  Operator,
  StatusChange,
  Template,
} from './domain/records.js';

export interface Clock {
  now(): Date;
}

export interface Page<T> {
  items: T[];
  /** Opaque; pass back as `cursor` for the next page. Absent on the last page. */
  cursor?: string;
}

/** Fields a partial operator update sets; `null` removes one (a setting then falls back to its default). */
export type OperatorChanges = { [K in keyof Omit<Operator, 'id' | 'createdAt'>]?: Operator[K] | null };

export interface OperatorStore {
  get(operatorId: string): Promise<Operator | undefined>;
  /** Writes the whole record: for creating an operator. Changes to an existing one go through `update`. */
  put(operator: Operator): Promise<void>;
  /**
   * Sets (or removes) only the named fields, in one UpdateItem on an existing operator, so two
   * updates of different fields never undo each other. With `expected`, only if those fields still
   * hold those values. Returns the operator as it is after, or undefined when there is no such
   * operator (or `expected` did not hold).
   */
  update(operatorId: string, changes: OperatorChanges, expected?: Partial<Pick<Operator, 'smsGatewayId' | 'whatsappGatewayId' | 'emailGatewayId' | 'telegramGatewayId'>>): Promise<Operator | undefined>;
  /** Resolves a hashed API key to its operator id (platform keys have none). */
  operatorIdForKey(keyHash: string): Promise<string | undefined>;
  /** An admin key of the operator. */
  putApiKey(keyHash: string, operatorId: string, label: string): Promise<void>;
  /** The key a hash belongs to, with its role. */
  keyFor(keyHash: string): Promise<ApiKeyRecord | undefined>;
  putKey(keyHash: string, record: ApiKeyRecord): Promise<void>;
  /** An operator's keys (or the platform's, with operatorId PLATFORM_OWNER), by the owner index. */
  listKeys(ownerId: string): Promise<ApiKeyRecord[]>;
  /** Deletes one key of the owner; false when there is no such key. */
  deleteKey(ownerId: string, keyId: string): Promise<boolean>;
  /** Every operator, a page at a time (the platform's list; few items). */
  list(limit: number, cursor?: string): Promise<Page<Operator>>;
}

/** Who owns a platform key in the key index (no operator has this id: ids are letters, digits and _.:-). */
export const PLATFORM_OWNER = '#platform';

export type Role = 'platform' | 'admin' | 'billing' | 'read-only' | 'reseller';

export interface ApiKeyRecord {
  id: string;
  /** The operator, or PLATFORM_OWNER. */
  ownerId: string;
  role: Role;
  /** Reseller keys: the reseller whose customers they see and message. */
  resellerId?: string;
  label: string;
  /** The key's last four characters, to tell keys apart in a list. */
  last4: string;
  createdAt: string;
}

export type TakeOutcome = 'taken' | 'over-limit' | 'repeat';

/** Counters that enforce a limit exactly across processes (one DynamoDB item per operator, counter and period). */
export interface CounterStore {
  /**
   * Counts one on `counter` for `period` only if the count stays at most `limit`; the item expires at
   * `expiresAt` (epoch seconds). With a `claim` (the request's idempotency key), a claim counts once:
   * while it is remembered (`claimExpiresAt`), taking it again counts nothing and answers 'repeat'.
   */
  take(
    operatorId: string,
    counter: string,
    period: string,
    limit: number,
    options: { expiresAt: number; claim?: { key: string; expiresAt: number }; amount?: number },
  ): Promise<TakeOutcome>;
  /** Gives back one taken for a request that then created nothing, and forgets its claim. */
  giveBack(operatorId: string, counter: string, period: string, claimKey?: string): Promise<void>;
}

/** The storage side of erasing a customer's personal data (services/erase-customer.ts). */
export interface ErasureStore {
  /** The ids of the customer's messages (customer-messages index), a page at a time. */
  customerMessageIds(operatorId: string, customerId: string): AsyncIterable<string[]>;
  /**
   * Replaces a message's personal data (`to`, `text`) and sets erasedAt, once: false when the
   * message is gone or was already erased.
   */
  eraseMessage(operatorId: string, messageId: string, erased: { to: string; text: string; erasedAt: string }): Promise<boolean>;
  /** Deletes the customer item and records that it was erased (no personal data), in one transaction. */
  deleteCustomer(operatorId: string, customerId: string, erasedAt: string): Promise<void>;
  /** When the customer was erased, if it was. */
  erasedAt(operatorId: string, customerId: string): Promise<string | undefined>;
}

export interface CustomerFilter {
  status?: CustomerStatus;
  zone?: string;
  package?: string;
  resellerId?: string;
  /** Case-insensitive substring of name or mobile. */
  q?: string;
}

export interface CustomerStore {
  get(operatorId: string, id: string): Promise<Customer | undefined>;
  /** BatchGetItem in chunks of 100; missing ids are simply absent from the result. `consistent: false`: eventually consistent (half the read units). */
  getMany(operatorId: string, ids: string[], options?: { consistent?: boolean }): Promise<Map<string, Customer>>;
  put(operatorId: string, customer: Customer): Promise<void>;
  /** BatchWriteItem in chunks of 25, retrying unprocessed items. */
  putMany(operatorId: string, customers: Customer[]): Promise<void>;
  /** Writes a customer only if none has its id (an event's registration): false when one exists. */
  create(operatorId: string, customer: Customer): Promise<boolean>;
  /**
   * Sets only these fields (indexes kept right), only if the customer's updatedAt is still `seenUpdatedAt`:
   * the customer after, or undefined when it changed meanwhile (read it again) or is gone.
   */
  update(operatorId: string, id: string, changes: Partial<Pick<Customer, 'status' | 'expiresAt'>> & { updatedAt: string }, seenUpdatedAt: string): Promise<Customer | undefined>;
  list(operatorId: string, filter: CustomerFilter, limit: number, cursor?: string): Promise<Page<Customer>>;
  /** The customer whose mobile (else WhatsApp number) this is, by index: for inbound messages. */
  findByNumber(operatorId: string, number: string): Promise<Customer | undefined>;
}

export interface TemplateStore {
  get(operatorId: string, id: string): Promise<Template | undefined>;
  put(operatorId: string, template: Template): Promise<void>;
  list(operatorId: string, limit: number, cursor?: string): Promise<Page<Template>>;
}

export interface GatewayStore {
  /** Gateway ids are global (ULIDs): webhooks find a gateway from the id in their URL. */
  get(gatewayId: string): Promise<Gateway | undefined>;
  put(gateway: Gateway): Promise<void>;
  list(operatorId: string): Promise<Gateway[]>;
  /** Deletes the gateway (nothing happens when it is already gone). */
  delete(gatewayId: string): Promise<void>;
}

export interface MessageFilter {
  /** ISO timestamps, inclusive. */
  from?: string;
  to?: string;
  customerId?: string;
  status?: MessageStatus;
  channel?: Channel;
  /** in: customers' messages; out: ours (messages stored before directions have none, and are ours). */
  direction?: 'in' | 'out';
  /** A broadcast's messages: a Query on its message-id prefix (see Broadcast.messagePrefix). */
  broadcast?: { id: string; messagePrefix: string };
}

export type CreateOutcome =
  | { created: true; message: Message }
  /** `sameRequest` is false when the key was first used for a request with another fingerprint. */
  | { created: false; existingMessageId: string; sameRequest: boolean };

export interface IdempotencyKey {
  key: string;
  /** A hash of the request the key was used for: a key reused for another request is a conflict. */
  fingerprint: string;
}

export interface MessageStore {
  /**
   * Writes a new message. With an idempotency key, a repeated request with the same key
   * writes nothing and returns the id of the message the first request created.
   */
  create(message: Message, idempotency?: IdempotencyKey): Promise<CreateOutcome>;
  get(operatorId: string, id: string): Promise<Message | undefined>;
  /** BatchGetItem in chunks of 100 (strongly consistent); missing messages are absent. */
  /** Strongly consistent unless asked otherwise (half the read units, where a later read covers a stale one). */
  getMany(keys: PendingMessage[], options?: { consistent?: boolean }): Promise<Message[]>;
  list(operatorId: string, filter: MessageFilter, limit: number, cursor?: string): Promise<Page<Message>>;
  /**
   * Takes the right to call the provider: succeeds only if the message is queued and no
   * unexpired claim exists. Returns the message as it was before the claim, or the reason it failed.
   */
  claim(operatorId: string, id: string, until: string, now: string): Promise<ClaimResult>;
  /**
   * Takes over a claim that expired (its worker died), only if it is still the one seen
   * (`expiredUntil`): one worker reconciles it. Returns the message, or undefined if another moved first.
   */
  takeOverClaim(operatorId: string, id: string, expiredUntil: string, until: string, now: string): Promise<Message | undefined>;
  /**
   * While this worker holds the claim (`claimedUntil`): notes a gateway fault in `tries` and moves the
   * message to the next gateway. Returns false when the claim is no longer this worker's.
   */
  failOver(operatorId: string, id: string, claimedUntil: string, tried: GatewayTry, next: { gatewayId: string; provider: string }): Promise<boolean>;
  /** Gives the claim back after a retryable failure, noting the attempt and the error. */
  /** `spent: false`: the attempt does not count (the provider throttled us), so `attempts` goes back down. */
  /**
   * `fromGroup`: the message was sent under its send group's claim (no claim of its own, so no
   * attempt was counted yet): it leaves the group for good, and a spent attempt is counted now.
   */
  release(operatorId: string, id: string, error: string, now: string, tried?: GatewayTry, options?: { spent?: boolean; fromGroup?: boolean }): Promise<void>;
  /**
   * A worker died holding the message's send group, perhaps during its provider call: the message
   * leaves the group with an expired claim of its own (`claimedAt`: when the group's call may have
   * started), so a single send task reconciles it as any lost send. False if it moved on meanwhile.
   */
  takeFromLostGroup(operatorId: string, id: string, group: string, claimedAt: string, expiredUntil: string): Promise<boolean>;
  /**
   * Records a status change only if the current status is one of allowedPredecessors(change.status).
   * Returns false (and writes nothing) when the message has already moved past it.
   */
  transition(
    operatorId: string,
    id: string,
    change: StatusChange,
    /** `receiptDueAt`, with `sent`: when the reconciler should ask about a receipt that has not come (ISO). */
    extra?: {
      providerMessageId?: string;
      gatewayId?: string;
      receiptDueAt?: string;
      tried?: GatewayTry;
      awaitingFallback?: boolean;
      /** Only if no worker holds the message (a cancel must not race a provider call). */
      unclaimedOnly?: boolean;
      /** false: no provider-id pointer (the provider's receipts carry our message id: callbackPerMessage). */
      pointer?: boolean;
      /**
       * false: not in the pending index while sent (a broadcast message: its page's settle step
       * watches it until it leaves, and its receipt is not chased one by one).
       */
      pending?: boolean;
    },
  ): Promise<boolean>;
  /**
   * Writes new messages with BatchWriteItem (25 a request), unconditionally: only for ids no one
   * else writes (a broadcast page under its claim, after finding which of its ids exist).
   */
  createMany(messages: Message[]): Promise<void>;
  /** Which of these ids exist (BatchGet of keys). */
  existing(operatorId: string, ids: string[]): Promise<Set<string>>;
  /** Moves a sent message's next receipt check to `dueAt` (the reconciler asked and has no final answer yet). */
  postponeReceiptCheck(operatorId: string, id: string, dueAt: string): Promise<void>;
  /** Takes a sent message out of the reconciler's index: its gateway sends no receipts, so `sent` is final. */
  stopReceiptChecks(operatorId: string, id: string): Promise<void>;
  /** Finds the message a provider's id refers to, for a given gateway. */
  findByProviderId(gatewayId: string, providerMessageId: string): Promise<{ operatorId: string; messageId: string } | undefined>;
  /**
   * A receipt that names our message id (callbackPerMessage): the change is recorded only if the
   * message went out through `gatewayId` with `providerMessageId` (a receipt is never applied to
   * another message); 'unknown' when it did not (or is not recorded as sent yet).
   */
  receiptByMessageId(operatorId: string, id: string, gatewayId: string, providerMessageId: string, change: StatusChange): Promise<'changed' | 'unchanged' | 'unknown'>;
  /**
   * Messages of every operator still `queued` (since before `before`, ISO) or `sent` (with a receipt due before it),
   * a page at a time, read from a sparse index: the cost follows the pending messages, not the history.
   */
  pending(status: PendingKind, before: string): AsyncIterable<PendingMessage[]>;
  /**
   * Writes `message` linked to `original` in one transaction: the original gets `link` = message.id,
   * only if it has none yet and its status is one of `originalStatuses`. When it already has one,
   * writes nothing and returns that message's id (a resend or a fallback is made once).
   */
  createLinked(original: Pick<Message, 'operatorId' | 'id'>, message: Message, link: 'resentAs' | 'fallbackMessageId', originalStatuses: MessageStatus[]): Promise<CreateOutcome>;
  /** Takes a failed message out of the fallback part of the pending index (no fallback is wanted). */
  clearPending(operatorId: string, id: string): Promise<void>;
  /** Sets how many repeats of an alert were collapsed into it. */
  noteRepeats(operatorId: string, id: string, repeats: number): Promise<void>;
  /** Appends a receipt that did not change the status (late or repeated) to the history; bounded. */
  noteLateReceipt(operatorId: string, id: string, change: StatusChange): Promise<void>;
  /**
   * Records a customer's inbound message once per (gateway, provider id): false when it was
   * recorded before (providers retry webhooks).
   */
  createInbound(message: Message, gatewayId: string, providerMessageId: string): Promise<boolean>;
}

/** Who the operator must not message: email addresses (bounces, complaints) and numbers (STOP). */
export interface Suppression {
  /** `email` addresses; `phone` numbers (SMS and WhatsApp). */
  kind: 'email' | 'phone';
  address: string;
  /** In words: "hard bounce: 550 5.1.1 user unknown", "complaint", "STOP by SMS". */
  reason: string;
  /** email: every message is refused; phone: marketing only (transactional messages such as OTPs still go). */
  scope: 'all' | 'marketing';
  createdAt: string;
}

export interface SuppressionStore {
  put(operatorId: string, suppression: Suppression): Promise<void>;
  get(operatorId: string, kind: Suppression['kind'], address: string): Promise<Suppression | undefined>;
  /** Removes it; false when there was none. */
  delete(operatorId: string, kind: Suppression['kind'], address: string): Promise<boolean>;
  list(operatorId: string, limit: number, cursor?: string): Promise<Page<Suppression>>;
}

/** Where alerts of one purpose go: a Telegram chat (and forum topic) through one of the operator's Telegram gateways. */
export interface AlertRoute {
  purpose: string;
  gatewayId?: string;
  chatId: string;
  threadId?: number;
  updatedAt: string;
}

export interface AlertRouteStore {
  put(operatorId: string, route: AlertRoute): Promise<void>;
  get(operatorId: string, purpose: string): Promise<AlertRoute | undefined>;
  list(operatorId: string): Promise<AlertRoute[]>;
  /**
   * Counts an alert of `purpose` and `fingerprint` at `now`: the first in a minute answers
   * { first: true } (send it); repeats within the minute answer the first one's message id and the count.
   */
  collapse(operatorId: string, purpose: string, fingerprint: string, now: Date, messageId: string): Promise<{ first: true } | { first: false; messageId: string; count: number }>;
}

/** An event rule (`/v1/event-rules/{type}`): which messages an event type makes, and whether it alerts the team. */
export type EventRule = import('./domain/event-schemas.js').EventRuleInputT & { type: import('./domain/event-schemas.js').EventType; updatedAt: string };

/** A received event: its fingerprint (a repeat with another body is a conflict), the rule as it was, and, once handled, its result. */
export interface EventRecord {
  id: string;
  type: import('./domain/event-schemas.js').EventType;
  customerId: string;
  occurredAt: string;
  fingerprint: string;
  /** The rule when the event first came (undefined: none, or disabled): a retry sends what the first attempt meant to. */
  plan?: Pick<EventRule, 'channels' | 'alert'>;
  state: 'pending' | 'done';
  result?: import('./domain/event-schemas.js').EventResultT;
  receivedAt: string;
}

export interface EventStore {
  get(operatorId: string, id: string): Promise<EventRecord | undefined>;
  /** Writes the record only if the id is new: created, or the record that holds the id. */
  begin(operatorId: string, record: EventRecord): Promise<{ created: true } | { created: false; existing: EventRecord }>;
  /** Stores the result once (only while pending): the stored record, whoever finished first, and whether it was this call. */
  finish(operatorId: string, id: string, result: import('./domain/event-schemas.js').EventResultT, at: string): Promise<{ record: EventRecord; finishedNow: boolean }>;
}

export interface EventRuleStore {
  put(operatorId: string, rule: EventRule): Promise<void>;
  get(operatorId: string, type: string): Promise<EventRule | undefined>;
  list(operatorId: string): Promise<EventRule[]>;
}

/** A one-time password as stored: the code only as a keyed hash. */
export interface OtpRecord {
  id: string;
  operatorId: string;
  /** The customer's mobile or the number given (the message's own `to` may be its WhatsApp number). */
  to: string;
  /** The message that carries the code (it says which channel was used). */
  messageId: string;
  /** HMAC-SHA256 (hex) of the code under the OTP key, bound to operator and id. */
  codeHash: string;
  expiresAt: string;
  attemptsLeft: number;
  consumedAt?: string;
  createdAt: string;
}

export interface OtpStore {
  put(record: OtpRecord): Promise<void>;
  get(operatorId: string, id: string): Promise<OtpRecord | undefined>;
  /** Marks it used, only if unused, unexpired at `now` and with attempts left: true for exactly one caller. */
  consume(operatorId: string, id: string, now: string): Promise<boolean>;
  /** Spends one attempt, only while some are left and it is unused: the attempts left after, or undefined when none were. */
  spendAttempt(operatorId: string, id: string): Promise<number | undefined>;
  /**
   * Notes a code sent to `to` at `now` if fewer than `limit` were sent in the `windowMs` before;
   * else answers when the oldest of them leaves the window (ISO). Exact across processes.
   */
  noteSend(operatorId: string, to: string, now: Date, limit: number, windowMs: number): Promise<{ ok: true } | { ok: false; retryAt: string }>;
}

/** A circuit breaker per gateway, shared by every worker: repeated gateway faults make it skipped for a cool-down. */
export interface GatewayCircuits {
  /** The gateways among these whose circuit is open at `now` (ISO), with when it closes. */
  openUntil(gatewayIds: string[], now: string): Promise<Map<string, string>>;
  /** Counts a gateway fault; returns when the circuit closes again if this fault opened it. */
  recordFault(gatewayId: string, now: string): Promise<string | undefined>;
  /**
   * The gateways among these slowed down after the provider throttled us: their lowered
   * messages-per-second and until when. Read with the circuits (the same item).
   */
  slowedDown(gatewayIds: string[], now: string): Promise<Map<string, { maxPerSecond: number; until: string }>>;
  /** Both, in one read (the sender's read before each send). */
  state(gatewayIds: string[], now: string): Promise<{ open: Map<string, string>; slowed: Map<string, { maxPerSecond: number; until: string }> }>;
  /**
   * The provider throttled a send (429): lowers the gateway's rate by a fifth (from `currentMaxPerSecond`,
   * its full or already lowered rate) for a while, at most once a second whatever the number of workers
   * that saw it. Returns the lowered rate.
   */
  recordThrottle(gatewayId: string, currentMaxPerSecond: number, now: string): Promise<number>;
}

/** Each gateway's messages-per-second limit, shared by every worker. */
export interface GatewayRate {
  /** Takes one send in the current second; false when the gateway's second is full. */
  take(gatewayId: string, maxPerSecond: number, now: Date): Promise<boolean>;
}

/** The pending index's parts: queued with no live task, sent with a receipt due, failed WhatsApp awaiting its SMS fallback. */
export type PendingKind = 'queued' | 'sent' | 'fallback';

export interface PendingMessage {
  operatorId: string;
  messageId: string;
}

export type ClaimResult =
  | { ok: true; message: Message }
  | { ok: false; reason: 'not-found' | 'not-queued' | 'claimed' | 'claim-expired' | 'grouped'; message?: Message };

export interface SendTask {
  operatorId: string;
  messageId: string;
  /**
   * Not a send: check whether this WhatsApp message was delivered by now, and fall back to SMS if
   * not (the operator's fallbackAfterSeconds). `dueAt`: when the check is due (tasks wait at most 15 minutes).
   */
  fallbackCheck?: { dueAt: string };
  /**
   * Set when the provider accepted the message but its `sent` could not be stored: this task only
   * records that outcome (with its own retries) and never calls the provider again.
   */
  accepted?: { providerMessageId: string; gatewayId: string; at: string; receiptDueAt?: string };
}

/**
 * The sends of up to ten messages of one broadcast page, under one claim (SendGroupStore) instead of
 * one claim write per message. Only messages whose `sendGroup` is `group` are sent by it.
 */
export interface GroupSendTask {
  operatorId: string;
  group: string;
  messageIds: string[];
}

/** A send group's claim: `claimed`, `taken-over` (its worker died: the previous claim), `busy` (held until), `done`. */
export type SendGroupClaim =
  | { state: 'claimed' }
  | { state: 'taken-over'; claimedAt: string; claimedUntil: string }
  | { state: 'busy'; until: string }
  | { state: 'done' };

export interface SendGroupStore {
  /** Conditional put: taken if new, or if its claim expired (taken over); never once done. */
  claim(operatorId: string, group: string, until: string, now: string): Promise<SendGroupClaim>;
  /**
   * A cancel's close of a group no worker has claimed: marks it done in one conditional write, so no
   * worker sends from it after (closed), or says it was done already (done), or that a worker holds it
   * or held it and may have died sending (held): a cancel leaves those messages to that worker or to
   * the group's reconciliation, as it leaves a message under its own claim.
   */
  close(operatorId: string, group: string, at: string): Promise<'closed' | 'done' | 'held'>;
  /** Every message of the group is final, handed to a single send, or its outcome queued: a later delivery does nothing. */
  finish(operatorId: string, group: string, at: string): Promise<void>;
}

export interface TaskQueue {
  /** SendMessageBatch in groups of 10; throws if any entry could not be enqueued. */
  enqueue(queue: QueueName, tasks: object[], options?: { delaySeconds?: number }): Promise<void>;
}

export interface CredentialsCipher {
  seal(plaintext: string, context: Record<string, string>): Promise<string>;
  open(sealed: string, context: Record<string, string>): Promise<string>;
}

// ---- channel providers ----

export interface OutboundSms {
  messageId: string;
  to: string;
  text: string;
  /** Where the provider should post delivery receipts for this message; absent when none is wanted (a gateway's test send). */
  statusCallbackUrl?: string;
}

export interface WebhookRequest {
  method: string;
  /** The full public URL the provider called, query string included. */
  url: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  rawBody: string;
}

export interface ProviderStatusUpdate {
  providerMessageId: string;
  status: Exclude<MessageStatus, 'queued'>;
  providerStatus: string;
  reason?: string;
}

export interface ProviderContext {
  fetch: typeof fetch;
  clock: Clock;
  /**
   * Durable keyed records a provider may keep of its own (the sandbox's "what did I accept"), so
   * that what it knows survives a restart. Absent in contexts that do not need it.
   */
  journal?: ProviderJournal;
  /** Schedules work to run later through a queue (never a timer): the sandbox's delivery receipts. */
  later?: (task: DeferredProviderTask, delaySeconds: number) => Promise<void>;
}

export interface ProviderJournal {
  get(key: string): Promise<Record<string, unknown> | undefined>;
  put(key: string, value: Record<string, unknown>): Promise<void>;
}

/** A provider callback to run later: POST `body` to `url` with `headers` (retried until it answers 2xx). */
export interface DeferredProviderTask {
  kind: 'post';
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What we know when we ask a provider about a message whose send outcome we lost. */
export interface ProviderLookupQuery {
  /** Our message id. */
  messageId: string;
  to: string;
  text: string;
  /** Known when the message was recorded as sent: then the provider is asked for that id. */
  providerMessageId?: string;
  /** When the send that may have reached the provider started (the claim time), ISO. */
  sentAfter: string;
}

export type ProviderLookupResult =
  /** The provider has it: its id, and its current status when that is one we record. */
  | { found: true; providerMessageId: string; status?: ProviderStatusUpdate }
  /** The provider definitely never accepted it: sending it now cannot double-send. */
  | { found: false };

/**
 * One SMS gateway protocol. Adding a provider is adding one file that implements this and a
 * line in the registry (shared/adapters/providers/sms/registry.ts).
 */
export interface SmsProvider<Credentials = Record<string, unknown>, Settings = Record<string, unknown>> {
  id: string;
  channel: 'sms';
  displayName: string;
  /** Secret fields: validated on gateway setup, sealed at rest, never returned. */
  credentials: z.ZodType<Credentials>;
  /** Non-secret fields (sender id, ...); never a host to call: see providers/base-url.ts. */
  settings: z.ZodType<Settings>;
  /** Throws ProviderRejected (permanent) or ProviderUnavailable (retry later). */
  send(message: OutboundSms, gateway: { credentials: Credentials; settings: Settings }, ctx: ProviderContext): Promise<{ providerMessageId: string }>;
  /** Async where the check needs a fetch (e.g. an AWS SNS signing certificate, fetched through ctx.fetch). */
  verifySignature(request: WebhookRequest, gateway: { credentials: Credentials; settings: Settings }, ctx?: ProviderContext): boolean | Promise<boolean>;
  /** Maps the provider's receipt to our statuses; statuses we do not track (e.g. "sending") are dropped. */
  parseWebhook(request: WebhookRequest, gateway?: { settings: Settings }): ProviderStatusUpdate[];
  /** For providers that deliver them: customers' SMS to us, from the same webhook (recorded with direction "in"). */
  parseInbound?(request: WebhookRequest): ProviderInboundMessage[];
  /**
   * Asks the provider about a message whose outcome we lost (a worker died during the call, or no
   * receipt came). Throws ProviderUnavailable when it cannot answer now. Providers that cannot be
   * asked leave it out: their lost outcomes are failed as "outcome unknown" / counted as overdue.
   */
  lookup?(query: ProviderLookupQuery, gateway: { credentials: Credentials; settings: Settings }, ctx: ProviderContext): Promise<ProviderLookupResult>;
  /** How long after `sent` a receipt normally arrives; past it, the reconciler asks `lookup`. */
  receiptWindowSeconds?: number;
  /** The provider's documented sending rate, the default of a gateway's `maxPerSecond`. */
  defaultMaxPerSecond?: number;
  /** false: this provider sends no delivery receipts, so `sent` is final (the reconciler does not wait for one). */
  receipts?: false;
  /** For providers where it depends on the gateway's settings (the generic HTTP gateway's receipt mapping). */
  sendsReceipts?(settings: Settings): boolean;
  /**
   * true: the provider calls each message's own status callback URL as given, so ours carries the
   * message id (`?m=<id>`) and a receipt finds its message without a provider-id pointer (one write
   * less per message). The receipt is still matched against the provider id recorded at `sent`.
   */
  callbackPerMessage?: true;
}

// ---- WhatsApp (issue 6: adapters first; routing, fallback and the message record follow) ----

/** What a WhatsApp message carries: free-form text (inside the 24-hour window) or an approved template. */
export type WhatsAppContent =
  | { kind: 'text'; text: string }
  /** `parameters`: the template's body parameters, already rendered, in order. */
  | {
      kind: 'template';
      name: string;
      language: string;
      parameters: string[];
      /** An authentication template's copy-code (one-tap) button: Meta requires the code again as its URL button parameter. */
      copyCode?: string;
    };

export interface OutboundWhatsApp {
  messageId: string;
  /** E.164. */
  to: string;
  content: WhatsAppContent;
  /** Where the provider should post receipts, for providers that take it per message. */
  statusCallbackUrl?: string;
}

/** A customer writing to us (recorded in the history with direction "in"). */
export interface ProviderInboundMessage {
  kind: 'inbound';
  providerMessageId: string;
  /** E.164. */
  from: string;
  text: string;
  at: string;
}

/** An answer to a provider's webhook verification handshake (e.g. Meta's GET hub.challenge). */
export interface HandshakeReply {
  status: number;
  contentType: string;
  body: string;
}

/**
 * One WhatsApp provider protocol. Like SmsProvider, with WhatsApp's content, inbound messages in
 * its webhooks, and an optional GET handshake.
 */
export interface WhatsAppProvider<Credentials = Record<string, unknown>, Settings = Record<string, unknown>> {
  id: string;
  channel: 'whatsapp';
  displayName: string;
  credentials: z.ZodType<Credentials>;
  settings: z.ZodType<Settings>;
  /** Throws ProviderRejected (permanent for this message), GatewayFault (the gateway is unusable: alarm, try the next one) or ProviderUnavailable (retry later). */
  send(message: OutboundWhatsApp, gateway: { credentials: Credentials; settings: Settings }, ctx: ProviderContext): Promise<{ providerMessageId: string }>;
  /** Async where the check needs a fetch (e.g. an AWS SNS signing certificate, fetched through ctx.fetch). */
  verifySignature(request: WebhookRequest, gateway: { credentials: Credentials; settings: Settings }, ctx?: ProviderContext): boolean | Promise<boolean>;
  /** Status changes and inbound messages; anything else in the payload is dropped. */
  parseWebhook(request: WebhookRequest, gateway: { settings: Settings }): Array<ProviderStatusUpdate | ProviderInboundMessage>;
  /** Answers a GET verification handshake; undefined when this provider has none. */
  handshake?(request: WebhookRequest, gateway: { credentials: Credentials; settings: Settings }): HandshakeReply;
  lookup?(query: ProviderLookupQuery, gateway: { credentials: Credentials; settings: Settings }, ctx: ProviderContext): Promise<ProviderLookupResult>;
  receiptWindowSeconds?: number;
  defaultMaxPerSecond?: number;
  /** true: the provider sends free-form text only (an unofficial bridge): template messages go as their rendered text. */
  textOnly?: boolean;
  receipts?: false;
  sendsReceipts?(settings: Settings): boolean;
}

// ---- email (issue 8) ----

export interface OutboundEmail {
  messageId: string;
  /** One address. */
  to: string;
  subject: string;
  /** Already rendered and escaped. */
  html: string;
  /** The plain-text part (generated from the HTML when the template has none). */
  text: string;
}

/** One email protocol: Amazon SES (the deployment's sender) or an operator's own SMTP server. */
export interface EmailProvider<Credentials = Record<string, unknown>, Settings = Record<string, unknown>> {
  id: string;
  channel: 'email';
  displayName: string;
  credentials: z.ZodType<Credentials>;
  settings: z.ZodType<Settings>;
  /** Throws ProviderRejected (this address or message), GatewayFault (login, TLS, sender refused) or ProviderUnavailable. */
  send(message: OutboundEmail, gateway: { credentials: Credentials; settings: Settings }, ctx: ProviderContext): Promise<{ providerMessageId: string }>;
  verifySignature(request: WebhookRequest, gateway: { credentials: Credentials; settings: Settings }, ctx?: ProviderContext): boolean | Promise<boolean>;
  /** Delivery events (SES through SNS: delivery, bounce, complaint); `suppress` marks an address to refuse from now on. */
  parseWebhook(request: WebhookRequest, gateway: { settings: Settings }): Array<ProviderStatusUpdate & { suppress?: { address: string; reason: string } }>;
  /** Answers a webhook that is not an event but a handshake (SNS SubscriptionConfirmation: confirmed through ctx.fetch). */
  confirmSubscription?(request: WebhookRequest, ctx: ProviderContext, gateway?: { settings: Settings }): Promise<boolean>;
  receiptWindowSeconds?: number;
  defaultMaxPerSecond?: number;
  /** false: no delivery events (SMTP): `sent` is final. */
  receipts?: false;
  sendsReceipts?(settings: Settings): boolean;
  lookup?(query: ProviderLookupQuery, gateway: { credentials: Credentials; settings: Settings }, ctx: ProviderContext): Promise<ProviderLookupResult>;
}

// ---- Telegram (issue 8) ----

export interface OutboundTelegram {
  messageId: string;
  chatId: string;
  /** A forum topic (message_thread_id). */
  threadId?: number;
  /** HTML (parse_mode HTML), values already escaped. */
  html: string;
  /** Telegram's message id to reply to, in the same chat. */
  replyToProviderMessageId?: string;
}

/** A team member wrote in a chat the bot is in (a reply to a forwarded customer message, say). */
export interface TelegramChatMessage {
  kind: 'chat';
  chatId: string;
  /** "<chat id>:<message id>": Telegram's message ids are per chat. */
  providerMessageId: string;
  /** The message it replies to, as "<chat id>:<message id>". */
  replyToProviderMessageId?: string;
  from: string;
  text: string;
  at: string;
}

/** The Telegram Bot API: alerts to the team's chats, and what the team writes back. */
export interface TelegramProvider<Credentials = Record<string, unknown>, Settings = Record<string, unknown>> {
  id: string;
  channel: 'telegram';
  displayName: string;
  credentials: z.ZodType<Credentials>;
  settings: z.ZodType<Settings>;
  /** Throws ProviderThrottled with retryAfterSeconds on a 429, GatewayFault on a bad token, ProviderRejected on a bad chat. */
  send(message: OutboundTelegram, gateway: { credentials: Credentials; settings: Settings }, ctx: ProviderContext): Promise<{ providerMessageId: string }>;
  /** X-Telegram-Bot-Api-Secret-Token against the gateway's webhook secret. */
  verifySignature(request: WebhookRequest, gateway: { credentials: Credentials; settings: Settings }): boolean;
  parseWebhook(request: WebhookRequest, gateway: { settings: Settings }): TelegramChatMessage[];
  /** Telegram sends no delivery receipts: `sent` is final. */
  receipts: false;
  defaultMaxPerSecond?: number;
  receiptWindowSeconds?: number;
  sendsReceipts?(settings: Settings): boolean;
  lookup?(query: ProviderLookupQuery, gateway: { credentials: Credentials; settings: Settings }, ctx: ProviderContext): Promise<ProviderLookupResult>;
}

/** A provider of any channel: what the gateway registry, the sender and the webhooks work with. */
export type ChannelProvider = SmsProvider<any, any> | WhatsAppProvider<any, any> | EmailProvider<any, any> | TelegramProvider<any, any>;

// ---- payments to the platform (issue 9) ----

/** A payment page for an amount the operator owes (a bill) or wants to add (a top-up). */
export interface CheckoutRequest {
  /** Ours, unique per payment attempt target: "bill:<id>" or "topup:<id>"; comes back in the webhook. */
  reference: string;
  /** Integer minor units (poisha, cents). */
  amount: number;
  /** ISO 4217, upper case. */
  currency: string;
  description: string;
  /** Where the payer lands after paying or cancelling (our console or the operator's page). */
  successUrl: string;
  cancelUrl: string;
  /** Where the provider posts its server-to-server notification (SSLCommerz's IPN; Stripe's is set in its dashboard). */
  notifyUrl: string;
  customerEmail?: string;
}

export interface CheckoutSession {
  /** The provider's id of the session / transaction. */
  sessionId: string;
  /** The payment page to send the payer to. */
  url: string;
}

/** A payment the provider confirms: credited once per `paymentId`. */
export interface ConfirmedPayment {
  /** The provider's id of the payment (Stripe's checkout session or payment intent, SSLCommerz's val_id / bank_tran_id). */
  paymentId: string;
  reference: string;
  amount: number;
  currency: string;
}

/** The platform's payment provider (Stripe, SSLCommerz): credentials from the deployment's environment, never a tenant's. */
export interface PaymentProvider {
  id: 'stripe' | 'sslcommerz';
  /** Throws ProviderUnavailable (retry), or an Error in words when the provider refuses. */
  createCheckout(request: CheckoutRequest, ctx: ProviderContext): Promise<CheckoutSession>;
  /**
   * Verifies a webhook (Stripe: Stripe-Signature with its tolerance window; SSLCommerz: the IPN
   * validated with its validation API) and answers the payment it confirms, or undefined for events
   * that are not a completed payment. Throws DomainError Unauthorized for a forged or stale one.
   */
  confirm(request: WebhookRequest, ctx: ProviderContext): Promise<ConfirmedPayment | undefined>;
}

// ---- billing (issue 9) ----

/** Integer minor units per segment (SMS) or per message (WhatsApp, email), by destination country. */
export interface PriceTable {
  currency: string;
  sms: Record<string, number>;
  whatsapp: Record<string, number>;
  email: Record<string, number>;
  updatedAt?: string;
}

export type LedgerType = 'topup' | 'payment' | 'debit' | 'refund' | 'adjustment' | 'bill';

export interface LedgerEntry {
  id: string;
  type: LedgerType;
  /** Signed, integer minor units: credits positive, debits negative. */
  amount: number;
  currency: string;
  balanceAfter: number;
  /**
   * The balance's version this entry made (1, 2, 3...): the order in which entries changed the
   * balance. Ids sort by time, which concurrent writers may commit out of order.
   */
  seq: number;
  reason: string;
  at: string;
  messageId?: string;
  broadcastId?: string;
  billId?: string;
  paymentId?: string;
  /** Debits of a reseller's messages name the reseller, so the ISP can recharge it. */
  resellerId?: string;
  channel?: string;
  segments?: number;
  /** Messages this debit covers: a broadcast page is debited in one entry per channel (absent: one). */
  messages?: number;
}

/** A debit made: what is available after it, and what the low-balance warning needs, from the same read. */
export interface Settled {
  outcome: 'settled';
  available: number;
  currency: string;
  lowBalanceThreshold?: number;
  lowBalanceAlerted: boolean;
}

export interface BalanceState {
  currency: string;
  /** = the sum of the ledger. */
  balance: number;
  /** Held for accepted messages not yet sent. */
  reserved: number;
  creditLimit: number;
  version: number;
  lowBalanceAlerted?: boolean;
  /** Prepaid operators: warn once when `available` falls below it. */
  lowBalanceThreshold?: number;
}

/** What a message will cost, held from acceptance until it is sent (settled) or fails (released). */
export interface Hold {
  messageId: string;
  amount: number;
  currency: string;
  /** prepaid: counted in `reserved` (refused when the balance cannot cover it); postpaid: only accrued. */
  prepaid: boolean;
  channel: string;
  segments?: number;
  resellerId?: string;
  /** A group hold (a broadcast page): how many messages it covers, in the page's order, and the broadcast. */
  messages?: number;
  broadcastId?: string;
}

/** What a group hold is finally debited, per channel (the messages of the group that left us). */
export interface GroupCharge {
  channel: string;
  amount: number;
  messages: number;
  segments: number;
}

export interface BillingStore {
  prices(ownerId: string): Promise<PriceTable | undefined>;
  putPrices(ownerId: string, table: PriceTable): Promise<void>;
  /** The balance, made (empty, in `currency`) when there is none yet. */
  balance(operatorId: string, currency: string): Promise<BalanceState>;
  /** Holds the cost once per message id; 'short' (with how much is missing) when a prepaid balance cannot cover it. */
  hold(operatorId: string, hold: Hold, at: string): Promise<{ outcome: 'held' | 'exists' } | { outcome: 'short'; shortfall: number }>;
  /** Debits a held message once (the provider accepted it): a ledger entry and the balance, in one transaction. */
  settle(operatorId: string, messageId: string, at: string): Promise<Settled | 'already' | 'none'>;
  /** The hold of that id (a message's, or a group's), read strongly consistent. */
  getHold(operatorId: string, holdId: string): Promise<(Hold & { status: 'open' | 'settled' | 'released' }) | undefined>;
  /**
   * Settles a group hold once: debits what its messages cost (one ledger entry per channel charged)
   * and gives back the rest of the hold, in one transaction.
   */
  settleGroup(operatorId: string, holdId: string, charges: GroupCharge[], reason: string, at: string): Promise<Settled | 'already' | 'none'>;
  /** Gives a hold back once (the message failed before leaving us, or was cancelled). */
  release(operatorId: string, messageId: string, at: string): Promise<'released' | 'already' | 'none'>;
  /** A credit or adjustment, once per `reference` (a top-up's or payment's reference). */
  credit(
    operatorId: string,
    entry: Omit<LedgerEntry, 'id' | 'balanceAfter' | 'at' | 'seq'> & { reference: string },
    at: string,
  ): Promise<{ entry: LedgerEntry; created: boolean }>;
  ledger(operatorId: string, filter: { from?: string; to?: string; type?: LedgerType }, limit: number, cursor?: string): Promise<Page<LedgerEntry>>;
  /** Every entry, oldest first (verification, usage). */
  entries(operatorId: string, range?: { from?: string; to?: string }): AsyncIterable<LedgerEntry>;
  /** Holds older than `before` still open (the reconciler settles or releases them by their message's status). */
  openHolds(before: string): AsyncIterable<Array<{ operatorId: string; messageId: string }>>;
  /** Sets the low-balance flag only if it is not set (true: this caller should alert); clears it. */
  markLowBalance(operatorId: string, alerted: boolean): Promise<boolean>;
  /** The credit limit, and the low-balance threshold (null removes it), kept on the balance so a debit needs no other read to warn. */
  setLimits(operatorId: string, limits: { creditLimit?: number; lowBalanceThreshold?: number | null }): Promise<void>;
}

export interface BillStore {
  /** false: a bill of that id (period) exists already. */
  create(bill: import('./services/bills.js').Bill): Promise<boolean>;
  get(operatorId: string, id: string): Promise<import('./services/bills.js').Bill | undefined>;
  list(operatorId: string, limit: number, cursor?: string): Promise<Page<import('./services/bills.js').Bill>>;
  addPayment(operatorId: string, id: string, payment: { at: string; amount: number; reference: string }): Promise<import('./services/bills.js').Bill | undefined>;
}

export interface CustomerBillFilter {
  customerId?: string;
  /** Default unpaid, unless customerId is given (then every status). */
  status?: 'unpaid' | 'paid' | 'void';
  /** YYYY-MM-DD, inclusive. */
  dueAfter?: string;
  dueBefore?: string;
}

export interface CustomerBillStore {
  get(operatorId: string, id: string): Promise<import('./domain/records.js').CustomerBill | undefined>;
  /** BatchGet; missing ids are absent. */
  getMany(operatorId: string, ids: string[]): Promise<Map<string, import('./domain/records.js').CustomerBill>>;
  put(operatorId: string, bill: import('./domain/records.js').CustomerBill): Promise<void>;
  /** BatchWriteItem in chunks of 25. */
  putMany(operatorId: string, bills: import('./domain/records.js').CustomerBill[]): Promise<void>;
  /** A Query on a key: by status and due date, or by customer. */
  list(operatorId: string, filter: CustomerBillFilter, limit: number, cursor?: string): Promise<Page<import('./domain/records.js').CustomerBill>>;
}

// ---- broadcasts (issue 10) ----

/**
 * Counts kept as a broadcast's messages move (sharded items, summed on read), from the table's
 * stream: they lag the messages by a batch. Messages written but not counted yet read as queued.
 */
export interface BroadcastCounts {
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  cancelled: number;
  /** Minor units debited for its messages so far (those a provider accepted). */
  spent: number;
  /** Messages that left us in the last complete 10-second window. */
  recentSent: number;
}

export interface BroadcastStore {
  /** false: a broadcast of that id exists. */
  create(broadcast: import('./domain/records.js').Broadcast): Promise<boolean>;
  get(operatorId: string, id: string): Promise<import('./domain/records.js').Broadcast | undefined>;
  list(operatorId: string, limit: number, cursor?: string): Promise<Page<import('./domain/records.js').Broadcast>>;
  /**
   * Sets the named fields only if the broadcast is in one of `states` (and, with `planStep`, at
   * that step): the new broadcast, or undefined when the condition did not hold.
   */
  update(
    operatorId: string,
    id: string,
    changes: Partial<import('./domain/records.js').Broadcast>,
    condition: { states?: import('./domain/records.js').BroadcastState[]; planStep?: number },
    /** messagesWritten: an expanded page's messages (counts() reads those its stream records have not counted yet as queued). */
    add?: { planned?: number; pages?: number; pagesDone?: number; pagesSettled?: number; messagesWritten?: number; skipped?: Record<string, number> },
  ): Promise<import('./domain/records.js').Broadcast | undefined>;
  /**
   * Adds a stream batch's changes to one broadcast's counters, once: `streamShard` names the ordered
   * stream the records came from; records at or before what its counters have seen from it are
   * skipped, so a replayed or bisected batch counts nothing twice. 'already-counted': all were.
   */
  applyStreamCounts(change: import('./domain/broadcast-count-deltas.js').BroadcastCountChange, streamShard: string): Promise<'applied' | 'already-counted'>;
  counts(operatorId: string, broadcastId: string, now: Date): Promise<BroadcastCounts>;
  /** Takes `amount` of the broadcast's maxCost budget: false when it would pass `maxCost`. */
  takeBudget(operatorId: string, broadcastId: string, amount: number, maxCost: number): Promise<boolean>;
  /**
   * A page of the expand step, claimed for `until`: 'claimed' (first time), 'taken-over' (a
   * worker died on it: its claim expired), 'busy' (another worker holds it) or 'done'.
   */
  claimPage(operatorId: string, broadcastId: string, page: number, until: string, now: string): Promise<'claimed' | 'taken-over' | 'busy' | 'done'>;
  finishPage(operatorId: string, broadcastId: string, page: number, at: string): Promise<void>;
}

export interface PaymentLinkStore {
  /** BatchWriteItem in chunks of 25 (a link is a deterministic function of its message: rewriting it is harmless). */
  putMany(links: import('./domain/records.js').PaymentLink[]): Promise<void>;
  get(linkId: string): Promise<import('./domain/records.js').PaymentLink | undefined>;
  getMany(linkIds: string[]): Promise<Map<string, import('./domain/records.js').PaymentLink>>;
  /** Counts a click; `first` when it was the link's first. */
  recordClick(linkId: string, at: string, userAgent: string | undefined): Promise<{ first: boolean } | undefined>;
}

/** What a schedule does when it fires: a task on one of our queues. */
export interface ScheduleTarget {
  queue: QueueName;
  body: Record<string, unknown>;
}

/** EventBridge Scheduler on AWS; the local stack's stand-in computes the same fire times. */
export interface Scheduler {
  /** Fires once at `at`, then is deleted; the same name replaces it. */
  once(name: string, at: Date, target: ScheduleTarget): Promise<void>;
  /**
   * EventBridge cron (6 fields, shared/domain/cron.ts) in an IANA time zone; the same name replaces it.
   * `flexibleWindowMinutes`: default 15, 0 for none (the local stack always fires at the window's start).
   */
  recurring(name: string, cron: string, timezone: string, target: ScheduleTarget, options?: { flexibleWindowMinutes?: number }): Promise<void>;
  /** Deletes it; a missing schedule is fine. */
  delete(name: string): Promise<void>;
}

/** Who a broadcast reaches, as keys can find them: customers by status (and filters), or unpaid bills by due date. */
export type AudienceQuery =
  | { source: 'customers'; statuses: import('./domain/records.js').CustomerStatus[]; zone?: string[]; package?: string[]; resellerId?: string[] }
  | { source: 'bills'; dueFrom?: string; dueTo?: string }
  /** Customers whose service expires on a day (the expiry index items written with each customer). */
  | { source: 'expiring'; on: string };

/** Where a broadcast's planner is in its audience: the query part (a status) and the last key read. */
export interface AudienceCursor {
  part: number;
  key?: Record<string, unknown>;
}

export interface AudienceRow {
  /** Only the id (the expiry index): the customer is read when the page is expanded. */
  customerId?: string;
  customer?: import('./domain/records.js').Customer;
  bill?: import('./domain/records.js').CustomerBill;
}

export interface AudienceReader {
  /** How many match (Select COUNT over the same key ranges and filters). */
  /**
   * How many rows match, with a Select COUNT Query. `deadline` (epoch ms): stop counting then and
   * answer what was counted (`complete: false`, a lower bound), so no request walks a huge audience.
   */
  count(operatorId: string, query: AudienceQuery, options?: { deadline?: number }): Promise<{ count: number; complete: boolean }>;
  /** One page (up to `limit` items read; fewer may match), and where the next one starts (absent at the end). */
  page(operatorId: string, query: AudienceQuery, cursor: AudienceCursor, limit: number): Promise<{ rows: AudienceRow[]; next?: AudienceCursor }>;
}

export interface NotifierStore {
  get(operatorId: string, kind: import('./domain/records.js').NotifierKind): Promise<import('./domain/records.js').Notifier | undefined>;
  put(operatorId: string, notifier: import('./domain/records.js').Notifier): Promise<void>;
}
