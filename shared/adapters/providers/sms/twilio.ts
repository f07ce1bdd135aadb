/**
 * Twilio Programmable Messaging: the Messages API for sending and for looking a message up,
 * form-encoded status callbacks signed with X-Twilio-Signature for delivery receipts.
 *
 * Requests go to Twilio's official host only. The gateway's settings cannot change it (a tenant
 * could otherwise point the sender, and its Basic credentials, at any URL); tests and staging set
 * ISPNOTIFY_BASE_URL_TWILIO in the deployment's environment (see ../base-url.ts).
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderInboundMessage, ProviderContext, ProviderLookupQuery, ProviderLookupResult, ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { classifyHttpFailure, httpRequest, postForm, timingSafeEqualStrings, type HttpReply } from '../http.js';

/** Twilio's REST API origin. */
export const TWILIO_API_BASE_URL = 'https://api.twilio.com';
const API_VERSION = '2010-04-01';

const E164 = /^\+[1-9]\d{6,14}$/;
const ALPHANUMERIC_SENDER = /^[A-Za-z0-9 ]{1,11}$/;

export const TwilioCredentials = z.strictObject({
  accountSid: z
    .string()
    .trim()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must be a Twilio Account SID: "AC" followed by 32 hexadecimal characters'),
  authToken: z.string().trim().min(16, 'must be the Twilio Auth Token (at least 16 characters)'),
});
export type TwilioCredentials = z.infer<typeof TwilioCredentials>;

export const TwilioSettings = z
  .strictObject({
    from: z
      .string()
      .trim()
      .refine((v) => E164.test(v) || (ALPHANUMERIC_SENDER.test(v) && v.trim() !== ''), {
        message: 'must be an E.164 number such as +14155550100, or an alphanumeric sender id of 1–11 letters, digits or spaces',
      })
      .optional(),
    messagingServiceSid: z
      .string()
      .trim()
      .regex(/^MG[0-9a-fA-F]{32}$/, 'must be a Twilio Messaging Service SID: "MG" followed by 32 hexadecimal characters')
      .optional(),
    // No API base URL: requests go to Twilio's official host (see the top of this file). The
    // object is strict, so a gateway saved with "apiBaseUrl" is refused as an unknown field.
  })
  .refine((s) => (s.from === undefined) !== (s.messagingServiceSid === undefined), {
    message: 'set exactly one of "from" (a sender number or id) or "messagingServiceSid"',
  });
export type TwilioSettings = z.infer<typeof TwilioSettings>;

/** Twilio's delivery error codes that operators meet most, in words. */
const DELIVERY_ERRORS: Record<string, string> = {
  '30001': 'Queue overflow',
  '30002': 'Account suspended',
  '30003': 'Unreachable destination handset',
  '30004': 'Message blocked',
  '30005': 'Unknown destination handset',
  '30006': 'Landline or unreachable carrier',
  '30007': 'Message filtered by the carrier',
  '30008': 'Unknown error',
};

export function twilioErrorReason(code: string): string {
  return DELIVERY_ERRORS[code] ?? `Twilio error ${code}`;
}

