/**
 * A local stand-in for Vonage's SMS API (POST /sms/json), for tests. It checks api_key and
 * api_secret in the form like Vonage does (answering status 4 in a 200 reply when they are wrong),
 * validates the required fields, can be told to answer a recipient error, a gateway error or a
 * throttle for given numbers or the next N requests, and posts delivery receipts (JSON, as a
 * "POST-JSON" account does) to the message's `callback`, signed with the signature secret when it
 * has one.
 *
 * The signature is computed here independently of the adapter, so a test that verifies it with
 * the adapter checks the two implementations against each other.
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './net.js';

export interface FakeVonageOptions {
  apiKey: string;
  apiSecret: string;
  /** Signs delivery receipts with this secret when set. */
  signatureSecret?: string;
  /** Default md5hash (Vonage's default). */
  signatureMethod?: 'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512';
  callbackDelayMs?: number;
}

export interface RecordedVonageRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  form: Record<string, string>;
  /** What the fake answered: HTTP status and, for 200, the first part's Vonage status. */
  replyStatus: number;
  vonageStatus?: string;
}

export interface FakeVonage {
  baseUrl: string;
  requests: RecordedVonageRequest[];
  /** Answers this Vonage status (with its error text) for sends to `to` (digits as sent, no "+"). */
  failFor(to: string, status: string, errorText: string): void;
  /** The next n sends answer Vonage status `status` (1 = throttled by default). */
  statusNext(n: number, status?: string, errorText?: string): void;
  /** The next n requests answer this HTTP status (429 or 5xx). */
  httpNext(n: number, status: number): void;
  /** Resolves when every receipt started so far was posted (numbers ending 0003 get "failed", err-code 3; others "delivered"). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

function sign(params: Record<string, string>, secret: string, method: NonNullable<FakeVonageOptions['signatureMethod']>): string {
  let base = '';
  for (const key of Object.keys(params).sort()) base += `&${key}=${params[key]!.split('&').join('_').split('=').join('_')}`;
  return method === 'md5hash' ? createHash('md5').update(base + secret).digest('hex') : createHmac(method, secret).update(base).digest('hex');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeVonage(opts: FakeVonageOptions): Promise<FakeVonage> {
  const requests: RecordedVonageRequest[] = [];
  const perNumber = new Map<string, { status: string; errorText: string }>();
  let statusFailures = { remaining: 0, status: '1', errorText: 'Throughput Rate Exceeded - please wait [ 1000 ] and retry' };
  let httpFailures = { remaining: 0, status: 503 };
  const pending = new Set<Promise<void>>();
  let closed = false;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const errorReply = (res: ServerResponse, status: string, errorText: string) => {
    json(res, 200, { 'message-count': '1', messages: [{ status, 'error-text': errorText }] });
    return status;
  };

  function scheduleReceipt(to: string, messageId: string, from: string, callback: string, clientRef: string | undefined) {
    const run = (async () => {
      await new Promise((r) => setTimeout(r, opts.callbackDelayMs ?? 5));
      if (closed) return;
      const failed = to.endsWith('0003');
      const now = new Date();
      const params: Record<string, string> = {
        msisdn: to,
        to: from,
        'network-code': '47001',
        messageId,
        price: '0.03330000',
        status: failed ? 'failed' : 'delivered',
        scts: '2503011000',
        'err-code': failed ? '3' : '0',
        'api-key': opts.apiKey,
        'message-timestamp': now.toISOString().slice(0, 19).replace('T', ' '),
        ...(clientRef ? { 'client-ref': clientRef } : {}),
      };
      if (opts.signatureSecret) {
        params.timestamp = String(Math.floor(now.getTime() / 1000));
        params.nonce = randomUUID();
        params.sig = sign(params, opts.signatureSecret, opts.signatureMethod ?? 'md5hash');
      }
      try {
        const res = await fetch(callback, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
        await res.arrayBuffer();
      } catch {
        // The receiver is gone; a real Vonage would retry.
      }
    })();
    pending.add(run);
    void run.finally(() => pending.delete(run));
  }

  function handle(req: IncomingMessage, res: ServerResponse, form: Record<string, string>): { http: number; vonage?: string } {
    if (httpFailures.remaining > 0) {
      httpFailures.remaining -= 1;
      res.writeHead(httpFailures.status, { 'content-type': 'text/html' });
      res.end(`<html><body><h1>${httpFailures.status}</h1>Service Unavailable</body></html>`);
      return { http: httpFailures.status };
    }
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://fake').pathname !== '/sms/json') {
      res.writeHead(404).end();
      return { http: 404 };
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return { http: 200, vonage: errorReply(res, '2', 'Missing api_key') };
    }
    if (!form.api_key) return { http: 200, vonage: errorReply(res, '2', 'Missing api_key') };
    if (form.api_key !== opts.apiKey || form.api_secret !== opts.apiSecret) return { http: 200, vonage: errorReply(res, '4', 'Bad Credentials') };
    for (const field of ['from', 'to', 'text'] as const) {
      if (!form[field]) return { http: 200, vonage: errorReply(res, '2', `Missing ${field} param`) };
    }
    if (!/^\d{7,15}$/.test(form.to!)) return { http: 200, vonage: errorReply(res, '3', 'Invalid to param') };
    if (form.type !== undefined && form.type !== 'text' && form.type !== 'unicode') return { http: 200, vonage: errorReply(res, '3', 'Invalid type param') };
    if (statusFailures.remaining > 0) {
      statusFailures.remaining -= 1;
      return { http: 200, vonage: errorReply(res, statusFailures.status, statusFailures.errorText) };
    }
    const planned = perNumber.get(form.to!);
    if (planned) return { http: 200, vonage: errorReply(res, planned.status, planned.errorText) };

    const messageId = randomBytes(8).toString('hex').toUpperCase();
    json(res, 200, {
      'message-count': '1',
      messages: [{ to: form.to, 'message-id': messageId, status: '0', 'remaining-balance': '15.53590000', 'message-price': '0.03330000', network: '47001', ...(form['client-ref'] ? { 'client-ref': form['client-ref'] } : {}) }],
    });
    if (form.callback) scheduleReceipt(form.to!, messageId, form.from!, form.callback, form['client-ref']);
    return { http: 200, vonage: '0' };
  }

  const server = createServer((req, res) => {
    readBody(req).then(
      (rawBody) => {
        const form = Object.fromEntries(new URLSearchParams(rawBody));
        const outcome = handle(req, res, form);
        requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: { ...req.headers },
          rawBody,
          form,
          replyStatus: outcome.http,
          ...(outcome.vonage !== undefined ? { vonageStatus: outcome.vonage } : {}),
        });
      },
      () => res.writeHead(400).end(),
    );
  });
  const port = await listenOnLoopback(server);

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    failFor(to, status, errorText) {
      perNumber.set(to, { status, errorText });
    },
    statusNext(n, status = '1', errorText = 'Throughput Rate Exceeded - please wait [ 1000 ] and retry') {
      statusFailures = { remaining: n, status, errorText };
    },
    httpNext(n, status) {
      httpFailures = { remaining: n, status };
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async close() {
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
