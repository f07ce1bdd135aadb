/**
 * Setting up WhatsApp on the local stack, as an operator's admin does it: the provider catalogue,
 * one gateway per real WhatsApp provider (Meta, Twilio WhatsApp, 360dialog, WAHA) against local
 * servers that speak their APIs, a real test message through each, the refusals, the default
 * WhatsApp gateway, and templates with an approved WhatsApp template part.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiReply, apiClient } from '../support/api-client.js';
import { addOperator, startDemoStack } from '../support/demo-stack.js';
import { startFake360Dialog, type Fake360Dialog } from '../support/fake-360dialog.js';
import { startFakeMeta, type FakeMeta } from '../support/fake-meta.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.js';
import { startFakeWaha, type FakeWaha } from '../support/fake-waha.js';
import type { startTestStack } from '../support/local-stack.js';

type Client = ReturnType<typeof apiClient>;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: Client;
/** The operator setting WhatsApp up: a US ISP of its own, so nothing of the demo's is in the way. */
let wa: Client;

// ---- the providers' accounts, as the fakes know them ----

const META = {
  accessToken: 'EAAG' + 'w7'.repeat(30),
  appSecret: 'meta-app-secret-fedcba9876543210',
  phoneNumberId: '106540352242922',
  businessAccountId: '102290129340398',
};
const TWILIO = { accountSid: `AC${'c3'.repeat(16)}`, authToken: 'twilio-auth-token-0123456789abcdef', from: '+14155550100' };
const D360 = { apiKey: 'd360-key-AbCdEf0123456789', webhookSecret: 'd360-webhook-secret-0123456789' };
const WAHA = { apiKey: 'waha-key-0123456789abcdef', webhookSecret: 'waha-webhook-secret-0123456789' };
const SMS_SECRET = 'a-sandbox-secret-0123456789';

/** A valid US mobile (US numbers cannot be told from fixed lines, so they count as mobile). */
const TO = '+14155552671';

let meta: FakeMeta;
let twilio: FakeTwilio;
let d360: Fake360Dialog;
let waha: FakeWaha;

// ---- environment: set here, restored in afterAll ----

const ALLOW_PRIVATE = 'ISPNOTIFY_ALLOW_PRIVATE_URLS';
const ENV_NAMES = ['ISPNOTIFY_BASE_URL_META', 'ISPNOTIFY_BASE_URL_TWILIO', 'ISPNOTIFY_BASE_URL_360DIALOG', ALLOW_PRIVATE] as const;
const envBefore = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]])) as Record<(typeof ENV_NAMES)[number], string | undefined>;

function restoreEnv(name: (typeof ENV_NAMES)[number]): void {
  const value = envBefore[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/**
 * WAHA's host is the tenant's own: the outbound URL guard lets the loopback fake through only while
 * the deployment allows private URLs. Set for `fn` alone, then put back as it was.
 */
async function withPrivateUrls<T>(fn: () => Promise<T>): Promise<T> {
  process.env[ALLOW_PRIVATE] = '1';
  try {
    return await fn();
  } finally {
    restoreEnv(ALLOW_PRIVATE);
  }
}

/** The opposite: the guard as in production, whatever the environment running the tests says. */
async function withoutPrivateUrls<T>(fn: () => Promise<T>): Promise<T> {
  delete process.env[ALLOW_PRIVATE];
  try {
    return await fn();
  } finally {
    restoreEnv(ALLOW_PRIVATE);
  }
}

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('whatsapp-gateways', { liftRateLimit: true }));
  meta = await startFakeMeta({ accessToken: META.accessToken, phoneNumberId: META.phoneNumberId });
  twilio = await startFakeTwilio({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken, whatsappSenders: [TWILIO.from] });
  d360 = await startFake360Dialog({ apiKey: D360.apiKey });
  waha = await startFakeWaha({ apiKey: WAHA.apiKey });
  process.env.ISPNOTIFY_BASE_URL_META = meta.baseUrl;
  process.env.ISPNOTIFY_BASE_URL_TWILIO = twilio.baseUrl;
  process.env.ISPNOTIFY_BASE_URL_360DIALOG = d360.baseUrl;

  wa = await addOperator(stack.baseUrl, 'wa-setup', 'US', 'America/New_York');
  // This file fires requests in quick succession; the limit itself is tested elsewhere.
  expect((await wa.request('PATCH', '/v1/settings', { limits: { requestsPerSecond: 1000 } })).status).toBe(200);
});

afterAll(async () => {
  for (const name of ENV_NAMES) restoreEnv(name);
  await Promise.all([meta?.close(), twilio?.close(), d360?.close(), waha?.close()]);
  await stack?.stop();
});

