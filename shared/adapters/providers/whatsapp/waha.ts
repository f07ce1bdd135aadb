/**
 * WAHA, the self-hosted WhatsApp HTTP API bridge (devlikeapro/waha): for operators without a
 * WhatsApp Business account. WAHA drives a normal WhatsApp account (linked by QR code) and exposes
 * it over HTTP. There are no approved templates: it sends free-form text only.
 *
 * The host is the operator's own server (settings.baseUrl), so it is TENANT-CHOSEN: every call goes
 * through the outbound URL guard (guardedFetch: https only, public addresses unless the deployment
 * sets ISPNOTIFY_ALLOW_PRIVATE_URLS=1, no redirects followed so the API key never travels elsewhere)
 * and a URL the guard refuses is a GatewayFault with the guard's words. The gateway service checks
 * the URL when the gateway is saved with `checkWahaGateway`.
 *
 * Sending (every request carries the API key as WAHA's `X-Api-Key` header):
 * - Unless settings.checkNumberExists is false, first GET {baseUrl}/api/contacts/check-exists
 *   ?phone=<digits>&session=<session> → { numberExists, chatId? }. WAHA's sendText answers 201 even
 *   for a number that is not on WhatsApp (the message is then silently never delivered), so this
 *   check is the only way to reject such a number (ProviderRejected 'not-on-whatsapp'). The chatId it
 *   answers is used when it is a plain `<digits>@c.us` (WAHA's advice for Brazilian numbers).
 * - POST {baseUrl}/api/sendText with JSON { session, chatId: '<digits>@c.us', text }.
 * - The reply is the engine's own message object, which differs by engine and version: WEBJS
 *   { id: { fromMe, remote, id, _serialized }, _data, ... } (older versions: id as the serialized
 *   string), NOWEB { key: { remoteJid, fromMe, id }, message, ... }. Webhooks name the same message
 *   `true_<chat>_<key id>` (serialized). Both sides are normalised to the bare key id (the last
 *   part of the serialized form; see wahaMessageId), so receipts find the message even where the
 *   chat part differs (`@c.us`, `@s.whatsapp.net`, `@lid`). A 2xx without any id (a known WEBJS
 *   bug answered an empty 201) counts as accepted under our own message id: sending again would
 *   send twice; its receipts then cannot be matched.
 * - Errors: 401/403 → GatewayFault (the API key); 404 → GatewayFault (no such session, or baseUrl
 *   is not a WAHA server); 422 → GatewayFault (WAHA's "Session status is not as expected" when the
 *   session is not WORKING, e.g. STOPPED, SCAN_QR_CODE or FAILED; or a feature or session name the
 *   server's tier or engine lacks); a 400 about the session's status → GatewayFault, other 4xx →
 *   ProviderRejected; 429 and WhatsApp's "rate-overlimit" → ProviderThrottled; other 5xx, timeouts
 *   and network errors → ProviderUnavailable; a certificate WAHA's host cannot prove → GatewayFault.
 *   Error texts never repeat the API key.
 *
 * Webhooks. The operator configures the WAHA session's webhook (POST /api/sessions, config.webhooks)
 * with our webhook URL, events ["message", "message.ack"], and either or both of:
 *   1. hmac.key = the gateway's webhookSecret: WAHA then signs each body and sends
 *      X-Webhook-Hmac (hex HMAC-SHA512 of the raw body) and X-Webhook-Hmac-Algorithm: sha512;
 *   2. ?token=<webhookSecret> on the webhook URL (for WAHA versions or setups without HMAC).
 * A request is accepted when the HMAC matches (constant-time) OR the URL token matches; anything
 * else is refused.
 *
 * Bodies are { event, session, payload, ... }. Events of other sessions on the same server are
 * dropped, as is every event but these two:
 * - message.ack: payload { id, ack, ackName, fromMe, ... } → ERROR(-1) failed, PENDING(0) dropped,
 *   SERVER(1) sent, DEVICE(2) delivered, READ(3) and PLAYED(4) read. Acks of messages we did not
 *   send (fromMe false) and of group chats are dropped.
 * - message: payload { id, from: '<digits>@c.us', body, timestamp (unix seconds), fromMe, hasMedia }
 *   with fromMe false → an inbound message from '+<digits>'. Messages from groups, broadcasts,
 *   channels and hidden ids (`@lid`, which carry no phone number) are dropped.
 *
 * No `lookup`: WAHA can read a message by its id (GET /api/{session}/chats/{chatId}/messages/{id}),
 * but only on some engines (NOWEB needs its store enabled), and a send whose outcome we lost has no
 * id to ask about; searching a chat by text is not reliable. A lost outcome is therefore not asked
 * about (it fails as "outcome unknown"; a missing receipt counts as overdue).
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderThrottled, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderInboundMessage, ProviderStatusUpdate, WebhookRequest, WhatsAppProvider } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { checkOutboundUrl, guardedFetch, OutboundUrlRefused, type GuardedResponse } from '../../outbound/url-guard.js';
import { timingSafeEqualStrings, verifyUrlToken } from '../http.js';

const E164 = /^\+[1-9]\d{6,14}$/;
/**
 * WAHA publishes no rule for session names; they travel in URL paths and JSON, and WAHA's own are
 * like "default" or "session_1a2b". Letters, digits, "_" and "-" keep them safe everywhere.
 */
