/**
 * A local stand-in for the Telegram Bot API's sendMessage, for tests: POST /bot<token>/sendMessage
 * with a JSON body. It records every request, answers `{ ok: true, result: Message }` with message
 * ids counted per chat, and answers Telegram's error JSON (`{ ok: false, error_code, description,
 * parameters? }`) when told to fail. It checks nothing else: any token, chat and text is accepted.
 *
 * It also builds Update objects as Telegram posts them to a webhook, with the
 * X-Telegram-Bot-Api-Secret-Token header.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { WebhookRequest } from '../../shared/ports.js';
import { listenOnLoopback } from './net.js';

/** The failures the fake can be told to answer, as Telegram words them. */
export const TELEGRAM_FAILURES = {
  'chat-not-found': { status: 400, description: 'Bad Request: chat not found' },
  'thread-not-found': { status: 400, description: 'Bad Request: message thread not found' },
  'cant-parse-entities': {
    status: 400,
    description: "Bad Request: can't parse entities: Unsupported start tag \"blink\" at byte offset 0",
  },
  'group-migrated': { status: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat' },
  unauthorized: { status: 401, description: 'Unauthorized' },
  'not-found': { status: 404, description: 'Not Found' },
  blocked: { status: 403, description: 'Forbidden: bot was blocked by the user' },
  kicked: { status: 403, description: 'Forbidden: bot was kicked from the group chat' },
  'too-many-requests': { status: 429, description: 'Too Many Requests: retry after %d' },
  'server-error': { status: 500, description: 'Internal Server Error' },
} as const;

export type TelegramFailure = keyof typeof TELEGRAM_FAILURES;

export interface FakeTelegramRequest {
  method: string;
  /** The path as received, token included. */
  path: string;
  /** The token from /bot<token>/..., when the path has one. */
  token?: string;
  /** The method name from the path (sendMessage). */
  apiMethod?: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  json?: unknown;
  replyStatus: number;
  replyBody: unknown;
}

export interface FakeTelegram {
  baseUrl: string;
  requests: FakeTelegramRequest[];
  /**
   * The next `n` requests answer `failure`. For too-many-requests, `retryAfter` (default 7) is the
   * seconds in parameters.retry_after; for group-migrated, `migrateTo` the supergroup's new chat id.
   */
  failNext(failure: TelegramFailure, options?: { n?: number; retryAfter?: number; migrateTo?: number }): void;
  close(): Promise<void>;
}

export const FAKE_BOT_USERNAME = 'ispnotify_test_bot';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a chat looks like in a reply: negative ids are groups (-100… supergroups), positive ones private chats. */
function chatOf(chatId: unknown): Record<string, unknown> {
  if (typeof chatId === 'string' && chatId.startsWith('@')) return { id: -1001000000001, title: chatId.slice(1), username: chatId.slice(1), type: 'channel' };
  const id = typeof chatId === 'number' ? chatId : Number(chatId);
  if (id > 0) return { id, first_name: 'Operator', type: 'private' };
  return { id, title: 'NOC alerts', type: String(id).startsWith('-100') ? 'supergroup' : 'group' };
}

/** The text as a Telegram client shows it: markup removed, the four entities Telegram decodes decoded. */
function plainText(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

export async function startFakeTelegram(): Promise<FakeTelegram> {
  const requests: FakeTelegramRequest[] = [];
  const nextIdByChat = new Map<string, number>();
  let failures: { remaining: number; failure: TelegramFailure; retryAfter: number; migrateTo: number } = {
    remaining: 0,
    failure: 'server-error',
    retryAfter: 7,
    migrateTo: -1009999999999,
  };

  function error(failure: TelegramFailure): { status: number; body: unknown } {
    const { status, description } = TELEGRAM_FAILURES[failure];
    const parameters =
      failure === 'too-many-requests'
        ? { parameters: { retry_after: failures.retryAfter } }
        : failure === 'group-migrated'
          ? { parameters: { migrate_to_chat_id: failures.migrateTo } }
          : {};
    return { status, body: { ok: false, error_code: status, description: description.replace('%d', String(failures.retryAfter)), ...parameters } };
  }

  function answer(apiMethod: string | undefined, token: string | undefined, json: unknown): { status: number; body: unknown } {
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      return error(failures.failure);
    }
    if (token === undefined || apiMethod?.toLowerCase() !== 'sendmessage' || !isObject(json)) return error('not-found');
    const chat = chatOf(json.chat_id);
    const key = String(chat.id);
    const messageId = nextIdByChat.get(key) ?? 101;
    nextIdByChat.set(key, messageId + 1);
    const botId = Number(token.split(':')[0]);
    const reply = isObject(json.reply_parameters) ? json.reply_parameters : undefined;
    return {
      status: 200,
      body: {
        ok: true,
        result: {
          message_id: messageId,
          from: { id: Number.isFinite(botId) ? botId : 0, is_bot: true, first_name: 'ISPnotify test bot', username: FAKE_BOT_USERNAME },
          chat,
          date: Math.floor(Date.now() / 1000),
          ...(typeof json.message_thread_id === 'number' ? { message_thread_id: json.message_thread_id, is_topic_message: true } : {}),
          ...(reply && typeof reply.message_id === 'number'
            ? { reply_to_message: { message_id: reply.message_id, chat, date: Math.floor(Date.now() / 1000) - 60, text: '(earlier message)' } }
            : {}),
          text: typeof json.text === 'string' ? (json.parse_mode === 'HTML' ? plainText(json.text) : json.text) : '',
        },
      },
    };
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
        const path = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? '/', 'http://fake').pathname);
        const token = path?.[1];
        const apiMethod = path?.[2];
        const { status, body } = answer(apiMethod, token, json);
        requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          ...(token !== undefined ? { token } : {}),
          ...(apiMethod !== undefined ? { apiMethod } : {}),
          headers: { ...req.headers },
          rawBody,
          ...(json !== undefined ? { json } : {}),
          replyStatus: status,
          replyBody: body,
        });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
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
    failNext(failure, options = {}) {
      failures = { remaining: options.n ?? 1, failure, retryAfter: options.retryAfter ?? 7, migrateTo: options.migrateTo ?? -1009999999999 };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

// ---- updates as Telegram posts them to a webhook ----

export interface FakeSender {
  id: number;
  firstName: string;
  lastName?: string;
  username?: string;
  isBot?: boolean;
}

export interface FakeChat {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  title?: string;
  username?: string;
  isForum?: boolean;
}

export interface FakeMessage {
  messageId: number;
  chat: FakeChat;
  /** Absent for channel posts. */
  from?: FakeSender;
  senderChat?: FakeChat;
  authorSignature?: string;
  /** Unix seconds. */
  date: number;
  text?: string;
  /** Other Message fields, as Telegram names them (photo, new_chat_members, edit_date...). */
  extra?: Record<string, unknown>;
  /** The message this one replies to (a minimal Message, as Telegram nests it). */
  replyTo?: { messageId: number; from?: FakeSender; text?: string; forumTopicCreated?: { name: string } };
  threadId?: number;
}

const userJson = (user: FakeSender) => ({
  id: user.id,
  is_bot: user.isBot ?? false,
  first_name: user.firstName,
  ...(user.lastName !== undefined ? { last_name: user.lastName } : {}),
  ...(user.username !== undefined ? { username: user.username } : {}),
  ...(user.isBot ? {} : { language_code: 'en' }),
});

const chatJson = (chat: FakeChat) => ({
  id: chat.id,
  type: chat.type,
  ...(chat.title !== undefined ? { title: chat.title } : {}),
  ...(chat.username !== undefined ? { username: chat.username } : {}),
  ...(chat.isForum ? { is_forum: true } : {}),
});

/** A Message object as the Bot API serializes it. */
export function messageJson(message: FakeMessage): Record<string, unknown> {
  const reply = message.replyTo;
  return {
    message_id: message.messageId,
    ...(message.from ? { from: userJson(message.from) } : {}),
    ...(message.senderChat ? { sender_chat: chatJson(message.senderChat) } : {}),
    ...(message.threadId !== undefined ? { message_thread_id: message.threadId, is_topic_message: true } : {}),
    chat: chatJson(message.chat),
    date: message.date,
    ...(message.authorSignature !== undefined ? { author_signature: message.authorSignature } : {}),
    ...(reply
      ? {
          reply_to_message: {
            message_id: reply.messageId,
            ...(reply.from ? { from: userJson(reply.from) } : {}),
            chat: chatJson(message.chat),
            date: message.date - 120,
            ...(message.threadId !== undefined ? { message_thread_id: message.threadId } : {}),
            ...(reply.text !== undefined ? { text: reply.text } : {}),
            ...(reply.forumTopicCreated ? { forum_topic_created: { name: reply.forumTopicCreated.name, icon_color: 7322096 } } : {}),
          },
        }
      : {}),
    ...(message.text !== undefined ? { text: message.text } : {}),
    ...message.extra,
  };
}

let updateId = 518_000_000;

/** An Update with one field set (`message`, `edited_message`, `channel_post`, `my_chat_member`...). */
export function updateJson(field: string, value: unknown): Record<string, unknown> {
  updateId += 1;
  return { update_id: updateId, [field]: value };
}

/** The request Telegram makes to a webhook set with `secret_token` (omit the secret for none). */
export function webhookRequest(url: string, update: unknown, secret?: string): WebhookRequest {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...(secret !== undefined ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
    rawBody: JSON.stringify(update),
  };
}
