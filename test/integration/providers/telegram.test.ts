import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { telegramProvider, telegramProviders } from '../../../shared/adapters/providers/telegram/registry.js';
import {
  TELEGRAM_API_BASE_URL,
  telegramBot,
  type TelegramCredentials,
  type TelegramSettings,
} from '../../../shared/adapters/providers/telegram/telegram.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderThrottled, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundTelegram, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { caught, rejection } from '../../support/expect-error.js';
import {
  messageJson,
  startFakeTelegram,
  updateJson,
  webhookRequest,
  type FakeChat,
  type FakeSender,
  type FakeTelegram,
} from '../../support/fake-telegram.js';
import { freePortThatRefuses } from '../../support/net.js';

const BOT_SECRET = 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const BOT_TOKEN = `7012345678:${BOT_SECRET}`;
const WEBHOOK_SECRET = 'tg_wh-5e3c9a7b1d2f4e6a8c0b';
const GROUP_CHAT = '-1001234567890';
const WEBHOOK_URL = 'https://notify.example.net/webhooks/telegram/telegram/01JNGW00000000000000000000';

const credentials: TelegramCredentials = { botToken: BOT_TOKEN, webhookSecret: WEBHOOK_SECRET };
const settings: TelegramSettings = {};
const gateway = { credentials, settings };

const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };

const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_TELEGRAM';

function setBaseUrl(value: string | undefined): void {
  if (value === undefined) delete process.env[BASE_URL_VARIABLE];
  else process.env[BASE_URL_VARIABLE] = value;
}

const HTML = '<b>PPPoE down</b> in zone Mirpur-10: 42 customers offline &amp; OLT-3 &lt;unreachable&gt;';

const alert = (extra: Partial<OutboundTelegram> = {}): OutboundTelegram => ({
  messageId: '01JNMSG0000000000000000000',
  chatId: GROUP_CHAT,
  html: HTML,
  ...extra,
});

/** Asserts that nothing in the error (message or stack) carries the bot token or its secret part. */
function expectNoToken(error: Error): void {
  for (const text of [error.message, error.stack ?? '']) {
    expect(text).not.toContain(BOT_TOKEN);
    expect(text).not.toContain(BOT_SECRET);
  }
}

/** A fetch that records each request and answers `reply`, sending nothing anywhere. */
function stubFetch(reply: () => Response | Promise<Response>) {
  const calls: { url: string; body: string }[] = [];
  const fetchStub: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), body: typeof init?.body === 'string' ? init.body : '' });
    return reply();
  };
  return { calls, ctx: { ...ctx, fetch: fetchStub } satisfies ProviderContext };
}

