import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { apiClient } from '../support/api-client.js';
import { addOperator, startDemoStack } from '../support/demo-stack.js';
import { startFakeTwilio } from '../support/fake-twilio.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let demoGatewayId: string;

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('gateways-api', { liftRateLimit: true }));
  demoGatewayId = (await api.get('/v1/gateways')).body.items.find((g: { default: boolean; channel: string }) => g.default && g.channel === 'sms').id;
});

afterAll(async () => {
  await stack?.stop();
});

const fields = (reply: { body: { errors?: { field: string }[] } }) => (reply.body.errors ?? []).map((e) => e.field);
const sandboxGateway = (name: string, extra: Record<string, unknown> = {}) => ({ name, provider: 'sandbox', credentials: { webhookSecret: 'a-sandbox-secret-0123456789' }, ...extra });
const messageCount = async () => (await api.get('/v1/messages?limit=100')).body.items.length;

describe('GET /v1/providers', () => {
  it('lists the sandbox and Twilio with JSON Schemas of their credentials and settings', async () => {
    const reply = await api.get('/v1/providers');
    expect(reply.status).toBe(200);
    const byId = Object.fromEntries(
      reply.body.items.filter((p: { channel: string }) => p.channel === 'sms').map((p: { id: string }) => [p.id, p]),
    );
    expect(Object.keys(byId)).toEqual(expect.arrayContaining(['sandbox', 'twilio']));

    const twilio = byId.twilio;
    expect(twilio).toMatchObject({ id: 'twilio', channel: 'sms', displayName: 'Twilio' });
    expect(twilio.credentials.type).toBe('object');
    expect(twilio.credentials.required).toEqual(expect.arrayContaining(['accountSid', 'authToken']));
    expect(twilio.credentials.properties.accountSid).toMatchObject({ type: 'string', writeOnly: true });
    expect(twilio.credentials.properties.authToken).toMatchObject({ type: 'string', writeOnly: true });
    expect(Object.keys(twilio.settings.properties)).toEqual(expect.arrayContaining(['from', 'messagingServiceSid']));

    const sandbox = byId.sandbox;
    expect(sandbox).toMatchObject({ channel: 'sms' });
    expect(sandbox.credentials.properties.webhookSecret).toMatchObject({ writeOnly: true, minLength: 16 });
    expect(sandbox.settings.properties.deliveryDelayMs).toMatchObject({ type: 'integer', default: 300 });
    // Input side: a field with a default need not be sent.
    expect(sandbox.settings.required ?? []).not.toContain('deliveryDelayMs');

    expect(JSON.stringify(reply.body)).not.toContain('apiBaseUrl');
  });

  it('needs an API key like every /v1 route', async () => {
    const reply = await fetch(`${stack.baseUrl}/v1/providers`);
    expect(reply.status).toBe(401);
  });
});

describe('POST /v1/gateways/{id}/test', () => {
  it('sends a test message through the sandbox and answers with its id, creating no message', async () => {
    const before = await messageCount();
    const reply = await api.post(`/v1/gateways/${demoGatewayId}/test`, { to: '01711-223344', text: 'Test from ispnotify' });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ ok: true, providerMessageId: expect.stringMatching(/^sbx_/) });
    expect(reply.body.detail).toMatch(/^Accepted by Sandbox/);
    expect(reply.body.detail).toContain('+8801711223344');
    expect(JSON.stringify(reply.body)).not.toContain('a-sandbox-secret');
    expect(await messageCount()).toBe(before);
  });

  it('answers ok false, rejected, with the sandbox\'s words for a number ending 1111', async () => {
    const reply = await api.post(`/v1/gateways/${demoGatewayId}/test`, { to: '01711001111', text: 'Test' });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ ok: false, kind: 'rejected', detail: 'Sandbox rejected the number (numbers ending 1111 are always rejected)' });
  });

  it('answers ok false, unavailable, for a number ending 9999', async () => {
    const reply = await api.post(`/v1/gateways/${demoGatewayId}/test`, { to: '01711009999', text: 'Test' });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ ok: false, kind: 'unavailable', detail: expect.stringMatching(/unavailable/) });
  });

  it('refuses a premium-rate number, a foreign number, a bad text and unknown fields with a 400 naming the field', async () => {
    const premium = await api.post(`/v1/gateways/${demoGatewayId}/test`, { to: '+19005550199', text: 'Test' });
    expect(premium.status).toBe(400);
    expect(fields(premium)).toEqual(['to']);
    expect(premium.body.detail).toMatch(/premium-rate/);
    const foreign = await api.post(`/v1/gateways/${demoGatewayId}/test`, { to: '+14155552671', text: 'Test' });
    expect(foreign.status).toBe(400);
    expect(foreign.body.detail).toMatch(/destinationCountries/);
    const control = await api.post(`/v1/gateways/${demoGatewayId}/test`, { to: '01711223344', text: 'a\u0000b' });
    expect(fields(control)).toEqual(['text']);
    const tooLong = await api.post(`/v1/gateways/${demoGatewayId}/test`, { to: '01711223344', text: 'ক'.repeat(671) });
    expect(tooLong.status).toBe(400);
    expect(fields(tooLong)).toEqual(['text']);
    const unknown = await api.post(`/v1/gateways/${demoGatewayId}/test`, { to: '01711223344', text: 'Test', from: 'x' });
    expect(unknown.status).toBe(400);
    const missing = await api.post(`/v1/gateways/${demoGatewayId}/test`, {});
    expect(fields(missing).sort()).toEqual(['text', 'to']);
  });

  it('answers ok false with Twilio\'s words when the gateway\'s credentials are wrong', async () => {
    const accountSid = `AC${'b2'.repeat(16)}`;
    const twilio = await startFakeTwilio({ accountSid, authToken: 'the-right-auth-token-0123456789' });
    process.env.ISPNOTIFY_BASE_URL_TWILIO = twilio.baseUrl;
    let gatewayId: string | undefined;
    try {
      const gateway = await api.post('/v1/gateways', {
        name: 'Twilio (wrong token)',
        provider: 'twilio',
        credentials: { accountSid, authToken: 'a-wrong-auth-token-0123456789' },
        settings: { from: '+15005550006' },
      });
      expect(gateway.status).toBe(201);
      gatewayId = gateway.body.id;
      expect((await api.request('PATCH', '/v1/settings', { destinationCountries: ['BD', 'US'] })).status).toBe(200);
      const before = await messageCount();
      const reply = await api.post(`/v1/gateways/${gatewayId}/test`, { to: '+14155552671', text: 'Test from ispnotify' });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ ok: false, kind: 'gateway' });
      expect(reply.body.detail).toMatch(/Twilio rejected the gateway's credentials.*Account SID and Auth Token/);
      expect(reply.body.detail).not.toContain('a-wrong-auth-token');
      expect(twilio.requests.some((r) => r.path.endsWith('/Messages.json') && r.replyStatus === 401)).toBe(true);
      // No receipt is asked for: there is no message it could be recorded on.
      expect(twilio.requests.find((r) => r.path.endsWith('/Messages.json'))?.form.StatusCallback).toBeUndefined();
      expect(await messageCount()).toBe(before);
    } finally {
      if (gatewayId) await api.request('DELETE', `/v1/gateways/${gatewayId}`);
      await api.request('PATCH', '/v1/settings', { destinationCountries: null });
      delete process.env.ISPNOTIFY_BASE_URL_TWILIO;
      await twilio.close();
    }
  });
});

