/**
 * A local stand-in for Telnyx's Messaging API v2, for tests: POST /v2/messages with a Bearer API
 * key and a JSON body. It checks the key (answering Telnyx's 401 / 10009), the content type and
 * the body like Telnyx (from, to in E.164, text), answers `{ data: { record_type: "message", id,
 * to: [{ phone_number, status: "queued" }], ... } }`, and can be told to answer Telnyx's error
 * JSON (`{ errors: [{ code, title, detail }] }`) for given numbers or the next N requests.
 *
 * It also signs webhooks as Telnyx does: Ed25519 over `${timestamp}|${rawBody}` with a key pair
 * made here (its public key, base64 of the 32 raw bytes, is what a gateway's settings hold),
 * written independently of the adapter.
 */
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { WebhookRequest } from '../../shared/ports.js';
import { listenOnLoopback } from './net.js';

/** What the fake can be told to answer. */
export type TelnyxFailure = 'invalid-to' | 'blocked-stop' | 'invalid-from' | 'account-disabled' | 'rate-limited' | 'server-error';

/** Telnyx's answer for each failure: HTTP status, code, title, detail. */
export const TELNYX_FAILURES: Record<TelnyxFailure, { status: number; code: string; title: string; detail: string }> = {
  'invalid-to': { status: 400, code: '40310', title: "Invalid 'to' address", detail: "The 'to' address is invalid or not a valid mobile number." },
  'blocked-stop': { status: 400, code: '40300', title: 'Blocked due to STOP message', detail: 'The recipient has replied STOP to this sender.' },
  'invalid-from': { status: 400, code: '40305', title: "Invalid 'from' address", detail: "The 'from' address is not on a messaging profile of this account." },
  'account-disabled': { status: 403, code: '40314', title: 'Messaging disabled on account', detail: 'Messaging is disabled on this account (insufficient balance).' },
  'rate-limited': { status: 429, code: '10011', title: 'Too many requests', detail: 'You have exceeded the maximum number of allowed requests.' },
  'server-error': { status: 500, code: '10007', title: 'Unexpected error', detail: 'An unexpected error occured.' },
};

export interface TelnyxRecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** The body parsed as JSON (undefined when it is not). */
  json: Record<string, unknown> | undefined;
  replyStatus: number;
}

export interface FakeTelnyx {
  baseUrl: string;
  apiKey: string;
  /** The account's public key as Mission Control shows it: base64 of the raw 32 bytes. */
  publicKey: string;
  requests: TelnyxRecordedRequest[];
  /** Requests to `to` answer this failure. */
  failFor(to: string, failure: TelnyxFailure): void;
  /** The next n requests answer this failure. */
  failNext(n: number, failure: TelnyxFailure): void;
  /** A webhook as Telnyx posts it, signed now (or at `timestampSeconds`). */
  webhook(url: string, event: unknown, timestampSeconds?: number): WebhookRequest;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{6,14}$/;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function errorReply(res: ServerResponse, status: number, code: string, title: string, detail: string, pointer?: string): number {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ code, title, detail, ...(pointer ? { source: { pointer } } : {}), meta: { url: `https://developers.telnyx.com/docs/overview/errors/${code}` } }] }));
  return status;
}

/** The raw 32-byte Ed25519 public key, base64, from a KeyObject (the last 32 bytes of its SPKI DER). */
function rawPublicKey(key: KeyObject): string {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32).toString('base64');
}