describe('Telegram Bot API provider', () => {
  let fake: FakeTelegram;
  const baseUrlBefore = process.env[BASE_URL_VARIABLE];

  beforeEach(async () => {
    fake = await startFakeTelegram();
    setBaseUrl(fake.baseUrl);
  });

  afterEach(async () => {
    setBaseUrl(baseUrlBefore);
    await fake.close();
  });

  it('is registered under the id "telegram" on the telegram channel, with no receipts and 30 messages a second', () => {
    expect(telegramProvider('telegram')).toBe(telegramBot);
    expect(telegramProviders.telegram).toBe(telegramBot);
    expect(Object.keys(telegramProviders)).toEqual(['telegram']);
    expect(telegramProvider('toString')).toBeUndefined();
    expect(telegramProvider('__proto__')).toBeUndefined();
    expect(telegramBot).toMatchObject({ id: 'telegram', channel: 'telegram', displayName: 'Telegram Bot API', receipts: false, defaultMaxPerSecond: 30 });
    expect(telegramBot.lookup).toBeUndefined();
  });

  describe('sending', () => {
    it('posts sendMessage to /bot<token>/ as JSON with parse_mode HTML and no link preview, and returns "<chat>:<message>"', async () => {
      const result = await telegramBot.send(alert(), gateway, ctx);

      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe(`/bot${BOT_TOKEN}/sendMessage`);
      expect(request.token).toBe(BOT_TOKEN);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.json).toEqual({
        chat_id: -1001234567890,
        text: HTML,
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
      });
      expect(request.replyStatus).toBe(200);
      const sent = (request.replyBody as { result: { message_id: number; chat: { id: number }; text: string } }).result;
      expect(sent.text).toBe('PPPoE down in zone Mirpur-10: 42 customers offline & OLT-3 <unreachable>');
      expect(result).toEqual({ providerMessageId: `${sent.chat.id}:${sent.message_id}` });
      expect(result.providerMessageId).toBe('-1001234567890:101');

      // Message ids count per chat: the next message in the same chat is 102, another chat starts again.
      expect((await telegramBot.send(alert(), gateway, ctx)).providerMessageId).toBe('-1001234567890:102');
      expect((await telegramBot.send(alert({ chatId: '445566778' }), gateway, ctx)).providerMessageId).toBe('445566778:101');
      expect(fake.requests[2]!.json).toMatchObject({ chat_id: 445566778 });
    });

    it('sends into a forum topic with message_thread_id, and replies with reply_parameters', async () => {
      const inTopic = await telegramBot.send(alert({ threadId: 42, replyToProviderMessageId: `${GROUP_CHAT}:77` }), gateway, ctx);
      expect(fake.requests[0]!.json).toEqual({
        chat_id: -1001234567890,
        message_thread_id: 42,
        text: HTML,
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        reply_parameters: { message_id: 77 },
      });
      expect(inTopic.providerMessageId).toBe('-1001234567890:101');
      expect(fake.requests[0]!.replyBody).toMatchObject({ ok: true, result: { message_thread_id: 42, reply_to_message: { message_id: 77 } } });

      // Outside a topic a reply may go out even if the original was deleted; a bare message id works too.
      await telegramBot.send(alert({ replyToProviderMessageId: '78' }), gateway, ctx);
      const body = fake.requests[1]!.json as Record<string, unknown>;
      expect(body.reply_parameters).toEqual({ message_id: 78, allow_sending_without_reply: true });
      expect(body).not.toHaveProperty('message_thread_id');
      expect(body).not.toHaveProperty('reply_to_message_id');
    });

    it('sends silently when the gateway says so, and to a channel by @username', async () => {
      await telegramBot.send(alert({ chatId: '@isp_noc_alerts' }), { credentials, settings: { disableNotification: true } }, ctx);
      expect(fake.requests[0]!.json).toMatchObject({ chat_id: '@isp_noc_alerts', disable_notification: true });
    });

    it('refuses a bad chat id, thread id, reply id or an empty text before calling Telegram', async () => {
      const cases: [Partial<OutboundTelegram>, RegExp][] = [
        [{ chatId: 'noc alerts' }, /neither a Telegram chat id/],
        [{ chatId: '' }, /neither a Telegram chat id/],
        [{ threadId: 0 }, /forum topic id 0/],
        [{ threadId: 1.5 }, /forum topic id 1\.5/],
        [{ replyToProviderMessageId: '-100999:77' }, /another chat/],
        [{ replyToProviderMessageId: `${GROUP_CHAT}:abc` }, /not a Telegram message id/],
        [{ html: '  ' }, /empty/],
      ];
      for (const [extra, message] of cases) {
        const error = await rejection(telegramBot.send(alert(extra), gateway, ctx));
        expect(error).toBeInstanceOf(ProviderRejected);
        expect(error.message).toMatch(message);
      }
      expect(fake.requests).toHaveLength(0);
    });

    it('goes to https://api.telegram.org when no override is set', async () => {
      setBaseUrl(undefined);
      const stub = stubFetch(() => Response.json({ ok: true, result: { message_id: 9, chat: { id: -1001234567890, type: 'supergroup' }, date: 1, text: 'x' } }));
      const result = await telegramBot.send(alert(), gateway, stub.ctx);
      expect(TELEGRAM_API_BASE_URL).toBe('https://api.telegram.org');
      expect(stub.calls.map((c) => c.url)).toEqual([`https://api.telegram.org/bot${BOT_TOKEN}/sendMessage`]);
      expect(result.providerMessageId).toBe('-1001234567890:9');
    });
  });

  describe('errors', () => {
    it('429: ProviderThrottled with retry_after as retryAfterSeconds', async () => {
      fake.failNext('too-many-requests', { retryAfter: 34 });
      const error = await rejection(telegramBot.send(alert(), gateway, ctx));
      expect(error).toBeInstanceOf(ProviderThrottled);
      expect((error as ProviderThrottled).retryAfterSeconds).toBe(34);
      expect((error as ProviderThrottled).code).toBe('429');
      expect(error.message).toContain('Too Many Requests: retry after 34');
      expect(fake.requests[0]!.replyBody).toEqual({ ok: false, error_code: 429, description: 'Too Many Requests: retry after 34', parameters: { retry_after: 34 } });
    });

    it('401 and 404 (a bad or revoked token): GatewayFault naming the botToken, never the token itself', async () => {
      for (const failure of ['unauthorized', 'not-found'] as const) {
        fake.failNext(failure);
        const error = await rejection(telegramBot.send(alert(), gateway, ctx));
        expect(error).toBeInstanceOf(GatewayFault);
        expect(error.message).toMatch(/Telegram answered HTTP 40[14]: (Unauthorized|Not Found)\. .*botToken/);
        expectNoToken(error);
      }
      expect(fake.requests.map((r) => r.replyStatus)).toEqual([401, 404]);
    });

    it('403 (blocked, kicked): GatewayFault that says what to do', async () => {
      for (const failure of ['blocked', 'kicked'] as const) {
        fake.failNext(failure);
        const error = await rejection(telegramBot.send(alert(), gateway, ctx));
        expect(error).toBeInstanceOf(GatewayFault);
        expect(error.message).toContain(failure === 'blocked' ? 'Forbidden: bot was blocked by the user' : 'Forbidden: bot was kicked from the group chat');
        expect(error.message).toContain(`cannot write to chat ${GROUP_CHAT}`);
        expect(error.message).toMatch(/Add the bot to the chat/);
        expect((error as GatewayFault).code).toBe('403');
      }
    });

    it("400 (chat not found, thread not found, can't parse entities): ProviderRejected with Telegram's description", async () => {
      const expected = {
        'chat-not-found': 'Bad Request: chat not found',
        'thread-not-found': 'Bad Request: message thread not found',
        'cant-parse-entities': "Bad Request: can't parse entities",
      } as const;
      for (const [failure, description] of Object.entries(expected) as [keyof typeof expected, string][]) {
        fake.failNext(failure);
        const error = await rejection(telegramBot.send(alert(), gateway, ctx));
        expect(error).toBeInstanceOf(ProviderRejected);
        expect(error).not.toBeInstanceOf(ProviderUnavailable);
        expect(error.message).toContain(`Telegram answered HTTP 400: ${description}`);
        expect((error as ProviderRejected).code).toBe('400');
      }
    });

    it('400 for a group that became a supergroup: ProviderRejected naming the new chat id', async () => {
      fake.failNext('group-migrated', { migrateTo: -1001987654321 });
      const error = await rejection(telegramBot.send(alert({ chatId: '-4012345678' }), gateway, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('chat-migrated');
      expect(error.message).toContain('its chat id is now -1001987654321');
    });

    it('5xx and an unreachable host: ProviderUnavailable (not throttled), without the token', async () => {
      fake.failNext('server-error');
      const serverError = await rejection(telegramBot.send(alert(), gateway, ctx));
      expect(serverError).toBeInstanceOf(ProviderUnavailable);
      expect(serverError).not.toBeInstanceOf(ProviderThrottled);
      expect(serverError.message).toContain('HTTP 500');

      setBaseUrl(`http://127.0.0.1:${await freePortThatRefuses()}`);
      const unreachable = await rejection(telegramBot.send(alert(), gateway, ctx));
      expect(unreachable).toBeInstanceOf(ProviderUnavailable);
      expect(unreachable.message).toMatch(/Could not reach Telegram/);
      expectNoToken(unreachable);
    });

    it('scrubs the token from errors whose text would carry the URL', async () => {
      // undici's message for a URL it cannot parse repeats the whole URL, token and all.
      const urlError = stubFetch(() => {
        throw new TypeError(`Failed to parse URL from ${fake.baseUrl}/bot${BOT_TOKEN}/sendMessage`);
      });
      const thrown = await rejection(telegramBot.send(alert(), gateway, urlError.ctx));
      expect(thrown).toBeInstanceOf(ProviderUnavailable);
      expect(thrown.message).toContain('/bot<bot token>/sendMessage');
      expectNoToken(thrown);

      const echoed = stubFetch(() => Response.json({ ok: false, error_code: 400, description: `Bad Request: wrong url /bot${BOT_TOKEN}/x` }, { status: 400 }));
      const rejected = await rejection(telegramBot.send(alert(), gateway, echoed.ctx));
      expect(rejected).toBeInstanceOf(ProviderRejected);
      expect(rejected.message).toContain('<bot token>');
      expectNoToken(rejected);
    });

    it('refuses to put something that is not a bot token into the URL', async () => {
      const error = await rejection(
        telegramBot.send(alert(), { credentials: { ...credentials, botToken: `${BOT_TOKEN}/../../admin?x=` }, settings }, ctx),
      );
      expect(error).toBeInstanceOf(GatewayFault);
      expect(error.message).toMatch(/not a Telegram bot token/);
      expectNoToken(error);
      expect(fake.requests).toHaveLength(0);
    });

    it('a 200 without a message: ProviderUnavailable', async () => {
      const stub = stubFetch(() => Response.json({ ok: true, result: true }));
      const error = await rejection(telegramBot.send(alert(), gateway, stub.ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error.message).toMatch(/without a message/);
    });
  });

  describe('webhook secret', () => {
    const update = updateJson('message', { message_id: 1, date: 1740823200, chat: { id: 1, type: 'private' }, text: 'hi' });

    it('accepts the secret given to setWebhook in X-Telegram-Bot-Api-Secret-Token', () => {
      expect(telegramBot.verifySignature(webhookRequest(WEBHOOK_URL, update, WEBHOOK_SECRET), gateway)).toBe(true);
    });

    it('refuses another secret, a prefix or extension of it, another case, and a missing or empty header', () => {
      for (const secret of [`${WEBHOOK_SECRET}x`, WEBHOOK_SECRET.slice(0, -1), WEBHOOK_SECRET.toUpperCase(), 'tg_wh-0000000000000000000000', '', ` ${WEBHOOK_SECRET}`]) {
        expect(telegramBot.verifySignature(webhookRequest(WEBHOOK_URL, update, secret), gateway)).toBe(false);
      }
      expect(telegramBot.verifySignature(webhookRequest(WEBHOOK_URL, update), gateway)).toBe(false);
      // Another header carrying the secret does not count.
      const elsewhere: WebhookRequest = { ...webhookRequest(WEBHOOK_URL, update), headers: { 'x-telegram-secret': WEBHOOK_SECRET } };
      expect(telegramBot.verifySignature(elsewhere, gateway)).toBe(false);
    });
  });

  describe('parsing updates', () => {
    const group: FakeChat = { id: -1001234567890, type: 'supergroup', title: 'NOC alerts' };
    const karim: FakeSender = { id: 5512345678, firstName: 'Karim', lastName: 'Hossain', username: 'karim_noc' };
    const bot: FakeSender = { id: 7012345678, firstName: 'ISPnotify', username: 'ispnotify_test_bot', isBot: true };
    const parse = (update: unknown) => telegramBot.parseWebhook(webhookRequest(WEBHOOK_URL, update, WEBHOOK_SECRET), { settings });
    const at = 1740823200; // 2025-03-01T10:00:00Z

    it('reads a reply to one of our messages, with the replied-to id in the same "<chat>:<message>" form', () => {
      const update = updateJson(
        'message',
        messageJson({ messageId: 205, chat: group, from: karim, date: at, text: 'On it, OLT-3 rebooting', replyTo: { messageId: 101, from: bot, text: 'PPPoE down' } }),
      );
      expect(parse(update)).toEqual([
        {
          kind: 'chat',
          chatId: '-1001234567890',
          providerMessageId: '-1001234567890:205',
          replyToProviderMessageId: '-1001234567890:101',
          from: 'Karim Hossain (@karim_noc)',
          text: 'On it, OLT-3 rebooting',
          at: '2025-03-01T10:00:00.000Z',
        },
      ]);
    });

    it('reads a plain message (no reply) and names a sender without a username by name', () => {
      const [message] = parse(updateJson('message', messageJson({ messageId: 9, chat: { id: 445566778, type: 'private' }, from: { id: 445566778, firstName: 'Rahima' }, date: at + 5, text: 'আজ লাইন ঠিক হবে?' })));
      expect(message).toEqual({ kind: 'chat', chatId: '445566778', providerMessageId: '445566778:9', from: 'Rahima', text: 'আজ লাইন ঠিক হবে?', at: '2025-03-01T10:00:05.000Z' });
      expect(message).not.toHaveProperty('replyToProviderMessageId');
    });

    it('does not take the topic root in a forum for a reply, but keeps real replies inside a topic', () => {
      const forum: FakeChat = { ...group, isForum: true };
      const inTopic = parse(
        updateJson('message', messageJson({ messageId: 310, chat: forum, from: karim, date: at, threadId: 300, text: 'Fibre cut confirmed', replyTo: { messageId: 300, from: bot, forumTopicCreated: { name: 'Outages' } } })),
      );
      expect(inTopic).toHaveLength(1);
      expect(inTopic[0]).not.toHaveProperty('replyToProviderMessageId');

      const realReply = parse(
        updateJson('message', messageJson({ messageId: 311, chat: forum, from: karim, date: at, threadId: 300, text: 'Team dispatched', replyTo: { messageId: 305, from: bot, text: 'Zone 4 down' } })),
      );
      expect(realReply[0]).toMatchObject({ providerMessageId: '-1001234567890:311', replyToProviderMessageId: '-1001234567890:305' });
    });

    it('reads a channel post as the channel (with its author signature)', () => {
      const channel: FakeChat = { id: -1009876543210, type: 'channel', title: 'ISP status' };
      const posted = parse(updateJson('channel_post', messageJson({ messageId: 12, chat: channel, senderChat: channel, authorSignature: 'Nadia', date: at, text: 'Maintenance at 2 AM' })));
      expect(posted).toEqual([{ kind: 'chat', chatId: '-1009876543210', providerMessageId: '-1009876543210:12', from: 'Nadia (ISP status)', text: 'Maintenance at 2 AM', at: '2025-03-01T10:00:00.000Z' }]);
    });

    it("ignores bots' messages (ours or another's)", () => {
      expect(parse(updateJson('message', messageJson({ messageId: 206, chat: group, from: bot, date: at, text: 'PPPoE down' })))).toEqual([]);
      expect(parse(updateJson('message', messageJson({ messageId: 207, chat: group, from: { id: 1, firstName: 'Other', isBot: true }, date: at, text: 'hello' })))).toEqual([]);
    });

    it('ignores edited messages and edited channel posts', () => {
      const edited = { ...messageJson({ messageId: 205, chat: group, from: karim, date: at, text: 'On it (edited)' }), edit_date: at + 60 };
      expect(parse(updateJson('edited_message', edited))).toEqual([]);
      expect(parse(updateJson('edited_channel_post', edited))).toEqual([]);
    });

    it('ignores non-text messages, joins and other update kinds', () => {
      const photo = messageJson({ messageId: 208, chat: group, from: karim, date: at, extra: { photo: [{ file_id: 'AgAC', file_unique_id: 'AQAD', width: 90, height: 90 }], caption: 'cabinet photo' } });
      const join = messageJson({ messageId: 209, chat: group, from: karim, date: at, extra: { new_chat_members: [{ id: 5512345678, is_bot: false, first_name: 'Karim' }] } });
      const sticker = messageJson({ messageId: 210, chat: group, from: karim, date: at, extra: { sticker: { file_id: 'CAAC', file_unique_id: 'AgAD', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false } } });
      for (const message of [photo, join, sticker]) expect(parse(updateJson('message', message))).toEqual([]);
      expect(parse(updateJson('my_chat_member', { chat: { id: -1001234567890, type: 'supergroup' }, from: { id: 5512345678, is_bot: false, first_name: 'Karim' }, date: at }))).toEqual([]);
      expect(parse(updateJson('callback_query', { id: '1', from: { id: 5512345678, is_bot: false, first_name: 'Karim' }, chat_instance: '1', data: 'ack' }))).toEqual([]);
    });

    it('refuses a body that is not JSON or not an Update as Invalid', () => {
      for (const rawBody of ['not json', '[]', '{"message":{"message_id":1}}', '{"update_id":"1"}']) {
        const error = caught(() => telegramBot.parseWebhook({ method: 'POST', url: WEBHOOK_URL, headers: {}, rawBody }, { settings }));
        expect(error).toBeInstanceOf(DomainError);
        expect(error.kind).toBe('Invalid');
        expect(error.message).toMatch(/^Telegram webhook/);
      }
    });
  });

  describe('gateway configuration', () => {
    it('accepts a bot token (trimmed) and a webhook secret, and no settings or disableNotification', () => {
      expect(telegramBot.credentials.parse({ botToken: ` ${BOT_TOKEN}\n`, webhookSecret: WEBHOOK_SECRET })).toEqual(credentials);
      expect(telegramBot.credentials.parse({ botToken: BOT_TOKEN, webhookSecret: 'x'.repeat(256) }).webhookSecret).toHaveLength(256);
      expect(telegramBot.settings.parse({})).toEqual({});
      expect(telegramBot.settings.parse({ disableNotification: true })).toEqual({ disableNotification: true });
    });

    it('explains a bad token or secret, and refuses unknown fields', () => {
      const result = telegramBot.credentials.safeParse({ botToken: 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw', webhookSecret: 'has spaces!', extra: 1 });
      expect(result.success).toBe(false);
      const messages = Object.fromEntries(result.error!.issues.map((i) => [i.path.join('.') || i.code, i.message]));
      expect(messages.botToken).toMatch(/@BotFather/);
      expect(messages.webhookSecret).toMatch(/1-256 characters of A-Z, a-z, 0-9, _ and -/);
      expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['extra'] }));

      for (const botToken of ['', '7012345678', '7012345678:', 'bot7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw', `7012345678:${BOT_SECRET}/x`]) {
        expect(telegramBot.credentials.safeParse({ botToken, webhookSecret: WEBHOOK_SECRET }).success).toBe(false);
      }
      for (const webhookSecret of ['', 'x'.repeat(257), 'a.b', 'ключ']) {
        expect(telegramBot.credentials.safeParse({ botToken: BOT_TOKEN, webhookSecret }).success).toBe(false);
      }
      expect(telegramBot.credentials.safeParse({ botToken: BOT_TOKEN }).success).toBe(false);
      expect(telegramBot.settings.safeParse({ apiBaseUrl: 'http://169.254.169.254' }).success).toBe(false);
    });
  });
});
