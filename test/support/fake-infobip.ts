/**
 * A local stand-in for Infobip's SMS API (POST /sms/2/text/advanced), for tests. It checks the
 * `App <apiKey>` header and the JSON shape strictly, answers Infobip's own replies (a 200 with the
 * message's status, REJECTED statuses in a 200, requestError bodies for bad auth, bad requests and
 * throttling) and records every request.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './net.js';

export interface FakeInfobipRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  json: unknown;
  replyStatus: number;
}

/** What the fake answers for a destination (digits, no "+"). */
export type InfobipOutcome = 'invalid-destination' | 'not-enough-credits' | 'sender-not-registered' | 'flooding';

export interface FakeInfobip {
  baseUrl: string;
  requests: FakeInfobipRequest[];
  /** Answer this outcome for messages to `to` (E.164 or digits). */
  outcome(to: string, outcome: InfobipOutcome): void;
  /** The next n requests answer HTTP `status` (429 by default) with Infobip's error body. */
  failNext(n: number, status?: 429 | 500 | 503): void;
  close(): Promise<void>;
}

const REJECTED: Record<InfobipOutcome, { id: number; name: string; description: string }> = {
  'invalid-destination': { id: 52, name: 'REJECTED_DESTINATION', description: 'Invalid destination address' },
  'not-enough-credits': { id: 12, name: 'REJECTED_NOT_ENOUGH_CREDITS', description: 'Not enough credits' },
  'sender-not-registered': { id: 11, name: 'REJECTED_SOURCE', description: 'Sender not registered' },
  flooding: { id: 20, name: 'REJECTED_FLOODING_FILTER', description: 'Flooding filter' },
};

function requestError(res: ServerResponse, status: number, messageId: string, text: string): number {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ requestError: { serviceException: { messageId, text } } }));
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

/** The one message ispnotify sends, checked like Infobip's validation; an error text when bad. */
function checkShape(json: unknown): string | undefined {
  const messages = (json as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(messages) || messages.length !== 1) return 'messages must be an array with one message';
  const m = messages[0] as Record<string, unknown>;
  const allowed = new Set(['destinations', 'from', 'text', 'notifyUrl', 'notifyContentType', 'callbackData']);
  for (const key of Object.keys(m)) if (!allowed.has(key)) return `unexpected field ${key}`;
  if (typeof m.text !== 'string' || m.text === '') return 'text is required';
  const destinations = m.destinations as Array<{ to?: unknown }> | undefined;
  if (!Array.isArray(destinations) || destinations.length !== 1 || typeof destinations[0]?.to !== 'string') return 'destinations[0].to is required';
  if (!/^\d{6,15}$/.test(destinations[0].to)) return 'destinations[0].to must be digits in international format';
  if (m.notifyUrl !== undefined && (typeof m.notifyUrl !== 'string' || m.notifyContentType !== 'application/json')) return 'notifyUrl needs notifyContentType application/json';
  return undefined;
}

export async function startFakeInfobip(opts: { apiKey: string }): Promise<FakeInfobip> {
  const requests: FakeInfobipRequest[] = [];
  const outcomes = new Map<string, InfobipOutcome>();
  let failures = { remaining: 0, status: 429 };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      return failures.status === 429
        ? requestError(res, 429, 'TOO_MANY_REQUESTS', 'Too many requests')
        : requestError(res, failures.status, 'GENERAL_ERROR', 'Something went wrong. Please contact support.');
    }
    if (req.headers.authorization !== `App ${opts.apiKey}`) return requestError(res, 401, 'UNAUTHORIZED', 'Invalid login details');
    if (req.method !== 'POST' || req.url !== '/sms/2/text/advanced') return requestError(res, 404, 'NOT_FOUND', 'Requested URL not found');
    if (!String(req.headers['content-type']).startsWith('application/json')) return requestError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type');
    const last = requests[requests.length - 1]!;
    const problem = checkShape(last.json);
    if (problem) return requestError(res, 400, 'BAD_REQUEST', `Bad request: ${problem}`);

    const to = ((last.json as { messages: Array<{ destinations: Array<{ to: string }> }> }).messages[0]!.destinations[0]!.to);
    const outcome = outcomes.get(to);
    const messageId = `${BigInt(`0x${randomBytes(7).toString('hex')}`)}`;
    const status = outcome
      ? { groupId: 5, groupName: 'REJECTED', ...REJECTED[outcome] }
      : { groupId: 1, groupName: 'PENDING', id: 26, name: 'PENDING_ACCEPTED', description: 'Message sent to next instance' };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ bulkId: `bulk-${messageId}`, messages: [{ to, status, messageId }] }));
    return 200;
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
      const record: FakeInfobipRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody, json, replyStatus: 0 };
      requests.push(record);
      record.replyStatus = await handle(req, res);
    })();
  });
  const port = await listenOnLoopback(server);

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    outcome(to, outcome) {
      outcomes.set(to.replace(/^\+/, ''), outcome);
    },
    failNext(n, status = 429) {
      failures = { remaining: n, status };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