const fields = (reply: ApiReply) => ((reply.body?.errors ?? []) as { field: string }[]).map((e) => e.field);
const gatewayIds = async (client: Client) => ((await client.get('/v1/gateways')).body.items as { id: string }[]).map((g) => g.id).sort();
const messageCount = async (client: Client) => ((await client.get('/v1/messages?limit=100')).body.items as unknown[]).length;

/** Whatever a reply says, none of the operator's secrets. */
function expectNoSecrets(reply: ApiReply): void {
  const text = JSON.stringify(reply.body);
  for (const secret of [META.accessToken, META.appSecret, TWILIO.authToken, D360.apiKey, D360.webhookSecret, WAHA.apiKey, WAHA.webhookSecret, SMS_SECRET]) {
    expect(text).not.toContain(secret);
  }
}

const metaGateway = (extra: Record<string, unknown> = {}) => ({
  name: 'Meta Cloud API',
  channel: 'whatsapp',
  provider: 'meta',
  credentials: { accessToken: META.accessToken, appSecret: META.appSecret },
  settings: { phoneNumberId: META.phoneNumberId, businessAccountId: META.businessAccountId },
  ...extra,
});
const twilioGateway = (extra: Record<string, unknown> = {}) => ({
  name: 'Twilio WhatsApp',
  channel: 'whatsapp',
  provider: 'twilio',
  credentials: { accountSid: TWILIO.accountSid, authToken: TWILIO.authToken },
  settings: { from: TWILIO.from },
  ...extra,
});
const d360Gateway = (extra: Record<string, unknown> = {}) => ({
  name: '360dialog',
  channel: 'whatsapp',
  provider: '360dialog',
  credentials: { apiKey: D360.apiKey, webhookSecret: D360.webhookSecret },
  settings: { phoneNumber: '+14155550111' },
  ...extra,
});
const wahaGateway = (extra: Record<string, unknown> = {}) => ({
  name: 'WAHA',
  channel: 'whatsapp',
  provider: 'waha',
  credentials: { apiKey: WAHA.apiKey, webhookSecret: WAHA.webhookSecret },
  settings: { baseUrl: waha.baseUrl },
  ...extra,
});

/** Creates a gateway for one test and deletes it afterwards (it is never the default: 204). */
async function withGateway(body: Record<string, unknown>, fn: (id: string) => Promise<void>, client: Client = wa): Promise<void> {
  const created = await client.post('/v1/gateways', body);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body.default).toBe(false);
  try {
    await fn(created.body.id);
  } finally {
    expect((await client.request('DELETE', `/v1/gateways/${created.body.id}`)).status).toBe(204);
  }
}

