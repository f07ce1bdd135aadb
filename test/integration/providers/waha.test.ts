import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whatsappProvider } from '../../../shared/adapters/providers/whatsapp/registry.js';
import {
  checkWahaGateway,
  WahaCredentials,
  WahaSettings,
  wahaMessageId,
  wahaWebhookHmac,
  wahaWhatsApp,
  type WahaCredentials as WahaCredentialsType,
  type WahaSettings as WahaSettingsType,
} from '../../../shared/adapters/providers/whatsapp/waha.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderThrottled, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundWhatsApp, ProviderContext, ProviderInboundMessage, ProviderStatusUpdate } from '../../../shared/ports.js';
import { caught, rejection } from '../../support/expect-error.js';
import { ackEvent, messageEvent, startFakeWaha, wahaEvent, wahaHmac, wahaWebhook, type FakeWaha } from '../../support/fake-waha.js';
import { freePortThatRefuses } from '../../support/net.js';

const ENV = 'ISPNOTIFY_ALLOW_PRIVATE_URLS';
const API_KEY = 'waha-key-0123456789abcdef';
const WEBHOOK_SECRET = 'whsec-waha-0123456789abcdef';
const TO = '+8801711223344';
const DIGITS = '8801711223344';
const WEBHOOK_URL = 'https://notify.example.net/webhooks/whatsapp/waha/01JNGW00000000000000000000';

const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
const credentials: WahaCredentialsType = { apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET };

const text = (to = TO, body = 'Dear Rahim, your bill of BDT 1,200 is due on 5 Dec. বিল "due" & <now>'): OutboundWhatsApp => ({
  messageId: '01JNMSG0000000000000000000',
  to,
  content: { kind: 'text', text: body },
});

const template: OutboundWhatsApp = {
  messageId: '01JNMSG0000000000000000001',
  to: TO,
  content: { kind: 'template', name: 'due_reminder', language: 'en', parameters: ['1,200', '5 Dec'] },
};

const envBefore = process.env[ENV];
function restoreEnv(): void {
  if (envBefore === undefined) delete process.env[ENV];
  else process.env[ENV] = envBefore;
}

describe('the waha provider', () => {
  it('is registered under the id "waha" as a WhatsApp provider', () => {
    const provider = whatsappProvider('waha');
    expect(provider).toBe(wahaWhatsApp);
    expect(provider?.channel).toBe('whatsapp');
    expect(provider?.displayName).toBe('WAHA (self-hosted WhatsApp HTTP API bridge)');
    expect(provider?.lookup).toBeUndefined();
  });
});

