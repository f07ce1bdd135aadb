import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  META_DEFAULT_API_VERSION,
  metaWhatsApp,
  type MetaCredentials,
  type MetaSettings,
} from '../../../shared/adapters/providers/whatsapp/meta.js';
import { whatsappProvider, whatsappProviders } from '../../../shared/adapters/providers/whatsapp/registry.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundWhatsApp, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { caught, rejection } from '../../support/expect-error.js';
import {
  errorNumber,
  hubSignature,
  inboundPayload,
  signedWebhook,
  startFakeMeta,
  statusPayload,
  type FakeMeta,
} from '../../support/fake-meta.js';
import { freePortThatRefuses } from '../../support/net.js';

const ACCESS_TOKEN = 'EAAG' + 'x1y2z3'.repeat(10);
const APP_SECRET = '0123456789abcdef0123456789abcdef';
const VERIFY_TOKEN = 'vt_9f8e7d6c5b4a39281706';
const PHONE_NUMBER_ID = '106540352242922';
const BUSINESS_ACCOUNT_ID = '102290129340398';

const credentials: MetaCredentials = { accessToken: ACCESS_TOKEN, appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN };
const settings: MetaSettings = { phoneNumberId: PHONE_NUMBER_ID, businessAccountId: BUSINESS_ACCOUNT_ID };
const gateway = { credentials, settings };
const target = { phoneNumberId: PHONE_NUMBER_ID, businessAccountId: BUSINESS_ACCOUNT_ID };

const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };

const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_META';
const WEBHOOK_URL = 'https://notify.example.net/webhooks/whatsapp/meta/01JNGW00000000000000000000';

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


/** A fetch that records each request and answers a successful send, sending nothing anywhere. */
function recordingFetch() {
  const calls: { url: string; headers: Headers; body: string }[] = [];
  const fetchStub: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), headers: new Headers(init?.headers), body: typeof init?.body === 'string' ? init.body : '' });
    return Response.json({ messaging_product: 'whatsapp', contacts: [{ input: '8801711000001', wa_id: '8801711000001' }], messages: [{ id: 'wamid.STUB' }] });
  };
  return { calls, ctx: { ...ctx, fetch: fetchStub } satisfies ProviderContext };
}