const SESSION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Printable ASCII without spaces: what an HTTP header value can carry as it is. */
const HEADER_TOKEN = /^[\x21-\x7E]+$/;

/** Why a base URL cannot be used, or undefined. */
function baseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL such as https://waha.example.net';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https URL such as https://waha.example.net';
  if (url.username || url.password) return 'must not contain a user name or password (the API key goes in credentials.apiKey)';
  if (url.search || value.includes('?')) return 'must not have a query string';
  if (url.hash || value.includes('#')) return 'must not have a fragment';
  if (/\/api\/?$/i.test(url.pathname)) return "must be the WAHA server's address without /api (e.g. https://waha.example.net)";
  return undefined;
}

/** The base URL without a trailing slash (a path prefix, for a WAHA behind a reverse proxy, stays). */
function normaliseBaseUrl(value: string): string {
  const url = new URL(value);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The stored base URL, ready to append /api/...; a GatewayFault when it is not usable. */
function usableBaseUrl(value: string): string {
  const problem = typeof value === 'string' ? baseUrlProblem(value) : 'is missing';
  if (problem) throw new GatewayFault(`The WAHA gateway's baseUrl ${problem}.`, 'bad-base-url');
  return normaliseBaseUrl(value);
}

export const WahaSettings = z.strictObject({
  /**
   * The operator's WAHA server, e.g. https://waha.example.net (a path prefix is allowed). https only:
   * the URL guard refuses http and private addresses unless the deployment allows them (tests, demo).
   */
  baseUrl: z
    .string()
    .trim()
    .max(500, 'must be at most 500 characters')
    .superRefine((value, ctx) => {
      const problem = baseUrlProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform(normaliseBaseUrl),
  /** The WAHA session (one linked WhatsApp account) to send from. WAHA Core has only "default". */
  session: z.string().trim().regex(SESSION_NAME, 'must be a WAHA session name: 1 to 64 letters, digits, "_" or "-"').default('default'),
  /** Ask WAHA whether the number is on WhatsApp before each send (see the top of this file). */
  checkNumberExists: z.boolean().default(true),
});
export type WahaSettings = z.infer<typeof WahaSettings>;

export const WahaCredentials = z.strictObject({
  /** WAHA's API key (the server's WAHA_API_KEY), sent as the X-Api-Key header. */
  apiKey: z
    .string()
    .trim()
    .min(1, "must be the WAHA server's API key (WAHA_API_KEY)")
    .max(500, 'must be at most 500 characters')
    .regex(HEADER_TOKEN, 'must be printable characters without spaces'),
  /** The webhook's HMAC key (the session webhook's hmac.key) and/or its ?token= value. */
  webhookSecret: z.string().min(16, 'must be at least 16 characters (it authenticates WAHA webhooks)').max(500, 'must be at most 500 characters'),
});
export type WahaCredentials = z.infer<typeof WahaCredentials>;

/** WAHA posts message.ack as soon as WhatsApp's server has the message; DEVICE when the phone is online. */
export const WAHA_RECEIPT_WINDOW_SECONDS = 3600;

/** sendText waits up to 5 s for the session to be WORKING, then the engine sends: give it room. */
const TIMEOUT_MS = 15_000;

// ---- message ids ----

/** WAHA's serialized message id: `{fromMe}_{chatId}_{keyId}[_{participant}]`. */
const SERIALIZED_ID = /^(true|false)_([^_]+)_([^_]+)(?:_(.+))?$/;
const MAX_ID = 200;

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The bare key id of a serialized id, or the string itself when it is not serialized. */
function bareId(value: string): string | undefined {
  const text = value.trim();
  if (!text || text.length > MAX_ID) return undefined;
  return SERIALIZED_ID.exec(text)?.[3] ?? text;
}

/**
 * The one string a WAHA message id becomes here, whatever its shape: a serialized id
 * ("true_8801711223344@c.us_3EB0…" → "3EB0…"), a bare key id, WEBJS's { _serialized, id } object or
 * NOWEB's { id, remoteJid, fromMe } key. Undefined when there is no id.
 */
export function wahaMessageId(value: unknown): string | undefined {
  if (typeof value === 'string') return bareId(value);
  if (!isRecord(value)) return undefined;
  for (const field of ['_serialized', 'id'] as const) {
    const inner = value[field];
    if (typeof inner === 'string') {
      const id = bareId(inner);
      if (id) return id;
    }
  }
  return undefined;
}

/** The message id in a sendText reply, in whichever engine's shape it comes. */
function sentMessageId(json: unknown): string | undefined {
  if (!isRecord(json)) return undefined;
  const data = isRecord(json._data) ? json._data : undefined;
  const info = data && isRecord(data.Info) ? data.Info : undefined;
  const candidates: unknown[] = [json.id, json.key, data?.id, data?.key, info?.ID];
  for (const candidate of candidates) {
    const id = wahaMessageId(candidate);
    if (id) return id;
  }
  return undefined;
}

// ---- calls and their failures ----

function parseJson(text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** What a WAHA error reply says: NestJS's { message }, WAHA's { error }, or an engine's { exception: { message } }. */
function wahaErrorText(json: unknown, raw: string): string {
  if (isRecord(json)) {
    const parts: string[] = [];
    const exception = isRecord(json.exception) ? json.exception : undefined;
    for (const value of [json.error, json.message, exception?.message]) {
      if (typeof value === 'string' && value.trim()) parts.push(value);
      else if (Array.isArray(value)) parts.push(value.filter((v) => typeof v === 'string').join('; '));
    }
    if (typeof json.status === 'string' && /^[A-Z_]{3,30}$/.test(json.status)) parts.push(`session status ${json.status}`);
    if (parts.length > 0) return parts.join(': ');
  }
  return raw;
}

/** The reply quoted for an error message, without the API key. */
function quote(text: string, apiKey: string): string {
  const clean = apiKey.length >= 4 ? text.split(apiKey).join('***') : text;
  return safeExcerpt(clean);
}

/** WAHA's answer when the session is not WORKING, or not there: "Session status is not as expected...". */
const SESSION_NOT_READY = /session status|status is not as expected|restart the session|not authenticated|didn't find a session|session [^.]{0,40}not found/i;
/** The session statuses other than WORKING, as WAHA writes them. */
const SESSION_STATUS = /\b(?:STOPPED|STARTING|SCAN_QR_CODE|FAILED)\b/;
/** WhatsApp's rate limit, which WAHA passes on as a 500 (e.g. NOWEB's "rate-overlimit"). */
const RATE_LIMITED = /rate-overlimit|rate limit|too many requests/i;

function retryAfter(headers: Record<string, string>): number | undefined {
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value.trim());
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds) : undefined;
}

/** The error a failed WAHA reply means (`doing` completes "WAHA answered HTTP n while ..."). */
function failure(reply: GuardedResponse, doing: string, apiKey: string): ProviderRejected | ProviderUnavailable | GatewayFault {
  const { status } = reply;
  const json = parseJson(reply.body);
  const said = quote(wahaErrorText(json, reply.body), apiKey);
  const detail = `WAHA answered HTTP ${status} while ${doing}${said ? `: ${said}` : ''}`;
  const code = String(status);
  const text = wahaErrorText(json, reply.body);
  const sessionTrouble =
    SESSION_NOT_READY.test(text) || SESSION_STATUS.test(text) || (isRecord(json) && typeof json.status === 'string' && Array.isArray(json.expected));

  if (status === 401 || status === 403) return new GatewayFault(`${detail}. Check the gateway's apiKey (the WAHA server's WAHA_API_KEY).`, code);
  if (status === 404) return new GatewayFault(`${detail}. Check that the session exists on the WAHA server and that baseUrl is the server's address.`, code);
  if (status === 422 || (status === 400 && sessionTrouble)) {
    const hint = sessionTrouble ? ' The WAHA session is not WORKING: start it and link the WhatsApp account (scan the QR code).' : '';
    return new GatewayFault(`${detail}.${hint}`, 'session-not-working');
  }
  if (status === 429) return new ProviderThrottled(detail, 'throttled', retryAfter(reply.headers));
  if (status >= 500 && RATE_LIMITED.test(reply.body)) return new ProviderThrottled(detail, 'throttled', retryAfter(reply.headers));
  if (status === 408 || status === 425 || status >= 500) return new ProviderUnavailable(detail, code);
  if (status >= 400) return new ProviderRejected(detail, code);
  // 1xx/3xx (a redirect without Location is not followed): the URL needs fixing.
  return new GatewayFault(`${detail}. Check the gateway's baseUrl.`, code);
}

/** One call to the operator's WAHA server, under the outbound URL guard. */
async function callWaha(
  url: string,
  init: { method: 'GET' | 'POST'; body?: string },
  apiKey: string,
): Promise<GuardedResponse> {
  const headers: Record<string, string> = { accept: 'application/json', 'x-api-key': apiKey };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await guardedFetch(url, { method: init.method, headers, ...(init.body !== undefined ? { body: init.body } : {}) }, { maxRedirects: 0, timeoutMs: TIMEOUT_MS });
  } catch (error) {
    if (error instanceof OutboundUrlRefused) throw new GatewayFault(`The WAHA server's URL is refused: ${error.message}`, 'url-refused');
    if (error instanceof ProviderUnavailable && error.code === 'tls') {
      throw new GatewayFault(`${error.message}. The WAHA server needs a certificate from a public authority for its host name.`, 'tls');
    }
    throw error;
  }
}

const CheckExistsReply = z.object({ numberExists: z.boolean(), chatId: z.string().nullish() });
const PLAIN_CHAT_ID = /^[1-9]\d{5,19}@c\.us$/;

/**
 * Asks WAHA whether the number is on WhatsApp: the chat id to send to, or ProviderRejected when it
 * is not. A reply that does not say (an engine's odd shape) lets the send go ahead as usual.
 */
async function checkNumber(base: string, session: string, digits: string, apiKey: string): Promise<string | undefined> {
  const query = new URLSearchParams({ phone: digits, session });
  const reply = await callWaha(`${base}/api/contacts/check-exists?${query.toString()}`, { method: 'GET' }, apiKey);
  if (reply.status < 200 || reply.status >= 300) throw failure(reply, 'checking the number is on WhatsApp', apiKey);
  const parsed = CheckExistsReply.safeParse(parseJson(reply.body));
  if (!parsed.success) return undefined;
  if (!parsed.data.numberExists) throw new ProviderRejected(`The number +${digits} is not on WhatsApp (WAHA check-exists).`, 'not-on-whatsapp');
  const chatId = parsed.data.chatId ?? undefined;
  return chatId && PLAIN_CHAT_ID.test(chatId) ? chatId : undefined;
}

// ---- webhooks ----

/** The X-Webhook-Hmac value WAHA sends with a body: hex HMAC-SHA512 of the raw body. */
export function wahaWebhookHmac(key: string, rawBody: string): string {
  return createHmac('sha512', key).update(rawBody, 'utf8').digest('hex');
}

const HMAC_HEX = /^[0-9a-fA-F]{128}$/;

const Envelope = z.object({
  event: z.string().min(1),
  session: z.string().optional(),
  /** Milliseconds (newer WAHA versions). */
  timestamp: z.number().optional(),
  payload: z.unknown(),
});

const MessageIdValue = z.union([z.string(), z.record(z.string(), z.unknown())]);

const AckPayload = z.object({
  id: MessageIdValue,
  ack: z.number().int().nullish(),
  ackName: z.string().nullish(),
  fromMe: z.boolean().nullish(),
});

const MessagePayload = z.object({
  id: MessageIdValue,
  from: z.string().nullish(),
  fromMe: z.boolean().nullish(),
  body: z.string().nullish(),
  timestamp: z.union([z.number(), z.string()]).nullish(),
  hasMedia: z.boolean().nullish(),
  media: z.object({ mimetype: z.string().nullish() }).nullish(),
});

const ACK_NAMES: Record<string, number> = { ERROR: -1, PENDING: 0, SERVER: 1, DEVICE: 2, READ: 3, PLAYED: 4 };

const problems = (error: z.ZodError, prefix: string) =>
  error.issues.slice(0, 10).map((issue) => ({ field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'), message: issue.message }));

/** The serialized id's chat part, when it has one. */
function chatOf(id: unknown): { chat: string; participant?: string } | undefined {
  const serialized = typeof id === 'string' ? id : isRecord(id) && typeof id._serialized === 'string' ? id._serialized : undefined;
  const match = serialized ? SERIALIZED_ID.exec(serialized.trim()) : null;
  if (!match) return undefined;
  return { chat: match[2]!, ...(match[4] !== undefined ? { participant: match[4] } : {}) };
}

function ackUpdate(payload: unknown): ProviderStatusUpdate | undefined {
  const parsed = AckPayload.safeParse(payload);
  if (!parsed.success) throw invalid('The WAHA message.ack event has no valid payload.', problems(parsed.error, 'payload'));
  const ack = parsed.data;
  if (ack.fromMe === false) return undefined; // an ack of a message someone sent us
  const chat = chatOf(ack.id);
  if (chat && (chat.participant !== undefined || !/@(c\.us|s\.whatsapp\.net|lid)$/.test(chat.chat))) return undefined; // groups, broadcasts
  const providerMessageId = wahaMessageId(ack.id);
  if (!providerMessageId) throw invalid('The WAHA message.ack event has no message id.', [{ field: 'payload.id', message: 'is required' }]);
  const name = ack.ackName?.trim().toUpperCase();
  const value = ack.ack ?? (name !== undefined ? ACK_NAMES[name] : undefined);
  const providerStatus = name || (value !== undefined ? String(value) : 'UNKNOWN');
  switch (value) {
    case -1:
      return { providerMessageId, status: 'failed', providerStatus, reason: 'WhatsApp reported an error sending the message (WAHA ack ERROR)' };
    case 1:
      return { providerMessageId, status: 'sent', providerStatus };
    case 2:
      return { providerMessageId, status: 'delivered', providerStatus };
    case 3:
    case 4:
      return { providerMessageId, status: 'read', providerStatus };
    default:
      return undefined; // PENDING (0) and anything WAHA adds later
  }
}

/** A customer's number from WAHA's `from`: only plain phone chats have one. */
const PHONE_CHAT = /^([1-9]\d{5,14})@(?:c\.us|s\.whatsapp\.net)$/;

function isoFromTimestamp(value: number | string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const number = typeof value === 'number' ? value : /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(number) || number <= 0) return undefined;
  const ms = number > 1e11 ? number : number * 1000; // seconds, or milliseconds from an engine that sends them
  const date = new Date(Math.round(ms));
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function inboundText(body: string | null | undefined, hasMedia: boolean, mimetype: string | null | undefined): string {
  const text = body?.trim() ? body : '';
  if (!hasMedia) return text || '[a message without text]';
  const kind = /^(image|video|audio)\//i.exec(mimetype ?? '')?.[1]?.toLowerCase() ?? (mimetype ? 'document' : 'media');
  return text ? `[${kind}] ${text}` : `[${kind}]`;
}

function inboundMessage(payload: unknown, envelopeMs: number | undefined): ProviderInboundMessage | undefined {
  const parsed = MessagePayload.safeParse(payload);
  if (!parsed.success) throw invalid('The WAHA message event has no valid payload.', problems(parsed.error, 'payload'));
  const message = parsed.data;
  if (message.fromMe === true) return undefined; // our own messages, sent from the phone or the API
  const phone = PHONE_CHAT.exec(message.from?.trim() ?? '')?.[1];
  if (!phone) return undefined; // groups, status broadcasts, channels, hidden (@lid) ids
  const providerMessageId = wahaMessageId(message.id);
  if (!providerMessageId) throw invalid('The WAHA message event has no message id.', [{ field: 'payload.id', message: 'is required' }]);
  const at = isoFromTimestamp(message.timestamp) ?? isoFromTimestamp(envelopeMs);
  if (!at) throw invalid('The WAHA message event has no valid timestamp.', [{ field: 'payload.timestamp', message: 'must be unix seconds' }]);
  return {
    kind: 'inbound',
    providerMessageId,
    from: `+${phone}`,
    text: inboundText(message.body, message.hasMedia === true, message.media?.mimetype),
    at,
  };
}

/** Status changes and inbound messages in one WAHA webhook body, for the gateway's session. */
export function parseWahaWebhookBody(rawBody: string, session: string): Array<ProviderStatusUpdate | ProviderInboundMessage> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw invalid('The WAHA webhook body is not JSON.');
  }
  const envelope = Envelope.safeParse(json);
  if (!envelope.success) throw invalid('The WAHA webhook body is not a WAHA event ({ event, session, payload }).', problems(envelope.error, ''));
  const event = envelope.data;
  if (event.session !== undefined && event.session !== session) return []; // another session on the same server
  if (event.event === 'message.ack') {
    const update = ackUpdate(event.payload);
    return update ? [update] : [];
  }
  if (event.event === 'message') {
    const message = inboundMessage(event.payload, event.timestamp);
    return message ? [message] : [];
  }
  return [];
}

// ---- the gateway check at save time ----

/**
 * Checks the WAHA server's URL with the outbound URL guard (https, a public address, a host that
 * resolves) when a gateway is saved. Throws invalid() naming settings.baseUrl.
 */
export async function checkWahaGateway(settings: Pick<WahaSettings, 'baseUrl'>): Promise<void> {
  try {
    await checkOutboundUrl(settings.baseUrl);
  } catch (error) {
    if (error instanceof OutboundUrlRefused) {
      throw invalid(`The WAHA server's URL is refused: the URL ${error.reason}.`, [{ field: 'settings.baseUrl', message: `is refused: the URL ${error.reason}` }]);
    }
    if (error instanceof ProviderUnavailable) {
      throw invalid(`The WAHA server's URL could not be checked: ${error.message}`, [
        { field: 'settings.baseUrl', message: 'could not be checked now (its host did not resolve); try again' },
      ]);
    }
    throw error;
  }
}

// ---- the provider ----

export const wahaWhatsApp: WhatsAppProvider<WahaCredentials, WahaSettings> = {
  id: 'waha',
  channel: 'whatsapp',
  displayName: 'WAHA (self-hosted WhatsApp HTTP API bridge)',
  credentials: WahaCredentials,
  settings: WahaSettings,
  receiptWindowSeconds: WAHA_RECEIPT_WINDOW_SECONDS,

  async send(message, { credentials, settings }, _ctx) {
    const content = message.content;
    if (content.kind !== 'text') {
      throw new ProviderRejected(
        `WAHA sends free-form text only: it has no approved WhatsApp templates, so template "${safeExcerpt(content.name, 64)}" cannot be sent through it. Send the template's text instead.`,
        'template-unsupported',
      );
    }
    if (!E164.test(message.to)) {
      throw new ProviderRejected(`The number ${safeExcerpt(message.to, 24)} is not in E.164 form (+ and 7–15 digits).`, 'invalid-number');
    }
    const base = usableBaseUrl(settings.baseUrl);
    const digits = message.to.slice(1);
    const checked = settings.checkNumberExists === false ? undefined : await checkNumber(base, settings.session, digits, credentials.apiKey);
    const chatId = checked ?? `${digits}@c.us`;

    const body = JSON.stringify({ session: settings.session, chatId, text: content.text });
    const reply = await callWaha(`${base}/api/sendText`, { method: 'POST', body }, credentials.apiKey);
    if (reply.status >= 200 && reply.status < 300) {
      return { providerMessageId: sentMessageId(parseJson(reply.body)) ?? message.messageId };
    }
    throw failure(reply, 'sending the message', credentials.apiKey);
  },

  verifySignature(request: WebhookRequest, { credentials }) {
    const mac = request.headers['x-webhook-hmac']?.trim();
    if (mac !== undefined && HMAC_HEX.test(mac)) {
      const algorithm = (request.headers['x-webhook-hmac-algorithm'] ?? 'sha512').trim().toLowerCase();
      if (algorithm === 'sha512' && timingSafeEqualStrings(wahaWebhookHmac(credentials.webhookSecret, request.rawBody), mac.toLowerCase())) return true;
    }
    return verifyUrlToken(request, credentials.webhookSecret);
  },

  parseWebhook(request, { settings }) {
    return parseWahaWebhookBody(request.rawBody, settings.session);
  },
};
