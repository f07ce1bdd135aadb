/**
 * The Telegram Bot API: alerts go out with POST /bot<token>/sendMessage (parse_mode HTML), and what
 * the team writes in the bot's chats comes back as Update objects posted to the webhook set with
 * setWebhook, which carries our secret in the X-Telegram-Bot-Api-Secret-Token header.
 *
 * Requests go to Telegram's official host only; tests and staging set ISPNOTIFY_BASE_URL_TELEGRAM
 * in the deployment's environment (see ../base-url.ts).
 *
 * The bot token is part of every request's URL, so no error this adapter throws may carry a URL or
 * anything Telegram echoed without the token scrubbed out of it first (see `withoutToken`).
 *
 * No delivery receipts (the Bot API has none: a message Telegram accepted is `sent`, and final) and
 * no `lookup` (a sent message cannot be read back by its id).
 */
import { z } from 'zod';
import { GatewayFault, ProviderRejected, ProviderThrottled, ProviderUnavailable, invalid } from '../../../domain/errors.js';
import type { OutboundTelegram, TelegramChatMessage, TelegramProvider, WebhookRequest } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { classifyHttpFailure, postJson, timingSafeEqualStrings, type HttpReply } from '../http.js';

/** The Bot API's origin. */
export const TELEGRAM_API_BASE_URL = 'https://api.telegram.org';

/** The header Telegram sends the setWebhook `secret_token` in (lower-cased, as WebhookRequest has them). */
export const TELEGRAM_SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/**
 * Telegram's documented broadcast limit: about 30 messages per second per bot (and about one per
 * second per chat, 20 per minute per group, which the sender's per-gateway rate does not model).
 */
export const TELEGRAM_MAX_PER_SECOND = 30;

/**
 * A bot token as @BotFather issues it: the bot's numeric id, a colon, and a secret of letters,
 * digits, "_" and "-" (35 characters today; checked loosely so a longer one still passes).
 */
const BOT_TOKEN = /^\d{3,20}:[A-Za-z0-9_-]{20,100}$/;

/** setWebhook's secret_token: 1-256 characters, only A-Z, a-z, 0-9, "_" and "-". */
const WEBHOOK_SECRET = /^[A-Za-z0-9_-]{1,256}$/;

export const TelegramCredentials = z.strictObject({
  botToken: z
    .string()
    .trim()
    .regex(BOT_TOKEN, 'must be the bot token @BotFather gave, such as 123456789:AAH… (the bot id, a colon, then letters, digits, _ and -)'),
  webhookSecret: z
    .string()
    .regex(WEBHOOK_SECRET, "must be 1-256 characters of A-Z, a-z, 0-9, _ and -: it is given to setWebhook as secret_token and checked on every update"),
});
export type TelegramCredentials = z.infer<typeof TelegramCredentials>;

export const TelegramSettings = z.strictObject({
  /** true: messages arrive silently (no sound), as sendMessage's disable_notification. */
  disableNotification: z.boolean().optional(),
  // No base URL: requests go to Telegram's official host (see the top of this file).
});
export type TelegramSettings = z.infer<typeof TelegramSettings>;

// ---- the bot token never leaves in an error ----

/** `text` with the bot token, and its secret part on its own, replaced by a placeholder. */
function scrub(text: string, botToken: string): string {
  let out = text;
  const secret = botToken.slice(botToken.indexOf(':') + 1);
  for (const needle of [botToken, encodeURIComponent(botToken), secret]) {
    if (needle.length >= 8) out = out.split(needle).join('<bot token>');
  }
  return out;
}

/** The error with the bot token scrubbed from its message and stack (both end up in logs and histories). */
function withoutToken(error: unknown, botToken: string): unknown {
  if (error instanceof Error) {
    error.message = scrub(error.message, botToken);
    if (error.stack) error.stack = scrub(error.stack, botToken);
  }
  return error;
}

// ---- sending ----

/** A numeric chat id (negative for groups and channels), or a public channel's "@username". */
const NUMERIC_CHAT = /^-?\d{1,20}$/;
const CHANNEL_USERNAME = /^@[A-Za-z][A-Za-z0-9_]{3,31}$/;

function chatIdParameter(chatId: string): number | string {
  const trimmed = chatId.trim();
  if (NUMERIC_CHAT.test(trimmed)) {
    const value = Number(trimmed);
    if (Number.isSafeInteger(value)) return value;
  }
  if (CHANNEL_USERNAME.test(trimmed)) return trimmed;
  throw new ProviderRejected(`The chat id ${safeExcerpt(chatId, 40)} is neither a Telegram chat id (digits) nor a channel's @username.`, 'invalid-chat');
}