describe('GET /v1/providers: the WhatsApp providers', () => {
  let byId: Record<string, any>;

  beforeAll(async () => {
    const reply = await api.get('/v1/providers');
    expect(reply.status).toBe(200);
    byId = Object.fromEntries(reply.body.items.filter((p: { channel: string }) => p.channel === 'whatsapp').map((p: { id: string }) => [p.id, p]));
  });

  it('lists meta, twilio, 360dialog, waha and sandbox on the whatsapp channel, with their display names', () => {
    expect(Object.keys(byId).sort()).toEqual(['360dialog', 'meta', 'sandbox', 'twilio', 'waha']);
    expect(byId.meta).toMatchObject({ id: 'meta', channel: 'whatsapp', displayName: 'Meta WhatsApp Cloud API' });
    expect(byId.twilio).toMatchObject({ id: 'twilio', channel: 'whatsapp', displayName: 'Twilio WhatsApp' });
    expect(byId['360dialog']).toMatchObject({ id: '360dialog', channel: 'whatsapp', displayName: '360dialog' });
    expect(byId.waha).toMatchObject({ id: 'waha', channel: 'whatsapp', displayName: 'WAHA (self-hosted WhatsApp HTTP API bridge)' });
    expect(byId.sandbox).toMatchObject({ id: 'sandbox', channel: 'whatsapp', displayName: 'WhatsApp sandbox (no real WhatsApp)' });
  });

  it('describes every credentials object as a JSON Schema whose every field is writeOnly', () => {
    for (const provider of Object.values(byId)) {
      expect(provider.credentials, provider.id).toMatchObject({ type: 'object', writeOnly: true });
      const properties = Object.values(provider.credentials.properties as Record<string, { writeOnly?: boolean }>);
      expect(properties.length, provider.id).toBeGreaterThan(0);
      for (const field of properties) expect(field.writeOnly, provider.id).toBe(true);
      expect(provider.settings.type, provider.id).toBe('object');
    }
  });

  it("names each provider's own credential and settings fields", () => {
    const { meta: m, twilio: t, '360dialog': d, waha: w, sandbox: s } = byId;
    expect(m.credentials.properties.accessToken).toMatchObject({ type: 'string', writeOnly: true });
    expect(m.credentials.properties.appSecret).toMatchObject({ type: 'string', writeOnly: true });
    expect(m.credentials.required).toEqual(expect.arrayContaining(['accessToken', 'appSecret']));
    expect(Object.keys(m.settings.properties).sort()).toEqual(['apiVersion', 'businessAccountId', 'phoneNumberId']);
    expect(m.settings.additionalProperties).toBe(false);

    expect(t.credentials.properties.accountSid).toMatchObject({ type: 'string', writeOnly: true });
    expect(t.credentials.properties.authToken).toMatchObject({ type: 'string', writeOnly: true });
    expect(Object.keys(t.settings.properties)).toEqual(expect.arrayContaining(['from', 'messagingServiceSid', 'contentTemplates']));

    expect(d.credentials.properties.apiKey).toMatchObject({ type: 'string', writeOnly: true });
    expect(d.credentials.properties.webhookSecret).toMatchObject({ type: 'string', writeOnly: true, minLength: 16 });
    expect(d.credentials.required).toEqual(expect.arrayContaining(['apiKey', 'webhookSecret']));

    expect(w.credentials.properties.apiKey).toMatchObject({ writeOnly: true });
    expect(w.credentials.properties.webhookSecret).toMatchObject({ writeOnly: true, minLength: 16 });
    expect(w.settings.properties.baseUrl).toMatchObject({ type: 'string' });
    expect(w.settings.required).toEqual(['baseUrl']);
    // Input side: fields with a default need not be sent.
    expect(w.settings.properties.session).toMatchObject({ default: 'default' });
    expect(w.settings.properties.checkNumberExists).toMatchObject({ type: 'boolean', default: true });

    expect(s.credentials.properties.webhookSecret).toMatchObject({ writeOnly: true, minLength: 16 });
    // No provider takes a base URL from a tenant except WAHA, whose host is the operator's own server.
    expect(JSON.stringify(byId)).not.toContain('apiBaseUrl');
  });
});