/** Twilio's signature base: the URL, then every parameter as name+value, sorted by name (then value). */
export function twilioSignature(authToken: string, url: string, params: URLSearchParams | Record<string, string>): string {
  const pairs = params instanceof URLSearchParams ? [...params.entries()] : Object.entries(params);
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  let data = url;
  for (const [name, value] of pairs) data += name + value;
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * The URL as Twilio may have signed it: exactly as given, and with the scheme's default port
 * dropped or added (proxies and Twilio disagree on whether ":443" is part of the URL).
 */
function urlVariants(url: string): string[] {
  const variants = [url];
  try {
    const parsed = new URL(url);
    variants.push(parsed.href);
    if (parsed.port === '') {
      const port = parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : '';
      if (port) variants.push(`${parsed.protocol}//${parsed.hostname}:${port}${parsed.pathname}${parsed.search}`);
    }
  } catch {
    // Not a URL we can rewrite; the exact string is all there is.
  }
  return [...new Set(variants)];
}

interface TwilioApiError {
  code?: unknown;
  message?: unknown;
}

function apiError(json: unknown): TwilioApiError | undefined {
  return json !== null && typeof json === 'object' ? (json as TwilioApiError) : undefined;
}

/** Twilio's error code in a failed reply, when it has one, and its message (or the body) as a safe excerpt. */
export function twilioReplyError(reply: HttpReply): { code: string | undefined; quoted: string } {
  const error = apiError(reply.json);
  const code = typeof error?.code === 'number' || (typeof error?.code === 'string' && error.code !== '') ? String(error.code) : undefined;
  const quoted = safeExcerpt(typeof error?.message === 'string' && error.message !== '' ? error.message : reply.text);
  return { code, quoted };
}

/** The error a failed Twilio reply means: ProviderRejected (permanent) or ProviderUnavailable (retry later). */
export function twilioFailure(reply: HttpReply): ProviderRejected | ProviderUnavailable {
  const { code, quoted } = twilioReplyError(reply);
  const said = quoted ? `: ${quoted}` : '';
  if (reply.status === 401) {
    // Nothing is wrong with the message: the gateway cannot send at all until its credentials are fixed.
    return new GatewayFault(
      `Twilio rejected the gateway's credentials${code ? ` (error ${code}${said})` : ''}; check the Account SID and Auth Token.`,
      code,
    );
  }
  const detail = code ? `Twilio error ${code}${said}` : `Twilio answered HTTP ${reply.status}${said}`;
  return classifyHttpFailure(reply.status, detail, code);
}

const authorization = (credentials: TwilioCredentials) =>
  `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`, 'utf8').toString('base64')}`;

/** The Messages list path of the gateway's account: /2010-04-01/Accounts/AC…/Messages.json. */
const messagesPath = (credentials: TwilioCredentials) => `/${API_VERSION}/Accounts/${encodeURIComponent(credentials.accountSid)}/Messages.json`;

/** Twilio's official API host, or the deployment's ISPNOTIFY_BASE_URL_TWILIO (tests, staging). */
const apiBaseUrl = () => providerBaseUrl('twilio', TWILIO_API_BASE_URL);

function getJson(ctx: ProviderContext, url: string, credentials: TwilioCredentials): Promise<HttpReply> {
  return httpRequest(ctx, url, { method: 'GET', headers: { accept: 'application/json' } }, { provider: 'Twilio', headers: { authorization: authorization(credentials) } });
}

/**
 * Our status for a Twilio message status, the same for status callbacks and lookups; undefined
 * for the statuses we do not record (accepted, scheduled, queued, sending, receiving, received,
 * partially_delivered, and any status Twilio adds later).
 */
export function twilioStatusUpdate(
  sid: string,
  rawStatus: string,
  errorCode: string | undefined,
  reasonFor: (code: string) => string = twilioErrorReason,
): ProviderStatusUpdate | undefined {
  const status = rawStatus.toLowerCase();
  const providerStatus = errorCode ? `${status}/${errorCode}` : status;
  switch (status) {
    case 'sent':
    case 'delivered':
    case 'read':
      return { providerMessageId: sid, status, providerStatus };
    case 'failed':
    case 'undelivered':
      return { providerMessageId: sid, status: 'failed', providerStatus, reason: errorCode ? reasonFor(errorCode) : `Twilio reported the message ${status}` };
    case 'canceled':
      return { providerMessageId: sid, status: 'failed', providerStatus, reason: errorCode ? reasonFor(errorCode) : 'Canceled before sending' };
    default:
      return undefined;
  }
}

// ---- lookup (reconciliation) ----

/**
 * How long after `sent` a status callback normally arrives. Twilio posts "sent" within seconds and
 * "delivered"/"undelivered" when the carrier's receipt comes, usually within minutes; some carriers
 * hold receipts longer, and Twilio retries a callback our endpoint failed to take. An hour covers
 * all of that with room to spare, so the reconciler only asks about receipts that are really lost.
 */
export const TWILIO_RECEIPT_WINDOW_SECONDS = 3600;

/**
 * "Not found" is only an answer once the send started this long ago. Twilio does not promise that
 * its message list is read-your-writes, and users have reported messages missing from it for
 * minutes after they were created (twilio/twilio-java#442, though that one filtered on DateSent,
 * which a queued message lacks; twilio/twilio-node#647, inbound messages). Until then the lookup
 * throws ProviderUnavailable ('lookup-too-early') and is asked again later: resending a little
 * late is better than sending a subscriber the same text twice. Five minutes keeps within the
 * sender's retry budget (send-sms: 5 receives, 180 s apart), where the first lookup after a
 * crash comes about three minutes after the claim.
 */
export const TWILIO_LIST_SETTLE_SECONDS = 300;

/** Our clock and Twilio's may disagree; a message created up to this much before the claim may be ours. */
const CLOCK_SKEW_MS = 60_000;
/** Twilio allows up to 1,000; the default is 50. */
const LIST_PAGE_SIZE = 100;
/** At most this many pages (500 messages to one number) are read before the lookup gives up for now. */
const LIST_MAX_PAGES = 5;

const TwilioMessageJson = z.object({
  sid: z.string().min(1),
  status: z.string(),
  to: z.string().nullish(),
  from: z.string().nullish(),
  body: z.string().nullish(),
  direction: z.string().nullish(),
  messaging_service_sid: z.string().nullish(),
  error_code: z.union([z.number(), z.string()]).nullish(),
  /** RFC 2822, e.g. "Mon, 13 Aug 2018 23:08:35 +0000". */
  date_created: z.string().nullish(),
  date_sent: z.string().nullish(),
});
type TwilioMessageJson = z.infer<typeof TwilioMessageJson>;

const TwilioMessagePage = z.object({
  messages: z.array(TwilioMessageJson),
  next_page_uri: z.string().nullish(),
});

const errorCodeOf = (m: TwilioMessageJson) => (m.error_code === null || m.error_code === undefined || m.error_code === '' ? undefined : String(m.error_code));

function foundResult(m: TwilioMessageJson, reasonFor?: (code: string) => string): ProviderLookupResult {
  const status = twilioStatusUpdate(m.sid, m.status, errorCodeOf(m), reasonFor);
  return status ? { found: true, providerMessageId: m.sid, status } : { found: true, providerMessageId: m.sid };
}

function unexpectedReply(reply: HttpReply, what: string): ProviderUnavailable {
  return new ProviderUnavailable(`Twilio answered HTTP ${reply.status} without ${what}${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
}

