/**
 * A local stand-in for MessageBird's classic SMS API, for tests: POST /messages with
 * `Authorization: AccessKey <key>` and a JSON (or form) body. It checks the key (answering
 * MessageBird's 401 with error code 2), the body like MessageBird (originator, recipients as
 * MSISDNs, body, datacoding plain/unicode/auto), answers 201 with the message object, and can be
 * told to answer MessageBird's error JSON (`{ errors: [{ code, description, parameter }] }`) for
 * given recipients or the next N requests.
 *
 * It also builds status reports as MessageBird sends them to a reportUrl (a GET with the
 * status in query parameters), signed with a MessageBird-Signature-JWT (HS256 with the signing
 * key, url_hash and payload_hash claims), written independently of the adapter.
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { WebhookRequest } from '../../shared/ports.js';
import { listenOnLoopback } from './net.js';

export type MessageBirdFailure = 'invalid-recipient' | 'invalid-originator' | 'no-balance' | 'rate-limited' | 'server-error';

/** MessageBird's answer for each failure. */
export const MESSAGEBIRD_FAILURES: Record<MessageBirdFailure, { status: number; code: number; description: string; parameter: string | null }> = {
  'invalid-recipient': { status: 422, code: 10, description: 'no (correct) recipients found', parameter: 'recipients' },
  'invalid-originator': { status: 422, code: 10, description: 'originator is invalid', parameter: 'originator' },
  'no-balance': { status: 422, code: 25, description: 'Not enough balance', parameter: null },
  'rate-limited': { status: 429, code: 429, description: 'Too many requests', parameter: null },
  'server-error': { status: 500, code: 99, description: 'Internal error', parameter: null },
};

export interface MessageBirdRecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  json: Record<string, unknown> | undefined;
  replyStatus: number;
}

export interface StatusReport {
  id: string;
  status: string;
  recipient?: string;
  reference?: string;
  statusReason?: string;
  statusErrorCode?: string;
}

export interface FakeMessageBird {
  baseUrl: string;
  requests: MessageBirdRecordedRequest[];
  failFor(msisdn: string, failure: MessageBirdFailure): void;
  failNext(n: number, failure: MessageBirdFailure): void;
  /**
   * A status report as MessageBird sends it: GET reportUrl with the report's query parameters,
   * signed with `signingKey` (the fake's own by default). `claims` override the JWT's claims
   * (undefined removes one); `nowSeconds` is when it was signed.
   */
  statusReport(reportUrl: string, report: StatusReport, options?: { signingKey?: string; claims?: Record<string, unknown>; nowSeconds?: number; alg?: 'HS256' | 'HS512' }): WebhookRequest;
  close(): Promise<void>;
}

const MSISDN = /^[1-9]\d{6,14}$/;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function errorReply(res: ServerResponse, status: number, code: number, description: string, parameter: string | null): number {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ code, description, parameter }] }));
  return status;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** Signs a JWT the way MessageBird does, written here independently of the adapter. */
export function signMessageBirdJwt(claims: Record<string, unknown>, signingKey: string, alg: 'HS256' | 'HS512' = 'HS256'): string {
  const head = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const mac = createHmac(alg === 'HS256' ? 'sha256' : 'sha512', signingKey).update(`${head}.${body}`).digest();
  return `${head}.${body}.${b64url(mac)}`;
}