describe('Meta WhatsApp Cloud API provider', () => {
  let fake: FakeMeta;
  const baseUrlBefore = process.env[BASE_URL_VARIABLE];

  beforeEach(async () => {
    fake = await startFakeMeta({ accessToken: ACCESS_TOKEN, phoneNumberId: PHONE_NUMBER_ID, errorTokens: { 'EAAG-expired-token': 190 } });
    setBaseUrl(fake.baseUrl);
  });

  afterEach(async () => {
    setBaseUrl(baseUrlBefore);
    await fake.close();
  });

  it('is registered under the id "meta" on the whatsapp channel', () => {
    expect(whatsappProvider('meta')).toBe(metaWhatsApp);
    expect(whatsappProviders.meta).toBe(metaWhatsApp);
    expect(whatsappProvider('toString')).toBeUndefined();
    expect(whatsappProvider('__proto__')).toBeUndefined();
    expect(metaWhatsApp).toMatchObject({ id: 'meta', channel: 'whatsapp', displayName: 'Meta WhatsApp Cloud API' });
    expect(metaWhatsApp.lookup).toBeUndefined();
    expect(metaWhatsApp.receiptWindowSeconds).toBe(3600);
  });

  describe('sending', () => {
    it('sends a text message exactly as documented and returns the wamid', async () => {
      const result = await metaWhatsApp.send(text('+8801711000001'), gateway, ctx);

      expect(result.providerMessageId).toMatch(/^wamid\./);
      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe(`/${META_DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/messages`);
      expect(request.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.json).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '8801711000001',
        type: 'text',
        text: { body: 'Dear Rahim, your bill of BDT 1,200 is due on 5 Dec.', preview_url: false },
      });
      expect(request.replyStatus).toBe(200);
      expect((request.replyBody as { messages: { id: string }[] }).messages[0]!.id).toBe(result.providerMessageId);
    });

    it('sends a template message with its body parameters in order', async () => {
      const result = await metaWhatsApp.send(template('+8801711000001'), gateway, ctx);

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
      await metaWhatsApp.send(template('+8801711000001', 'welcome', []), gateway, ctx);
      expect(fake.requests[0]!.json).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '8801711000001',
        type: 'template',
        template: { name: 'welcome', language: { code: 'en' } },
      });
    });

    it("uses the gateway's apiVersion when it names one", async () => {
      await metaWhatsApp.send(text('+8801711000001'), { credentials, settings: { ...settings, apiVersion: 'v23.0' } }, ctx);
      expect(fake.requests[0]!.path).toBe(`/v23.0/${PHONE_NUMBER_ID}/messages`);
    });

    it('refuses a number that is not E.164 without calling Meta', async () => {
      const error = await rejection(metaWhatsApp.send(text('01711223344'), gateway, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('errors', () => {
    const cases: Array<{ code: number; kind: typeof ProviderRejected | typeof ProviderUnavailable | typeof GatewayFault; words: RegExp }> = [
      // permanent for this message
      { code: 131026, kind: ProviderRejected, words: /^The number is not on WhatsApp or cannot receive messages \(Meta error 131026\): Message Undeliverable\.$/ },
      { code: 131047, kind: ProviderRejected, words: /24 hours.*only an approved template.*\(Meta error 131047\): Message failed to send because more than 24 hours/ },
      { code: 131051, kind: ProviderRejected, words: /does not support this message type \(Meta error 131051\)/ },
      { code: 132005, kind: ProviderRejected, words: /too long.*\(Meta error 132005\)/ },
      { code: 132007, kind: ProviderRejected, words: /policy \(Meta error 132007\)/ },
      { code: 132012, kind: ProviderRejected, words: /format the template expects \(Meta error 132012\)/ },
      { code: 131008, kind: ProviderRejected, words: /required parameter is missing \(Meta error 131008\)/ },
      { code: 131009, kind: ProviderRejected, words: /parameter value is not valid \(Meta error 131009\)/ },
      { code: 100, kind: ProviderRejected, words: /refused a parameter.*\(Meta error 100\): Parameter value is not valid/ },
      { code: 1, kind: ProviderRejected, words: /could not process the request \(Meta error 1\)/ },
      // temporary
      { code: 130429, kind: ProviderUnavailable, words: /throughput limit \(Meta error 130429\): Cloud API message throughput has been reached\./ },
      { code: 131056, kind: ProviderUnavailable, words: /Too many messages were sent to this customer.*\(Meta error 131056\)/ },
      { code: 131048, kind: ProviderUnavailable, words: /spam \(Meta error 131048\)/ },
      { code: 4, kind: ProviderUnavailable, words: /rate limit \(Meta error 4\)/ },
      { code: 80007, kind: ProviderUnavailable, words: /Business Account reached its rate limit \(Meta error 80007\)/ },
      { code: 131000, kind: ProviderUnavailable, words: /Something went wrong at Meta \(Meta error 131000\)/ },
      { code: 2, kind: ProviderUnavailable, words: /temporarily unavailable.*\(Meta error 2\)/ },
      // the gateway is unusable
      { code: 10, kind: GatewayFault, words: /lacks permission.*\(Meta error 10\)/ },
      { code: 200, kind: GatewayFault, words: /permission to send was not granted or was removed \(Meta error 200\)/ },
      { code: 131031, kind: GatewayFault, words: /Business Account is locked \(Meta error 131031\)/ },
      { code: 368, kind: GatewayFault, words: /temporarily blocked for violating a Meta policy \(Meta error 368\)/ },
      { code: 131042, kind: GatewayFault, words: /payment problem.*\(Meta error 131042\)/ },
      { code: 133010, kind: GatewayFault, words: /not registered with the WhatsApp Cloud API \(Meta error 133010\)/ },
    ];

    for (const { code, kind, words } of cases) {
      it(`maps Meta error ${code} to ${kind.name} with its reason in words`, async () => {
        const error = await rejection(metaWhatsApp.send(text(errorNumber(code)), gateway, ctx));
        expect(error).toBeInstanceOf(kind);
        expect((error as ProviderRejected).code).toBe(String(code));
        expect(error.message).toMatch(words);
      });
    }

    it('rejects a template whose parameter count does not match (132000)', async () => {
      const error = await rejection(metaWhatsApp.send(template('+8801711000001', 'due_reminder', ['1,200']), gateway, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('132000');
      expect(error.message).toMatch(/^The number of template parameters does not match the template \(Meta error 132000\): body: number of localizable_params \(1\)/);
    });

    it('rejects a template that does not exist in that language (132001)', async () => {
      const error = await rejection(metaWhatsApp.send(template('+8801711000001', 'due_reminder', ['a', 'b'], 'bn'), gateway, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('132001');
      expect(error.message).toBe('The template does not exist in this language or is not approved (Meta error 132001): template name (due_reminder) does not exist in bn');
    });

    it('turns an expired access token (190, HTTP 401) into a GatewayFault', async () => {
      const error = await rejection(metaWhatsApp.send(text('+8801711000001'), { credentials: { ...credentials, accessToken: 'EAAG-expired-token' }, settings }, ctx));
      expect(error).toBeInstanceOf(GatewayFault);
      expect((error as GatewayFault).code).toBe('190');
      expect(error.message).toBe('The access token has expired or was revoked (Meta error 190): Error validating access token: Session has expired.');
      expect(fake.requests[0]!.replyStatus).toBe(401);
    });

    it('turns an unknown phone number id (100/33) into a GatewayFault, not a rejected message', async () => {
      const error = await rejection(metaWhatsApp.send(text('+8801711000001'), { credentials, settings: { ...settings, phoneNumberId: '999' } }, ctx));
      expect(error).toBeInstanceOf(GatewayFault);
      expect((error as GatewayFault).code).toBe('100');
      expect(error.message).toMatch(/^The phone number ID does not exist or the access token cannot use it \(Meta error 100\/33\): Unsupported post request/);
    });

    it('treats a throttling reply (HTTP 429, 130429) as temporary', async () => {
      fake.failNext(1, 130429);
      const error = await rejection(metaWhatsApp.send(text('+8801711000001'), gateway, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(fake.requests[0]!.replyStatus).toBe(429);
      // The next attempt goes through.
      expect((await metaWhatsApp.send(text('+8801711000001'), gateway, ctx)).providerMessageId).toMatch(/^wamid\./);
    });

    it('treats a 5xx without Meta error JSON as temporary and an unknown 4xx as permanent', async () => {
      const reply = (status: number, body: string): ProviderContext => ({ ...ctx, fetch: async () => new Response(body, { status }) });
      const gatewayDown = await rejection(metaWhatsApp.send(text('+8801711000001'), gateway, reply(502, '<html><body>Bad Gateway</body></html>')));
      expect(gatewayDown).toBeInstanceOf(ProviderUnavailable);
      expect(gatewayDown.message).toBe('Meta answered HTTP 502: Bad Gateway');

      const unknown = await rejection(
        metaWhatsApp.send(text('+8801711000001'), gateway, reply(400, JSON.stringify({ error: { message: '(#999999) New thing', type: 'OAuthException', code: 999999 } }))),
      );
      expect(unknown).toBeInstanceOf(ProviderRejected);
      expect(unknown.message).toBe('Meta error 999999: (#999999) New thing');
    });

    it('treats a network failure as temporary', async () => {
      setBaseUrl(`http://127.0.0.1:${await freePortThatRefuses()}`);
      const error = await rejection(metaWhatsApp.send(text('+8801711000001'), gateway, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('network');
    });

    it('treats a success reply without a message id as temporary', async () => {
      const stub: ProviderContext = { ...ctx, fetch: async () => Response.json({ messaging_product: 'whatsapp', messages: [] }) };
      const error = await rejection(metaWhatsApp.send(text('+8801711000001'), gateway, stub));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error.message).toMatch(/without a message id/);
    });
  });

  describe('base URL', () => {
    it("calls Meta's official Graph API host when ISPNOTIFY_BASE_URL_META is unset", async () => {
      setBaseUrl(undefined);
      const { calls, ctx: stubCtx } = recordingFetch();
      const result = await metaWhatsApp.send(text('+8801711000001'), gateway, stubCtx);
      expect(result.providerMessageId).toBe('wamid.STUB');
      expect(calls[0]!.url).toBe(`https://graph.facebook.com/${META_DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/messages`);
      expect(calls[0]!.headers.get('authorization')).toBe(`Bearer ${ACCESS_TOKEN}`);
    });

    it('takes the base URL from ISPNOTIFY_BASE_URL_META only, with or without a trailing slash', async () => {
      setBaseUrl(`${fake.baseUrl}/`);
      await metaWhatsApp.send(text('+8801711000001'), gateway, ctx);
      expect(fake.requests[0]!.path).toBe(`/${META_DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/messages`);
    });

    it('refuses a URL in the settings as an unknown field, whatever its name', () => {
      for (const extra of [{ apiBaseUrl: 'http://127.0.0.1:4010/reflect' }, { baseUrl: 'https://graph.facebook.com' }]) {
        const result = metaWhatsApp.settings.safeParse({ ...settings, ...extra });
        expect(result.success).toBe(false);
        expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: Object.keys(extra) }));
      }
    });
  });

  describe('webhook handshake', () => {
    const handshake = (query: Record<string, string>, method = 'GET') =>
      metaWhatsApp.handshake!({ method, url: `${WEBHOOK_URL}?${new URLSearchParams(query)}`, headers: {}, rawBody: '' }, gateway);

    it('answers the challenge when the mode is subscribe and the verify token matches', () => {
      expect(handshake({ 'hub.mode': 'subscribe', 'hub.challenge': '1158201444', 'hub.verify_token': VERIFY_TOKEN })).toEqual({
        status: 200,
        contentType: 'text/plain',
        body: '1158201444',
      });
    });

    it('answers 403 for a wrong token, a wrong mode, a missing challenge or a POST', () => {
      const forbidden = { status: 403, contentType: 'text/plain', body: 'Forbidden' };
      expect(handshake({ 'hub.mode': 'subscribe', 'hub.challenge': '1158201444', 'hub.verify_token': `${VERIFY_TOKEN}x` })).toEqual(forbidden);
      expect(handshake({ 'hub.mode': 'subscribe', 'hub.challenge': '1158201444', 'hub.verify_token': 'short' })).toEqual(forbidden);
      expect(handshake({ 'hub.mode': 'subscribe', 'hub.challenge': '1158201444' })).toEqual(forbidden);
      expect(handshake({ 'hub.mode': 'unsubscribe', 'hub.challenge': '1158201444', 'hub.verify_token': VERIFY_TOKEN })).toEqual(forbidden);
      expect(handshake({ 'hub.challenge': '1158201444', 'hub.verify_token': VERIFY_TOKEN })).toEqual(forbidden);
      expect(handshake({ 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN })).toEqual(forbidden);
      expect(handshake({ 'hub.mode': 'subscribe', 'hub.challenge': '', 'hub.verify_token': VERIFY_TOKEN })).toEqual(forbidden);
      expect(handshake({ 'hub.mode': 'subscribe', 'hub.challenge': '<script>', 'hub.verify_token': VERIFY_TOKEN }).status).toBe(200);
      expect(handshake({ 'hub.mode': 'subscribe', 'hub.challenge': 'a b\nc', 'hub.verify_token': VERIFY_TOKEN })).toEqual(forbidden);
      expect(handshake({ 'hub.mode': 'subscribe', 'hub.challenge': '1158201444', 'hub.verify_token': VERIFY_TOKEN }, 'POST')).toEqual(forbidden);
    });
  });

  describe('webhook signatures', () => {
    const delivered = () => signedWebhook(APP_SECRET, WEBHOOK_URL, statusPayload(target, [{ id: 'wamid.A', status: 'delivered' }]));

    it('accepts a body signed with the app secret', () => {
      const request = delivered();
      expect(request.headers['x-hub-signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(metaWhatsApp.verifySignature(request, gateway)).toBe(true);
      // Upper-case hex is the same signature.
      const upper = { ...request, headers: { ...request.headers, 'x-hub-signature-256': `sha256=${request.headers['x-hub-signature-256']!.slice(7).toUpperCase()}` } };
      expect(metaWhatsApp.verifySignature(upper, gateway)).toBe(true);
    });

    it('refuses another secret, a tampered body, and a missing or malformed header', () => {
      const request = delivered();
      expect(metaWhatsApp.verifySignature(request, { credentials: { ...credentials, appSecret: 'fedcba9876543210fedcba9876543210' }, settings })).toBe(false);
      expect(metaWhatsApp.verifySignature({ ...request, rawBody: request.rawBody.replace('delivered', 'read') }, gateway)).toBe(false);
      expect(metaWhatsApp.verifySignature({ ...request, rawBody: `${request.rawBody} ` }, gateway)).toBe(false);

      const { ['x-hub-signature-256']: signature, ...unsigned } = request.headers;
      expect(metaWhatsApp.verifySignature({ ...request, headers: unsigned }, gateway)).toBe(false);
      const hex = signature!.slice(7);
      for (const bad of [hex, `sha1=${hex}`, `sha256=${hex.slice(1)}`, `sha256=${hex}0`, `sha256=${'z'.repeat(64)}`, 'sha256=', '', `SHA256=${hex}`]) {
        expect(metaWhatsApp.verifySignature({ ...request, headers: { ...unsigned, 'x-hub-signature-256': bad } }, gateway)).toBe(false);
      }
    });

    it('agrees with an independent HMAC-SHA256 of the raw body', () => {
      const rawBody = '{"object":"whatsapp_business_account","entry":[]}';
      const request: WebhookRequest = { method: 'POST', url: WEBHOOK_URL, headers: { 'x-hub-signature-256': hubSignature(APP_SECRET, rawBody) }, rawBody };
      expect(metaWhatsApp.verifySignature(request, gateway)).toBe(true);
    });
  });

  describe('parsing webhooks', () => {
    const parse = (payload: unknown) => metaWhatsApp.parseWebhook(signedWebhook(APP_SECRET, WEBHOOK_URL, payload), { settings });

    it('maps sent, delivered and read to our statuses and drops the ones we do not record', () => {
      expect(
        parse(
          statusPayload(target, [
            { id: 'wamid.A', status: 'sent' },
            { id: 'wamid.A', status: 'delivered' },
            { id: 'wamid.A', status: 'read' },
            { id: 'wamid.A', status: 'deleted' },
          ]),
        ),
      ).toEqual([
        { providerMessageId: 'wamid.A', status: 'sent', providerStatus: 'sent' },
        { providerMessageId: 'wamid.A', status: 'delivered', providerStatus: 'delivered' },
        { providerMessageId: 'wamid.A', status: 'read', providerStatus: 'read' },
      ]);
    });

    it('maps failed to failed with the reason in words and Meta error code', () => {
      expect(
        parse(statusPayload(target, [{ id: 'wamid.B', status: 'failed', error: { code: 131026, title: 'Message undeliverable', details: 'Message Undeliverable.' } }])),
      ).toEqual([
        {
          providerMessageId: 'wamid.B',
          status: 'failed',
          providerStatus: 'failed/131026',
          reason: 'The number is not on WhatsApp or cannot receive messages (Meta error 131026): Message Undeliverable.',
        },
      ]);
      const [unknownCode] = parse(statusPayload(target, [{ id: 'wamid.C', status: 'failed', error: { code: 135000, title: 'Generic user error' } }]));
      expect(unknownCode).toEqual({ providerMessageId: 'wamid.C', status: 'failed', providerStatus: 'failed/135000', reason: 'Meta error 135000: Generic user error' });
      const [noError] = parse(statusPayload(target, [{ id: 'wamid.D', status: 'failed' }]));
      expect(noError).toMatchObject({ providerMessageId: 'wamid.D', status: 'failed', providerStatus: 'failed', reason: expect.stringMatching(/failed/) });
    });

    it('reads inbound text, template button and interactive replies, and describes other types', () => {
      const at = 1739321024;
      expect(
        parse(
          inboundPayload(target, [
            { type: 'text', id: 'wamid.IN1', from: '8801711223344', timestamp: at, body: 'আমি আগামীকাল বিল দেব' },
            { type: 'button', id: 'wamid.IN2', from: '8801711223344', timestamp: at + 1, text: 'Pay now', payload: 'pay-c-1001' },
            { type: 'button_reply', id: 'wamid.IN3', from: '8801711223344', timestamp: at + 2, title: 'Call me' },
            { type: 'list_reply', id: 'wamid.IN4', from: '8801711223344', timestamp: at + 3, title: 'Home 20 Mbps' },
            { type: 'image', id: 'wamid.IN5', from: '8801711223344', timestamp: at + 4 },
            { type: 'image', id: 'wamid.IN6', from: '8801711223344', timestamp: at + 5, caption: 'my receipt' },
          ]),
        ),
      ).toEqual([
        { kind: 'inbound', providerMessageId: 'wamid.IN1', from: '+8801711223344', text: 'আমি আগামীকাল বিল দেব', at: '2025-02-12T00:43:44.000Z' },
        { kind: 'inbound', providerMessageId: 'wamid.IN2', from: '+8801711223344', text: 'Pay now', at: '2025-02-12T00:43:45.000Z' },
        { kind: 'inbound', providerMessageId: 'wamid.IN3', from: '+8801711223344', text: 'Call me', at: '2025-02-12T00:43:46.000Z' },
        { kind: 'inbound', providerMessageId: 'wamid.IN4', from: '+8801711223344', text: 'Home 20 Mbps', at: '2025-02-12T00:43:47.000Z' },
        { kind: 'inbound', providerMessageId: 'wamid.IN5', from: '+8801711223344', text: '[image]', at: '2025-02-12T00:43:48.000Z' },
        { kind: 'inbound', providerMessageId: 'wamid.IN6', from: '+8801711223344', text: '[image] my receipt', at: '2025-02-12T00:43:49.000Z' },
      ]);
    });

    it("ignores another phone number id's payload and other fields, in the same body", () => {
      const ours = statusPayload(target, [{ id: 'wamid.OURS', status: 'delivered' }]) as { entry: { changes: unknown[] }[] };
      const theirs = statusPayload({ ...target, phoneNumberId: '100000000000001' }, [{ id: 'wamid.THEIRS', status: 'delivered' }]) as { entry: { changes: unknown[] }[] };
      const body = {
        object: 'whatsapp_business_account',
        entry: [
          { id: BUSINESS_ACCOUNT_ID, changes: [...theirs.entry[0]!.changes, { field: 'message_template_status_update', value: { event: 'APPROVED' } }] },
          ours.entry[0],
        ],
      };
      expect(parse(body)).toEqual([{ providerMessageId: 'wamid.OURS', status: 'delivered', providerStatus: 'delivered' }]);
      expect(parse(inboundPayload({ ...target, phoneNumberId: '100000000000001' }, [{ type: 'text', id: 'wamid.X', from: '8801711223344', timestamp: 1, body: 'hi' }]))).toEqual([]);
    });

    it('refuses a body that is not JSON or not the documented shape as Invalid', () => {
      const bad = (rawBody: string) => caught(() => metaWhatsApp.parseWebhook({ method: 'POST', url: WEBHOOK_URL, headers: {}, rawBody }, { settings }));
      for (const rawBody of [
        'not json',
        '{"object":"whatsapp_business_account"}',
        '{"entry":[{"changes":[{"field":"messages","value":{"statuses":[]}}]}]}',
        JSON.stringify(statusPayload(target, [{ id: '', status: 'sent' }])),
        JSON.stringify(inboundPayload(target, [{ type: 'text', id: 'wamid.X', from: 'not-a-number', timestamp: 1, body: 'hi' }])),
      ]) {
        const error = bad(rawBody);
        expect(error).toBeInstanceOf(DomainError);
        expect(error.kind).toBe('Invalid');
        expect(error.message).toMatch(/^Meta webhook/);
      }
    });
  });

  describe('gateway configuration', () => {
    it('accepts good credentials and settings, trimming the access token', () => {
      expect(metaWhatsApp.credentials.parse({ ...credentials, accessToken: ` ${ACCESS_TOKEN}\n` })).toEqual(credentials);
      expect(metaWhatsApp.settings.parse(settings)).toEqual(settings);
      expect(metaWhatsApp.settings.parse({ ...settings, apiVersion: 'v24.0' })).toEqual({ ...settings, apiVersion: 'v24.0' });
    });

    it('explains what is wrong with bad or missing credentials, and refuses unknown fields', () => {
      const result = metaWhatsApp.credentials.safeParse({ accessToken: '  ', appSecret: '', verifyToken: 'too-short', extra: 1 });
      expect(result.success).toBe(false);
      const messages = Object.fromEntries(result.error!.issues.map((i) => [i.path.join('.') || i.code, i.message]));
      expect(messages.accessToken).toMatch(/access token/);
      expect(messages.appSecret).toMatch(/App Secret/);
      expect(messages.verifyToken).toMatch(/verify token.*16/);
      expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['extra'] }));
    });

    it('refuses a phone number id or business account id that is not digits, and a bad apiVersion', () => {
      for (const phoneNumberId of ['', '10654-0352', '+15550783881', '../v1/me', '106540352242922/messages']) {
        const result = metaWhatsApp.settings.safeParse({ ...settings, phoneNumberId });
        expect(result.success).toBe(false);
        expect(result.error!.issues[0]).toMatchObject({ path: ['phoneNumberId'], message: expect.stringMatching(/Phone number ID: digits only/) });
      }
      expect(metaWhatsApp.settings.safeParse({ ...settings, businessAccountId: 'waba' }).success).toBe(false);
      expect(metaWhatsApp.settings.safeParse({ phoneNumberId: PHONE_NUMBER_ID }).success).toBe(false);
      for (const apiVersion of ['21.0', 'v21', 'v21.0/', 'latest']) {
        expect(metaWhatsApp.settings.safeParse({ ...settings, apiVersion }).success).toBe(false);
      }
    });
  });
});