/**
 * The text as Twilio may show it back: line endings, the "smart" punctuation a Messaging Service
 * with Smart Encoding turns into GSM characters, and surrounding whitespace do not count.
 */
function comparableBody(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[\u2018\u2019\u201A\u201B\u2032]/g, "'")
    .replace(/[\u201C\u201D\u201E\u201F\u2033]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/\u2026/g, '...')
    .replace(/[\u00A0\u2000-\u200A\u202F\u205F\u3000]/g, ' ')
    .trim();
}

/** Twilio's body is ours, or ours followed by text Twilio appended (opt-out language of a Messaging Service). */
function sameBody(theirs: string, ours: string): boolean {
  const body = comparableBody(theirs);
  return body === ours || (body.startsWith(ours) && /^\s/.test(body.slice(ours.length)));
}

const twilioTime = (value: string | null | undefined): number | undefined => {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
};

/** The next page Twilio pointed at, on our own base URL and list path: only its query string is taken. */
function nextPageUrl(base: string, listPath: string, nextPageUri: string): string {
  let next: URL;
  try {
    next = new URL(nextPageUri, 'https://api.twilio.com');
  } catch {
    throw new ProviderUnavailable(`Twilio answered a next_page_uri that is not a URL: ${safeExcerpt(nextPageUri)}`);
  }
  if (next.pathname !== listPath) {
    throw new ProviderUnavailable(`Twilio answered a next_page_uri outside the account's message list: ${safeExcerpt(next.pathname)}`);
  }
  return `${base}${listPath}${next.search}`;
}

/**
 * Fetches one message by its sid; 404 means Twilio has no such message (deleted, or another
 * account). `reasonFor` puts a failed message's error code in words (the WhatsApp adapter knows
 * more codes than SMS's).
 */
export async function twilioLookupBySid(
  sid: string,
  credentials: TwilioCredentials,
  ctx: ProviderContext,
  reasonFor?: (code: string) => string,
): Promise<ProviderLookupResult> {
  const listPath = messagesPath(credentials);
  const url = `${apiBaseUrl()}${listPath.replace(/\.json$/, '')}/${encodeURIComponent(sid)}.json`;
  const reply = await getJson(ctx, url, credentials);
  // Twilio no longer has (or never had, in this account) a message with that sid.
  if (reply.status === 404) return { found: false };
  if (reply.status !== 200) throw twilioFailure(reply);
  const message = TwilioMessageJson.safeParse(reply.json);
  if (!message.success) throw unexpectedReply(reply, 'a message resource');
  return foundResult(message.data, reasonFor);
}

