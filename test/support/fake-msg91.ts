/**
 * A local stand-in for MSG91's Flow API (POST /api/v5/flow), for tests. It checks the authkey
 * header, the JSON body (template_id, sender, DLT_TE_ID, recipients with mobiles and the
 * template's variable, unicode only as 0/1), answers {"type":"success","message":"<request id>"}
 * like MSG91, and can be told to answer an MSG91 error code for given numbers or the next N
 * requests (202 invalid mobile, 301 insufficient balance, 418 IP not whitelisted...), or an HTTP
 * failure (429, 5xx). It can post delivery reports in MSG91's webhook version 2 (form-encoded
 * `data` holding a JSON array) or version 3 (one JSON object).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './net.js';

export interface FakeMsg91Options {
  authKey: string;
  /** The template's variable that takes the text. Default var1. */
  textVariable?: string;
}

export interface Msg91RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  json: Record<string, unknown> | undefined;
  replyStatus: number;
}

export type Msg91ErrorCode = '202' | '203' | '301' | '418' | '306';

const ERRORS: Record<Msg91ErrorCode, { http: number; message: string }> = {
  '202': { http: 400, message: 'Invalid mobile number' },
  '203': { http: 400, message: 'Invalid sender ID or DLT Entity ID missing' },
  '301': { http: 400, message: 'Insufficient balance to send SMS' },
  '418': { http: 401, message: 'IP not whitelisted' },
  '306': { http: 400, message: 'Route currently unavailable' },
};

export interface Msg91Report {
  requestId: string;
  number: string;
  status: string;
  desc: string;
  failedReason?: string;
}

export interface FakeMsg91 {
  baseUrl: string;
  requests: Msg91RecordedRequest[];
  /** Numbers (as MSG91 sees them, without "+") answered with this error code. */
  errorFor(mobile: string, code: Msg91ErrorCode): void;
  /** The next n requests answer this error code. */
  errorNext(n: number, code: Msg91ErrorCode): void;
  /** The next n requests answer HTTP `status` (429 or 5xx). */
  failNext(n: number, status: 429 | 500 | 503): void;
  /** Posts a delivery report to `url` in webhook version 2 (form) or 3 (JSON); resolves with the receiver's status. */
  postReport(url: string, report: Msg91Report, version: 2 | 3): Promise<number>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): number {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  return status;
}

const error = (res: ServerResponse, status: number, message: string, code?: string) =>
  reply(res, status, code ? { type: 'error', message, code } : { type: 'error', message });

export async function startFakeMsg91(opts: FakeMsg91Options): Promise<FakeMsg91> {
  const textVariable = opts.textVariable ?? 'var1';
  const requests: Msg91RecordedRequest[] = [];
  const byMobile = new Map<string, Msg91ErrorCode>();
  let nextError: { remaining: number; code: Msg91ErrorCode } = { remaining: 0, code: '301' };
  let nextHttp: { remaining: number; status: number } = { remaining: 0, status: 503 };

  function handle(req: IncomingMessage, res: ServerResponse, json: Record<string, unknown> | undefined): number {
    if (nextHttp.remaining > 0) {
      nextHttp.remaining -= 1;
      return nextHttp.status === 429 ? error(res, 429, 'Too many requests') : error(res, nextHttp.status, 'Internal server error');
    }
    const path = new URL(req.url ?? '/', 'http://fake').pathname.replace(/\/$/, '');
    if (path !== '/api/v5/flow') return error(res, 404, 'Not found');
    if (req.method !== 'POST') return error(res, 405, 'Method not allowed');
    if (req.headers.authkey !== opts.authKey) return error(res, 401, 'Authentication failure', '207');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json') || !json) return error(res, 400, 'Invalid JSON body');

    if (typeof json.template_id !== 'string' || !json.template_id) return error(res, 400, 'template_id is required');
    if (typeof json.sender !== 'string' || !/^[A-Za-z]{6}$/.test(json.sender)) return error(res, 400, 'Invalid sender ID', '203');
    if (typeof json.DLT_TE_ID !== 'string' || !/^\d{15,20}$/.test(json.DLT_TE_ID)) return error(res, 400, 'DLT template id missing', '203');
    if ('unicode' in json && json.unicode !== 1 && json.unicode !== 0) return error(res, 400, 'unicode must be 0 or 1');
    const recipients = json.recipients;
    if (!Array.isArray(recipients) || recipients.length !== 1) return error(res, 400, 'recipients must hold one recipient', '101');
    const recipient = recipients[0] as Record<string, unknown>;
    const mobiles = recipient.mobiles;
    if (typeof mobiles !== 'string' || mobiles === '') return error(res, 400, 'Missing mobile number', '101');
    if (!/^[1-9]\d{7,14}$/.test(mobiles)) return error(res, 400, 'Invalid mobile number', '202');
    if (typeof recipient[textVariable] !== 'string' || recipient[textVariable] === '') return error(res, 400, 'Missing message', '102');

    let code: Msg91ErrorCode | undefined;
    if (nextError.remaining > 0) {
      nextError.remaining -= 1;
      code = nextError.code;
    }
    code ??= byMobile.get(mobiles);
    if (code) return error(res, ERRORS[code].http, ERRORS[code].message, code);
    return reply(res, 200, { type: 'success', message: randomBytes(12).toString('hex') });
  }

  const server = createServer((req, res) => {
    readBody(req).then(
      (rawBody) => {
        let json: Record<string, unknown> | undefined;
        try {
          const parsed = JSON.parse(rawBody) as unknown;
          if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        const replyStatus = handle(req, res, json);
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
    requests,
    errorFor(mobile, code) {
      byMobile.set(mobile, code);
    },
    errorNext(n, code) {
      nextError = { remaining: n, code };
    },
    failNext(n, status) {
      nextHttp = { remaining: n, status };
    },
    async postReport(url, report, version) {
      const entry = {
        date: '2025-03-01 10:00:05',
        number: report.number,
        status: report.status,
        desc: report.desc,
        ...(report.failedReason !== undefined ? { failedReason: report.failedReason } : {}),
      };
      const init =
        version === 2
          ? {
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: new URLSearchParams({
                data: JSON.stringify([{ senderId: 'ISPNET', requestId: report.requestId, report: [entry], userId: '27001', campaignName: 'API' }]),
              }).toString(),
            }
          : {
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ ...entry, senderId: 'ISPNET', requestId: report.requestId, userId: '27001', campaignName: 'API' }),
            };
      const res = await fetch(url, { method: 'POST', ...init });
      await res.arrayBuffer();
      return res.status;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