describe('setting up each WhatsApp provider', () => {
  let smsGatewayId: string;
  const ids: Record<'meta' | 'twilio' | '360dialog' | 'waha', string> = { meta: '', twilio: '', '360dialog': '', waha: '' };

  beforeAll(async () => {
    // The operator sends SMS already: its first gateway, and so its default SMS gateway.
    const sms = await wa.post('/v1/gateways', { name: 'SMS sandbox', provider: 'sandbox', credentials: { webhookSecret: SMS_SECRET } });
    expect(sms.status).toBe(201);
    expect(sms.body).toMatchObject({ channel: 'sms', default: true });
    smsGatewayId = sms.body.id;
  });

  describe('POST /v1/gateways with channel "whatsapp"', () => {
    it('Meta: 201, credentials masked, a webhook URL, and a verify token made for the operator and shown once', async () => {
      const created = await wa.post('/v1/gateways', metaGateway());
      expect(created.status).toBe(201);
      const gateway = created.body;
      ids.meta = gateway.id;
      expect(created.headers.get('location')).toBe(`/v1/gateways/${gateway.id}`);
      expect(gateway).toMatchObject({
        name: 'Meta Cloud API',
        channel: 'whatsapp',
        provider: 'meta',
        settings: { phoneNumberId: META.phoneNumberId, businessAccountId: META.businessAccountId },
        credentials: { accessToken: '********', appSecret: '********', verifyToken: '********' },
        webhookUrl: `${stack.baseUrl}/webhooks/whatsapp/meta/${gateway.id}`,
        enabled: true,
        priority: 1,
      });
      expectNoSecrets(created);

      const verifyToken: string = gateway.generatedCredentials.verifyToken;
      expect(Object.keys(gateway.generatedCredentials)).toEqual(['verifyToken']);
      expect(verifyToken).toMatch(/^[A-Za-z0-9_-]{16,}$/);

      // Shown once: neither the gateway nor the list repeats it.
      const again = await wa.get(`/v1/gateways/${gateway.id}`);
      expect(again.status).toBe(200);
      expect(again.body.generatedCredentials).toBeUndefined();
      expect(again.body.credentials).toEqual({ accessToken: '********', appSecret: '********', verifyToken: '********' });
      expect(JSON.stringify(again.body)).not.toContain(verifyToken);
      expect(JSON.stringify((await wa.get('/v1/gateways')).body)).not.toContain(verifyToken);
      expectNoSecrets(again);

      // It is the token Meta's GET handshake must echo.
      const handshake = await fetch(`${gateway.webhookUrl}?hub.mode=subscribe&hub.verify_token=${verifyToken}&hub.challenge=4242`);
      expect(handshake.status).toBe(200);
      expect(await handshake.text()).toBe('4242');
    });

    it('Twilio WhatsApp: 201, credentials masked, a webhook URL under whatsapp/twilio, no generated secrets', async () => {
      const created = await wa.post('/v1/gateways', twilioGateway());
      expect(created.status).toBe(201);
      ids.twilio = created.body.id;
      expect(created.body).toMatchObject({
        channel: 'whatsapp',
        provider: 'twilio',
        settings: { from: TWILIO.from },
        credentials: { accountSid: '********', authToken: '********' },
        webhookUrl: `${stack.baseUrl}/webhooks/whatsapp/twilio/${created.body.id}`,
      });
      expect(created.body.generatedCredentials).toBeUndefined();
      expectNoSecrets(created);
      expect(JSON.stringify(created.body)).not.toContain(TWILIO.accountSid);
    });

    it('360dialog: 201, credentials masked, a webhook URL under whatsapp/360dialog', async () => {
      const created = await wa.post('/v1/gateways', d360Gateway());
      expect(created.status).toBe(201);
      ids['360dialog'] = created.body.id;
      expect(created.body).toMatchObject({
        channel: 'whatsapp',
        provider: '360dialog',
        settings: { phoneNumber: '+14155550111' },
        credentials: { apiKey: '********', webhookSecret: '********' },
        webhookUrl: `${stack.baseUrl}/webhooks/whatsapp/360dialog/${created.body.id}`,
      });
      expect(created.body.generatedCredentials).toBeUndefined();
      expectNoSecrets(created);
    });

    it("WAHA: 201 for the operator's own server, with the settings' defaults filled in", async () => {
      const created = await withPrivateUrls(() => wa.post('/v1/gateways', wahaGateway({ settings: { baseUrl: `${waha.baseUrl}/` } })));
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      ids.waha = created.body.id;
      expect(created.body).toMatchObject({
        channel: 'whatsapp',
        provider: 'waha',
        // The trailing slash is dropped; session and the number check take their defaults.
        settings: { baseUrl: waha.baseUrl, session: 'default', checkNumberExists: true },
        credentials: { apiKey: '********', webhookSecret: '********' },
        webhookUrl: `${stack.baseUrl}/webhooks/whatsapp/waha/${created.body.id}`,
      });
      expectNoSecrets(created);
    });

    it('lists all five gateways, credentials masked, with the first WhatsApp gateway as the WhatsApp default and the SMS default kept', async () => {
      const list = await wa.get('/v1/gateways');
      expect(list.status).toBe(200);
      expectNoSecrets(list);
      const items = list.body.items as { id: string; channel: string; provider: string; default: boolean; generatedCredentials?: unknown }[];
      expect(items.map((g) => g.id).sort()).toEqual([smsGatewayId, ids.meta, ids.twilio, ids['360dialog'], ids.waha].sort());
      expect(items.every((g) => g.generatedCredentials === undefined)).toBe(true);
      const defaults = items.filter((g) => g.default).map((g) => [g.channel, g.id]);
      expect(defaults.sort()).toEqual([
        ['sms', smsGatewayId],
        ['whatsapp', ids.meta],
      ]);
      expect((await wa.get(`/v1/gateways/${ids.meta}`)).body.default).toBe(true);
      expect((await wa.get(`/v1/gateways/${smsGatewayId}`)).body).toMatchObject({ channel: 'sms', default: true });
      for (const id of [ids.twilio, ids['360dialog'], ids.waha]) expect((await wa.get(`/v1/gateways/${id}`)).body.default).toBe(false);
    });
  });

  describe('POST /v1/gateways/{id}/test through each provider', () => {
    it('Meta: sends the text to the Cloud API with the bearer token, answers ok with the wamid, and keeps no message', async () => {
      const before = meta.requests.length;
      const reply = await wa.post(`/v1/gateways/${ids.meta}/test`, { to: '(415) 555-2671', text: 'Test from ispnotify (Meta)' });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ ok: true, providerMessageId: expect.stringMatching(/^wamid\./) });
      expect(reply.body.detail).toBe(
        `Accepted by Meta WhatsApp Cloud API for ${TO} as ${reply.body.providerMessageId}. A test message is not kept in the message history.`,
      );
      const calls = meta.requests.slice(before);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({
        method: 'POST',
        path: `/v24.0/${META.phoneNumberId}/messages`,
        replyStatus: 200,
        json: { messaging_product: 'whatsapp', to: '14155552671', type: 'text', text: { body: 'Test from ispnotify (Meta)' } },
      });
      expect(calls[0]!.headers.authorization).toBe(`Bearer ${META.accessToken}`);
      expect((calls[0]!.replyBody as { messages: { id: string }[] }).messages[0]!.id).toBe(reply.body.providerMessageId);
      expectNoSecrets(reply);
      expect(await messageCount(wa)).toBe(0);
    });

    it("Meta: a wrong access token is ok false, kind gateway, in Meta's words", async () => {
      await withGateway(metaGateway({ name: 'Meta (wrong token)', credentials: { accessToken: 'EAAG-not-the-token', appSecret: META.appSecret } }), async (id) => {
        const reply = await wa.post(`/v1/gateways/${id}/test`, { to: TO, text: 'Test' });
        expect(reply.status).toBe(200);
        expect(reply.body).toMatchObject({ ok: false, kind: 'gateway' });
        expect(reply.body.detail).toMatch(/access token/i);
        expect(reply.body.detail).not.toContain('EAAG-not-the-token');
        expect(meta.requests.at(-1)).toMatchObject({ replyStatus: 401 });
      });
    });

    it('Twilio WhatsApp: posts whatsapp: addresses with Basic auth and no status callback, and answers ok with the SM sid', async () => {
      const before = twilio.requests.length;
      const reply = await wa.post(`/v1/gateways/${ids.twilio}/test`, { to: TO, text: 'Test from ispnotify (Twilio)' });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ ok: true, providerMessageId: expect.stringMatching(/^SM[0-9a-f]{32}$/) });
      expect(reply.body.detail).toMatch(new RegExp(`^Accepted by Twilio WhatsApp for \\${TO} as ${reply.body.providerMessageId}\\.`));
      const calls = twilio.requests.slice(before);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({
        method: 'POST',
        path: `/2010-04-01/Accounts/${TWILIO.accountSid}/Messages.json`,
        replyStatus: 201,
        basicAuth: { username: TWILIO.accountSid, password: TWILIO.authToken },
      });
      expect(calls[0]!.form).toEqual({ To: `whatsapp:${TO}`, From: `whatsapp:${TWILIO.from}`, Body: 'Test from ispnotify (Twilio)' });
      expect(twilio.messages.find((m) => m.sid === reply.body.providerMessageId)).toMatchObject({ to: `whatsapp:${TO}` });
      expect(await messageCount(wa)).toBe(0);
    });

    it("Twilio WhatsApp: a wrong Auth Token is ok false, kind gateway, in Twilio's words", async () => {
      const wrong = 'a-wrong-twilio-auth-token-0123';
      await withGateway(twilioGateway({ name: 'Twilio (wrong token)', credentials: { accountSid: TWILIO.accountSid, authToken: wrong } }), async (id) => {
        const reply = await wa.post(`/v1/gateways/${id}/test`, { to: TO, text: 'Test' });
        expect(reply.status).toBe(200);
        expect(reply.body).toMatchObject({ ok: false, kind: 'gateway' });
        expect(reply.body.detail).toMatch(/Twilio rejected the gateway's credentials.*Account SID and Auth Token/);
        expect(reply.body.detail).not.toContain(wrong);
        expect(twilio.requests.at(-1)).toMatchObject({ replyStatus: 401 });
      });
    });

    it('360dialog: posts the Cloud API body with the D360-API-KEY header, relayed to Meta, and answers ok', async () => {
      const before = d360.requests.length;
      const reply = await wa.post(`/v1/gateways/${ids['360dialog']}/test`, { to: TO, text: 'Test from ispnotify (360dialog)' });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ ok: true, providerMessageId: expect.stringMatching(/^wamid\./) });
      expect(reply.body.detail).toMatch(/^Accepted by 360dialog for \+14155552671 as wamid\./);
      const calls = d360.requests.slice(before);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({
        method: 'POST',
        path: '/messages',
        relayed: true,
        replyStatus: 200,
        json: { messaging_product: 'whatsapp', to: '14155552671', type: 'text', text: { body: 'Test from ispnotify (360dialog)' } },
      });
      expect(calls[0]!.headers['d360-api-key']).toBe(D360.apiKey);
      expect(await messageCount(wa)).toBe(0);
    });

    it("360dialog: a wrong API key is ok false, kind gateway, naming the D360-API-KEY and not repeating it", async () => {
      const wrong = 'd360-not-the-key-0000';
      await withGateway(d360Gateway({ name: '360dialog (wrong key)', credentials: { apiKey: wrong, webhookSecret: D360.webhookSecret } }), async (id) => {
        const reply = await wa.post(`/v1/gateways/${id}/test`, { to: TO, text: 'Test' });
        expect(reply.status).toBe(200);
        expect(reply.body).toMatchObject({ ok: false, kind: 'gateway' });
        expect(reply.body.detail).toMatch(/360dialog answered HTTP 401/);
        expect(reply.body.detail).toMatch(/Invalid api_key/);
        expect(reply.body.detail).toMatch(/D360-API-KEY/);
        expect(reply.body.detail).not.toContain(wrong);
        expect(d360.requests.at(-1)).toMatchObject({ replyStatus: 401, relayed: false });
      });
    });

    it('WAHA: checks the number is on WhatsApp, sends the text to its chat, and answers ok with the message key id', async () => {
      const before = waha.requests.length;
      const reply = await withPrivateUrls(() => wa.post(`/v1/gateways/${ids.waha}/test`, { to: TO, text: 'Test from ispnotify (WAHA)' }));
      expect(reply.status).toBe(200);
      const sent = waha.sent.at(-1)!;
      expect(sent).toMatchObject({ session: 'default', chatId: '14155552671@c.us', text: 'Test from ispnotify (WAHA)' });
      expect(reply.body).toEqual({
        ok: true,
        providerMessageId: sent.keyId,
        detail: `Accepted by WAHA (self-hosted WhatsApp HTTP API bridge) for ${TO} as ${sent.keyId}. A test message is not kept in the message history.`,
      });
      const calls = waha.requests.slice(before);
      expect(calls.map((c) => `${c.method} ${c.path} ${c.replyStatus}`)).toEqual(['GET /api/contacts/check-exists 200', 'POST /api/sendText 201']);
      expect(calls[0]!.query.get('phone')).toBe('14155552671');
      for (const call of calls) expect(call.headers['x-api-key']).toBe(WAHA.apiKey);
      expect(await messageCount(wa)).toBe(0);
    });

    it('WAHA: a wrong API key is ok false, kind gateway, saying to check the apiKey, and nothing is sent', async () => {
      const wrong = 'waha-not-the-key-0000';
      await withPrivateUrls(() =>
        withGateway(wahaGateway({ name: 'WAHA (wrong key)', credentials: { apiKey: wrong, webhookSecret: WAHA.webhookSecret } }), async (id) => {
          const sentBefore = waha.sent.length;
          const reply = await wa.post(`/v1/gateways/${id}/test`, { to: TO, text: 'Test' });
          expect(reply.status).toBe(200);
          expect(reply.body).toMatchObject({ ok: false, kind: 'gateway' });
          expect(reply.body.detail).toMatch(/^WAHA answered HTTP 401 while checking the number is on WhatsApp/);
          expect(reply.body.detail).toMatch(/Check the gateway's apiKey/);
          expect(reply.body.detail).not.toContain(wrong);
          expect(waha.sent.length).toBe(sentBefore);
        }),
      );
    });

    it("refuses a number outside the operator's destination countries before any provider is called", async () => {
      const before = meta.requests.length;
      const reply = await wa.post(`/v1/gateways/${ids.meta}/test`, { to: '+8801711223344', text: 'Test' });
      expect(reply.status).toBe(400);
      expect(fields(reply)).toEqual(['to']);
      expect(reply.body.detail).toMatch(/destinationCountries/);
      expect(meta.requests.length).toBe(before);
    });
  });

  describe('refusals', () => {
    it('refuses an unknown WhatsApp provider with a 400 naming the field provider and the known ones', async () => {
      const before = await gatewayIds(wa);
      const reply = await wa.post('/v1/gateways', { name: 'Gupshup', channel: 'whatsapp', provider: 'gupshup', credentials: { apiKey: 'x'.repeat(20) } });
      expect(reply.status).toBe(400);
      expect(fields(reply)).toEqual(['provider']);
      expect(reply.body.detail).toMatch(/Unknown whatsapp provider "gupshup"/);
      expect(reply.body.errors[0].message).toMatch(/^must be one of: /);
      for (const id of ['meta', 'twilio', '360dialog', 'waha', 'sandbox']) expect(reply.body.errors[0].message).toContain(id);
      // An SMS-only provider is no WhatsApp provider either.
      const smsOnly = await wa.post('/v1/gateways', { name: 'Vonage', channel: 'whatsapp', provider: 'vonage', credentials: { apiKey: 'k', apiSecret: 's' } });
      expect(smsOnly.status).toBe(400);
      expect(fields(smsOnly)).toEqual(['provider']);
      expect(await gatewayIds(wa)).toEqual(before);
    });

    it("refuses Meta settings with an extra field such as apiBaseUrl (requests go to Meta's host only)", async () => {
      const before = await gatewayIds(wa);
      const reply = await wa.post(
        '/v1/gateways',
        metaGateway({ settings: { phoneNumberId: META.phoneNumberId, businessAccountId: META.businessAccountId, apiBaseUrl: 'https://attacker.example' } }),
      );
      expect(reply.status).toBe(400);
      expect(fields(reply)).toEqual(['settings']);
      expect(reply.body.errors[0].message).toMatch(/unknown field\(s\): apiBaseUrl/);
      const badId = await wa.post('/v1/gateways', metaGateway({ settings: { phoneNumberId: 'not-digits', businessAccountId: META.businessAccountId } }));
      expect(badId.status).toBe(400);
      expect(fields(badId)).toEqual(['settings.phoneNumberId']);
      expect(await gatewayIds(wa)).toEqual(before);
    });

    it('refuses a WAHA baseUrl that is http or private when the deployment does not allow private URLs, on settings.baseUrl', async () => {
      const before = await gatewayIds(wa);
      await withoutPrivateUrls(async () => {
        const http = await wa.post('/v1/gateways', wahaGateway({ settings: { baseUrl: 'http://waha.example.net' } }));
        expect(http.status).toBe(400);
        expect(fields(http)).toEqual(['settings.baseUrl']);
        expect(http.body.errors[0].message).toMatch(/uses http, but only https URLs are allowed/);

        for (const baseUrl of ['https://10.20.30.40', 'https://127.0.0.1:8443', waha.baseUrl]) {
          const refused = await wa.post('/v1/gateways', wahaGateway({ settings: { baseUrl } }));
          expect(refused.status, baseUrl).toBe(400);
          expect(fields(refused), baseUrl).toEqual(['settings.baseUrl']);
          expect(refused.body.errors[0].message, baseUrl).toMatch(/^is refused: the URL /);
        }
        const privateOne = await wa.post('/v1/gateways', wahaGateway({ settings: { baseUrl: 'https://10.20.30.40' } }));
        expect(privateOne.body.errors[0].message).toMatch(/points to .*10\.20\.30\.40/);
      });
      expect(await gatewayIds(wa)).toEqual(before);
    });

    it("refuses to change a gateway's channel with PUT, and leaves it as it was", async () => {
      const before = (await wa.get(`/v1/gateways/${ids.twilio}`)).body;
      // Twilio exists on both channels, so only the channel rule can refuse this.
      const toSms = await wa.put(`/v1/gateways/${ids.twilio}`, { name: 'Twilio as SMS', channel: 'sms', provider: 'twilio', settings: { from: TWILIO.from } });
      expect(toSms.status).toBe(400);
      expect(fields(toSms)).toEqual(['channel']);
      expect(toSms.body.errors[0].message).toBe('must stay "whatsapp"');
      expect((await wa.get(`/v1/gateways/${ids.twilio}`)).body).toEqual(before);

      const toWhatsApp = await wa.put(`/v1/gateways/${smsGatewayId}`, { name: 'SMS sandbox', channel: 'whatsapp', provider: 'sandbox' });
      expect(toWhatsApp.status).toBe(400);
      expect(fields(toWhatsApp)).toEqual(['channel']);
      expect(toWhatsApp.body.errors[0].message).toBe('must stay "sms"');
      expect((await wa.get(`/v1/gateways/${smsGatewayId}`)).body).toMatchObject({ channel: 'sms', default: true });
    });

    it('keeps the sealed credentials on a PUT that omits them, and the gateway still sends', async () => {
      const renamed = await wa.put(`/v1/gateways/${ids['360dialog']}`, { name: '360dialog main', channel: 'whatsapp', provider: '360dialog', settings: {} });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ name: '360dialog main', credentials: { apiKey: '********', webhookSecret: '********' }, default: false });
      const reply = await wa.post(`/v1/gateways/${ids['360dialog']}/test`, { to: TO, text: 'Still works' });
      expect(reply.body).toMatchObject({ ok: true });
      expect(d360.requests.at(-1)!.headers['d360-api-key']).toBe(D360.apiKey);
    });
  });

  describe('the default WhatsApp gateway', () => {
    it('refuses to delete the default WhatsApp gateway while another WhatsApp gateway exists: 409', async () => {
      const refused = await wa.request('DELETE', `/v1/gateways/${ids.meta}`);
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toMatch(/default whatsapp gateway/);
      expect(refused.body.detail).toMatch(/"default": true/);
      expect((await wa.get(`/v1/gateways/${ids.meta}`)).body).toMatchObject({ id: ids.meta, default: true });
    });

    it('deletes a WhatsApp gateway that is not the default (204); the defaults of both channels stay', async () => {
      const deleted = await wa.request('DELETE', `/v1/gateways/${ids.waha}`);
      expect(deleted.status).toBe(204);
      expect((await wa.get(`/v1/gateways/${ids.waha}`)).status).toBe(404);
      expect((await wa.get(`/v1/gateways/${ids.meta}`)).body.default).toBe(true);
      expect((await wa.get(`/v1/gateways/${smsGatewayId}`)).body.default).toBe(true);
    });

    it('moves the WhatsApp default with "default": true on PUT, leaving the SMS default alone', async () => {
      const moved = await wa.put(`/v1/gateways/${ids.twilio}`, { ...twilioGateway(), credentials: undefined, default: true });
      expect(moved.status).toBe(200);
      expect(moved.body.default).toBe(true);
      expect((await wa.get(`/v1/gateways/${ids.meta}`)).body.default).toBe(false);
      expect((await wa.get(`/v1/gateways/${smsGatewayId}`)).body.default).toBe(true);
      // Meta is no longer the default, so it may go now.
      expect((await wa.request('DELETE', `/v1/gateways/${ids.meta}`)).status).toBe(204);
      expect((await wa.request('DELETE', `/v1/gateways/${ids.twilio}`)).status).toBe(409);
    });
  });
});

