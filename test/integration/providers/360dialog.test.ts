import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providerBaseUrlVariable } from '../../../shared/adapters/providers/base-url.js';
import { whatsappProvider, whatsappProviders } from '../../../shared/adapters/providers/whatsapp/registry.js';
import {
  THREE_SIXTY_DIALOG_BASE_URL,
  threeSixtyDialogWhatsApp,
  type ThreeSixtyDialogCredentials,
  type ThreeSixtyDialogSettings,
} from '../../../shared/adapters/providers/whatsapp/three-sixty-dialog.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderThrottled, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundWhatsApp, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { caught, rejection } from '../../support/expect-error.js';
import { OWN_ERRORS, startFake360Dialog, tokenWebhook, withoutMetadata, type Fake360Dialog } from '../../support/fake-360dialog.js';
import { errorNumber, inboundPayload, statusPayload } from '../../support/fake-meta.js';
import { freePortThatRefuses } from '../../support/net.js';

const API_KEY = 'Xq7Rk2mPz9LwT4vB8nC1dF6h_AK';
const WEBHOOK_SECRET = 'wh_3f9a1c7e5b2d4068a9e1';
const credentials: ThreeSixtyDialogCredentials = { apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET };
const settings: ThreeSixtyDialogSettings = { phoneNumber: '+8801711000000' };
const gateway = { credentials, settings };

const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };

const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_360DIALOG';
const WEBHOOK_URL = 'https://notify.example.net/webhooks/whatsapp/360dialog/01JNGW00000000000000000360';
const TOKEN_URL = `${WEBHOOK_URL}?token=${WEBHOOK_SECRET}`;
/** What 360dialog relays: Meta's payload for the number behind the API key. */
const target = { phoneNumberId: '109876543210987', businessAccountId: '102290129340398' };

function setBaseUrl(value: string | undefined): void {
  if (value === undefined) delete process.env[BASE_URL_VARIABLE];
  else process.env[BASE_URL_VARIABLE] = value;
}

const text = (to: string, body = 'Dear Rahim, your bill of BDT 1,200 is due on 5 Dec.'): OutboundWhatsApp => ({
  messageId: '01JNMSG0000000000000000000',
  to,
  content: { kind: 'text', text: body },
});

const template = (to: string, name = 'due_reminder', parameters = ['1,200', '5 Dec'], language = 'en'): OutboundWhatsApp => ({
  messageId: '01JNMSG0000000000000000001',
  to,
  content: { kind: 'template', name, language, parameters },
});

const send = (message: OutboundWhatsApp, context: ProviderContext = ctx, creds = credentials) =>
  threeSixtyDialogWhatsApp.send(message, { credentials: creds, settings }, context);

/** A context whose fetch answers `status` with `body` and sends nothing. */
const replying = (status: number, body: string, contentType = 'application/json'): ProviderContext => ({
  ...ctx,
  fetch: async () => new Response(body, { status, headers: { 'content-type': contentType } }),
});