describe('DELETE /v1/gateways/{id}', () => {
  it('deletes a gateway that is not the default: 204, then GET answers 404', async () => {
    const created = await api.post('/v1/gateways', sandboxGateway('Spare'));
    expect(created.status).toBe(201);
    expect(created.body.default).toBe(false);
    const deleted = await api.request('DELETE', `/v1/gateways/${created.body.id}`);
    expect(deleted.status).toBe(204);
    expect((await api.get(`/v1/gateways/${created.body.id}`)).status).toBe(404);
    expect((await api.request('DELETE', `/v1/gateways/${created.body.id}`)).status).toBe(404);
    expect((await api.get(`/v1/gateways/${demoGatewayId}`)).body.default).toBe(true);
  });

  it('refuses to delete the default gateway while another exists, with a 409 saying to change the default first', async () => {
    const spare = await api.post('/v1/gateways', sandboxGateway('Another'));
    try {
      const refused = await api.request('DELETE', `/v1/gateways/${demoGatewayId}`);
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toMatch(/default/);
      expect(refused.body.detail).toMatch(/"default": true/);
      expect((await api.get(`/v1/gateways/${demoGatewayId}`)).status).toBe(200);
    } finally {
      await api.request('DELETE', `/v1/gateways/${spare.body.id}`);
    }
  });

  it('deletes an operator\'s only gateway and clears its default, so sends say to add a gateway', async () => {
    const solo = await addOperator(stack.baseUrl, 'solo-isp', 'BD', 'Asia/Dhaka');
    const created = await solo.post('/v1/gateways', sandboxGateway('Only one'));
    expect(created.body.default).toBe(true);
    expect((await solo.request('DELETE', `/v1/gateways/${created.body.id}`)).status).toBe(204);
    expect((await solo.get('/v1/gateways')).body.items).toEqual([]);
    const send = await solo.post('/v1/messages', { mobile: '01711223344', text: 'hi' });
    expect(send.status).toBe(409);
    expect(send.body.detail).toMatch(/POST \/v1\/gateways/);
    // The default was cleared: the next gateway becomes the default by itself.
    expect((await solo.post('/v1/gateways', sandboxGateway('Next'))).body.default).toBe(true);
  });

  it('answers 404 for another operator\'s gateway, on delete and on a test send', async () => {
    const other = await addOperator(stack.baseUrl, 'other-isp');
    expect((await other.request('DELETE', `/v1/gateways/${demoGatewayId}`)).status).toBe(404);
    expect((await other.post(`/v1/gateways/${demoGatewayId}/test`, { to: '+919812345678', text: 'Test' })).status).toBe(404);
    expect((await api.get(`/v1/gateways/${demoGatewayId}`)).status).toBe(200);
  });
});

describe('the webhook route', () => {
  it('is one route for every channel and provider: the gateway\'s webhookUrl, POST for receipts, GET for handshakes', async () => {
    const gateway = (await api.get(`/v1/gateways/${demoGatewayId}`)).body;
    expect(gateway.webhookUrl).toBe(`${stack.baseUrl}/webhooks/sms/sandbox/${demoGatewayId}`);
    // The sandbox has no verification handshake: a GET finds the gateway and says so.
    const handshake = await fetch(`${gateway.webhookUrl}?hub.mode=subscribe&hub.challenge=123`);
    expect(handshake.status).toBe(404);
    expect(await handshake.text()).toMatch(/has none/);
    // A gateway named under another channel or provider than its own is not found, for either method.
    for (const path of [`/webhooks/whatsapp/sandbox/${demoGatewayId}`, `/webhooks/sms/twilio/${demoGatewayId}`, `/webhooks/sms/sandbox/${'Z'.repeat(3000)}`]) {
      expect((await fetch(`${stack.baseUrl}${path}`)).status, path.slice(0, 40)).toBe(404);
      expect((await fetch(`${stack.baseUrl}${path}`, { method: 'POST', body: '{}' })).status, path.slice(0, 40)).toBe(404);
    }
  });
});
