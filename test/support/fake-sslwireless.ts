/**
 * A local stand-in for SSL Wireless ISMS Plus v3 (POST /api/v3/send-sms, JSON), for tests. It checks
 * the JSON shape and the API token and SID like the real API (4001 for a bad token, 4002 for a SID
 * not on the account), answers the accepted reply with an smsinfo entry and a reference_id, and can
 * be told to answer a recipient error (4022), a gateway error (4017 insufficient balance) or a
 * throttling reply (HTTP 429) for given numbers or the next N requests. It records every request.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { listenOnLoopback } from './net.js';

export interface FakeSslWirelessOptions {
  apiToken: string;
  sid: string;
}

export interface SslWirelessRecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  json: Record<string, unknown> | undefined;
  replyStatus: number;
  replyBody: string;
}

/** What the fake answers instead of accepting. */
export type SslWirelessFailure = 'invalid-msisdn' | 'insufficient-balance' | 'ip-blacklisted' | 'throttled' | 'server-error';

export interface FakeSslWireless {
  baseUrl: string;
  requests: SslWirelessRecordedRequest[];
  /** Answers `failure` to every send to this MSISDN (digits, as sent). */
  failFor(msisdn: string, failure: SslWirelessFailure): void;
  /** Answers `failure` to the next n requests. */
  failNext(n: number, failure: SslWirelessFailure): void;
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

const failed = (code: number, message: string) => ({ status: 'FAILED', status_code: code, error_message: message });

export async function startFakeSslWireless(opts: FakeSslWirelessOptions): Promise<FakeSslWireless> {
  const requests: SslWirelessRecordedRequest[] = [];
  const perNumber = new Map<string, SslWirelessFailure>();
  let next: { remaining: number; failure: SslWirelessFailure } = { remaining: 0, failure: 'throttled' };

  function answer(failure: SslWirelessFailure): { status: number; body: unknown } {
    switch (failure) {
      case 'invalid-msisdn':
        return { status: 200, body: failed(4022, 'Invalid MSISDN') };
      case 'insufficient-balance':
        return { status: 200, body: failed(4017, 'Insufficient Balance') };
      case 'ip-blacklisted':
        return { status: 200, body: failed(4003, 'IP Blacklisted') };
      case 'throttled':
        return { status: 429, body: failed(4029, 'Too Many Requests') };
      case 'server-error':
        return { status: 503, body: 'Service Unavailable' };
    }
  }

  async function handle(req: IncomingMessage, rawBody: string): Promise<{ status: number; body: string }> {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/api/v3/send-sms') return { status: 404, body: 'Not Found' };
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return { status: 200, body: JSON.stringify(failed(4000, 'Invalid request format')) };
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(rawBody) as Record<string, unknown>;
    } catch {
      return { status: 200, body: JSON.stringify(failed(4000, 'Invalid request format')) };
    }
    const { api_token, sid, msisdn, sms, csms_id } = json;
    const keys = Object.keys(json).sort().join(',');
    if (keys !== 'api_token,csms_id,msisdn,sid,sms') return { status: 200, body: JSON.stringify(failed(4000, `Unexpected fields: ${keys}`)) };
    if (api_token !== opts.apiToken) return { status: 200, body: JSON.stringify(failed(4001, 'Unauthorized')) };
    if (sid !== opts.sid) return { status: 200, body: JSON.stringify(failed(4002, 'Invalid SID')) };
    if (typeof msisdn !== 'string' || typeof sms !== 'string' || sms === '' || typeof csms_id !== 'string' || csms_id === '' || csms_id.length > 20) {
      return { status: 200, body: JSON.stringify(failed(4000, 'Invalid parameters')) };
    }
    if (next.remaining > 0) {
      next.remaining--;
      const a = answer(next.failure);
      return { status: a.status, body: typeof a.body === 'string' ? a.body : JSON.stringify(a.body) };
    }
    const failure = perNumber.get(msisdn);
    if (failure) {
      const a = answer(failure);
      return { status: a.status, body: typeof a.body === 'string' ? a.body : JSON.stringify(a.body) };
    }
    if (!/^8801[3-9]\d{8}$/.test(msisdn)) return { status: 200, body: JSON.stringify(failed(4022, 'Invalid MSISDN')) };
    const bangla = /[^\x00-\x7F]/.test(sms);
    return {
      status: 200,
      body: JSON.stringify({
        status: 'SUCCESS',
        status_code: 200,
        error_message: '',
        smsinfo: [
          { sms_status: 'SUCCESS', status_message: 'Success', msisdn, sms_type: bangla ? 'BN' : 'EN', sms_body: sms, csms_id, reference_id: randomBytes(8).toString('hex') },
        ],
      }),
    };
  }

  const server = createServer((req, res) => {
    void readBody(req).then(async (rawBody) => {
      const { status, body } = await handle(req, rawBody);
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(rawBody) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody, json, replyStatus: status, replyBody: body });
      res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/plain' });
      res.end(body);
    });
  });
  const port = await listenOnLoopback(server);

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    failFor(msisdn, failure) {
      perNumber.set(msisdn, failure);
    },
    failNext(n, failure) {
      next = { remaining: n, failure };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