describe('360dialog WhatsApp provider', () => {
  let fake: Fake360Dialog;
  const baseUrlBefore = process.env[BASE_URL_VARIABLE];

  beforeEach(async () => {
    fake = await startFake360Dialog({ apiKey: API_KEY });
    setBaseUrl(fake.baseUrl);
  });

  afterEach(async () => {
    setBaseUrl(baseUrlBefore);
    await fake.close();
  });

  it('is registered under the id "360dialog" on the whatsapp channel, without handshake or lookup', () => {
    expect(whatsappProvider('360dialog')).toBe(threeSixtyDialogWhatsApp);
    expect(whatsappProviders['360dialog']).toBe(threeSixtyDialogWhatsApp);
    expect(threeSixtyDialogWhatsApp).toMatchObject({ id: '360dialog', channel: 'whatsapp', displayName: '360dialog' });
    expect(threeSixtyDialogWhatsApp.handshake).toBeUndefined();
    expect(threeSixtyDialogWhatsApp.lookup).toBeUndefined();
    expect(threeSixtyDialogWhatsApp.receiptWindowSeconds).toBe(3600);
    expect(whatsappProvider('meta')).not.toBe(threeSixtyDialogWhatsApp);
  });

  describe('sending', () => {
    it('sends a text message in the Cloud API shape to /messages with the D360-API-KEY header', async () => {
      const result = await send(text('+8801711000001'));

      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/messages');
      expect(request.headers['d360-api-key']).toBe(API_KEY);
      expect(request.headers.authorization).toBeUndefined();
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.json).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '8801711000001',
        type: 'text',
        text: { body: 'Dear Rahim, your bill of BDT 1,200 is due on 5 Dec.', preview_url: false },
      });
      expect(request.relayed).toBe(true);
      expect(request.replyStatus).toBe(200);
      const id = (request.replyBody as { messages: { id: string }[] }).messages[0]!.id;
      expect(id).toMatch(/^wamid\./);
      expect(result).toEqual({ providerMessageId: id });
    });

    it('sends a template with its body parameters in order', async () => {
      const result = await send(template('+8801711000001'));
      expect(result.providerMessageId).toMatch(/^wamid\./);
      expect(fake.requests[0]!.json).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '8801711000001',
        type: 'template',
        template: {
          name: 'due_reminder',
          language: { code: 'en' },
          components: [{ type: 'body', parameters: [{ type: 'text', text: '1,200' }, { type: 'text', text: '5 Dec' }] }],
        },
      });
    });

    it('omits components for a template without parameters', async () => {
      await send(template('+8801711000001', 'welcome', []));
      expect(fake.requests[0]!.json).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '8801711000001',
        type: 'template',
        template: { name: 'welcome', language: { code: 'en' } },
      });
      expect(fake.requests[0]!.replyStatus).toBe(200);
    });

    it('refuses a number that is not E.164 without calling 360dialog', async () => {
      for (const to of ['01711223344', '+0171122334', '+88017112233445566']) {
        const error = await rejection(send(text(to)));
        expect(error).toBeInstanceOf(ProviderRejected);
        expect((error as ProviderRejected).code).toBe('invalid-number');
      }
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe("errors Meta answers, relayed by 360dialog", () => {
    it('rejects a number that is not on WhatsApp (131026) for good', async () => {
      const error = await rejection(send(text(errorNumber(131026))));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('131026');
      expect(error.message).toBe('The number is not on WhatsApp or cannot receive messages (Meta error 131026): Message Undeliverable.');
      expect(fake.requests[0]!.relayed).toBe(true);
      expect(fake.requests[0]!.replyStatus).toBe(400);
    });

    it('rejects free text outside the 24-hour window (131047) for good', async () => {
      const error = await rejection(send(text(errorNumber(131047))));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('131047');
      expect(error.message).toMatch(/only an approved template can be sent \(Meta error 131047\)/);
    });

    it('rejects a template that does not exist in that language (132001)', async () => {
      const error = await rejection(send(template('+8801711000001', 'due_reminder', ['a', 'b'], 'bn')));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('132001');
      expect(error.message).toBe('The template does not exist in this language or is not approved (Meta error 132001): template name (due_reminder) does not exist in bn');
    });

    it('rejects a template whose parameter count does not match (132000)', async () => {
      const error = await rejection(send(template('+8801711000001', 'due_reminder', ['1,200'])));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('132000');
      expect(error.message).toMatch(/^The number of template parameters does not match the template \(Meta error 132000\)/);
    });

    it("makes Meta's throughput limit (130429, HTTP 429) a throttle, and the next send goes through", async () => {
      fake.meta.failNext(1, 130429);
      const error = await rejection(send(text('+8801711000001')));
      expect(error).toBeInstanceOf(ProviderThrottled);
      expect((error as ProviderThrottled).code).toBe('130429');
      expect(error.message).toMatch(/throughput limit \(Meta error 130429\)/);
      expect(fake.requests[0]!.replyStatus).toBe(429);
      expect((await send(text('+8801711000001'))).providerMessageId).toMatch(/^wamid\./);
    });

    it('keeps the per-customer pair limit (131056) temporary but not a throttle (it spends an attempt)', async () => {
      const error = await rejection(send(text(errorNumber(131056))));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error).not.toBeInstanceOf(ProviderThrottled);
      expect((error as ProviderUnavailable).code).toBe('131056');
    });

    it("turns Meta's token error (190) into a GatewayFault", async () => {
      fake.meta.failNext(1, 190);
      const error = await rejection(send(text('+8801711000001')));
      expect(error).toBeInstanceOf(GatewayFault);
      expect((error as GatewayFault).code).toBe('190');
      expect(error.message).toMatch(/^The access token has expired or was revoked \(Meta error 190\)/);
    });

    it("treats Meta's own trouble (131000, HTTP 500) as temporary", async () => {
      fake.meta.failNext(1, 131000);
      const error = await rejection(send(text('+8801711000001')));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error).not.toBeInstanceOf(ProviderThrottled);
      expect((error as ProviderUnavailable).code).toBe('131000');
    });
  });

  describe("360dialog's own errors", () => {
    it('turns a wrong API key (HTTP 401) into a GatewayFault naming the API key', async () => {
      const error = await rejection(send(text('+8801711000001'), ctx, { ...credentials, apiKey: 'not-the-key' }));
      expect(error).toBeInstanceOf(GatewayFault);
      expect(error.message).toMatch(/^360dialog answered HTTP 401: .*Invalid api_key.*; check the gateway's 360dialog API key \(D360-API-KEY\)\.$/);
      expect(fake.requests[0]!.headers['d360-api-key']).toBe('not-the-key');
      expect(fake.requests[0]!.relayed).toBe(false);
    });

    it('turns a blocked endpoint (HTTP 403) into a GatewayFault', async () => {
      fake.failNext(1, OWN_ERRORS.blocked());
      const error = await rejection(send(text('+8801711000001')));
      expect(error).toBeInstanceOf(GatewayFault);
      expect(error.message).toMatch(/^360dialog answered HTTP 403: .*The endpoint is blocked/);
    });

    it('throttles on HTTP 429 and on its endpoint rate limit (HTTP 400)', async () => {
      fake.failNext(1, { status: 429, body: { meta: { success: false, http_code: 429, developer_message: 'Too Many Requests' } } });
      const tooMany = await rejection(send(text('+8801711000001')));
      expect(tooMany).toBeInstanceOf(ProviderThrottled);
      expect(tooMany.message).toMatch(/^360dialog answered HTTP 429/);

      fake.failNext(1, OWN_ERRORS.rateLimit());
      const rateLimit = await rejection(send(text('+8801711000001')));
      expect(rateLimit).toBeInstanceOf(ProviderThrottled);
      expect(rateLimit.message).toBe('360dialog answered HTTP 400: You have exceeded the endpoint rate limit.');
      expect(fake.requests.map((r) => r.replyStatus)).toEqual([429, 400]);
    });

    it('turns a disabled or unpaid Messaging API (HTTP 400) into a GatewayFault, not a rejected message', async () => {
      for (const answer of [OWN_ERRORS.disabled(), OWN_ERRORS.unpaid()]) {
        fake.failNext(1, answer);
        const error = await rejection(send(text('+8801711000001')));
        expect(error).toBeInstanceOf(GatewayFault);
        expect(error.message).toMatch(/^360dialog answered HTTP 400: .*(disabled|lack of payment).*; the 360dialog account cannot send\.$/);
      }
    });

    it('treats 5xx as temporary, with or without a JSON body', async () => {
      for (const answer of [OWN_ERRORS.internal(), OWN_ERRORS.notAvailable(), { status: 503, body: '<html><body>Service Unavailable</body></html>' }]) {
        fake.failNext(1, answer);
        const error = await rejection(send(text('+8801711000001')));
        expect(error).toBeInstanceOf(ProviderUnavailable);
        expect(error).not.toBeInstanceOf(ProviderThrottled);
        expect(error.message).toMatch(new RegExp(`^360dialog answered HTTP ${answer.status}`));
      }
      const html = await rejection(send(text('+8801711000001'), replying(502, '<html><body>Bad Gateway</body></html>', 'text/html')));
      expect(html).toBeInstanceOf(ProviderUnavailable);
      expect(html.message).toBe('360dialog answered HTTP 502: Bad Gateway');
    });

    it('reads a 401 whose body is {"error": "..."} the same way', async () => {
      const error = await rejection(send(text('+8801711000001'), replying(401, JSON.stringify({ error: 'Invalid api_key' }))));
      expect(error).toBeInstanceOf(GatewayFault);
      expect(error.message).toMatch(/Invalid api_key/);
    });

    it('rejects an unknown 4xx of its own for good', async () => {
      const error = await rejection(send(text('+8801711000001'), replying(400, JSON.stringify({ meta: { success: false, http_code: 400, developer_message: 'Unknown field foo' } }))));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect(error.message).toMatch(/^360dialog answered HTTP 400: .*Unknown field foo/);
    });

    it('treats a network failure as temporary', async () => {
      setBaseUrl(`http://127.0.0.1:${await freePortThatRefuses()}`);
      const error = await rejection(send(text('+8801711000001')));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('network');
      expect(error.message).toMatch(/^Could not reach 360dialog at 127\.0\.0\.1:/);
    });

    it('treats a success reply without a message id as temporary', async () => {
      const error = await rejection(send(text('+8801711000001'), replying(200, JSON.stringify({ messaging_product: 'whatsapp', messages: [] }))));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error.message).toMatch(/^360dialog answered HTTP 200 without a message id/);
    });
  });

  describe('base URL', () => {
    it('names ISPNOTIFY_BASE_URL_360DIALOG as the override variable', () => {
      expect(providerBaseUrlVariable('360dialog')).toBe(BASE_URL_VARIABLE);
    });

    it("calls 360dialog's official host when the variable is unset", async () => {
      setBaseUrl(undefined);
      const calls: { url: string; headers: Headers }[] = [];
      const stub: ProviderContext = {
        ...ctx,
        fetch: async (input, init) => {
          calls.push({ url: String(input), headers: new Headers(init?.headers) });
          return Response.json({ messaging_product: 'whatsapp', contacts: [{ input: '8801711000001', wa_id: '8801711000001' }], messages: [{ id: 'wamid.STUB' }] });
        },
      };
      expect(await send(text('+8801711000001'), stub)).toEqual({ providerMessageId: 'wamid.STUB' });
      expect(THREE_SIXTY_DIALOG_BASE_URL).toBe('https://waba-v2.360dialog.io');
      expect(calls).toHaveLength(1);
      expect(calls[0]!.url).toBe('https://waba-v2.360dialog.io/messages');
      expect(calls[0]!.headers.get('d360-api-key')).toBe(API_KEY);
      expect(fake.requests).toHaveLength(0);
    });

    it('takes the override with or without a trailing slash, and refuses a bad one', async () => {
      setBaseUrl(`${fake.baseUrl}/`);
      await send(text('+8801711000001'));
      expect(fake.requests[0]!.path).toBe('/messages');

      setBaseUrl('ftp://127.0.0.1:1');
      await expect(send(text('+8801711000001'))).rejects.toThrow(/ISPNOTIFY_BASE_URL_360DIALOG must be an http\(s\) URL/);
    });

    it('refuses a URL in the settings as an unknown field, whatever its name', () => {
      for (const extra of [{ apiBaseUrl: 'http://127.0.0.1:4010/reflect' }, { host: 'waba-v2.360dialog.io' }]) {
        const result = threeSixtyDialogWhatsApp.settings.safeParse({ ...settings, ...extra });
        expect(result.success).toBe(false);
        expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: Object.keys(extra) }));
      }
    });
  });

  describe('webhook token', () => {
    const delivered = (url: string) => tokenWebhook(url, statusPayload(target, [{ id: 'wamid.A', status: 'delivered' }]));

    it('accepts a webhook whose URL carries the secret as ?token=', async () => {
      expect(await threeSixtyDialogWhatsApp.verifySignature(delivered(TOKEN_URL), gateway)).toBe(true);
      expect(await threeSixtyDialogWhatsApp.verifySignature(delivered(`${WEBHOOK_URL}?x=1&token=${encodeURIComponent(WEBHOOK_SECRET)}`), gateway)).toBe(true);
    });

    it('refuses a missing, wrong, truncated or differently named token', async () => {
      for (const url of [
        WEBHOOK_URL,
        `${WEBHOOK_URL}?token=`,
        `${WEBHOOK_URL}?token=${WEBHOOK_SECRET}x`,
        `${WEBHOOK_URL}?token=${WEBHOOK_SECRET.slice(0, -1)}`,
        `${WEBHOOK_URL}?token=${WEBHOOK_SECRET.toUpperCase()}`,
        `${WEBHOOK_URL}?secret=${WEBHOOK_SECRET}`,
        `${WEBHOOK_URL}#token=${WEBHOOK_SECRET}`,
        'not a url',
      ]) {
        expect(await threeSixtyDialogWhatsApp.verifySignature(delivered(url), gateway), url).toBe(false);
      }
    });

    it("refuses another gateway's secret", async () => {
      const other = { credentials: { ...credentials, webhookSecret: 'another-secret-of-24-chars' }, settings };
      expect(await threeSixtyDialogWhatsApp.verifySignature(delivered(TOKEN_URL), other)).toBe(false);
    });

    it('ignores signature headers: only the token counts', async () => {
      const request = delivered(WEBHOOK_URL);
      const signed: WebhookRequest = { ...request, headers: { ...request.headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}`, 'x-360dialog-signature': 'abc' } };
      expect(await threeSixtyDialogWhatsApp.verifySignature(signed, gateway)).toBe(false);
    });
  });

  describe('parsing webhooks', () => {
    const parse = (payload: unknown) => threeSixtyDialogWhatsApp.parseWebhook(tokenWebhook(TOKEN_URL, payload), { settings });

    it('maps sent, delivered and read, and drops the statuses we do not record', () => {
      expect(
        parse(
          statusPayload(target, [
            { id: 'wamid.A', status: 'sent' },
            { id: 'wamid.A', status: 'delivered' },
            { id: 'wamid.A', status: 'read' },
            { id: 'wamid.A', status: 'deleted' },
            { id: 'wamid.A', status: 'warning' },
          ]),
        ),
      ).toEqual([
        { providerMessageId: 'wamid.A', status: 'sent', providerStatus: 'sent' },
        { providerMessageId: 'wamid.A', status: 'delivered', providerStatus: 'delivered' },
        { providerMessageId: 'wamid.A', status: 'read', providerStatus: 'read' },
      ]);
    });

    it('maps failed with its reason in words and the Meta error code', () => {
      expect(
        parse(
          statusPayload(target, [
            { id: 'wamid.B', status: 'failed', error: { code: 131026, title: 'Message undeliverable', details: 'Message Undeliverable.' } },
            { id: 'wamid.C', status: 'failed', error: { code: 131047, title: 'Re-engagement message' } },
            { id: 'wamid.D', status: 'failed' },
          ]),
        ),
      ).toEqual([
        {
          providerMessageId: 'wamid.B',
          status: 'failed',
          providerStatus: 'failed/131026',
          reason: 'The number is not on WhatsApp or cannot receive messages (Meta error 131026): Message Undeliverable.',
        },
        {
          providerMessageId: 'wamid.C',
          status: 'failed',
          providerStatus: 'failed/131047',
          reason: 'More than 24 hours have passed since the customer last wrote, so only an approved template can be sent (Meta error 131047): Re-engagement message',
        },
        { providerMessageId: 'wamid.D', status: 'failed', providerStatus: 'failed', reason: '360dialog reported the message failed without a reason' },
      ]);
    });

    it('reads inbound messages: text, template buttons, interactive replies and media', () => {
      const at = 1739321024;
      expect(
        parse(
          inboundPayload(target, [
            { type: 'text', id: 'wamid.IN1', from: '8801711223344', timestamp: at, body: 'আমি আগামীকাল বিল দেব' },
            { type: 'button', id: 'wamid.IN2', from: '8801711223344', timestamp: at + 1, text: 'Pay now', payload: 'pay-c-1001' },
            { type: 'button_reply', id: 'wamid.IN3', from: '8801711223344', timestamp: at + 2, title: 'Call me' },
            { type: 'image', id: 'wamid.IN4', from: '8801711223344', timestamp: at + 3, caption: 'my receipt' },
          ]),
        ),
      ).toEqual([
        { kind: 'inbound', providerMessageId: 'wamid.IN1', from: '+8801711223344', text: 'আমি আগামীকাল বিল দেব', at: '2025-02-12T00:43:44.000Z' },
        { kind: 'inbound', providerMessageId: 'wamid.IN2', from: '+8801711223344', text: 'Pay now', at: '2025-02-12T00:43:45.000Z' },
        { kind: 'inbound', providerMessageId: 'wamid.IN3', from: '+8801711223344', text: 'Call me', at: '2025-02-12T00:43:46.000Z' },
        { kind: 'inbound', providerMessageId: 'wamid.IN4', from: '+8801711223344', text: '[image] my receipt', at: '2025-02-12T00:43:47.000Z' },
      ]);
    });

    it('does not filter by phone number id (one API key is one number) and reads a payload without metadata', () => {
      const otherNumber = { ...target, phoneNumberId: '100000000000001' };
      expect(parse(statusPayload(otherNumber, [{ id: 'wamid.E', status: 'delivered' }]))).toEqual([
        { providerMessageId: 'wamid.E', status: 'delivered', providerStatus: 'delivered' },
      ]);
      const bare = withoutMetadata(inboundPayload(target, [{ type: 'text', id: 'wamid.IN9', from: '8801711223344', timestamp: 1739321024, body: 'hi' }]));
      expect(JSON.stringify(bare)).not.toContain('metadata');
      expect(parse(bare)).toEqual([{ kind: 'inbound', providerMessageId: 'wamid.IN9', from: '+8801711223344', text: 'hi', at: '2025-02-12T00:43:44.000Z' }]);
      expect(parse(withoutMetadata(statusPayload(target, [{ id: 'wamid.F', status: 'read' }])))).toEqual([
        { providerMessageId: 'wamid.F', status: 'read', providerStatus: 'read' },
      ]);
    });

    it('ignores changes of other fields', () => {
      const body = {
        object: 'whatsapp_business_account',
        entry: [{ id: target.businessAccountId, changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED' } }] }],
      };
      expect(parse(body)).toEqual([]);
    });

    it('refuses a body that is not JSON or not the documented shape as Invalid, naming 360dialog', () => {
      for (const rawBody of [
        'not json',
        '{"object":"whatsapp_business_account"}',
        '{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"","status":"sent"}]}}]}]}',
        JSON.stringify(inboundPayload(target, [{ type: 'text', id: 'wamid.X', from: 'not-a-number', timestamp: 1, body: 'hi' }])),
      ]) {
        const error = caught(() => threeSixtyDialogWhatsApp.parseWebhook({ method: 'POST', url: TOKEN_URL, headers: {}, rawBody }, { settings }));
        expect(error).toBeInstanceOf(DomainError);
        expect(error.kind).toBe('Invalid');
        expect(error.message).toMatch(/^360dialog webhook/);
      }
    });
  });

  describe('gateway configuration', () => {
    it('accepts good credentials and settings, trimming the API key; phoneNumber is optional', () => {
      expect(threeSixtyDialogWhatsApp.credentials.parse({ ...credentials, apiKey: ` ${API_KEY}\n` })).toEqual(credentials);
      expect(threeSixtyDialogWhatsApp.settings.parse(settings)).toEqual(settings);
      expect(threeSixtyDialogWhatsApp.settings.parse({})).toEqual({});
    });

    it('explains bad or missing credentials and refuses unknown fields', () => {
      const result = threeSixtyDialogWhatsApp.credentials.safeParse({ apiKey: 'has a space', webhookSecret: 'too-short', extra: 1 });
      expect(result.success).toBe(false);
      const messages = Object.fromEntries(result.error!.issues.map((i) => [i.path.join('.') || i.code, i.message]));
      expect(messages.apiKey).toMatch(/360dialog API key \(D360-API-KEY\)/);
      expect(messages.webhookSecret).toMatch(/at least 16 characters/);
      expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['extra'] }));
      expect(threeSixtyDialogWhatsApp.credentials.safeParse({ apiKey: '', webhookSecret: WEBHOOK_SECRET }).success).toBe(false);
      expect(threeSixtyDialogWhatsApp.credentials.safeParse({ apiKey: API_KEY }).success).toBe(false);
    });

    it('refuses a phone number that is not E.164', () => {
      for (const phoneNumber of ['01711000000', '8801711000000', '+0', 'abc']) {
        const result = threeSixtyDialogWhatsApp.settings.safeParse({ phoneNumber });
        expect(result.success).toBe(false);
        expect(result.error!.issues[0]).toMatchObject({ path: ['phoneNumber'], message: expect.stringMatching(/E\.164/) });
      }
    });
  });
});
