/**
 * A local stand-in for Twilio's Messages API, for tests. It checks HTTP Basic auth, validates the
 * form like Twilio does, knows a few of Twilio's magic test numbers, can be told to fail, and
 * posts signed status callbacks (sent, then delivered or undelivered) like the real service.
 *
 * It keeps every message it accepted (and any a test adds) and serves them back like Twilio:
 * GET .../Messages/{Sid}.json fetches one, GET .../Messages.json lists them newest first, filtered
 * by To, From and DateSent, paged with PageSize and Page (next_page_uri and friends).
 *
 * WhatsApp: a To of "whatsapp:+…" is a WhatsApp message. It needs a WhatsApp From (one of
 * `whatsappSenders` when given, else 63007) or a MessagingServiceSid, and either a Body or a
 * ContentSid of one of `contentTemplates` (else 21655) with ContentVariables as a JSON object of
 * non-empty strings (else 21656). Its lifecycle is sent, delivered, read; it fails instead with
 * the WhatsApp error code a number ends in (see WHATSAPP_FAILURES), and with 63028 when the
 * ContentVariables do not fill the template's placeholders, as Twilio reports them: in a status
 * callback. `signedTwilioWebhook` and `whatsappInboundParams` build an inbound message as Twilio
 * posts it to a sender's webhook.
 *
 * The callback signature is computed here independently of the adapter, so a test that verifies
 * it with the adapter checks the two implementations against each other.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { measureSms } from '../../shared/domain/segments.js';
import type { WebhookRequest } from '../../shared/ports.js';
import { listenOnLoopback } from './net.js';

export interface FakeTwilioOptions {
  accountSid: string;
  authToken: string;
  /** Wait before each status callback. Default 20 ms. */
  callbackDelayMs?: number;
  /** More numbers answered like +15005550001 (21211, not a valid number): ones ispnotify itself lets through. */
  invalidNumbers?: string[];
  /** The account's WhatsApp senders (E.164). Absent: any "whatsapp:+…" From is one. */
  whatsappSenders?: string[];
  /** The account's Content Templates: Content SID → its text, with {{1}}, {{2}}… placeholders. */
  contentTemplates?: Record<string, string>;
}

export interface RecordedRequest {
  method: string;
  /** The request target: path and query string. */
  path: string;
  /** The query string's parameters. */
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  form: Record<string, string>;
  /** Decoded Basic credentials, when the request had them. */
  basicAuth?: { username: string; password: string };
  /** What the fake answered. */
  replyStatus: number;
}

export interface SentCallback {
  url: string;
  params: Record<string, string>;
  signature: string;
  /** The receiver's HTTP status, or the network error. */
  result: number | string;
}

/** A message as the fake keeps it. */
export interface FakeTwilioMessage {
  sid: string;
  direction: 'outbound-api' | 'inbound';
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  /** null when the account redacts message bodies. */
  body: string | null;
  status: string;
  errorCode: number | null;
  dateCreated: Date;
  /** null until Twilio hands the message to the carrier. */
  dateSent: Date | null;
  dateUpdated: Date;
}

/** A message for a test to put in the account's history, as if sent earlier. */
export interface FakeTwilioMessageInput {
  to: string;
  body: string | null;
  from?: string | null;
  messagingServiceSid?: string | null;
  direction?: 'outbound-api' | 'inbound';
  /** Default "delivered". */
  status?: string;
  errorCode?: number | null;
  /** Default now. */
  dateCreated?: Date;
  /** Default: a second after dateCreated when the status is past "sending", else null. */
  dateSent?: Date | null;
}

