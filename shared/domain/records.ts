/** What is stored. API shapes live in schemas.ts; these are the records the services work with. */
import type { SmsEncoding } from './segments.js';

export type Channel = 'sms' | 'whatsapp' | 'email' | 'telegram';

/** Which send queue a message waits on: OTPs and single sends never wait behind bulk traffic. */
export type Lane = 'priority' | 'bulk';

/** A WhatsApp approved template, rendered for one message: its body parameters in order. */
export interface WhatsAppTemplateContent {
  name: string;
  language: string;
  parameters: string[];
  /** Authentication templates: the code again, for the copy-code button. */
  copyCode?: string;
}

/**
 * Which gateway a message goes through first, by destination and kind of traffic (OTPs through a
 * premium route, bulk through a cheaper one). Conditions left out match everything.
 */
export interface RoutingRule {
  gatewayId: string;
  /** E.164 prefix such as "+91" or "+8801". */
  countryPrefix?: string;
  /** otp: one-time codes; single: POST /v1/messages; bulk: broadcasts, reminders. */
  kind?: 'otp' | 'single' | 'bulk';
}

export interface Operator {
  id: string;
  name: string;
  /** ISO 3166 alpha-2; local numbers are read as this country's. */
  defaultCountry: string;
  timezone: string;
  /** The gateway SMS go out through (first among equal priorities). */
  smsGatewayId?: string;
  /** prepaid: messages are paid from a balance, held at acceptance (402 when it cannot cover them); postpaid: billed monthly. Absent: postpaid. */
  billing?: 'prepaid' | 'postpaid';
  /** Where bills and low-balance warnings go. */
  billingEmail?: string;
  /** Warn (once) when the available prepaid balance falls below this many minor units. */
  lowBalanceThreshold?: number;
  /** The same for WhatsApp, email and Telegram. */
  whatsappGatewayId?: string;
  emailGatewayId?: string;
  telegramGatewayId?: string;
  /** Routing (GET/PATCH /v1/settings): `auto` may use a customer's mobile number on WhatsApp. Default false. */
  whatsappUsesMobile?: boolean;
  /** A WhatsApp message that fails for good is sent again by SMS. Default true. */
  fallbackToSms?: boolean;
  /** Also fall back when a WhatsApp message is not delivered within this many seconds. Absent: never. */
  fallbackAfterSeconds?: number;
  /** Where system alerts (a gateway's circuit opened) go: an alert purpose; default "emergency". */
  systemAlertPurpose?: string;
  /** The operator's own opt-out and opt-in words (e.g. Bangla ones), besides STOP and START. */
  optOutWords?: string[];
  optInWords?: string[];
  /** Gateway choice by destination prefix and kind of traffic (see RoutingRule); in order, first match wins. */
  routingRules?: RoutingRule[];
  /** The approved WhatsApp authentication template OTPs use (its one body parameter is the code). */
  otpWhatsappTemplate?: { name: string; language: string };
  /** The SMS text of an OTP: Mustache with {{code}} (and {{operator.name}}, {{minutes}}). */
  otpSmsText?: string;
  /** Where GET /p/{token} sends a customer: Mustache over customer and bill (shared/domain/payment-url.ts). Absent: no payment page. */
  paymentUrlTemplate?: string;
  /**
   * Settings (GET/PATCH /v1/settings), one attribute each so a PATCH updates only what it names.
   * Absent means the default: limits in shared/domain/rate-limit.ts, destinations in destination.ts.
   */
  requestsPerSecond?: number;
  messagesPerDay?: number;
  /** ISO 3166 alpha-2 countries SMS may be sent to; absent means [defaultCountry]. */
  destinationCountries?: string[];
  /** The ISP's support number, for `{{operator.phone}}` in messages. */
  supportPhone?: string;
  /** Reminders and marketing broadcasts wait while it is this late in the operator's time zone (e.g. 21:00 to 08:00). */
  quietHours?: { start: string; end: string };
  createdAt: string;
  updatedAt?: string;
}

