/**
 * A local stand-in for a WAHA server (devlikeapro/waha, the WhatsApp HTTP API bridge), for tests.
 * It answers the two calls the adapter makes, as WAHA does:
 *
 *   GET  /api/contacts/check-exists?phone=<digits>&session=<name>  → { numberExists, chatId? }
 *   POST /api/sendText  { session, chatId, text }                    → 201 and the engine's message
 *
 * - The API key is checked like WAHA_API_KEY: a missing or wrong X-Api-Key header gets
 *   401 { message: 'Unauthorized', statusCode: 401 }.
 * - An unknown session gets NestJS's 404; a session that is not WORKING gets WAHA's 422
 *   { error: 'Session status is not as expected...', session, status, expected: ['WORKING'] }.
 * - A body that fails validation gets class-validator's 400 { statusCode, message: [...], error }.
 * - The sendText reply has the shape of the configured engine: WEBJS (whatsapp-web.js message, id
 *   as { fromMe, remote, id, _serialized }), NOWEB (Baileys message, { key: { remoteJid, fromMe,
 *   id } }), WAMESSAGE (WAHA's documented WAMessage, id as the serialized string) or EMPTY (the
 *   201 with no body a WEBJS release answered).
 * - `failNext` answers the next requests with a given status and body (rate limits, 500s, ...).
 *
 * It also builds webhook requests as WAHA posts them ({ event, session, payload, ... } with
 * X-Webhook-Request-Id, X-Webhook-Timestamp and, with an HMAC key, X-Webhook-Hmac and
 * X-Webhook-Hmac-Algorithm), signed here independently of the adapter.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { WebhookRequest } from '../../shared/ports.js';
import { listenOnLoopback } from './net.js';

export type FakeWahaEngine = 'WEBJS' | 'NOWEB' | 'WAMESSAGE' | 'EMPTY';
export type FakeSessionStatus = 'STOPPED' | 'STARTING' | 'SCAN_QR_CODE' | 'WORKING' | 'FAILED';

export interface FakeWahaOptions {
  apiKey: string;
  /** Sessions and their status. Default: { default: 'WORKING' }. */
  sessions?: Record<string, FakeSessionStatus>;
  engine?: FakeWahaEngine;
  /** Digits of numbers that are not on WhatsApp (check-exists says numberExists: false). */
  notOnWhatsApp?: string[];
  /** check-exists answers this chat id for these digits (WhatsApp's own id, e.g. a Brazilian number without its 9). */
  chatIds?: Record<string, string>;
  /** The linked account's own number (`me`). */
  me?: string;
}

export interface FakeWahaRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  rawBody: string;
  json?: unknown;
  replyStatus: number;
}

/** A message the fake "sent". */
export interface FakeWahaSent {
  session: string;
  chatId: string;
  text: string;
  /** The WhatsApp message key id, e.g. 3EB0A1B2... */
  keyId: string;
  /** WAHA's serialized id, as its webhooks name the message: true_<chatId>_<keyId>. */
  serializedId: string;
}