describe('waha settings and credentials', () => {
  const issues = (input: unknown) => {
    const parsed = WahaSettings.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('defaults the session to "default", checks numbers, and drops a trailing slash of baseUrl', () => {
    expect(WahaSettings.parse({ baseUrl: 'https://waha.example.net/' })).toEqual({ baseUrl: 'https://waha.example.net', session: 'default', checkNumberExists: true });
    expect(WahaSettings.parse({ baseUrl: 'https://example.net/waha/', session: 'isp_01-a', checkNumberExists: false })).toEqual({
      baseUrl: 'https://example.net/waha',
      session: 'isp_01-a',
      checkNumberExists: false,
    });
  });

  it('refuses a baseUrl with credentials, a query, a fragment, /api, another scheme, or none at all', () => {
    expect(issues({ baseUrl: 'https://admin:pw@waha.example.net' }).join()).toMatch(/baseUrl: must not contain a user name or password/);
    expect(issues({ baseUrl: 'https://waha.example.net/?x-api-key=1' }).join()).toMatch(/baseUrl: must not have a query string/);
    expect(issues({ baseUrl: 'https://waha.example.net/#x' }).join()).toMatch(/baseUrl: must not have a fragment/);
    expect(issues({ baseUrl: 'https://waha.example.net/api' }).join()).toMatch(/baseUrl: must be the WAHA server's address without \/api/);
    expect(issues({ baseUrl: 'ftp://waha.example.net' }).join()).toMatch(/baseUrl: must be an https URL/);
    expect(issues({ baseUrl: 'waha.example.net' }).join()).toMatch(/baseUrl: must be an absolute URL/);
    expect(issues({ baseUrl: 'https://waha.example.net', extra: 1 })).toHaveLength(1);
  });

  it('refuses session names WAHA could not take in a URL path', () => {
    expect(issues({ baseUrl: 'https://waha.example.net', session: 'my session' }).join()).toMatch(/session: must be a WAHA session name/);
    expect(issues({ baseUrl: 'https://waha.example.net', session: '../x' }).join()).toMatch(/session/);
    expect(issues({ baseUrl: 'https://waha.example.net', session: 'x'.repeat(65) }).join()).toMatch(/session/);
  });

  it('requires an API key fit for a header and a webhookSecret of at least 16 characters', () => {
    expect(WahaCredentials.safeParse(credentials).success).toBe(true);
    expect(WahaCredentials.safeParse({ apiKey: API_KEY, webhookSecret: 'too-short' }).success).toBe(false);
    expect(WahaCredentials.safeParse({ apiKey: 'has a space', webhookSecret: WEBHOOK_SECRET }).success).toBe(false);
    expect(WahaCredentials.safeParse({ apiKey: 'key\r\nX-Evil: 1', webhookSecret: WEBHOOK_SECRET }).success).toBe(false);
    expect(WahaCredentials.safeParse({ webhookSecret: WEBHOOK_SECRET }).success).toBe(false);
  });
});

describe('waha sending', () => {
  let fake: FakeWaha;
  let settings: WahaSettingsType;
  const send = (message: OutboundWhatsApp, s: WahaSettingsType = settings, c: WahaCredentialsType = credentials) =>
    wahaWhatsApp.send(message, { credentials: c, settings: s }, ctx);

  beforeEach(async () => {
    process.env[ENV] = '1';
    fake = await startFakeWaha({ apiKey: API_KEY, sessions: { default: 'WORKING', isp: 'WORKING', waiting: 'SCAN_QR_CODE' }, notOnWhatsApp: ['8801700000000'] });
    settings = WahaSettings.parse({ baseUrl: `${fake.baseUrl}/` });
  });

  afterEach(async () => {
    restoreEnv();
    await fake.close();
  });

  it('checks the number, then POSTs /api/sendText with the X-Api-Key header and { session, chatId, text }', async () => {
    const message = text();
    const result = await send(message);

    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/contacts/check-exists', 'POST /api/sendText']);
    const [check, sendText] = fake.requests;
    expect(Object.fromEntries(check!.query)).toEqual({ phone: DIGITS, session: 'default' });
    expect(check!.headers['x-api-key']).toBe(API_KEY);

    expect(sendText!.headers['x-api-key']).toBe(API_KEY);
    expect(sendText!.headers['content-type']).toBe('application/json');
    expect(sendText!.json).toEqual({ session: 'default', chatId: `${DIGITS}@c.us`, text: (message.content as { text: string }).text });

    // WEBJS answers { id: { _serialized: 'true_<chat>_<key id>', id: '<key id>' } }: the key id is the provider id.
    const [sent] = fake.sent;
    expect(result).toEqual({ providerMessageId: sent!.keyId });
  });

  it('sends from the configured session', async () => {
    await send(text(), { ...settings, session: 'isp' });
    expect(fake.requests.map((r) => r.query.get('session') ?? (r.json as { session?: string }).session)).toEqual(['isp', 'isp']);
    expect(fake.sent[0]!.session).toBe('isp');
  });

  it('reads the message id from every engine reply shape, the same string acks will carry', async () => {
    for (const engine of ['WEBJS', 'NOWEB', 'WAMESSAGE'] as const) {
      fake.engine = engine;
      const { providerMessageId } = await send(text());
      const sent = fake.sent.at(-1)!;
      expect(providerMessageId, engine).toBe(sent.keyId);
      expect(wahaMessageId(sent.serializedId), engine).toBe(providerMessageId);
      const [update] = wahaWhatsApp.parseWebhook(wahaWebhook(WEBHOOK_URL, ackEvent('default', sent.serializedId, sent.chatId, 2)), { settings });
      expect(update, engine).toMatchObject({ providerMessageId, status: 'delivered' });
    }
  });

  it('counts a 2xx without any message id as accepted under our own id (sending again would send twice)', async () => {
    fake.engine = 'EMPTY';
    await expect(send(text())).resolves.toEqual({ providerMessageId: '01JNMSG0000000000000000000' });
    expect(fake.sent).toHaveLength(1);
  });

  it('sends to the chat id check-exists answers (a Brazilian number WhatsApp knows without its 9)', async () => {
    await fake.close();
    fake = await startFakeWaha({ apiKey: API_KEY, chatIds: { '5511987654321': '551187654321@c.us' } });
    settings = WahaSettings.parse({ baseUrl: fake.baseUrl });
    await send(text('+5511987654321'));
    expect((fake.requests[1]!.json as { chatId: string }).chatId).toBe('551187654321@c.us');
  });

  it('skips the number check when checkNumberExists is false', async () => {
    await send(text(), { ...settings, checkNumberExists: false });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/sendText']);
  });

  it('rejects a number that is not on WhatsApp without sending', async () => {
    const error = await rejection(send(text('+8801700000000')));
    expect(error).toBeInstanceOf(ProviderRejected);
    expect((error as ProviderRejected).code).toBe('not-on-whatsapp');
    expect(error.message).toContain('+8801700000000');
    expect(fake.requests.map((r) => r.path)).toEqual(['/api/contacts/check-exists']);
    expect(fake.sent).toHaveLength(0);
  });

  it('rejects template content: the bridge sends text only', async () => {
    const error = await rejection(send(template));
    expect(error).toBeInstanceOf(ProviderRejected);
    expect((error as ProviderRejected).code).toBe('template-unsupported');
    expect(error.message).toMatch(/text only/);
    expect(error.message).toContain('due_reminder');
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects a number that is not E.164 without calling WAHA', async () => {
    const error = await rejection(send(text('01711223344')));
    expect(error).toBeInstanceOf(ProviderRejected);
    expect(fake.requests).toHaveLength(0);
  });

  it('turns a 401 (wrong API key) into a gateway fault that never quotes the key', async () => {
    const wrongKey = 'not-the-right-key-42';
    const error = await rejection(send(text(), settings, { ...credentials, apiKey: wrongKey }));
    expect(error).toBeInstanceOf(GatewayFault);
    expect(error.message).toMatch(/HTTP 401/);
    expect(error.message).toMatch(/apiKey/);
    expect(error.message).not.toContain(wrongKey);
    expect(fake.requests[0]!.headers['x-api-key']).toBe(wrongKey);
    expect(fake.sent).toHaveLength(0);
  });

  it('turns a session that is not WORKING (WAHA 422) into a gateway fault', async () => {
    const error = await rejection(send(text(), { ...settings, session: 'waiting' }));
    expect(error).toBeInstanceOf(GatewayFault);
    expect((error as GatewayFault).code).toBe('session-not-working');
    expect(error.message).toMatch(/HTTP 422/);
    expect(error.message).toMatch(/Session status is not as expected/);
    expect(error.message).toMatch(/SCAN_QR_CODE/);

    // The same from sendText itself (no number check), and as a 400 about the session's status.
    fake.setSessionStatus('default', 'STOPPED');
    const fromSend = await rejection(send(text(), { ...settings, checkNumberExists: false }));
    expect(fromSend).toBeInstanceOf(GatewayFault);
    expect(fromSend.message).toMatch(/STOPPED/);
    fake.setSessionStatus('default', 'WORKING');
    fake.failNext(400, { statusCode: 400, message: 'Session status is not WORKING (FAILED); restart the session', error: 'Bad Request' });
    expect(await rejection(send(text()))).toBeInstanceOf(GatewayFault);
    expect(fake.sent).toHaveLength(0);
  });

  it('turns an unknown session (WAHA 404) into a gateway fault', async () => {
    const error = await rejection(send(text(), { ...settings, session: 'missing' }));
    expect(error).toBeInstanceOf(GatewayFault);
    expect(error.message).toMatch(/HTTP 404/);
    expect(error.message).toMatch(/didn't find a session/);
  });

  it('turns a 429 into a throttle with its Retry-After', async () => {
    fake.failNext(429, { statusCode: 429, message: 'Too Many Requests' }, { headers: { 'retry-after': '7' } });
    const error = await rejection(send(text()));
    expect(error).toBeInstanceOf(ProviderThrottled);
    expect((error as ProviderThrottled).retryAfterSeconds).toBe(7);
  });

  it("treats WhatsApp's rate-overlimit (a WAHA 500) as a throttle too", async () => {
    fake.failNext(500, { statusCode: 500, exception: { message: 'rate-overlimit', data: 429, name: 'Error' } });
    expect(await rejection(send(text()))).toBeInstanceOf(ProviderThrottled);
  });

  it('turns a 500 into a temporary failure, not a throttle', async () => {
    fake.failNext(500, { statusCode: 500, exception: { message: 'Evaluation failed: t', name: 'Error' } }, { times: 2 });
    const error = await rejection(send(text()));
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error).not.toBeInstanceOf(ProviderThrottled);
    expect(error.message).toMatch(/HTTP 500/);
    expect(error.message).toMatch(/Evaluation failed/);
    // On sendText itself too.
    expect(await rejection(send(text(), { ...settings, checkNumberExists: false }))).toBeInstanceOf(ProviderUnavailable);
  });

  it('turns another 4xx (WAHA refusing the request body) into a rejection of the message', async () => {
    fake.failNext(400, { statusCode: 400, message: ['text must be a string'], error: 'Bad Request' });
    const error = await rejection(send(text(), { ...settings, checkNumberExists: false }));
    expect(error).toBeInstanceOf(ProviderRejected);
    expect(error.message).toMatch(/text must be a string/);
  });

  it('turns a server that does not answer into a temporary failure', async () => {
    const port = await freePortThatRefuses();
    const error = await rejection(send(text(), WahaSettings.parse({ baseUrl: `http://127.0.0.1:${port}` })));
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as ProviderUnavailable).code).toBe('network');
  });

  it('does not follow a redirect (the API key stays with the configured host)', async () => {
    fake.failNext(302, '', { headers: { location: 'https://elsewhere.example.net/api/sendText' } });
    const error = await rejection(send(text(), { ...settings, checkNumberExists: false }));
    expect(error).toBeInstanceOf(GatewayFault);
    expect(error.message).toMatch(/redirected/);
    expect(fake.requests).toHaveLength(1);
  });

  it('refuses a loopback baseUrl without ISPNOTIFY_ALLOW_PRIVATE_URLS, as a gateway fault', async () => {
    delete process.env[ENV];
    const error = await rejection(send(text()));
    expect(error).toBeInstanceOf(GatewayFault);
    expect((error as GatewayFault).code).toBe('url-refused');
    expect(error.message).toMatch(/refused/);
    expect(error.message).toMatch(/http|loopback/);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses the cloud metadata address even with ISPNOTIFY_ALLOW_PRIVATE_URLS=1', async () => {
    const error = await rejection(send(text(), WahaSettings.parse({ baseUrl: 'http://169.254.169.254' })));
    expect(error).toBeInstanceOf(GatewayFault);
    expect(error.message).toMatch(/metadata|link-local/i);
  });
});

