/**
 * A local stand-in for Twilio's Messages API, for tests. It checks HTTP Basic auth, validates the
 * form like Twilio does, knows a few of Twilio's magic test numbers, can be told to fail, and
 * posts signed status callbacks (sent, then delivered or undelivered) like the real service.
 *
 * The callback signature is computed here independently of the adapter, so a test that verifies
 * it with the adapter checks the two implementations against each other.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { measureSms } from '../../shared/domain/segments.js';

export interface FakeTwilioOptions {
  accountSid: string;
  authToken: string;
  /** Wait before each status callback. Default 20 ms. */
  callbackDelayMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
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

export interface FakeTwilio {
  baseUrl: string;
  requests: RecordedRequest[];
  callbacks: SentCallback[];
  /** The next n API requests answer `status` (503 by default, or 429) with Twilio-style error JSON. */
  failNext(n: number, status?: 503 | 429 | 500): void;
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

export async function startFakeTwilio(opts: FakeTwilioOptions): Promise<FakeTwilio> {
  const callbackDelayMs = opts.callbackDelayMs ?? 20;
  const requests: RecordedRequest[] = [];
  const callbacks: SentCallback[] = [];
  const pending = new Set<Promise<void>>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  let failures: { remaining: number; status: number } = { remaining: 0, status: 503 };
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
    await wait(callbackDelayMs);
    if (closed) return;
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

  function scheduleCallbacks(url: string, message: Record<string, string>) {
    const common: Record<string, string> = {
      AccountSid: opts.accountSid,
      ApiVersion: API_VERSION,
      MessageSid: message.sid!,
      SmsSid: message.sid!,
      To: message.to!,
      ...(message.from ? { From: message.from } : {}),
      ...(message.messagingServiceSid ? { MessagingServiceSid: message.messagingServiceSid } : {}),
    };
    const undelivered = message.to!.endsWith('0003');
    const run = (async () => {
      await postCallback(url, { ...common, MessageStatus: 'sent', SmsStatus: 'sent' });
      await postCallback(
        url,
        undelivered
          ? { ...common, MessageStatus: 'undelivered', SmsStatus: 'undelivered', ErrorCode: '30003' }
          : { ...common, MessageStatus: 'delivered', SmsStatus: 'delivered' },
      );
    })();
    pending.add(run);
    void run.finally(() => pending.delete(run));
  }

  function handle(req: IncomingMessage, res: ServerResponse, rawBody: string): number {
    const form = Object.fromEntries(new URLSearchParams(rawBody));
    const auth = parseBasic(req.headers.authorization);
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      return failures.status === 429
        ? twilioError(res, 429, 20429, 'Too Many Requests')
        : twilioError(res, failures.status, 20500, 'Internal Server Error: the service is temporarily unavailable');
    }
    if (!auth || auth.username !== opts.accountSid || auth.password !== opts.authToken) {
      return twilioError(res, 401, 20003, 'Authenticate');
    }
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    if (!match || match[1] !== opts.accountSid) {
      return twilioError(res, 404, 20404, `The requested resource ${path} was not found`);
    }
    if (req.method !== 'POST') return twilioError(res, 405, 20004, 'Method not allowed');

    const to = form.To;
    if (!to) return twilioError(res, 400, 21604, "A 'To' phone number is required.");
    if (!form.From && !form.MessagingServiceSid) return twilioError(res, 400, 21603, "A 'From' phone number is required.");
    if (!form.Body) return twilioError(res, 400, 21602, 'Message body is required.');
    if (to === '+15005550001') return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (to === '+15005550004') return twilioError(res, 400, 21610, 'Attempt to send to unsubscribed recipient');
    if (to === '+15005550009') return twilioError(res, 400, 21614, `'To' number ${to} is not a valid mobile number`);

    const sid = `SM${hex(16)}`;
    const now = new Date().toUTCString().replace('GMT', '+0000');
    const uri = `/${API_VERSION}/Accounts/${opts.accountSid}/Messages/${sid}.json`;
    const resource = {
      account_sid: opts.accountSid,
      api_version: API_VERSION,
      body: form.Body,
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: form.From ?? null,
      messaging_service_sid: form.MessagingServiceSid ?? null,
      num_media: '0',
      num_segments: String(measureSms(form.Body).segments),
      price: null,
      price_unit: 'USD',
      sid,
      status: 'queued',
      subresource_uris: { media: uri.replace('.json', '/Media.json') },
      to,
      uri,
    };
    res.writeHead(201, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(resource));
    if (form.StatusCallback) {
      scheduleCallbacks(form.StatusCallback, {
        sid,
        to,
        ...(form.From ? { from: form.From } : {}),
        ...(form.MessagingServiceSid ? { messagingServiceSid: form.MessagingServiceSid } : {}),
      });
    }
    return 201;
  }

  const server = createServer((req, res) => {
    readBody(req).then(
      (rawBody) => {
        const auth = parseBasic(req.headers.authorization);
        const replyStatus = handle(req, res, rawBody);
        requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    callbacks,
    failNext(n, status = 503) {
      failures = { remaining: n, status };
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
