/**
 * A local stand-in for Sinch's SMS REST API (POST /xms/v1/{service_plan_id}/batches), for tests.
 * It checks the Bearer token and the batch JSON strictly, answers Sinch's replies (201 with the
 * batch, 400/403 `{ code, text }`, 401, 429) and records every request.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './net.js';

export interface FakeSinchRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  json: unknown;
  replyStatus: number;
}

export type SinchOutcome = 'invalid-number' | 'illegal-number-type' | 'blocked-account';

export interface FakeSinch {
  baseUrl: string;
  requests: FakeSinchRequest[];
  outcome(to: string, outcome: SinchOutcome): void;
  /** The next n requests answer HTTP `status` (429 by default). */
  failNext(n: number, status?: 429 | 500 | 503): void;
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, body: unknown): number {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  return status;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const ALLOWED = new Set(['from', 'to', 'body', 'type', 'client_reference', 'delivery_report', 'callback_url']);

function checkShape(json: unknown): string | undefined {
  if (!json || typeof json !== 'object') return 'body must be a JSON object';
  const b = json as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!ALLOWED.has(key)) return `unknown field ${key}`;
  if (!Array.isArray(b.to) || b.to.length !== 1 || typeof b.to[0] !== 'string') return 'to must be a list with one number';
  if (typeof b.body !== 'string' || b.body.length > 2000) return 'body must be a string of at most 2000 characters';
  if (b.type !== undefined && b.type !== 'mt_text') return 'type must be mt_text';
  if (b.delivery_report !== undefined && !['none', 'summary', 'full', 'per_recipient', 'per_recipient_final'].includes(String(b.delivery_report))) return 'delivery_report is not valid';
  return undefined;
}

export async function startFakeSinch(opts: { servicePlanId: string; apiToken: string }): Promise<FakeSinch> {
  const requests: FakeSinchRequest[] = [];
  const outcomes = new Map<string, SinchOutcome>();
  let failures = { remaining: 0, status: 429 };

  function handle(req: IncomingMessage, res: ServerResponse, record: FakeSinchRequest): number {
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      return failures.status === 429 ? reply(res, 429, { code: 'too_many_requests', text: 'Too Many Requests' }) : reply(res, failures.status, { text: 'Internal Server Error' });
    }
    if (req.headers.authorization !== `Bearer ${opts.apiToken}`) return reply(res, 401, { code: 'unauthorized', text: 'Unauthorized' });
    if (req.method !== 'POST' || req.url !== `/xms/v1/${opts.servicePlanId}/batches`) return reply(res, 404, { code: 'not_found', text: 'Not Found' });
    if (!String(req.headers['content-type']).startsWith('application/json')) return reply(res, 415, { text: 'Unsupported Media Type' });
    if (record.json === undefined) return reply(res, 400, { code: 'syntax_invalid_json', text: 'The JSON in the request is invalid' });
    const problem = checkShape(record.json);
    if (problem) return reply(res, 400, { code: 'syntax_constraint_violation', text: problem });
    const b = record.json as { to: string[]; body: string; from?: string; delivery_report?: string; callback_url?: string };
    if ((b.delivery_report ?? 'none') !== 'none' && !b.callback_url) return reply(res, 403, { code: 'missing_callback_url', text: 'Callback URL is missing' });
    const to = b.to[0]!;
    if (!/^\+[1-9]\d{6,14}$/.test(to)) return reply(res, 400, { code: 'syntax_invalid_parameter_format', text: `Invalid MSISDN: ${to}` });
    switch (outcomes.get(to)) {
      case 'invalid-number':
        return reply(res, 400, { code: 'syntax_invalid_parameter_format', text: `Invalid MSISDN: ${to}` });
      case 'illegal-number-type':
        return reply(res, 403, { code: 'illegal_number_type', text: 'Illegal number type' });
      case 'blocked-account':
        return reply(res, 403, { code: 'blocked_account', text: 'The account is blocked' });
      default:
        break;
    }
    const now = new Date().toISOString();
    return reply(res, 201, {
      id: `01J${randomBytes(12).toString('hex').toUpperCase().slice(0, 23)}`,
      to: b.to,
      from: b.from ?? '12345',
      canceled: false,
      body: b.body,
      type: 'mt_text',
      created_at: now,
      modified_at: now,
      delivery_report: b.delivery_report ?? 'none',
      ...(b.callback_url ? { callback_url: b.callback_url } : {}),
      flash_message: false,
    });
  }

  const server = createServer((req, res) => {
    void (async () => {
      const rawBody = await readBody(req);
      let json: unknown;
      try {
        json = JSON.parse(rawBody);
      } catch {
        json = undefined;
      }
      const record: FakeSinchRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody, json, replyStatus: 0 };
      requests.push(record);
      record.replyStatus = handle(req, res, record);
    })();
  });
  const port = await listenOnLoopback(server);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    outcome: (to, outcome) => void outcomes.set(to, outcome),
    failNext(n, status = 429) {
      failures = { remaining: n, status };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