/** Telegram's message id to reply to: "<chat id>:<message id>" (as we record them) or the bare message id. */
function replyToMessageId(reply: string, chatId: string): number {
  const separator = reply.lastIndexOf(':');
  const chatPart = separator === -1 ? undefined : reply.slice(0, separator);
  const idPart = separator === -1 ? reply : reply.slice(separator + 1);
  if (chatPart !== undefined && chatPart !== chatId.trim()) {
    throw new ProviderRejected(`The message to reply to (${safeExcerpt(reply, 48)}) is in another chat than ${safeExcerpt(chatId, 40)}.`, 'invalid-reply');
  }
  const id = /^\d{1,15}$/.test(idPart) ? Number(idPart) : 0;
  if (id <= 0) throw new ProviderRejected(`The message to reply to (${safeExcerpt(reply, 48)}) is not a Telegram message id.`, 'invalid-reply');
  return id;
}

/** The sendMessage parameters for `message`. Throws ProviderRejected for an empty text or a bad chat, thread or reply id. */
export function sendMessageBody(message: OutboundTelegram, settings: TelegramSettings): Record<string, unknown> {
  if (message.html.trim() === '') throw new ProviderRejected('The message text is empty; Telegram refuses empty messages.', 'empty-text');
  const chatId = chatIdParameter(message.chatId);
  if (message.threadId !== undefined && !(Number.isSafeInteger(message.threadId) && message.threadId > 0)) {
    throw new ProviderRejected(`The forum topic id ${String(message.threadId)} is not a Telegram message thread id.`, 'invalid-thread');
  }
  const replyTo = message.replyToProviderMessageId !== undefined ? replyToMessageId(message.replyToProviderMessageId, message.chatId) : undefined;
  return {
    chat_id: chatId,
    ...(message.threadId !== undefined ? { message_thread_id: message.threadId } : {}),
    text: message.html,
    parse_mode: 'HTML',
    link_preview_options: { is_disabled: true },
    ...(settings.disableNotification ? { disable_notification: true } : {}),
    // A deleted original should not cost the alert; Telegram treats the flag as false in forum topics.
    ...(replyTo !== undefined
      ? { reply_parameters: { message_id: replyTo, ...(message.threadId === undefined ? { allow_sending_without_reply: true } : {}) } }
      : {}),
  };
}

const SendReply = z.object({
  ok: z.literal(true),
  result: z.object({ message_id: z.number().int(), chat: z.object({ id: z.number().int() }) }),
});

const ErrorReply = z.object({
  ok: z.literal(false),
  error_code: z.number().int().optional(),
  description: z.string().optional(),
  parameters: z
    .object({
      retry_after: z.number().nonnegative().optional(),
      migrate_to_chat_id: z.number().int().optional(),
    })
    .optional(),
});

/** The error a failed sendMessage reply means. */
export function telegramFailure(reply: HttpReply, chatId: string): ProviderRejected | ProviderUnavailable | GatewayFault {
  const parsed = ErrorReply.safeParse(reply.json);
  const status = reply.status;
  const description = parsed.success ? parsed.data.description : undefined;
  const quoted = safeExcerpt(description ?? reply.text);
  const detail = `Telegram answered HTTP ${status}${quoted ? `: ${quoted}` : ''}`;
  const code = String(parsed.success && parsed.data.error_code !== undefined ? parsed.data.error_code : status);
  const chat = safeExcerpt(chatId, 40);

  if (status === 429) {
    const retryAfter = parsed.success ? parsed.data.parameters?.retry_after : undefined;
    return new ProviderThrottled(detail, code, retryAfter !== undefined ? Math.max(1, Math.ceil(retryAfter)) : undefined);
  }
  if (status === 401 || status === 404) {
    return new GatewayFault(`${detail}. Telegram does not know the bot token: check the gateway's botToken (from @BotFather; revoked tokens stop working).`, code);
  }
  if (status === 403) {
    return new GatewayFault(
      `${detail}. The bot cannot write to chat ${chat}: it was blocked, removed from the group or channel, or never added. Add the bot to the chat (as an admin for a channel) or have the user start it again.`,
      code,
    );
  }
  if (status === 400) {
    const migratedTo = parsed.success ? parsed.data.parameters?.migrate_to_chat_id : undefined;
    if (migratedTo !== undefined) {
      return new ProviderRejected(`${detail}. The group ${chat} became a supergroup: its chat id is now ${migratedTo}.`, 'chat-migrated');
    }
    return new ProviderRejected(detail, code);
  }
  return classifyHttpFailure(status, detail, code);
}

