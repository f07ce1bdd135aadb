/**
 * A local stand-in for 360dialog's Messaging API (Cloud API hosting), for tests: POST /messages
 * with the number's key in the D360-API-KEY header. Like 360dialog, it is a relay: it checks the
 * key itself (answering its own 401 "Invalid api_key" error), then passes the body on to a fake
 * Meta Cloud API (./fake-meta.ts) for its number and answers whatever Meta answered, unchanged. So
 * the Cloud API's validation, templates and error codes (errorNumber(131026), ...) are Meta's own.
 *
 * `failNext` makes it answer errors of its own instead (rate limit, disabled account, 5xx), in the
 * shapes 360dialog documents: { meta: { success: false, http_code, developer_message } }.
 *
 * Webhooks: 360dialog posts Meta's payload unchanged and unsigned, to the URL set for the number;
 * `tokenWebhook` builds such a POST to a URL carrying ?token=.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { WebhookRequest } from '../../shared/ports.js';
import { META_DEFAULT_API_VERSION } from '../../shared/adapters/providers/whatsapp/meta.js';
import { startFakeMeta, type FakeMeta } from './fake-meta.js';
import { listenOnLoopback } from './net.js';

export interface Fake360DialogOptions {
  apiKey: string;
}

export interface Fake360DialogRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  json?: unknown;
  replyStatus: number;
  replyBody: unknown;
  /** Whether the call reached the (fake) Meta behind it. */
  relayed: boolean;
}

/** An answer of 360dialog's own: HTTP status and body (JSON, or a string sent as text/html). */
export interface OwnAnswer {
  status: number;
  body: unknown;
}

export interface Fake360Dialog {
  baseUrl: string;
  requests: Fake360DialogRequest[];
  /** The fake Meta Cloud API behind it (its failNext gives Meta's error codes). */
  meta: FakeMeta;
  /** The next n calls answer `answer` without reaching Meta. */
  failNext(n: number, answer: OwnAnswer): void;
  close(): Promise<void>;
}

/** 360dialog's own error body, as its error reference shows it. */
export function ownError(status: number, developerMessage: string): OwnAnswer {
  return { status, body: { meta: { success: false, http_code: status, developer_message: developerMessage } } };
}

/** The messages 360dialog's error reference lists for its own Messaging API errors. */
export const OWN_ERRORS = {
  invalidKey: () => ownError(401, 'Invalid api_key'),
  rateLimit: () => ownError(400, 'You have exceeded the endpoint rate limit.'),
  disabled: () => ownError(400, 'Your WhatsApp for Business API has been disabled'),
  unpaid: () =>
    ownError(
      400,
      'Could not send message due to lack of payment. Messaging can resume once overdue invoices towards 360dialog are settled. Please reach out to our integration partner.',
    ),
  blocked: () => ownError(403, 'The endpoint is blocked'),
  internal: () => ownError(500, 'Internal server error'),
  notAvailable: () => ownError(502, 'WhatsApp for Business API not available'),
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const parseJson = (text: string): unknown => {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
};

export async function startFake360Dialog(opts: Fake360DialogOptions): Promise<Fake360Dialog> {
  // The token and number 360dialog itself holds for this API key, towards Meta.
  const metaToken = `EAAG360-${randomBytes(12).toString('hex')}`;
  const phoneNumberId = '109876543210987';
  const meta = await startFakeMeta({ accessToken: metaToken, phoneNumberId });
  const requests: Fake360DialogRequest[] = [];
  let failures: { remaining: number; answer: OwnAnswer } = { remaining: 0, answer: OWN_ERRORS.internal() };

  async function answer(req: IncomingMessage, rawBody: string): Promise<{ status: number; body: unknown; relayed: boolean }> {
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      return { ...failures.answer, relayed: false };
    }
    if (req.headers['d360-api-key'] !== opts.apiKey) return { ...OWN_ERRORS.invalidKey(), relayed: false };
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (path !== '/messages') return { status: 404, body: { meta: { success: false, http_code: 404, developer_message: 'Not Found' } }, relayed: false };
    if (req.method !== 'POST') return { status: 405, body: { meta: { success: false, http_code: 405, developer_message: 'Method Not Allowed' } }, relayed: false };
    // Relayed as it came, to the number's Cloud API endpoint.
    const response = await fetch(`${meta.baseUrl}/${META_DEFAULT_API_VERSION}/${phoneNumberId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${metaToken}`, 'content-type': 'application/json' },
      body: rawBody,
    });
    const text = await response.text();
    return { status: response.status, body: parseJson(text) ?? text, relayed: true };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    readBody(req)
      .then(async (rawBody) => {
        const { status, body, relayed } = await answer(req, rawBody);
        const json = parseJson(rawBody);
        requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: { ...req.headers },
          rawBody,
          ...(json !== undefined ? { json } : {}),
          replyStatus: status,
          replyBody: body,
          relayed,
        });
        if (typeof body === 'string') {
          res.writeHead(status, { 'content-type': 'text/html' });
          res.end(body);
        } else {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        }
      })
      .catch(() => {
        res.writeHead(500);
        res.end();
      });
  });
  const port = await listenOnLoopback(server);

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    meta,
    failNext(n, answer) {
      failures = { remaining: n, answer };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      await meta.close();
    },
  };
}

// ---- webhooks as 360dialog posts them ----

/** A webhook POST as 360dialog sends it: Meta's JSON payload, unsigned, to the URL set for the number. */
export function tokenWebhook(url: string, payload: unknown): WebhookRequest {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    rawBody: JSON.stringify(payload),
  };
}

/** The same payload with every `messages` change's metadata left out. */
export function withoutMetadata(payload: unknown): unknown {
  const body = structuredClone(payload) as { entry: { changes: { value: Record<string, unknown> }[] }[] };
  for (const entry of body.entry) for (const change of entry.changes) delete change.value.metadata;
  return body;
}
