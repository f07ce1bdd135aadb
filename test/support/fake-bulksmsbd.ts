/**
 * A local stand-in for BulkSMSBD's single SMS API (/api/smsapi, GET or POST), for tests. It checks
 * the API key (1011 User Id not found), the sender id (1002), the required fields (1003) and the
 * type (text or unicode), answers 202 with a message_id, and can be told to answer a recipient
 * error (1001), a gateway error (1007 balance insufficient, 1032 IP not whitelisted) or a
 * throttling reply (HTTP 429) for given numbers or the next N requests. It records every request.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { listenOnLoopback } from './net.js';

export interface FakeBulkSmsBdOptions {
  apiKey: string;
  senderId: string;
}

export interface BulkSmsBdRecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** The parameters, from the query string (GET) or the form body (POST). */
  params: Record<string, string>;
  replyStatus: number;
  replyBody: string;
}

export type BulkSmsBdFailure = 'invalid-number' | 'balance-insufficient' | 'ip-not-whitelisted' | 'throttled' | 'internal-error';

export interface FakeBulkSmsBd {
  baseUrl: string;
  requests: BulkSmsBdRecordedRequest[];
  failFor(number: string, failure: BulkSmsBdFailure): void;
  failNext(n: number, failure: BulkSmsBdFailure): void;
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

const error = (code: number, message: string) => ({ status: 200, body: JSON.stringify({ response_code: code, success_message: '', error_message: message }) });

export async function startFakeBulkSmsBd(opts: FakeBulkSmsBdOptions): Promise<FakeBulkSmsBd> {
  const requests: BulkSmsBdRecordedRequest[] = [];
  const perNumber = new Map<string, BulkSmsBdFailure>();
  let next: { remaining: number; failure: BulkSmsBdFailure } = { remaining: 0, failure: 'throttled' };
  let lastId = 59_846_000;

  function answer(failure: BulkSmsBdFailure): { status: number; body: string } {
    switch (failure) {
      case 'invalid-number':
        return error(1001, 'Invalid Number');
      case 'balance-insufficient':
        return error(1007, 'Balance Insufficient');
      case 'ip-not-whitelisted':
        return error(1032, 'ip Not whitelisted');
      case 'throttled':
        return { status: 429, body: 'Too Many Requests' };
      case 'internal-error':
        return error(1005, 'Internal Error');
    }
  }

  function handle(method: string, path: string, params: Record<string, string>, contentType: string): { status: number; body: string } {
    if (path !== '/api/smsapi' || (method !== 'GET' && method !== 'POST')) return { status: 404, body: 'Not Found' };
    if (method === 'POST' && !contentType.startsWith('application/x-www-form-urlencoded')) return error(1003, 'Please Required all fields');
    if (params.api_key !== opts.apiKey) return error(1011, 'User Id not found');
    if (!params.number || !params.message || !params.senderid || !params.type) return error(1003, 'Please Required all fields');
    if (params.senderid !== opts.senderId) return error(1002, 'sender id not correct/sender id is disabled');
    if (params.type !== 'text' && params.type !== 'unicode') return error(1003, 'Please Required all fields');
    if (next.remaining > 0) {
      next.remaining--;
      return answer(next.failure);
    }
    const failure = perNumber.get(params.number);
    if (failure) return answer(failure);
    if (!/^8801[3-9]\d{8}$/.test(params.number)) return error(1001, 'Invalid Number');
    lastId++;
    return { status: 200, body: JSON.stringify({ response_code: 202, message_id: lastId, success_message: 'SMS Submitted Successfully 1', error_message: '' }) };
  }

  const server = createServer((req, res) => {
    void readBody(req).then((rawBody) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const params = Object.fromEntries(req.method === 'POST' ? new URLSearchParams(rawBody) : url.searchParams);
      const { status, body } = handle(req.method ?? '', url.pathname, params, String(req.headers['content-type'] ?? ''));
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody, params, replyStatus: status, replyBody: body });
      res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/plain' });
      res.end(body);
    });
  });
  const port = await listenOnLoopback(server);

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    failFor(number, failure) {
      perNumber.set(number, failure);
    },
    failNext(n, failure) {
      next = { remaining: n, failure };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