export async function startFakeTelnyx(opts: { apiKey: string }): Promise<FakeTelnyx> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const requests: TelnyxRecordedRequest[] = [];
  const byNumber = new Map<string, TelnyxFailure>();
  let next: { remaining: number; failure: TelnyxFailure } = { remaining: 0, failure: 'server-error' };

  function handle(req: IncomingMessage, res: ServerResponse, rawBody: string, json: Record<string, unknown> | undefined): number {
    if (req.method !== 'POST' || req.url !== '/v2/messages') return errorReply(res, 404, '10005', 'Resource not found', 'The requested resource or URL could not be found.');
    if (req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return errorReply(res, 401, '10009', 'Authentication failed', 'The required authentication headers were either invalid or not included in the request.');
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return errorReply(res, 415, '10014', 'Unsupported Media Type', 'The request failed because the server does not support the media type.');
    }
    if (!json) return errorReply(res, 400, '10023', 'Invalid JSON', 'The supplied JSON is invalid.');
    if (next.remaining > 0) {
      next.remaining -= 1;
      const f = TELNYX_FAILURES[next.failure];
      return errorReply(res, f.status, f.code, f.title, f.detail);
    }
    const { from, to, text } = json as { from?: unknown; to?: unknown; text?: unknown };
    if (typeof to !== 'string' || to === '') return errorReply(res, 422, '10004', 'Missing required parameter', "The 'to' parameter is required.", '/to');
    if (typeof from !== 'string' || from === '') return errorReply(res, 422, '10004', 'Missing required parameter', "The 'from' parameter is required.", '/from');
    if (typeof text !== 'string' || text === '') return errorReply(res, 422, '40316', 'No content provided', 'The message has no text.', '/text');
    for (const field of Object.keys(json)) {
      if (!['from', 'to', 'text', 'webhook_url', 'webhook_failover_url', 'messaging_profile_id', 'use_profile_webhooks', 'type', 'subject', 'media_urls', 'auto_detect'].includes(field)) {
        return errorReply(res, 422, '10015', 'Bad Request', `Unknown parameter '${field}'.`, `/${field}`);
      }
    }
    const failure = byNumber.get(to);
    if (failure) {
      const f = TELNYX_FAILURES[failure];
      return errorReply(res, f.status, f.code, f.title, f.detail, '/to');
    }
    if (!E164.test(to)) return errorReply(res, 400, '40310', "Invalid 'to' address", "The 'to' address must be in +E.164 format.", '/to');

    const now = new Date().toISOString();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        data: {
          record_type: 'message',
          direction: 'outbound',
          id: randomUUID(),
          type: 'SMS',
          messaging_profile_id: json.messaging_profile_id ?? randomUUID(),
          from: { phone_number: from, carrier: 'Telnyx', line_type: 'Wireless' },
          to: [{ phone_number: to, status: 'queued', carrier: 'Grameenphone', line_type: 'Wireless' }],
          text,
          webhook_url: json.webhook_url ?? null,
          encoding: /^[\x20-\x7E\n\r]*$/.test(text) ? 'GSM-7' : 'UCS-2',
          parts: 1,
          errors: [],
          received_at: now,
          sent_at: null,
          completed_at: null,
        },
      }),
    );
    return 200;
  }

  const server = createServer((req, res) => {
    readBody(req).then(
      (rawBody) => {
        let json: Record<string, unknown> | undefined;
        try {
          const parsed = JSON.parse(rawBody) as unknown;
          json = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
        } catch {
          json = undefined;
        }
        const replyStatus = handle(req, res, rawBody, json);
        requests.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers }, rawBody, json, replyStatus });
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
    apiKey: opts.apiKey,
    publicKey: rawPublicKey(publicKey),
    requests,
    failFor(to, failure) {
      byNumber.set(to, failure);
    },
    failNext(n, failure) {
      next = { remaining: n, failure };
    },
    webhook(url, event, timestampSeconds = Math.floor(Date.now() / 1000)) {
      const rawBody = JSON.stringify(event);
      const timestamp = String(timestampSeconds);
      const signature = sign(null, Buffer.from(`${timestamp}|${rawBody}`, 'utf8'), privateKey).toString('base64');
      return {
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', 'telnyx-signature-ed25519': signature, 'telnyx-timestamp': timestamp, 'user-agent': 'telnyx-webhooks' },
        rawBody,
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