/** The message id of a sendMessage reply, as "<chat id>:<message id>", or the error a failed reply means. */
function sendResult(reply: HttpReply, chatId: string): { providerMessageId: string } {
  if (reply.ok) {
    const sent = SendReply.safeParse(reply.json);
    if (sent.success) return { providerMessageId: `${sent.data.result.chat.id}:${sent.data.result.message_id}` };
    throw new ProviderUnavailable(`Telegram answered HTTP ${reply.status} without a message${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
  }
  throw telegramFailure(reply, chatId);
}

/** Telegram's host, or the deployment's ISPNOTIFY_BASE_URL_TELEGRAM (tests, staging). */
const apiBaseUrl = () => providerBaseUrl('telegram', TELEGRAM_API_BASE_URL);

// ---- webhooks ----

const User = z.object({
  id: z.number().int(),
  is_bot: z.boolean(),
  first_name: z.string(),
  last_name: z.string().optional(),
  username: z.string().optional(),
});

const Chat = z.object({
  id: z.number().int(),
  type: z.string(),
  title: z.string().optional(),
  username: z.string().optional(),
});

const RepliedTo = z.object({
  message_id: z.number().int(),
  forum_topic_created: z.unknown().optional(),
});

/** The parts of a Message we read; everything else Telegram sends is let through and ignored. */
const Message = z.object({
  message_id: z.number().int(),
  message_thread_id: z.number().int().optional(),
  is_topic_message: z.boolean().optional(),
  from: User.optional(),
  sender_chat: Chat.optional(),
  author_signature: z.string().optional(),
  date: z.number().int(),
  chat: Chat,
  text: z.string().optional(),
  reply_to_message: RepliedTo.optional(),
  is_automatic_forward: z.boolean().optional(),
});
type TelegramMessage = z.infer<typeof Message>;

/** An Update: exactly one of its optional fields is set; we read new messages and channel posts. */
const Update = z.object({
  update_id: z.number().int(),
  message: z.unknown().optional(),
  channel_post: z.unknown().optional(),
});

function userName(user: z.infer<typeof User>): string {
  const name = [user.first_name, user.last_name].filter((part) => part && part.trim() !== '').join(' ');
  if (user.username) return name ? `${name} (@${user.username})` : `@${user.username}`;
  return name || String(user.id);
}

/** Who wrote it: a person, or a chat writing as itself (a channel, an anonymous group admin). */
function author(message: TelegramMessage): string | undefined {
  if (message.sender_chat) {
    const chat = message.sender_chat;
    const chatName = chat.title ?? (chat.username ? `@${chat.username}` : String(chat.id));
    return message.author_signature ? `${message.author_signature} (${chatName})` : chatName;
  }
  if (message.from && !message.from.is_bot) return userName(message.from);
  return undefined; // a bot (our own or another), or no sender at all
}

function chatMessage(raw: unknown): TelegramChatMessage | undefined {
  const parsed = Message.safeParse(raw);
  if (!parsed.success) return undefined;
  const message = parsed.data;
  // Text only; a channel post copied into its discussion group is the channel's, not the team's.
  if (message.text === undefined || message.text === '' || message.is_automatic_forward) return undefined;
  const from = author(message);
  if (from === undefined) return undefined;
  const chatId = String(message.chat.id);
  const repliedTo = message.reply_to_message;
  // In a forum topic, a message that replies to nothing points at the topic's creation message.
  const topicRoot =
    repliedTo !== undefined &&
    (repliedTo.forum_topic_created !== undefined || (message.is_topic_message === true && repliedTo.message_id === message.message_thread_id));
  return {
    kind: 'chat',
    chatId,
    providerMessageId: `${chatId}:${message.message_id}`,
    ...(repliedTo !== undefined && !topicRoot ? { replyToProviderMessageId: `${chatId}:${repliedTo.message_id}` } : {}),
    from,
    text: message.text,
    at: new Date(message.date * 1000).toISOString(),
  };
}

/**
 * The team's new text messages in an Update (a `message`, or a `channel_post`). Edits, service
 * messages (joins, pins, topics), media, bots' messages and every other kind of update give none.
 * Throws Invalid when the body is not JSON or not an Update.
 */
export function parseTelegramUpdate(rawBody: string): TelegramChatMessage[] {
  let json: unknown;
  try {
    json = JSON.parse(rawBody) as unknown;
  } catch {
    throw invalid('Telegram webhook body is not JSON.');
  }
  const update = Update.safeParse(json);
  if (!update.success) throw invalid('Telegram webhook body is not an Update (no update_id).');
  const found = chatMessage(update.data.message ?? update.data.channel_post);
  return found ? [found] : [];
}

export const telegramBot: TelegramProvider<TelegramCredentials, TelegramSettings> = {
  id: 'telegram',
  channel: 'telegram',
  displayName: 'Telegram Bot API',
  credentials: TelegramCredentials,
  settings: TelegramSettings,
  receipts: false,
  defaultMaxPerSecond: TELEGRAM_MAX_PER_SECOND,

  async send(message, { credentials, settings }, ctx) {
    const token = credentials.botToken.trim();
    // The token goes into the URL path: one that is not a token could change the path or the host.
    if (!BOT_TOKEN.test(token)) throw new GatewayFault("The gateway's botToken is not a Telegram bot token (the bot id, a colon, then the secret).", 'invalid-token');
    const body = sendMessageBody(message, settings ?? {});
    try {
      const reply = await postJson(ctx, `${apiBaseUrl()}/bot${token}/sendMessage`, body, { provider: 'Telegram' });
      return sendResult(reply, message.chatId);
    } catch (error) {
      throw withoutToken(error, token);
    }
  },

  verifySignature(request: WebhookRequest, { credentials }) {
    const header = request.headers[TELEGRAM_SECRET_HEADER];
    if (header === undefined || header === '' || !credentials.webhookSecret) return false;
    return timingSafeEqualStrings(header, credentials.webhookSecret);
  },

  parseWebhook(request) {
    return parseTelegramUpdate(request.rawBody);
  },
};
