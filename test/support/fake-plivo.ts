/**
 * A local stand-in for Plivo's Message API (POST /v1/Account/{auth_id}/Message/), for tests. It
 * checks HTTP Basic auth and the JSON body like Plivo does (answering 401 for bad credentials and
 * 400 with {"api_id","error"} for a bad request), can be told to answer an error for given numbers
 * or an HTTP status for the next N requests, and posts form-encoded status callbacks (sent, then
 * delivered, or undelivered with ErrorCode 50 for numbers ending 0050) to the message's `url`,
 * signed with X-Plivo-Signature-V3.
 *
 * The signature is computed here independently of the adapter, so a test that verifies it with
 * the adapter checks the two implementations against each other.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './net.js';

export interface FakePlivoOptions {
  authId: string;
  authToken: string;
  callbackDelayMs?: number;
}

export interface RecordedPlivoRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  json: unknown;
  basicAuth?: { username: string; password: string };
  replyStatus: number;
}

export interface FakePlivo {
  baseUrl: string;
  requests: RecordedPlivoRequest[];
  /** Sends to `dst` answer this HTTP status with {"api_id","error": error}. */
  failFor(dst: string, status: number, error: string): void;
  /** The next n requests answer `status` (429 or 5xx). */
  failNext(n: number, status: number): void;
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** V3: base URL (+ "?" + sorted query) (+ "." when both) + sorted form "kv" pairs, then "." + nonce; HMAC-SHA256, base64. */
function signV3(authToken: string, url: string, form: Record<string, string>, nonce: string): string {
  const u = new URL(url);
  const query = [...u.searchParams.entries()]
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const formKeys = Object.keys(form).sort();
  let signed = `${u.protocol}//${u.host}${u.pathname}`;
  if (query || formKeys.length) signed += `?${query}`;
  if (query && formKeys.length) signed += '.';
  signed += formKeys.map((k) => `${k}${form[k]}`).join('');
  return createHmac('sha256', authToken).update(`${signed}.${nonce}`).digest('base64');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export async function startFakePlivo(opts: FakePlivoOptions): Promise<FakePlivo> {
  const requests: RecordedPlivoRequest[] = [];
  const perNumber = new Map<string, { status: number; error: string }>();
  let failures = { remaining: 0, status: 503 };
  const pending = new Set<Promise<void>>();
  let closed = false;

  const reply = (res: ServerResponse, status: number, body: Record<string, unknown>) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ api_id: randomUUID(), ...body }));
    return status;
  };

  async function postCallback(url: string, form: Record<string, string>) {
    const nonce = String(Math.floor(Math.random() * 1e20));
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-plivo-signature-v3': signV3(opts.authToken, url, form, nonce),
          'x-plivo-signature-v3-nonce': nonce,
        },
        body: new URLSearchParams(form).toString(),
      });
      await res.arrayBuffer();
    } catch {
      // The receiver is gone.
    }
  }

  function lifecycle(uuid: string, src: string, dst: string, url: string) {
    const common = { MessageUUID: uuid, From: src, To: dst.replace(/^\+/, ''), Type: 'sms', Units: '1', TotalRate: '0.0050', TotalAmount: '0.0050', MCC: '470', MNC: '01' };
    const run = (async () => {
      const delay = opts.callbackDelayMs ?? 5;
      await new Promise((r) => setTimeout(r, delay));
      if (closed) return;
      await postCallback(url, { ...common, Status: 'sent', Sequence: '1' });
      await new Promise((r) => setTimeout(r, delay));
      if (closed) return;
      const undelivered = dst.endsWith('0050');
      await postCallback(url, { ...common, Status: undelivered ? 'undelivered' : 'delivered', ErrorCode: undelivered ? '50' : '000', Sequence: '2' });
    })();
    pending.add(run);
    void run.finally(() => pending.delete(run));
  }

  function handle(req: IncomingMessage, res: ServerResponse, rawBody: string): number {
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      return reply(res, failures.status, { error: failures.status === 429 ? 'too many requests' : 'internal server error' });
    }
    const auth = parseBasic(req.headers.authorization);
    if (!auth || auth.username !== opts.authId || auth.password !== opts.authToken) {
      return reply(res, 401, { error: 'Could not verify your access level for that URL. You have to login with proper credentials' });
    }
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (path !== `/v1/Account/${opts.authId}/Message/`) return reply(res, 404, { error: 'not found' });
    if (req.method !== 'POST') return reply(res, 405, { error: 'method not allowed' });
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return reply(res, 400, { error: 'content type must be application/json' });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(rawBody) as Record<string, unknown>;
    } catch {
      return reply(res, 400, { error: 'invalid json' });
    }
    for (const field of ['src', 'dst', 'text'] as const) {
      if (typeof body[field] !== 'string' || body[field] === '') return reply(res, 400, { error: `${field} parameter is required` });
    }
    const dst = body.dst as string;
    if (!/^\+?\d{7,15}$/.test(dst)) return reply(res, 400, { error: `'${dst}' is not a valid phone number.` });
    const planned = perNumber.get(dst);
    if (planned) return reply(res, planned.status, { error: planned.error });
    const uuid = randomUUID();
    const status = reply(res, 202, { message: 'message(s) queued', message_uuid: [uuid] });
    if (typeof body.url === 'string' && body.url !== '') lifecycle(uuid, body.src as string, dst, body.url);
    return status;
  }

  const server = createServer((req, res) => {
    readBody(req).then(
      (rawBody) => {
        const auth = parseBasic(req.headers.authorization);
        const replyStatus = handle(req, res, rawBody);
        let json: unknown;
        try {
          json = JSON.parse(rawBody);
        } catch {
          json = undefined;
        }
        requests.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers }, rawBody, json, ...(auth ? { basicAuth: auth } : {}), replyStatus });
      },
      () => res.writeHead(400).end(),
    );
  });
  const port = await listenOnLoopback(server);

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    failFor(dst, status, error) {
      perNumber.set(dst, { status, error });
    },
    failNext(n, status) {
      failures = { remaining: n, status };
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