/**
 * Finds the message a send that lost its reply may have created. Twilio's Messages have no field
 * for a reference of ours, and its list filters are To, From and DateSent (a date, and only for
 * messages already sent: a queued one has no date_sent), newest DateSent first. So: list the
 * messages to that number (and from the gateway's sender when it has a fixed one), PageSize 100,
 * and match outbound messages with our text created since the claim (less a minute of clock
 * skew). Every page is read (up to 5), because where Twilio puts messages without a date_sent in
 * that order is not documented; an ISP's subscriber rarely has more than one page.
 *
 * More than one match: the same text went to the same number twice since our claim (a duplicate
 * request, or an operator sending it again). Throwing would make the reconciler ask forever and
 * "not found" could send it a third time, so we answer found with the oldest match: our send
 * started at the claim, so the first identical message Twilio created after it is the one most
 * likely ours, and either way the subscriber has the text. (Past the page limit, the oldest seen.)
 */
async function lookupByContent(
  query: ProviderLookupQuery,
  credentials: TwilioCredentials,
  settings: TwilioSettings,
  ctx: ProviderContext,
): Promise<ProviderLookupResult> {
  const sentAfter = Date.parse(query.sentAfter);
  if (Number.isNaN(sentAfter)) throw new Error(`Twilio lookup: sentAfter is not a timestamp (${JSON.stringify(query.sentAfter)}).`);
  const cutoff = sentAfter - CLOCK_SKEW_MS;
  const ours = comparableBody(query.text);
  const base = apiBaseUrl();
  const listPath = messagesPath(credentials);
  const params = new URLSearchParams({ To: query.to, PageSize: String(LIST_PAGE_SIZE) });
  if (settings.from) params.set('From', settings.from);

  let url = `${base}${listPath}?${params}`;
  let best: { message: TwilioMessageJson; created: number } | undefined;
  let unreadable = 0;
  for (let page = 1; ; page++) {
    const reply = await getJson(ctx, url, credentials);
    if (reply.status !== 200) throw twilioFailure(reply);
    const parsed = TwilioMessagePage.safeParse(reply.json);
    if (!parsed.success) throw unexpectedReply(reply, 'a message list');

    for (const message of parsed.data.messages) {
      if (message.direction?.startsWith('inbound')) continue;
      if (message.to !== query.to) continue;
      if (settings.messagingServiceSid && message.messaging_service_sid && message.messaging_service_sid !== settings.messagingServiceSid) continue;
      const created = twilioTime(message.date_created);
      if (created === undefined || created < cutoff) continue;
      if (!message.body) {
        // Body redaction (an account setting) hides the text: this one may be ours.
        unreadable += 1;
        continue;
      }
      if (!sameBody(message.body, ours)) continue;
      if (!best || created < best.created) best = { message, created };
    }

    const next = parsed.data.next_page_uri;
    if (!next) break;
    if (page >= LIST_MAX_PAGES) {
      if (best) break;
      throw new ProviderUnavailable(
        `Twilio lists more than ${LIST_MAX_PAGES * LIST_PAGE_SIZE} messages to this number; cannot rule out that it has this one.`,
        'lookup-inconclusive',
      );
    }
    url = nextPageUrl(base, listPath, next);
  }

  if (best) return foundResult(best.message);
  if (unreadable > 0) {
    throw new ProviderUnavailable(
      `Twilio shows ${unreadable} message(s) to this number since the send without their text (body redaction?); cannot rule out that one is this one.`,
      'lookup-inconclusive',
    );
  }
  const age = ctx.clock.now().getTime() - sentAfter;
  if (age < TWILIO_LIST_SETTLE_SECONDS * 1000) {
    throw new ProviderUnavailable(
      `Twilio does not list the message, but the send started less than ${TWILIO_LIST_SETTLE_SECONDS / 60} minutes ago and its list may lag behind; ask again later.`,
      'lookup-too-early',
    );
  }
  return { found: false };
}

/**
 * POSTs a message to the account's Messages list (To, From or MessagingServiceSid, Body or
 * ContentSid, StatusCallback: whatever `params` holds) and returns its sid. A failed reply throws
 * `failureOf(reply)`: by default the SMS meaning of Twilio's error (see twilioFailure).
 */