describe('checkWahaGateway', () => {
  afterEach(restoreEnv);

  const field = async (baseUrl: string) => {
    const error = await rejection(checkWahaGateway({ baseUrl }));
    expect(error).toBeInstanceOf(DomainError);
    const domain = error as DomainError;
    expect(domain.kind).toBe('Invalid');
    expect(domain.fields[0]?.field).toBe('settings.baseUrl');
    return domain.fields[0]!.message;
  };

  it('refuses http:// and private or loopback hosts', async () => {
    delete process.env[ENV];
    expect(await field('http://waha.example.net')).toMatch(/only https URLs are allowed/);
    expect(await field('https://10.0.0.5')).toMatch(/private/i);
    expect(await field('https://192.168.1.20:3000')).toMatch(/private/i);
    expect(await field('https://127.0.0.1:3000')).toMatch(/loopback/i);
  });

  it('accepts an https URL on a public address, and a loopback one only where the deployment allows it', async () => {
    delete process.env[ENV];
    await expect(checkWahaGateway({ baseUrl: 'https://93.184.216.34' })).resolves.toBeUndefined();
    process.env[ENV] = '1';
    await expect(checkWahaGateway({ baseUrl: 'http://127.0.0.1:3000' })).resolves.toBeUndefined();
  });
});