export interface FakeWaha {
  baseUrl: string;
  requests: FakeWahaRequest[];
  sent: FakeWahaSent[];
  engine: FakeWahaEngine;
  setSessionStatus(session: string, status: FakeSessionStatus): void;
  /** Answers the next `times` requests with this status, JSON body and headers. */
  failNext(status: number, body: unknown, options?: { times?: number; headers?: Record<string, string> }): void;
  close(): Promise<void>;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const newKeyId = () => `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;

export async function startFakeWaha(opts: FakeWahaOptions): Promise<FakeWaha> {
  const sessions: Record<string, FakeSessionStatus> = { ...(opts.sessions ?? { default: 'WORKING' }) };
  const notOnWhatsApp = new Set(opts.notOnWhatsApp ?? []);
  const me = opts.me ?? '8801900000001';
  const requests: FakeWahaRequest[] = [];
  const sent: FakeWahaSent[] = [];
  let failures: { remaining: number; answer: Answer } = { remaining: 0, answer: { status: 500 } };

  const fake: FakeWaha = {
    baseUrl: '',
    requests,
    sent,
    engine: opts.engine ?? 'WEBJS',
    setSessionStatus(session, status) {
      sessions[session] = status;
    },
    failNext(status, body, options) {
      failures = { remaining: options?.times ?? 1, answer: { status, body, ...(options?.headers ? { headers: options.headers } : {}) } };
    },
    close: async () => {},
  };

  function sessionProblem(name: unknown): Answer | undefined {
    if (typeof name !== 'string' || !Object.hasOwn(sessions, name)) {
      return {
        status: 404,
        body: {
          message: `We didn't find a session with name '${String(name)}'.\nPlease start it first by using POST /api/sessions/${String(name)}/start request`,
          error: 'Not Found',
          statusCode: 404,
        },
      };
    }
    const status = sessions[name]!;
    if (status !== 'WORKING') {
      return {
        status: 422,
        body: { error: 'Session status is not as expected. Try again later or restart the session', session: name, status, expected: ['WORKING'] },
      };
    }
    return undefined;
  }

  function badRequest(messages: string[]): Answer {
    return { status: 400, body: { statusCode: 400, message: messages, error: 'Bad Request' } };
  }

  function sentReply(message: FakeWahaSent): Answer {
    const digits = message.chatId.split('@')[0]!;
    const timestamp = 1762738750;
    switch (fake.engine) {
      case 'EMPTY':
        return { status: 201 };
      case 'NOWEB':
        return {
          status: 201,
          body: {
            key: { remoteJid: `${digits}@s.whatsapp.net`, fromMe: true, id: message.keyId },
            message: { extendedTextMessage: { text: message.text } },
            messageTimestamp: String(timestamp),
            status: 'PENDING',
          },
        };
      case 'WAMESSAGE':
        return {
          status: 201,
          body: {
            id: message.serializedId,
            timestamp,
            from: `${me}@c.us`,
            fromMe: true,
            source: 'api',
            to: message.chatId,
            body: message.text,
            hasMedia: false,
            ack: 1,
            ackName: 'SERVER',
          },
        };
      case 'WEBJS': {
        const id = { fromMe: true, remote: message.chatId, id: message.keyId, _serialized: message.serializedId };
        return {
          status: 201,
          body: {
            _data: { id, body: message.text, type: 'chat', t: timestamp, ack: 0, isNewMsg: true },
            id,
            ack: 0,
            hasMedia: false,
            body: message.text,
            type: 'chat',
            timestamp,
            from: `${me}@c.us`,
            to: message.chatId,
            fromMe: true,
          },
        };
      }
    }
  }

  function answer(req: IncomingMessage, url: URL, json: unknown): Answer {
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      return failures.answer;
    }
    if (req.headers['x-api-key'] !== opts.apiKey) return { status: 401, body: { message: 'Unauthorized', statusCode: 401 } };

    if (req.method === 'GET' && url.pathname === '/api/contacts/check-exists') {
      const phone = url.searchParams.get('phone');
      const problem = sessionProblem(url.searchParams.get('session') ?? 'default');
      if (problem) return problem;
      if (!phone || !/^\d+$/.test(phone)) return badRequest(['phone must be a string']);
      if (notOnWhatsApp.has(phone)) return { status: 200, body: { numberExists: false } };
      return { status: 200, body: { numberExists: true, chatId: opts.chatIds?.[phone] ?? `${phone}@c.us` } };
    }

    if (req.method === 'POST' && url.pathname === '/api/sendText') {
      if (!isObject(json)) return badRequest(['chatId must be a string', 'text must be a string']);
      const problems: string[] = [];
      if (typeof json.chatId !== 'string') problems.push('chatId must be a string');
      if (typeof json.text !== 'string') problems.push('text must be a string');
      if (json.session !== undefined && typeof json.session !== 'string') problems.push('session must be a string');
      if (problems.length > 0) return badRequest(problems);
      const session = (json.session as string | undefined) ?? 'default';
      const problem = sessionProblem(session);
      if (problem) return problem;
      const chatId = json.chatId as string;
      const keyId = newKeyId();
      const message: FakeWahaSent = { session, chatId, text: json.text as string, keyId, serializedId: `true_${chatId}_${keyId}` };
      sent.push(message);
      return sentReply(message);
    }

    return { status: 404, body: { message: `Cannot ${req.method} ${url.pathname}`, error: 'Not Found', statusCode: 404 } };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    readBody(req).then(
      (rawBody) => {
        let json: unknown;
        try {
          json = rawBody === '' ? undefined : (JSON.parse(rawBody) as unknown);
        } catch {
          json = undefined;
        }
        const url = new URL(req.url ?? '/', 'http://fake-waha');
        const reply = answer(req, url, json);
        requests.push({
          method: req.method ?? '',
          path: url.pathname,
          query: url.searchParams,
          headers: { ...req.headers },
          rawBody,
          ...(json !== undefined ? { json } : {}),
          replyStatus: reply.status,
        });
        const text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        res.writeHead(reply.status, { ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...reply.headers });
        res.end(text);
      },
      () => {
        res.writeHead(400);
        res.end();
      },
    );
  });
  const port = await listenOnLoopback(server);
  fake.baseUrl = `http://127.0.0.1:${port}`;
  fake.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  };
  return fake;
}

