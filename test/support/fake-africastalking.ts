/**
 * A local stand-in for Africa's Talking's SMS API (POST /version1/messaging), for tests. It checks
 * the apiKey header and the username, the form fields and the Accept header, answers 201 with
 * SMSMessageData like the real service, and can be told to answer a recipient status code for
 * given numbers, an account-wide failure (e.g. InsufficientBalance) or an HTTP failure (429, 5xx)
 * for the next N requests. It can also post delivery reports (form-encoded id, status,
 * phoneNumber, networkCode, failureReason) to a callback URL, as the dashboard-registered
 * callback does.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './net.js';

export interface FakeAfricasTalkingOptions {
  username: string;
  apiKey: string;
}

export interface AtRecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  form: Record<string, string>;
  replyStatus: number;
}

export type AtStatusName =
  | 'RiskHold'
  | 'InvalidSenderId'
  | 'InvalidPhoneNumber'
  | 'UnsupportedNumberType'
  | 'InsufficientBalance'
  | 'UserInBlacklist'
  | 'CouldNotRoute'
  | 'DoNotDisturbRejection'
  | 'InternalServerError'
  | 'GatewayError'
  | 'RejectedByGateway';

const STATUS_CODES: Record<AtStatusName, number> = {
  RiskHold: 401,
  InvalidSenderId: 402,
  InvalidPhoneNumber: 403,
  UnsupportedNumberType: 404,
  InsufficientBalance: 405,
  UserInBlacklist: 406,
  CouldNotRoute: 407,
  DoNotDisturbRejection: 409,
  InternalServerError: 500,
  GatewayError: 501,
  RejectedByGateway: 502,
};

export interface FakeAfricasTalking {
  baseUrl: string;
  requests: AtRecordedRequest[];
  /** Numbers answered with this per-recipient status instead of Success. */
  recipientStatus(number: string, status: AtStatusName): void;
  /** The next n requests answer this per-recipient status, whatever the number. */
  statusNext(n: number, status: AtStatusName): void;
  /** The next n requests answer HTTP `status` (429 or 5xx) with a plain-text body. */
  failNext(n: number, status: 429 | 500 | 502 | 503): void;
  /** Posts one delivery report to `url` like Africa's Talking does; resolves with the receiver's status. */
  postDeliveryReport(url: string, report: { id: string; status: string; phoneNumber: string; failureReason?: string }): Promise<number>;
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

function text(res: ServerResponse, status: number, body: string): number {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
  return status;
}

function json(res: ServerResponse, status: number, body: unknown): number {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
  return status;
}

export async function startFakeAfricasTalking(opts: FakeAfricasTalkingOptions): Promise<FakeAfricasTalking> {
  const requests: AtRecordedRequest[] = [];
  const byNumber = new Map<string, AtStatusName>();
  let nextStatus: { remaining: number; status: AtStatusName } = { remaining: 0, status: 'InternalServerError' };
  let nextHttp: { remaining: number; status: number } = { remaining: 0, status: 503 };

  function handle(req: IncomingMessage, res: ServerResponse, form: Record<string, string>): number {
    if (nextHttp.remaining > 0) {
      nextHttp.remaining -= 1;
      return nextHttp.status === 429 ? text(res, 429, 'Too Many Requests') : text(res, nextHttp.status, 'Service Unavailable');
    }
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (path !== '/version1/messaging') return text(res, 404, 'Not Found');
    if (req.method !== 'POST') return text(res, 405, 'Method Not Allowed');
    if (req.headers.apikey !== opts.apiKey || form.username !== opts.username) {
      return text(res, 401, 'The supplied authentication is invalid');
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return text(res, 415, 'Unsupported Media Type');
    }
    if (!String(req.headers.accept ?? '').includes('application/json')) return text(res, 406, 'Not Acceptable');
    if (!form.to) return text(res, 400, "Request is missing required form field 'to'");
    if (!form.message) return text(res, 400, "Request is missing required form field 'message'");
    const allowed = new Set(['username', 'to', 'message', 'from', 'bulkSMSMode', 'enqueue', 'keyword', 'linkId', 'retryDurationInHours']);
    const unknown = Object.keys(form).find((k) => !allowed.has(k));
    if (unknown) return text(res, 400, `Unknown form field '${unknown}'`);

    let forced: AtStatusName | undefined;
    if (nextStatus.remaining > 0) {
      nextStatus.remaining -= 1;
      forced = nextStatus.status;
    }
    const status = forced ?? byNumber.get(form.to);
    if (status === 'InsufficientBalance' && forced) {
      // An account-wide refusal: Africa's Talking names it in Message and lists no recipient.
      return json(res, 201, { SMSMessageData: { Message: 'InsufficientBalance', Recipients: [] } });
    }
    if (status) {
      return json(res, 201, {
        SMSMessageData: {
          Message: 'Sent to 0/1 Total Cost: 0',
          Recipients: [{ statusCode: STATUS_CODES[status], number: form.to, status, cost: '0', messageId: 'None' }],
        },
      });
    }
    return json(res, 201, {
      SMSMessageData: {
        Message: 'Sent to 1/1 Total Cost: KES 0.8000',
        Recipients: [{ statusCode: 101, number: form.to, status: 'Success', cost: 'KES 0.8000', messageId: `ATXid_${randomBytes(16).toString('hex')}` }],
      },
    });
  }

  const server = createServer((req, res) => {
    readBody(req).then(
      (rawBody) => {
        const form = Object.fromEntries(new URLSearchParams(rawBody));
        const replyStatus = handle(req, res, form);
        requests.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers }, rawBody, form, replyStatus });
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
    recipientStatus(number, status) {
      byNumber.set(number, status);
    },
    statusNext(n, status) {
      nextStatus = { remaining: n, status };
    },
    failNext(n, status) {
      nextHttp = { remaining: n, status };
    },
    async postDeliveryReport(url, report) {
      const params = new URLSearchParams({ id: report.id, status: report.status, phoneNumber: report.phoneNumber, networkCode: '63902', retryCount: '0' });
      if (report.failureReason) params.set('failureReason', report.failureReason);
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: params.toString() });
      await res.arrayBuffer();
      return res.status;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