describe('templates with an approved WhatsApp template part', () => {
  const whatsapp = { name: 'due_reminder', language: 'en', parameters: ['{{customer.name}}', '{{amount}}'] };
  const body = 'Dear {{customer.name}}, your bill of USD {{amount}} is due.';

  it('stores the whatsapp part: 201, then 200 on replace, and GET returns it', async () => {
    const created = await wa.put('/v1/templates/due-reminder', { name: 'Due reminder', body, whatsapp });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'due-reminder', name: 'Due reminder', channel: 'sms', body, whatsapp });
    expect([...created.body.variables].sort()).toEqual(['amount', 'customer.name']);

    const read = await wa.get('/v1/templates/due-reminder');
    expect(read.status).toBe(200);
    expect(read.body.whatsapp).toEqual(whatsapp);

    const replaced = await wa.put('/v1/templates/due-reminder', { name: 'Due reminder', body, whatsapp: { ...whatsapp, language: 'en_US' } });
    expect(replaced.status).toBe(200);
    expect((await wa.get('/v1/templates/due-reminder')).body.whatsapp).toEqual({ ...whatsapp, language: 'en_US' });
  });

  it('accepts a built-in variable the body does not use', async () => {
    const reply = await wa.put('/v1/templates/welcome', { name: 'Welcome', body: 'Welcome!', whatsapp: { name: 'welcome', language: 'en', parameters: ['{{operator.name}}'] } });
    expect(reply.status).toBe(201);
    expect(reply.body.whatsapp.parameters).toEqual(['{{operator.name}}']);
  });

  it('refuses a parameter with a variable neither built in nor used by the body: 400 on whatsapp.parameters.N, nothing stored', async () => {
    const reply = await wa.put('/v1/templates/bad-params', { name: 'Bad', body, whatsapp: { ...whatsapp, parameters: ['{{amount}}', 'Hi {{nope}}'] } });
    expect(reply.status).toBe(400);
    expect(fields(reply)).toEqual(['whatsapp.parameters.1']);
    expect(reply.body.errors[0].message).toMatch(/\{\{nope\}\}/);
    expect(reply.body.errors[0].message).toMatch(/neither built in .* nor used by the body/);
    expect((await wa.get('/v1/templates/bad-params')).status).toBe(404);
  });

  it('refuses a language that is not a WhatsApp language code: 400 on whatsapp.language', async () => {
    for (const language of ['English', 'en-US', 'EN']) {
      const reply = await wa.put('/v1/templates/bad-language', { name: 'Bad', body, whatsapp: { ...whatsapp, language } });
      expect(reply.status, language).toBe(400);
      expect(fields(reply), language).toEqual(['whatsapp.language']);
      expect(reply.body.errors[0].message).toMatch(/WhatsApp template language code/);
    }
    expect((await wa.get('/v1/templates/bad-language')).status).toBe(404);
  });
});