// ---- webhooks as WAHA posts them ----

export const ACK_NAMES: Record<number, string> = { [-1]: 'ERROR', 0: 'PENDING', 1: 'SERVER', 2: 'DEVICE', 3: 'READ', 4: 'PLAYED' };

/** The event envelope WAHA wraps every payload in. */
export function wahaEvent(event: string, session: string, payload: unknown, engine = 'WEBJS'): Record<string, unknown> {
  return {
    id: `evt_${randomBytes(13).toString('hex')}`,
    timestamp: 1762738751234,
    event,
    session,
    metadata: {},
    me: { id: '8801900000001@c.us', pushName: 'ISP' },
    payload,
    engine,
    environment: { version: '2025.11.1', engine, tier: 'CORE', browser: null },
  };
}

/** A message.ack event for a message WAHA sent (from our account to `chatId`). */
export function ackEvent(session: string, serializedId: string, chatId: string, ack: number, options?: { fromMe?: boolean; withName?: boolean; withNumber?: boolean }): Record<string, unknown> {
  return wahaEvent('message.ack', session, {
    id: serializedId,
    from: chatId,
    to: chatId,
    participant: null,
    fromMe: options?.fromMe ?? true,
    ...(options?.withNumber === false ? {} : { ack }),
    ...(options?.withName === false ? {} : { ackName: ACK_NAMES[ack] ?? 'UNKNOWN' }),
  });
}

export interface FakeInboundMessage {
  keyId: string;
  /** The sender's chat id, e.g. 8801711223344@c.us. */
  from: string;
  body: string;
  /** Unix seconds. */
  timestamp: number;
  fromMe?: boolean;
  media?: { mimetype: string; filename?: string };
}

/** A `message` event: a message someone wrote to the linked account (or, fromMe, one it wrote). */
export function messageEvent(session: string, message: FakeInboundMessage): Record<string, unknown> {
  const fromMe = message.fromMe ?? false;
  return wahaEvent('message', session, {
    id: `${fromMe}_${message.from}_${message.keyId}`,
    timestamp: message.timestamp,
    from: message.from,
    fromMe,
    source: 'app',
    body: message.body,
    to: null,
    participant: null,
    hasMedia: message.media !== undefined,
    media: message.media ? { url: null, mimetype: message.media.mimetype, filename: message.media.filename ?? null } : null,
    ack: 2,
    ackName: 'DEVICE',
    vCards: [],
    _data: {},
  });
}

/** X-Webhook-Hmac for a body, written here independently of the adapter: hex HMAC-SHA512 of the raw body. */
export function wahaHmac(key: string, rawBody: string): string {
  const hmac = createHmac('sha512', Buffer.from(key, 'utf8'));
  hmac.update(Buffer.from(rawBody, 'utf8'));
  return hmac.digest('hex');
}

/** A webhook POST as WAHA sends it; with `hmacKey`, signed as a webhook with hmac.key configured. */
export function wahaWebhook(url: string, event: unknown, options?: { hmacKey?: string }): WebhookRequest {
  const rawBody = JSON.stringify(event);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'WAHA/2025.11.1',
    'x-webhook-request-id': randomBytes(16).toString('hex'),
    'x-webhook-timestamp': '1762738751234',
  };
  if (options?.hmacKey !== undefined) {
    headers['x-webhook-hmac'] = wahaHmac(options.hmacKey, rawBody);
    headers['x-webhook-hmac-algorithm'] = 'sha512';
  }
  return { method: 'POST', url, headers, rawBody };
}