export type CustomerStatus = 'active' | 'suspended' | 'billed' | 'expired';

export interface Customer {
  id: string;
  name: string;
  mobile: string;
  email?: string;
  whatsapp?: string;
  status: CustomerStatus;
  zone?: string;
  package?: string;
  resellerId?: string;
  expiresAt?: string;
  createdAt: string;
  updatedAt: string;
}

export interface Template {
  id: string;
  name: string;
  channel: Channel;
  body: string;
  /** The approved WhatsApp template this one maps to; each parameter is a Mustache string. */
  whatsapp?: { name: string; language: string; parameters: string[] };
  /** Email: Mustache subject, HTML (values escaped) and optional text part. */
  email?: { subject: string; html: string; text?: string };
  variables: string[];
  createdAt: string;
  updatedAt: string;
}

export interface Gateway {
  id: string;
  operatorId: string;
  channel: Channel;
  provider: string;
  name: string;
  /** Non-secret settings (sender id, ...), validated by the provider's schema. */
  settings: Record<string, unknown>;
  /** Credentials sealed by the CredentialsCipher; never returned by the API. */
  sealedCredentials: string;
  /** Names of the credential fields that were set, so the API can show them masked. */
  credentialFields: string[];
  /** Absent on gateways saved before priorities: enabled, priority 1. */
  enabled?: boolean;
  /** 1 is tried first. */
  priority?: number;
  /** Messages per second through this gateway, all workers together; absent: the provider's default. */
  maxPerSecond?: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * queued → sent → delivered → read; failed is final. Status only moves forward; the store
 * enforces it with a condition on the current status (see allowedPredecessors).
 */
export type MessageStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'cancelled';

export interface StatusChange {
  status: MessageStatus;
  at: string;
  /** For failures: the provider's (or our) reason, in words. */
  reason?: string;
  /** The provider's own status or error code, as received. */
  providerStatus?: string;
  /** A receipt that came after the message had moved past it (out of order, or repeated): kept, status unchanged. */
  late?: boolean;
}

/** One provider call for a message. */
export interface GatewayTry {
  gatewayId: string;
  provider: string;
  /** accepted; rejected (the recipient or message); gateway-fault (the gateway cannot send); unavailable (try again later). */
  outcome: 'accepted' | 'rejected' | 'gateway-fault' | 'unavailable';
  at: string;
  /** The provider's id (accepted) or its reason, in words. */
  detail?: string;
}

export interface Message {
  id: string;
  operatorId: string;
  channel: Channel;
  /** Absent or "out": we send it. "in": a customer wrote to us (recorded from a provider's webhook). */
  direction?: 'out' | 'in';
  customerId?: string;
  /** E.164 of the recipient; for an inbound message, the gateway's name. */
  to: string;
  /** Inbound only: the customer's number (E.164). */
  from?: string;
  /** What the message says (for a WhatsApp template, its text as rendered for SMS and the history). */
  text: string;
  /** SMS only. */
  encoding?: SmsEncoding;
  characters?: number;
  segments?: number;
  /** WhatsApp only: sent as this approved template rather than free-form text. */
  whatsappTemplate?: WhatsAppTemplateContent;
  /**
   * Content that must not be stored readable (an OTP's code): sealed by the CredentialsCipher; `text`
   * holds it masked. The sender opens it; it is removed once the message leaves the queue.
   */
  sealedContent?: string;
  /** Which queue it waits on; absent: bulk. */
  lane?: Lane;
  /** Why this channel was chosen, in words (routing `auto`). */
  routing?: string;
  /** Email: the subject and the HTML part (`text` is the plain-text part). */
  subject?: string;
  html?: string;
  /** Telegram: the forum topic, and the chat message this one replies to ("<chat>:<id>"). */
  threadId?: number;
  replyToProviderMessageId?: string;
  /** Telegram: the customer's inbound message this forwards to the support chat (a team reply to it goes back to the customer). */
  forwardOf?: string;
  /** Telegram alerts: the purpose and severity, and how many repeats within a minute were collapsed into it. */
  alert?: { purpose: string; severity: 'info' | 'warning' | 'critical'; repeats?: number };
  /** What it costs (held at acceptance, debited when a provider accepts it). */
  cost?: { amount: number; currency: string };
  /** Its cost is held with others' (a broadcast page's hold), and settled with them: sending or failing it touches no balance. */
  holdId?: string;
  /**
   * A broadcast message is sent with up to nine others under one claim, its send group's (not a
   * claim write of its own): the group named here. Removed when it leaves the group for a single
   * send task (a retry, a wait, a lost send), which only then may claim it.
   */
  sendGroup?: string;
  /** Sent with a reseller's key: its debit names the reseller. */
  resellerId?: string;
  /** Marketing messages skip suppressed numbers; transactional ones (the default: OTPs, receipts, reminders) still go. */
  category?: 'transactional' | 'marketing';
  /** "otp": the message carries a one-time code; "alert": a Telegram alert; "reply": a team member's reply to a customer. */
  kind?: 'otp' | 'alert' | 'reply';
  templateId?: string;
  gatewayId: string;
  provider: string;
  status: MessageStatus;
  history: StatusChange[];
  providerMessageId?: string;
  attempts: number;
  /** The last temporary (retried) error. */
  lastError?: string;
  /** Set while a worker holds the send; see services/deliver-message. */
  claimedUntil?: string;
  /** When the current claim was first taken: a provider call lost with it started after this. */
  claimedAt?: string;
  resendOf?: string;
  /** Set when the customer's personal data was erased: `to` is masked and `text` is "[erased]". */
  erasedAt?: string;
  /** The one resend of this (failed) message. */
  resentAs?: string;
  /** Every provider call for this message: which gateway, and what came of it. */
  tries?: GatewayTry[];
  /** This SMS was sent because WhatsApp message `fallbackOf` failed. */
  fallbackOf?: string;
  /** The one SMS sent instead of this WhatsApp message. */
  fallbackMessageId?: string;
  /** The broadcast (or reminder run) this message is part of; its id derives from (broadcast, customer). */
  broadcastId?: string;
  /** The customer bill it is about (payment links, due-date reminders): not sent once the bill is paid. */
  billId?: string;
  /** The payment link it carries (`<base>/p/<token>`): its record holds the clicks. */
  paymentLinkId?: string;
  /** An expiry reminder: the service expiry date it is about (not sent once the customer has renewed). */
  remindsExpiry?: string;
  /** Not sent before this instant (quiet hours): the sender puts it back until then. */
  notBefore?: string;
  createdAt: string;
  updatedAt: string;
}

const predecessors: Record<MessageStatus, MessageStatus[]> = {
  queued: [],
  sent: ['queued'],
  delivered: ['queued', 'sent'],
  read: ['queued', 'sent', 'delivered'],
  failed: ['queued', 'sent'],
  cancelled: ['queued'],
};

/** The statuses a message may be in for `next` to be recorded: late or repeated updates never move it back. */
export function allowedPredecessors(next: MessageStatus): MessageStatus[] {
  return predecessors[next];
}

/** An ISP's bill to one of its customers, as its billing system keeps it (not the platform's bill to the ISP). */
export interface CustomerBill {
  id: string;
  customerId: string;
  /** Integer minor units. */
  amount: number;
  currency: string;
  /** YYYY-MM-DD. */
  dueDate: string;
  status: 'unpaid' | 'paid' | 'void';
  paidAt?: string;
  reference?: string;
  createdAt: string;
  updatedAt: string;
}

/** Who a broadcast goes to: each list is "any of", the lists combined with AND. */
export interface BroadcastFilter {
  status?: CustomerStatus[];
  zone?: string[];
  package?: string[];
  resellerId?: string[];
  /** Customers with an unpaid bill due at least this many days ago (the operator's today); each such bill is one recipient. */
  overdueDays?: number;
  /** Customers with an unpaid bill due on this day (reminders). */
  dueOn?: string;
  /** Customers whose service expires on this day (expiry reminders). */
  expiresOn?: string;
}

export type BroadcastKind = 'broadcast' | 'payment_link' | 'reminder';
export type BroadcastState = 'scheduled' | 'planning' | 'sending' | 'completed' | 'cancelled';

/** Money in integer minor units of a currency. */
export interface Money {
  amount: number;
  currency: string;
}

/** The estimate made when the broadcast was asked for. */
export interface BroadcastEstimate {
  /** With `countComplete: false`, a lower bound: the count stopped at its time budget (a huge audience); the planner finds them all. */
  recipients: number;
  countComplete?: false;
  segments: number;
  cost: Money;
  byChannel: Partial<Record<Channel, { recipients: number; segments: number; cost: Money }>>;
}

export interface Broadcast {
  id: string;
  operatorId: string;
  kind: BroadcastKind;
  name?: string;
  filter: BroadcastFilter;
  channel: 'auto' | 'sms' | 'whatsapp' | 'email';
  text?: string;
  templateId?: string;
  subject?: string;
  category: 'transactional' | 'marketing';
  /** A reseller's key asked for it: only the reseller's customers, debits name the reseller. */
  resellerId?: string;
  sendAt?: string;
  /** Stop before the held cost of its messages would pass this (minor units of the balance's currency). */
  maxCost?: number;
  state: BroadcastState;
  estimate: BroadcastEstimate;
  /**
   * The first 10 characters (the ULID time) of every message id of this broadcast, fixed when it
   * starts: the history finds its messages with a Query on that key prefix, no index needed.
   */
  messagePrefix?: string;
  /** Pages planned (the planner's step) and whether the audience has been walked to its end. */
  planStep: number;
  planned: number;
  planDone?: boolean;
  /**
   * Where the plan step `planStep` starts reading (its task's cursor), kept with the step: a plan
   * task lost with a local queue is queued again from here at start-up.
   */
  planCursor?: { part: number; key?: Record<string, unknown> };
  /** Expand pages queued (plan steps that read at least one row), and pages expanded into messages. */
  pages: number;
  pagesDone: number;
  /** Pages whose messages' cost is settled (debited, the rest of the page's hold given back). */
  pagesSettled?: number;
  /** Recipients not messaged, by reason (no number, suppressed, balance, maxCost, ...). */
  skipped: Record<string, number>;
  stoppedReason?: string;
  /** Reminders: the notifier, its step and the day it ran for. */
  reminder?: { notifier: NotifierKind; step: number; date: string };
  startedAt?: string;
  finishedAt?: string;
  cancelledAt?: string;
  createdAt: string;
  updatedAt: string;
}

/** A payment link sent in a message: `<base>/p/<token>`; the token is signed over this record's binding. */
export interface PaymentLink {
  id: string;
  operatorId: string;
  customerId: string;
  billId: string;
  broadcastId?: string;
  messageId: string;
  channel: Channel;
  expiresAt: string;
  createdAt: string;
  firstClickAt?: string;
  lastClickAt?: string;
  clicks?: number;
  userAgent?: string;
}

export type NotifierKind = 'due-date' | 'expiration';

/** A reminder ladder: each step sends `offsetDays` before the due (or expiry) date, negative after. */
export interface NotifierStep {
  offsetDays: number;
  templateId: string;
  channel: 'auto' | 'sms' | 'whatsapp' | 'email';
}

export interface Notifier {
  kind: NotifierKind;
  enabled: boolean;
  steps: NotifierStep[];
  /** HH:MM in `timezone`. */
  sendAt: string;
  timezone: string;
  updatedAt: string;
}