describe('waha webhooks', () => {
  const settings = WahaSettings.parse({ baseUrl: 'https://waha.example.net' });
  const gateway = { credentials, settings };
  const SERIALIZED = `true_${DIGITS}@c.us_3EB0C767D26A1D8E6B5A`;
  const parse = (event: unknown) => wahaWhatsApp.parseWebhook(wahaWebhook(WEBHOOK_URL, event), { settings });

  describe('verification', () => {
    const event = ackEvent('default', SERIALIZED, `${DIGITS}@c.us`, 3);

    it("computes WAHA's documented HMAC example", () => {
      const body = '{"event":"message","session":"default","engine":"WEBJS"}';
      const documented =
        '208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2c1631777076153fa89';
      expect(wahaWebhookHmac('my-secret-key', body)).toBe(documented);
      expect(wahaHmac('my-secret-key', body)).toBe(documented);
    });

    it('accepts a body signed with the webhookSecret (X-Webhook-Hmac, sha512)', async () => {
      const request = wahaWebhook(WEBHOOK_URL, event, { hmacKey: WEBHOOK_SECRET });
      expect(request.headers['x-webhook-hmac-algorithm']).toBe('sha512');
      expect(await wahaWhatsApp.verifySignature(request, gateway)).toBe(true);
      // Upper-case hex is the same MAC.
      const upper = { ...request, headers: { ...request.headers, 'x-webhook-hmac': request.headers['x-webhook-hmac']!.toUpperCase() } };
      expect(await wahaWhatsApp.verifySignature(upper, gateway)).toBe(true);
    });

    it('refuses a forged or altered HMAC', async () => {
      const forged = wahaWebhook(WEBHOOK_URL, event, { hmacKey: 'someone-elses-secret-key' });
      expect(await wahaWhatsApp.verifySignature(forged, gateway)).toBe(false);

      const signed = wahaWebhook(WEBHOOK_URL, event, { hmacKey: WEBHOOK_SECRET });
      const altered = { ...signed, rawBody: signed.rawBody.replace('"ack":3', '"ack":-1') };
      expect(altered.rawBody).not.toBe(signed.rawBody);
      expect(await wahaWhatsApp.verifySignature(altered, gateway)).toBe(false);

      const otherAlgorithm = { ...signed, headers: { ...signed.headers, 'x-webhook-hmac-algorithm': 'md5' } };
      expect(await wahaWhatsApp.verifySignature(otherAlgorithm, gateway)).toBe(false);

      const truncated = { ...signed, headers: { ...signed.headers, 'x-webhook-hmac': signed.headers['x-webhook-hmac']!.slice(0, 64) } };
      expect(await wahaWhatsApp.verifySignature(truncated, gateway)).toBe(false);
    });

    it('accepts the webhookSecret as ?token= on the URL, and refuses a wrong one or none', async () => {
      const withToken = wahaWebhook(`${WEBHOOK_URL}?token=${encodeURIComponent(WEBHOOK_SECRET)}`, event);
      expect(withToken.headers['x-webhook-hmac']).toBeUndefined();
      expect(await wahaWhatsApp.verifySignature(withToken, gateway)).toBe(true);

      const wrongToken = wahaWebhook(`${WEBHOOK_URL}?token=${encodeURIComponent(`${WEBHOOK_SECRET}x`)}`, event);
      expect(await wahaWhatsApp.verifySignature(wrongToken, gateway)).toBe(false);

      expect(await wahaWhatsApp.verifySignature(wahaWebhook(WEBHOOK_URL, event), gateway)).toBe(false);

      // A forged HMAC does not spoil a valid token (the token alone proves the secret), nor the other way round.
      const forgedWithToken = wahaWebhook(`${WEBHOOK_URL}?token=${encodeURIComponent(WEBHOOK_SECRET)}`, event, { hmacKey: 'wrong-key-wrong-key' });
      expect(await wahaWhatsApp.verifySignature(forgedWithToken, gateway)).toBe(true);
    });
  });

  describe('message.ack', () => {
    it.each([
      [-1, 'failed'],
      [1, 'sent'],
      [2, 'delivered'],
      [3, 'read'],
      [4, 'read'],
    ] as const)('maps ack %i to %s', (ack, status) => {
      const updates = parse(ackEvent('default', SERIALIZED, `${DIGITS}@c.us`, ack));
      expect(updates).toHaveLength(1);
      const update = updates[0] as ProviderStatusUpdate;
      expect(update.providerMessageId).toBe('3EB0C767D26A1D8E6B5A');
      expect(update.status).toBe(status);
      expect(update.providerStatus).toBe({ [-1]: 'ERROR', 1: 'SERVER', 2: 'DEVICE', 3: 'READ', 4: 'PLAYED' }[ack]);
      if (status === 'failed') expect(update.reason).toMatch(/ERROR/);
      else expect(update.reason).toBeUndefined();
    });

    it('drops PENDING (0) and unknown ack values', () => {
      expect(parse(ackEvent('default', SERIALIZED, `${DIGITS}@c.us`, 0))).toEqual([]);
      expect(parse(ackEvent('default', SERIALIZED, `${DIGITS}@c.us`, 9))).toEqual([]);
    });

    it('reads the status from ackName alone, and the id in any of its shapes', () => {
      expect(parse(ackEvent('default', SERIALIZED, `${DIGITS}@c.us`, 2, { withNumber: false }))).toEqual([
        { providerMessageId: '3EB0C767D26A1D8E6B5A', status: 'delivered', providerStatus: 'DEVICE' },
      ]);
      const objectId = wahaEvent('message.ack', 'default', { id: { fromMe: true, remote: `${DIGITS}@c.us`, id: '3EB0C767D26A1D8E6B5A', _serialized: SERIALIZED }, ack: 3, ackName: 'READ', fromMe: true });
      expect(parse(objectId)).toEqual([{ providerMessageId: '3EB0C767D26A1D8E6B5A', status: 'read', providerStatus: 'READ' }]);
      // The same message named through a hidden (@lid) chat id still finds it.
      const lid = ackEvent('default', 'true_123456789012345@lid_3EB0C767D26A1D8E6B5A', '123456789012345@lid', 2);
      expect(parse(lid)).toEqual([{ providerMessageId: '3EB0C767D26A1D8E6B5A', status: 'delivered', providerStatus: 'DEVICE' }]);
    });

    it('drops acks of messages sent to us, of group chats, and of other sessions', () => {
      expect(parse(ackEvent('default', `false_${DIGITS}@c.us_AAAA`, `${DIGITS}@c.us`, 3, { fromMe: false }))).toEqual([]);
      expect(parse(ackEvent('default', 'true_120363402931855007@g.us_3EB091474C1CE5341E8F3F_551137774071@c.us', '120363402931855007@g.us', 3))).toEqual([]);
      expect(parse(ackEvent('another-session', SERIALIZED, `${DIGITS}@c.us`, 3))).toEqual([]);
    });

    it('refuses an ack without a message id', () => {
      const error = caught(() => parse(wahaEvent('message.ack', 'default', { ack: 3, ackName: 'READ' })));
      expect(error.kind).toBe('Invalid');
    });
  });

  describe('message', () => {
    it('parses a customer message as inbound, from +<digits>, at its unix timestamp', () => {
      const updates = parse(messageEvent('default', { keyId: '3EB0F8C097D15D6986DEB7', from: `${DIGITS}@c.us`, body: 'আমার লাইন বন্ধ। Line down since 9am', timestamp: 1762738800 }));
      expect(updates).toEqual([
        {
          kind: 'inbound',
          providerMessageId: '3EB0F8C097D15D6986DEB7',
          from: TO,
          text: 'আমার লাইন বন্ধ। Line down since 9am',
          at: '2025-11-10T01:40:00.000Z',
        } satisfies ProviderInboundMessage,
      ]);
    });

    it('describes media, with its caption', () => {
      const [withCaption] = parse(messageEvent('default', { keyId: 'K1', from: `${DIGITS}@c.us`, body: 'my router', timestamp: 1762738800, media: { mimetype: 'image/jpeg' } }));
      expect((withCaption as ProviderInboundMessage).text).toBe('[image] my router');
      const [bare] = parse(messageEvent('default', { keyId: 'K2', from: `${DIGITS}@c.us`, body: '', timestamp: 1762738800, media: { mimetype: 'application/pdf' } }));
      expect((bare as ProviderInboundMessage).text).toBe('[document]');
    });

    it('drops our own messages (fromMe), and messages from groups, broadcasts and hidden ids', () => {
      expect(parse(messageEvent('default', { keyId: 'K3', from: `${DIGITS}@c.us`, body: 'sent from the phone', timestamp: 1762738800, fromMe: true }))).toEqual([]);
      expect(parse(messageEvent('default', { keyId: 'K4', from: '120363402931855007@g.us', body: 'group chatter', timestamp: 1762738800 }))).toEqual([]);
      expect(parse(messageEvent('default', { keyId: 'K5', from: 'status@broadcast', body: 'a story', timestamp: 1762738800 }))).toEqual([]);
      expect(parse(messageEvent('default', { keyId: 'K6', from: '123456789012345@lid', body: 'hidden', timestamp: 1762738800 }))).toEqual([]);
      expect(parse(messageEvent('other', { keyId: 'K7', from: `${DIGITS}@c.us`, body: 'other session', timestamp: 1762738800 }))).toEqual([]);
    });
  });

  it('drops every other event', () => {
    expect(parse(wahaEvent('session.status', 'default', { status: 'WORKING' }))).toEqual([]);
    expect(parse(wahaEvent('message.any', 'default', { id: SERIALIZED, from: `${DIGITS}@c.us`, fromMe: false, body: 'x', timestamp: 1 }))).toEqual([]);
    expect(parse(wahaEvent('message.reaction', 'default', { id: SERIALIZED, reaction: { text: '🙏' } }))).toEqual([]);
  });

  it('refuses a body that is not JSON or not a WAHA event', () => {
    const notJson = caught(() => wahaWhatsApp.parseWebhook({ method: 'POST', url: WEBHOOK_URL, headers: {}, rawBody: 'event=message' }, { settings }));
    expect(notJson.kind).toBe('Invalid');
    expect(notJson.message).toMatch(/not JSON/);
    const notEvent = caught(() => parse({ hello: 'world' }));
    expect(notEvent.kind).toBe('Invalid');
    expect(notEvent.fields.map((f) => f.field)).toContain('event');
  });
});
