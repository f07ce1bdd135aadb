/**
 * WhatsApp end to end on the local stack: auto routing, the sandbox's receipts up to `read`, SMS
 * fallback (from a rejected send and from a failure receipt, once), and Meta's Cloud API through
 * a local server that speaks it: setup with a generated verify token, the GET handshake, template
 * sends, signed and forged webhooks, out-of-order receipts and an inbound message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, waitFor } from '../support/api-client.js';
import { addOperator, startDemoStack } from '../support/demo-stack.js';
import { inboundPayload, signedWebhook, startFakeMeta, statusPayload, type FakeMeta } from '../support/fake-meta.js';
import type { startTestStack } from '../support/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

let stack: Stack;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('whatsapp-pipeline', { liftRateLimit: true }));
});

afterAll(async () => {
  await stack?.stop();
});

const reaches = (client: ReturnType<typeof apiClient>, id: string, done: (body: Record<string, any>) => boolean, timeoutMs = 20_000) =>
  waitFor(() => client.get(`/v1/messages/${id}`), (reply) => reply.status === 200 && done(reply.body), timeoutMs).then((reply) => reply.body);

const statuses = (message: { history: { status: string; late?: boolean }[] }) => message.history.filter((h) => !h.late).map((h) => h.status);

describe('WhatsApp through the seeded sandbox', () => {
  it('routes auto to WhatsApp for a customer with a WhatsApp number, and says why', async () => {
    const sent = await api.post('/v1/messages', { customerId: 'wa-0001', text: 'Your bill of BDT 500 is due on 5 Dec.' });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ channel: 'whatsapp', provider: 'sandbox', to: '+8801819990123', direction: 'out' });
    expect(sent.body.routing).toMatch(/auto: WhatsApp.*WhatsApp number/);
    // SMS measures do not apply to WhatsApp.
    expect(sent.body.segments).toBeUndefined();
    const read = await reaches(api, sent.body.id, (m) => m.status === 'read');
    expect(statuses(read)).toEqual(['queued', 'sent', 'delivered', 'read']);
  });

  it('routes auto to SMS for a customer without a WhatsApp number, and for a raw number unless whatsappUsesMobile is on', async () => {
    const customer = await api.post('/v1/messages', { customerId: 'c-0001', text: 'Hello' });
    expect(customer.body).toMatchObject({ channel: 'sms' });
    expect(customer.body.routing).toMatch(/no WhatsApp number and the setting whatsappUsesMobile is off/);
    const raw = await api.post('/v1/messages', { mobile: '01711223300', text: 'Hello' });
    expect(raw.body.channel).toBe('sms');

    expect((await api.request('PATCH', '/v1/settings', { routing: { whatsappUsesMobile: true } })).status).toBe(200);
    try {
      const viaMobile = await api.post('/v1/messages', { mobile: '01711223300', text: 'Hello' });
      expect(viaMobile.body).toMatchObject({ channel: 'whatsapp', to: '+8801711223300' });
      expect(viaMobile.body.routing).toMatch(/whatsappUsesMobile is on/);
      // An explicit channel is kept.
      const sms = await api.post('/v1/messages', { mobile: '01711223300', text: 'Hello', channel: 'sms' });
      expect(sms.body.channel).toBe('sms');
    } finally {
      await api.request('PATCH', '/v1/settings', { routing: { whatsappUsesMobile: null } });
    }
  });

  it('sends a template as its approved WhatsApp template, with the parameters rendered in order', async () => {
    const sent = await api.post('/v1/messages', {
      customerId: 'wa-0001',
      templateId: 'due-reminder',
      variables: { amount: '1,200', dueDate: '5 Dec', payLink: 'https://pay.example/j1' },
    });
    expect(sent.status).toBe(202);
    expect(sent.body.whatsappTemplate).toEqual({ name: 'due_reminder', language: 'en', parameters: ['Jamal Uddin', '1,200', '5 Dec', 'https://pay.example/j1'] });
    // The body's text is kept: it is what an SMS fallback (and the history) shows.
    expect(sent.body.text).toContain('Dear Jamal Uddin');
    await reaches(api, sent.body.id, (m) => m.status === 'read');
  });

  it('falls back to SMS on the mobile when WhatsApp reports the number is not on WhatsApp, linked both ways', async () => {
    const sent = await api.post('/v1/messages', { customerId: 'wa-0002', text: 'Your service expires tomorrow.' });
    expect(sent.body).toMatchObject({ channel: 'whatsapp', to: '+8801819990000' });
    const failed = await reaches(api, sent.body.id, (m) => m.status === 'failed' && m.fallbackMessageId !== undefined);
    expect(failed.history.at(-1)).toMatchObject({ status: 'failed', providerStatus: '131026' });
    expect(failed.history.at(-1).reason).toMatch(/not on WhatsApp/i);
    const fallback = await reaches(api, failed.fallbackMessageId, (m) => m.status === 'delivered');
    expect(fallback).toMatchObject({ channel: 'sms', to: '+8801711552233', fallbackOf: sent.body.id, text: 'Your service expires tomorrow.', customerId: 'wa-0002' });
    // The history lists both.
    const history = await api.get('/v1/messages?customerId=wa-0002&limit=10');
    expect(history.body.items.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining([sent.body.id, fallback.id]));
  });

  it('falls back when the send itself is rejected, and not at all when fallbackToSms is off', async () => {
    expect((await api.request('PATCH', '/v1/settings', { routing: { whatsappUsesMobile: true } })).status).toBe(200);
    try {
      // The WhatsApp sandbox refuses free text to numbers ending 1111 (outside the 24-hour window).
      const rejected = await api.post('/v1/messages', { mobile: '01711331111', text: 'Pay today' });
      expect(rejected.body.channel).toBe('whatsapp');
      const failed = await reaches(api, rejected.body.id, (m) => m.status === 'failed' && m.fallbackMessageId !== undefined);
      expect(failed.history.at(-1).providerStatus).toBe('131047');
      // The SMS sandbox rejects 1111 too: the fallback is failed as well, and has no fallback of its own.
      const fallback = await reaches(api, failed.fallbackMessageId, (m) => m.status === 'failed');
      expect(fallback).toMatchObject({ channel: 'sms', fallbackOf: rejected.body.id });
      expect(fallback.fallbackMessageId).toBeUndefined();

      expect((await api.request('PATCH', '/v1/settings', { routing: { fallbackToSms: false } })).status).toBe(200);
      const noFallback = await api.post('/v1/messages', { mobile: '01711440000', text: 'Pay today' });
      const alone = await reaches(api, noFallback.body.id, (m) => m.status === 'failed');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await api.get(`/v1/messages/${alone.id}`)).body.fallbackMessageId).toBeUndefined();
    } finally {
      await api.request('PATCH', '/v1/settings', { routing: { whatsappUsesMobile: null, fallbackToSms: null } });
    }
  });

  it('shows the routing switches in the settings, with their defaults', async () => {
    const settings = await api.get('/v1/settings');
    expect(settings.body.routing).toEqual({ whatsappUsesMobile: false, fallbackToSms: true, fallbackAfterSeconds: null, rules: [] });
    const bad = await api.request('PATCH', '/v1/settings', { routing: { fallbackAfterSeconds: 5 } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('routing.fallbackAfterSeconds');
  });
});

describe('WhatsApp through the Meta Cloud API', () => {
  const accessToken = 'EAAG' + 'k9'.repeat(30);
  const appSecret = 'meta-app-secret-0123456789abcdef';
  const phoneNumberId = '106540352242922';
  const businessAccountId = '102290129340398';
  const target = { phoneNumberId, businessAccountId };
  let meta: FakeMeta;
  let isp: ReturnType<typeof apiClient>;
  let gateway: Record<string, any>;

  beforeAll(async () => {
    meta = await startFakeMeta({ accessToken, phoneNumberId });
    process.env.ISPNOTIFY_BASE_URL_META = meta.baseUrl;
    isp = await addOperator(stack.baseUrl, 'meta-isp', 'US', 'America/New_York');
    // Its SMS fallback goes through an SMS sandbox.
    expect((await isp.post('/v1/gateways', { name: 'SMS', provider: 'sandbox', credentials: { webhookSecret: 'a-sandbox-secret-0123456789' } })).status).toBe(201);
    const created = await isp.post('/v1/gateways', {
      name: 'Meta',
      channel: 'whatsapp',
      provider: 'meta',
      credentials: { accessToken, appSecret },
      settings: { phoneNumberId, businessAccountId },
    });
    expect(created.status).toBe(201);
    gateway = created.body;
    await isp.put('/v1/customers/m-1', { name: 'Ann Lee', mobile: '+14155552671', whatsapp: '+14155552672' });
  });

  afterAll(async () => {
    delete process.env.ISPNOTIFY_BASE_URL_META;
    await meta?.close();
  });

  const post = (payload: unknown, signedWith = appSecret) => {
    const request = signedWebhook(signedWith, gateway.webhookUrl, payload);
    return fetch(gateway.webhookUrl, { method: 'POST', headers: request.headers, body: request.rawBody });
  };

  it('makes the webhook verify token, shows it once, and answers Meta\'s GET handshake with it', async () => {
    expect(gateway.webhookUrl).toMatch(new RegExp(`/webhooks/whatsapp/meta/${gateway.id}$`));
    expect(gateway.credentials).toEqual({ accessToken: '********', appSecret: '********', verifyToken: '********' });
    const verifyToken: string = gateway.generatedCredentials.verifyToken;
    expect(verifyToken.length).toBeGreaterThanOrEqual(16);
    expect(JSON.stringify((await isp.get(`/v1/gateways/${gateway.id}`)).body)).not.toContain(verifyToken);

    const handshake = await fetch(`${gateway.webhookUrl}?hub.mode=subscribe&hub.verify_token=${verifyToken}&hub.challenge=1158201444`);
    expect(handshake.status).toBe(200);
    expect(handshake.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await handshake.text()).toBe('1158201444');
    const wrong = await fetch(`${gateway.webhookUrl}?hub.mode=subscribe&hub.verify_token=not-the-token-at-all&hub.challenge=1`);
    expect(wrong.status).toBe(403);
  });

  it('keeps the verify token when the access token is rotated (Meta\'s dashboard still has it)', async () => {
    const verifyToken: string = gateway.generatedCredentials.verifyToken;
    const rotated = await isp.put(`/v1/gateways/${gateway.id}`, {
      name: 'Meta',
      channel: 'whatsapp',
      provider: 'meta',
      credentials: { accessToken, appSecret },
      settings: { phoneNumberId, businessAccountId },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.generatedCredentials).toBeUndefined();
    const handshake = await fetch(`${gateway.webhookUrl}?hub.mode=subscribe&hub.verify_token=${verifyToken}&hub.challenge=42`);
    expect(await handshake.text()).toBe('42');
  });

  it('sends by WhatsApp, moves to read on a signed receipt, keeps a late delivered receipt, and refuses a forged one', async () => {
    const sent = await isp.post('/v1/messages', { customerId: 'm-1', text: 'Your bill is due.' });
    expect(sent.body).toMatchObject({ channel: 'whatsapp', provider: 'meta', to: '+14155552672' });
    const sentBody = await reaches(isp, sent.body.id, (m) => m.status === 'sent');
    const request = meta.requests.find((r) => r.path === `/v24.0/${phoneNumberId}/messages`);
    expect(request?.json).toMatchObject({ messaging_product: 'whatsapp', to: '14155552672', type: 'text', text: { body: 'Your bill is due.' } });

    const forged = await post(statusPayload(target, [{ id: sentBody.providerMessageId, status: 'failed', error: { code: 131026, title: 'forged' } }]), 'not-the-app-secret-0000000000');
    expect(forged.status).toBe(401);

    expect((await post(statusPayload(target, [{ id: sentBody.providerMessageId, status: 'read' }]))).status).toBe(200);
    // Delivered arrives after read (WhatsApp sends them out of order): the status stays read, the history keeps it.
    expect((await post(statusPayload(target, [{ id: sentBody.providerMessageId, status: 'delivered' }]))).status).toBe(200);
    const read = (await isp.get(`/v1/messages/${sent.body.id}`)).body;
    expect(read.status).toBe('read');
    expect(read.history.map((h: { status: string; late?: boolean }) => [h.status, h.late ?? false])).toEqual([
      ['queued', false],
      ['sent', false],
      ['read', false],
      ['delivered', true],
    ]);
  });

  it('falls back to SMS once when a failure receipt (131026) arrives twice', async () => {
    const sent = await isp.post('/v1/messages', { customerId: 'm-1', text: 'Service suspended tomorrow.' });
    const sentBody = await reaches(isp, sent.body.id, (m) => m.status === 'sent');
    const failure = statusPayload(target, [{ id: sentBody.providerMessageId, status: 'failed', error: { code: 131026, title: 'Message undeliverable' } }]);
    const replies = await Promise.all([post(failure), post(failure)]);
    expect(replies.map((r) => r.status)).toEqual([200, 200]);
    const failed = await reaches(isp, sent.body.id, (m) => m.fallbackMessageId !== undefined);
    expect(failed.status).toBe('failed');
    const fallback = await reaches(isp, failed.fallbackMessageId, (m) => m.status === 'delivered');
    expect(fallback).toMatchObject({ channel: 'sms', to: '+14155552671', fallbackOf: sent.body.id });
    const all = (await isp.get('/v1/messages?customerId=m-1&limit=50')).body.items as { fallbackOf?: string }[];
    expect(all.filter((m) => m.fallbackOf === sent.body.id)).toHaveLength(1);
  });

  it('records a customer\'s reply as an inbound message, once', async () => {
    const payload = inboundPayload(target, [{ type: 'text', id: 'wamid.IN1', from: '14155552672', timestamp: 1764316800, body: 'Already paid' }]);
    expect((await post(payload)).status).toBe(200);
    expect((await post(payload)).status).toBe(200); // Meta retries: recorded once
    const inbound = (await isp.get('/v1/messages?channel=whatsapp&limit=50')).body.items.filter((m: { direction: string }) => m.direction === 'in');
    expect(inbound).toHaveLength(1);
    expect(inbound[0]).toMatchObject({ from: '+14155552672', text: 'Already paid', status: 'delivered', channel: 'whatsapp', to: 'Meta' });
  });

  it('refuses a webhook for a gateway of another channel or provider in the URL', async () => {
    const wrongChannel = gateway.webhookUrl.replace('/webhooks/whatsapp/', '/webhooks/sms/');
    expect((await fetch(wrongChannel, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});