export interface FakeTwilio {
  baseUrl: string;
  requests: RecordedRequest[];
  callbacks: SentCallback[];
  /** Every message in the account, in the order they were created or added. */
  messages: FakeTwilioMessage[];
  /** Puts a message in the account's history (no callbacks, no status changes). */
  addMessage(input: FakeTwilioMessageInput): FakeTwilioMessage;
  /** The next n API requests answer `status` (503 by default, 500 or 429) with Twilio-style error JSON. */
  failNext(n: number, status?: 503 | 429 | 500): void;
  /** The next n API requests answer this HTTP status with this Twilio error code and message. */
  failNextWith(n: number, status: number, code: number, message: string): void;
  /** Resolves when every status callback started so far has been answered. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const API_VERSION = '2010-04-01';

function twilioError(res: ServerResponse, status: number, code: number, message: string): number {
  const body = JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(body);
  return status;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Twilio's request signature, written independently of shared/adapters/providers/sms/twilio.ts. */
function sign(authToken: string, url: string, params: Record<string, string>): string {
  const names = Object.keys(params).sort();
  const base = names.reduce((acc, name) => acc + name + params[name], url);
  return createHmac('sha1', authToken).update(base).digest('base64');
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Twilio's JSON dates are RFC 2822: "Mon, 13 Aug 2018 23:08:35 +0000". */
const rfc2822 = (date: Date | null) => (date ? date.toUTCString().replace('GMT', '+0000') : null);

/** Statuses a message has once Twilio has handed it to the carrier. */
const HANDED_OVER = new Set(['sent', 'delivered', 'undelivered', 'read', 'failed', 'partially_delivered']);

/**
 * WhatsApp numbers ending in one of these codes (+8801711063024) are accepted, then fail with it in
 * a status callback, as WhatsApp reports them. 63016 (outside the 24-hour window) fails free-form
 * text only: a template reaches the customer.
 */
export const WHATSAPP_FAILURES = [63003, 63024, 63032, 63049] as const;

function whatsappFailure(number: string): number | undefined {
  return WHATSAPP_FAILURES.find((code) => number.endsWith(String(code)));
}

/** An inbound WhatsApp message as Twilio posts it to the sender's webhook (form parameters). */
export function whatsappInboundParams(input: {
  accountSid: string;
  /** The customer, E.164. */
  from: string;
  /** Our WhatsApp sender, E.164. */
  to: string;
  body: string;
  messageSid?: string;
  profileName?: string;
  /** Media: [content type, URL] pairs. */
  media?: [string, string][];
  messageType?: string;
  button?: { text: string; payload: string };
}): Record<string, string> {
  const sid = input.messageSid ?? `SM${hex(16)}`;
  const media = input.media ?? [];
  const params: Record<string, string> = {
    SmsMessageSid: sid,
    NumMedia: String(media.length),
    ProfileName: input.profileName ?? 'Rahim Uddin',
    MessageType: input.messageType ?? (media.length > 0 ? (media[0]![0].split('/')[0] ?? 'document') : input.button ? 'button' : 'text'),
    SmsSid: sid,
    WaId: input.from.slice(1),
    SmsStatus: 'received',
    Body: input.body,
    To: `whatsapp:${input.to}`,
    NumSegments: '1',
    ReferralNumMedia: '0',
    MessageSid: sid,
    AccountSid: input.accountSid,
    From: `whatsapp:${input.from}`,
    ApiVersion: API_VERSION,
  };
  media.forEach(([type, url], i) => {
    params[`MediaContentType${i}`] = type;
    params[`MediaUrl${i}`] = url;
  });
  if (input.button) {
    params.ButtonText = input.button.text;
    params.ButtonPayload = input.button.payload;
  }
  return params;
}

/** A form POST to `url` as Twilio sends it, signed with X-Twilio-Signature (computed here, not by the adapter). */
export function signedTwilioWebhook(authToken: string, url: string, params: Record<string, string>): WebhookRequest {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'TwilioProxy/1.1', 'x-twilio-signature': sign(authToken, url, params) },
    rawBody: new URLSearchParams(params).toString(),
  };
}

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