export async function startFakeMessageBird(opts: { accessKey: string; signingKey: string }): Promise<FakeMessageBird> {
  const requests: MessageBirdRecordedRequest[] = [];
  const byRecipient = new Map<string, MessageBirdFailure>();
  let next: { remaining: number; failure: MessageBirdFailure } = { remaining: 0, failure: 'server-error' };

  function fail(res: ServerResponse, failure: MessageBirdFailure): number {
    const f = MESSAGEBIRD_FAILURES[failure];
    return errorReply(res, f.status, f.code, f.description, f.parameter);
  }

  function handle(req: IncomingMessage, res: ServerResponse, json: Record<string, unknown> | undefined): number {
    if (req.method !== 'POST' || req.url !== '/messages') return errorReply(res, 404, 20, 'message not found', null);
    if (req.headers.authorization !== `AccessKey ${opts.accessKey}`) {
      return errorReply(res, 401, 2, 'Request not allowed (incorrect access_key)', 'access_key');
    }
    if (!json) return errorReply(res, 422, 21, 'Bad request: the body is neither JSON nor a form', null);
    if (next.remaining > 0) {
      next.remaining -= 1;
      return fail(res, next.failure);
    }
    const { originator, recipients, body, datacoding } = json as { originator?: unknown; recipients?: unknown; body?: unknown; datacoding?: unknown };
    if (typeof originator !== 'string' || originator === '') return errorReply(res, 422, 9, 'originator is required', 'originator');
    if (!/^\+?\d{1,17}$/.test(originator) && !/^[A-Za-z0-9 ]{1,11}$/.test(originator)) return errorReply(res, 422, 10, 'originator is invalid', 'originator');
    if (typeof body !== 'string' || body === '') return errorReply(res, 422, 9, 'body is required', 'body');
    const list = Array.isArray(recipients) ? recipients.map(String) : typeof recipients === 'string' ? recipients.split(',') : [];
    if (list.length === 0) return errorReply(res, 422, 9, 'recipients is required', 'recipients');
    if (datacoding !== undefined && !['plain', 'unicode', 'auto'].includes(String(datacoding))) {
      return errorReply(res, 422, 10, 'datacoding must be plain, unicode or auto', 'datacoding');
    }
    for (const recipient of list) {
      const failure = byRecipient.get(recipient);
      if (failure) return fail(res, failure);
      if (!MSISDN.test(recipient)) return errorReply(res, 422, 10, 'no (correct) recipients found', 'recipients');
    }
    const id = randomBytes(16).toString('hex');
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00');
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id,
        href: `https://rest.messagebird.com/messages/${id}`,
        direction: 'mt',
        type: 'sms',
        originator,
        body,
        reference: json.reference ?? null,
        validity: null,
        gateway: 10,
        typeDetails: {},
        datacoding: datacoding ?? 'plain',
        mclass: 1,
        scheduledDatetime: null,
        createdDatetime: now,
        reportUrl: json.reportUrl ?? null,
        recipients: {
          totalCount: list.length,
          totalSentCount: list.length,
          totalDeliveredCount: 0,
          totalDeliveryFailedCount: 0,
          items: list.map((recipient) => ({ recipient: Number(recipient), status: 'sent', statusDatetime: now })),
        },
      }),
    );
    return 201;
  }

  const server = createServer((req, res) => {
    readBody(req).then(
      (rawBody) => {
        let json: Record<string, unknown> | undefined;
        const type = req.headers['content-type'] ?? '';
        if (type.startsWith('application/json')) {
          try {
            const parsed = JSON.parse(rawBody) as unknown;
            json = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
          } catch {
            json = undefined;
          }
        } else if (type.startsWith('application/x-www-form-urlencoded')) {
          json = Object.fromEntries(new URLSearchParams(rawBody));
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
    failFor(msisdn, failure) {
      byRecipient.set(msisdn, failure);
    },
    failNext(n, failure) {
      next = { remaining: n, failure };
    },
    statusReport(reportUrl, report, options = {}) {
      const params = new URLSearchParams();
      params.set('id', report.id);
      if (report.reference) params.set('reference', report.reference);
      params.set('recipient', report.recipient ?? '8801711000001');
      params.set('status', report.status);
      params.set('statusDatetime', new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00'));
      if (report.statusReason) params.set('statusReason', report.statusReason);
      if (report.statusErrorCode) params.set('statusErrorCode', report.statusErrorCode);
      const url = `${reportUrl}${reportUrl.includes('?') ? '&' : '?'}${params}`;
      const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
      const claims: Record<string, unknown> = {
        iss: 'MessageBird',
        nbf: now,
        iat: now,
        exp: now + 60,
        jti: randomUUID(),
        url_hash: createHash('sha256').update(url).digest('hex'),
        ...options.claims,
      };
      for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
      const jwt = signMessageBirdJwt(claims, options.signingKey ?? opts.signingKey, options.alg);
      return { method: 'GET', url, headers: { 'messagebird-signature-jwt': jwt, 'user-agent': 'MessageBird/ReportDelivery' }, rawBody: '' };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