export async function postTwilioMessage(
  ctx: ProviderContext,
  credentials: TwilioCredentials,
  params: URLSearchParams,
  failureOf: (reply: HttpReply) => Error = twilioFailure,
): Promise<{ providerMessageId: string }> {
  const url = `${apiBaseUrl()}${messagesPath(credentials)}`;
  const reply = await postForm(ctx, url, params, { provider: 'Twilio', headers: { authorization: authorization(credentials) } });

  if (reply.status === 200 || reply.status === 201) {
    const sid = (apiError(reply.json) as { sid?: unknown } | undefined)?.sid;
    if (typeof sid === 'string' && sid !== '') return { providerMessageId: sid };
    throw unexpectedReply(reply, 'a message sid');
  }
  throw failureOf(reply);
}

/**
 * Whether a webhook carries a valid X-Twilio-Signature for the gateway's Auth Token: over the URL
 * as given or with the default port written out or dropped (see urlVariants), then the form body.
 */
export function verifyTwilioSignature(request: WebhookRequest, authToken: string): boolean {
  const header = request.headers['x-twilio-signature'];
  if (!header) return false;
  const params = new URLSearchParams(request.rawBody);
  return urlVariants(request.url).some((url) => timingSafeEqualStrings(twilioSignature(authToken, url, params), header));
}

export const twilioSms: SmsProvider<TwilioCredentials, TwilioSettings> = {
  id: 'twilio',
  channel: 'sms',
  displayName: 'Twilio',
  credentials: TwilioCredentials,
  settings: TwilioSettings,
  receiptWindowSeconds: TWILIO_RECEIPT_WINDOW_SECONDS,
  // StatusCallback is per message, and X-Twilio-Signature covers the whole URL (our ?m= included).
  callbackPerMessage: true,

  async send(message, { credentials, settings }, ctx) {
    const params = new URLSearchParams({ To: message.to, Body: message.text });
    if (settings.messagingServiceSid) params.set('MessagingServiceSid', settings.messagingServiceSid);
    else if (settings.from) params.set('From', settings.from);
    if (message.statusCallbackUrl) params.set('StatusCallback', message.statusCallbackUrl);
    return postTwilioMessage(ctx, credentials, params);
  },

  /**
   * With a sid (a message recorded as sent whose receipt never came): fetches that message, 404
   * meaning Twilio has no such message (deleted, or another account). Without one (the send's
   * reply was lost): searches the account's messages, see lookupByContent.
   */
  async lookup(query, { credentials, settings }, ctx) {
    return query.providerMessageId
      ? twilioLookupBySid(query.providerMessageId, credentials, ctx)
      : lookupByContent(query, credentials, settings, ctx);
  },

  verifySignature(request, { credentials }) {
    return verifyTwilioSignature(request, credentials.authToken);
  },

  parseInbound(request: WebhookRequest): ProviderInboundMessage[] {
    const params = new URLSearchParams(request.rawBody);
    const sid = params.get('MessageSid') ?? params.get('SmsSid');
    const from = params.get('From');
    // A customer's SMS to the number (its "A message comes in" webhook): no MessageStatus, SmsStatus "received".
    if (!sid || params.get('MessageStatus') || (params.get('SmsStatus') ?? '').toLowerCase() !== 'received' || !from || !/^\+[1-9]\d{6,14}$/.test(from)) return [];
    // Twilio's inbound webhook carries no timestamp: it is posted as the SMS arrives.
    return [{ kind: 'inbound', providerMessageId: sid, from, text: params.get('Body') ?? '', at: new Date().toISOString() }];
  },

  parseWebhook(request: WebhookRequest): ProviderStatusUpdate[] {
    const params = new URLSearchParams(request.rawBody);
    const sid = params.get('MessageSid') ?? params.get('SmsSid');
    if (!sid) throw invalid('Twilio status callback has no MessageSid.', [{ field: 'MessageSid', message: 'is required' }]);
    const status = (params.get('MessageStatus') ?? params.get('SmsStatus') ?? '').toLowerCase();
    // An inbound SMS is read by parseInbound, not as a status.
    if (!params.get('MessageStatus') && status === 'received') return [];
    if (!status) throw invalid('Twilio status callback has no MessageStatus.', [{ field: 'MessageStatus', message: 'is required' }]);
    const update = twilioStatusUpdate(sid, status, params.get('ErrorCode') || undefined);
    return update ? [update] : [];
  },
};