export async function startFakeTwilio(opts: FakeTwilioOptions): Promise<FakeTwilio> {
  const callbackDelayMs = opts.callbackDelayMs ?? 20;
  const requests: RecordedRequest[] = [];
  const callbacks: SentCallback[] = [];
  const messages: FakeTwilioMessage[] = [];
  const pending = new Set<Promise<void>>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  let failures: { remaining: number; status: number; code?: number; message?: string } = { remaining: 0, status: 503 };
  let closed = false;

  /** Resolves after ms, or at once when the fake closes (the caller then checks `closed`). */
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.set(timer, resolve);
    });

  async function postCallback(url: string, params: Record<string, string>): Promise<void> {
    const signature = sign(opts.authToken, url, params);
    const record: SentCallback = { url, params, signature, result: 'pending' };
    callbacks.push(record);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature, 'user-agent': 'TwilioProxy/1.1' },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(5_000),
      });
      await res.arrayBuffer();
      record.result = res.status;
    } catch (error) {
      record.result = error instanceof Error ? error.message : String(error);
    }
  }

  function advance(message: FakeTwilioMessage, status: string, errorCode: number | null = null) {
    const now = new Date();
    message.status = status;
    message.errorCode = errorCode;
    message.dateUpdated = now;
    if (status === 'sent') message.dateSent = now;
  }

  /**
   * What happens to an accepted message: after callbackDelayMs it is sent, after another it is
   * delivered (or undelivered with 30003 for numbers ending 0003); each change is posted to the
   * StatusCallback when there is one.
   */
  function scheduleLifecycle(message: FakeTwilioMessage, callbackUrl: string | undefined) {
    const common = callbackParams(message);
    const undelivered = message.to.endsWith('0003');
    const run = (async () => {
      await wait(callbackDelayMs);
      if (closed) return;
      advance(message, 'sent');
      if (callbackUrl) await postCallback(callbackUrl, { ...common, MessageStatus: 'sent', SmsStatus: 'sent' });
      await wait(callbackDelayMs);
      if (closed) return;
      advance(message, undelivered ? 'undelivered' : 'delivered', undelivered ? 30003 : null);
      if (callbackUrl) {
        await postCallback(
          callbackUrl,
          undelivered
            ? { ...common, MessageStatus: 'undelivered', SmsStatus: 'undelivered', ErrorCode: '30003' }
            : { ...common, MessageStatus: 'delivered', SmsStatus: 'delivered' },
        );
      }
    })();
    pending.add(run);
    void run.finally(() => pending.delete(run));
  }

  /** The parameters every status callback of a message carries. */
  function callbackParams(message: FakeTwilioMessage): Record<string, string> {
    return {
      AccountSid: opts.accountSid,
      ApiVersion: API_VERSION,
      MessageSid: message.sid,
      SmsSid: message.sid,
      To: message.to,
      ...(message.from ? { From: message.from } : {}),
      ...(message.messagingServiceSid ? { MessagingServiceSid: message.messagingServiceSid } : {}),
    };
  }

  /**
   * A WhatsApp message's lifecycle: sent, delivered, read, each callbackDelayMs apart; or, with
   * `failWith`, failed with that error code (WhatsApp refused it, nothing was sent).
   */
  function scheduleWhatsAppLifecycle(message: FakeTwilioMessage, callbackUrl: string | undefined, failWith: number | undefined) {
    const common = callbackParams(message);
    const steps: { status: string; errorCode: number | null }[] =
      failWith === undefined
        ? [
            { status: 'sent', errorCode: null },
            { status: 'delivered', errorCode: null },
            { status: 'read', errorCode: null },
          ]
        : [{ status: 'failed', errorCode: failWith }];
    const run = (async () => {
      for (const step of steps) {
        await wait(callbackDelayMs);
        if (closed) return;
        advance(message, step.status, step.errorCode);
        if (callbackUrl) {
          await postCallback(callbackUrl, {
            ...common,
            MessageStatus: step.status,
            SmsStatus: step.status,
            ...(step.errorCode !== null ? { ErrorCode: String(step.errorCode) } : {}),
          });
        }
      }
    })();
    pending.add(run);
    void run.finally(() => pending.delete(run));
  }

  /** Creates an outbound message, answers 201 with it and starts its lifecycle. */
  function accept(res: ServerResponse, form: Record<string, string>, to: string, body: string, lifecycle: (m: FakeTwilioMessage) => void): number {
    const now = new Date();
    const message: FakeTwilioMessage = {
      sid: `SM${hex(16)}`,
      direction: 'outbound-api',
      to,
      from: form.From ?? null,
      messagingServiceSid: form.MessagingServiceSid ?? null,
      body,
      status: 'queued',
      errorCode: null,
      dateCreated: now,
      dateSent: null,
      dateUpdated: now,
    };
    messages.push(message);
    const status = json(res, 201, resource(message));
    lifecycle(message);
    return status;
  }

  /** POST of a WhatsApp message (To "whatsapp:+…"), validated like Twilio does. */
  function sendWhatsApp(res: ServerResponse, form: Record<string, string>, to: string): number {
    const number = to.slice('whatsapp:'.length);
    if (!/^\+[1-9]\d{6,14}$/.test(number)) return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (form.From !== undefined) {
      const sender = form.From.startsWith('whatsapp:') ? form.From.slice('whatsapp:'.length) : undefined;
      if (!sender || (opts.whatsappSenders && !opts.whatsappSenders.includes(sender))) {
        return twilioError(res, 400, 63007, `Twilio could not find a Channel with the specified From address: ${form.From}`);
      }
    }
    if (form.ContentVariables !== undefined && !form.ContentSid) return twilioError(res, 400, 21654, 'ContentSid Required');
    if (!form.ContentSid) {
      if (!form.Body) return twilioError(res, 400, 21602, 'Message body is required.');
      const outsideWindow = number.endsWith('63016');
      return accept(res, form, to, form.Body, (m) => scheduleWhatsAppLifecycle(m, form.StatusCallback || undefined, outsideWindow ? 63016 : whatsappFailure(number)));
    }

    const template = /^HX[0-9a-fA-F]{32}$/.test(form.ContentSid) ? opts.contentTemplates?.[form.ContentSid] : undefined;
    if (template === undefined) return twilioError(res, 400, 21655, 'The ContentSid is Invalid');
    let variables: Record<string, unknown> = {};
    if (form.ContentVariables !== undefined) {
      try {
        variables = JSON.parse(form.ContentVariables) as Record<string, unknown>;
      } catch {
        return twilioError(res, 400, 21656, 'The ContentVariables Parameter is invalid');
      }
      const valid =
        variables !== null && typeof variables === 'object' && !Array.isArray(variables) && Object.values(variables).every((v) => typeof v === 'string' && v !== '');
      if (!valid) return twilioError(res, 400, 21656, 'The ContentVariables Parameter is invalid');
    }
    const placeholders = new Set([...template.matchAll(/\{\{(\d+)\}\}/g)].map((m) => m[1]!));
    const given = Object.keys(variables);
    const matches = given.length === placeholders.size && given.every((k) => placeholders.has(k));
    const body = template.replace(/\{\{(\d+)\}\}/g, (whole, n: string) => (typeof variables[n] === 'string' ? (variables[n] as string) : whole));
    return accept(res, form, to, body, (m) => scheduleWhatsAppLifecycle(m, form.StatusCallback || undefined, matches ? whatsappFailure(number) : 63028));
  }

  const messageUri = (sid: string) => `/${API_VERSION}/Accounts/${opts.accountSid}/Messages/${sid}.json`;

  /** A message in Twilio's JSON shape. */
  function resource(m: FakeTwilioMessage) {
    const uri = messageUri(m.sid);
    return {
      account_sid: opts.accountSid,
      api_version: API_VERSION,
      body: m.body,
      date_created: rfc2822(m.dateCreated),
      date_sent: rfc2822(m.dateSent),
      date_updated: rfc2822(m.dateUpdated),
      direction: m.direction,
      error_code: m.errorCode,
      error_message: null,
      from: m.from,
      messaging_service_sid: m.messagingServiceSid,
      num_media: '0',
      num_segments: String(m.body ? measureSms(m.body).segments : 1),
      price: null,
      price_unit: 'USD',
      sid: m.sid,
      status: m.status,
      subresource_uris: { media: uri.replace('.json', '/Media.json') },
      to: m.to,
      uri,
    };
  }

  function json(res: ServerResponse, status: number, body: unknown): number {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
    return status;
  }

  /** The day of a date, YYYY-MM-DD in GMT, as DateSent filters compare it. */
  const day = (date: Date) => date.toISOString().slice(0, 10);

  /** GET .../Messages.json: newest first (by date_sent, unsent messages by date_created), filtered and paged. */
  function list(res: ServerResponse, path: string, query: URLSearchParams): number {
    const pageSizeText = query.get('PageSize');
    const pageSize = pageSizeText === null ? DEFAULT_PAGE_SIZE : Number(pageSizeText);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      return twilioError(res, 400, 20001, `PageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    }
    const page = Number(query.get('Page') ?? '0');
    if (!Number.isInteger(page) || page < 0) return twilioError(res, 400, 20001, 'Page must be a non-negative integer');

    const to = query.get('To');
    const from = query.get('From');
    const sentOn = query.get('DateSent');
    const sentOnOrBefore = query.get('DateSent<');
    const sentOnOrAfter = query.get('DateSent>');
    const matching = messages
      .map((m, index) => ({ m, index }))
      .filter(({ m }) => (to === null || m.to === to) && (from === null || m.from === from))
      .filter(({ m }) => {
        if (sentOn === null && sentOnOrBefore === null && sentOnOrAfter === null) return true;
        if (!m.dateSent) return false;
        const sent = day(m.dateSent);
        return (sentOn === null || sent === sentOn) && (sentOnOrBefore === null || sent <= sentOnOrBefore) && (sentOnOrAfter === null || sent >= sentOnOrAfter);
      })
      .sort((a, b) => {
        const at = (a.m.dateSent ?? a.m.dateCreated).getTime();
        const bt = (b.m.dateSent ?? b.m.dateCreated).getTime();
        return bt - at || b.index - a.index;
      })
      .map(({ m }) => m);

    const start = page * pageSize;
    const items = matching.slice(start, start + pageSize);
    const pageUri = (n: number, token?: string) => {
      const params = new URLSearchParams();
      for (const [name, value] of query) if (name !== 'Page' && name !== 'PageToken' && name !== 'PageSize') params.append(name, value);
      params.set('PageSize', String(pageSize));
      params.set('Page', String(n));
      if (token) params.set('PageToken', token);
      return `${path}?${params}`;
    };
    const hasNext = start + pageSize < matching.length;
    return json(res, 200, {
      end: items.length > 0 ? start + items.length - 1 : start,
      first_page_uri: pageUri(0),
      messages: items.map(resource),
      next_page_uri: hasNext ? pageUri(page + 1, `PA${items.at(-1)!.sid}`) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 ? pageUri(page - 1, `PB${items[0]?.sid ?? ''}`) : null,
      start,
      uri: pageUri(page, query.get('PageToken') ?? undefined),
    });
  }

  function handle(req: IncomingMessage, res: ServerResponse, rawBody: string): number {
    const form = Object.fromEntries(new URLSearchParams(rawBody));
    const auth = parseBasic(req.headers.authorization);
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      if (failures.code !== undefined) return twilioError(res, failures.status, failures.code, failures.message ?? '');
      return failures.status === 429
        ? twilioError(res, 429, 20429, 'Too Many Requests')
        : twilioError(res, failures.status, 20500, 'Internal Server Error: the service is temporarily unavailable');
    }
    if (!auth || auth.username !== opts.accountSid || auth.password !== opts.authToken) {
      return twilioError(res, 401, 20003, 'Authenticate');
    }
    const target = new URL(req.url ?? '/', 'http://fake');
    const path = target.pathname;
    const one = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/]+)\.json$/.exec(path);
    if (one && one[1] === opts.accountSid) {
      if (req.method !== 'GET') return twilioError(res, 405, 20004, 'Method not allowed');
      const message = messages.find((m) => m.sid === one[2]);
      return message ? json(res, 200, resource(message)) : twilioError(res, 404, 20404, `The requested resource ${path} was not found`);
    }
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    if (!match || match[1] !== opts.accountSid) {
      return twilioError(res, 404, 20404, `The requested resource ${path} was not found`);
    }
    if (req.method === 'GET') return list(res, path, target.searchParams);
    if (req.method !== 'POST') return twilioError(res, 405, 20004, 'Method not allowed');

    const to = form.To;
    if (!to) return twilioError(res, 400, 21604, "A 'To' phone number is required.");
    if (!form.From && !form.MessagingServiceSid) return twilioError(res, 400, 21603, "A 'From' phone number is required.");
    if (to.startsWith('whatsapp:')) return sendWhatsApp(res, form, to);
    if (!form.Body) return twilioError(res, 400, 21602, 'Message body is required.');
    if (to === '+15005550001' || opts.invalidNumbers?.includes(to)) return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (to === '+15005550004') return twilioError(res, 400, 21610, 'Attempt to send to unsubscribed recipient');
    if (to === '+15005550009') return twilioError(res, 400, 21614, `'To' number ${to} is not a valid mobile number`);

    return accept(res, form, to, form.Body, (m) => scheduleLifecycle(m, form.StatusCallback || undefined));
  }

  const server = createServer((req, res) => {
    readBody(req).then(
      (rawBody) => {
        const auth = parseBasic(req.headers.authorization);
        const replyStatus = handle(req, res, rawBody);
        requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          query: Object.fromEntries(new URL(req.url ?? '/', 'http://fake').searchParams),
          headers: { ...req.headers },
          rawBody,
          form: Object.fromEntries(new URLSearchParams(rawBody)),
          ...(auth ? { basicAuth: auth } : {}),
          replyStatus,
        });
      },
      () => {
        res.writeHead(400);
        res.end();
      },
    );
  });
  const port = await listenOnLoopback(server);

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    callbacks,
    messages,
    addMessage(input) {
      const status = input.status ?? 'delivered';
      const dateCreated = input.dateCreated ?? new Date();
      const dateSent = input.dateSent !== undefined ? input.dateSent : HANDED_OVER.has(status) ? new Date(dateCreated.getTime() + 1000) : null;
      const message: FakeTwilioMessage = {
        sid: `SM${hex(16)}`,
        direction: input.direction ?? 'outbound-api',
        to: input.to,
        from: input.from ?? null,
        messagingServiceSid: input.messagingServiceSid ?? null,
        body: input.body,
        status,
        errorCode: input.errorCode ?? null,
        dateCreated,
        dateSent,
        dateUpdated: dateSent ?? dateCreated,
      };
      messages.push(message);
      return message;
    },
    failNext(n, status = 503) {
      failures = { remaining: n, status };
    },
    failNextWith(n, status, code, message) {
      failures = { remaining: n, status, code, message };
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async close() {
      closed = true;
      for (const [timer, resolve] of timers) {
        clearTimeout(timer);
        resolve();
      }
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
