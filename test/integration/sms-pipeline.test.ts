import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSandboxReceipt } from '../../shared/adapters/providers/sms/sandbox.js';
import { startFakeTwilio } from '../support/fake-twilio.js';
import { apiClient, waitFor } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

let stack: Stack;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  // The waits below poll about 10 times a second, on top of the tests' own requests.
  ({ stack, api } = await startDemoStack('sms-pipeline', { liftRateLimit: true }));
});

afterAll(async () => {
  await stack?.stop();
});

const messageReaches = (id: string, status: string) =>
  waitFor(
    () => api.get(`/v1/messages/${id}`),
    (reply) => reply.body?.status === status,
  ).then((reply) => reply.body);

describe('one SMS end to end through the sandbox gateway', () => {
  it('goes API → DynamoDB → SQS → sender → provider → signed receipt → delivered in the history', async () => {
    const customer = await api.put('/v1/customers/e2e-1', { name: 'Rahim Uddin', mobile: '01711-223344', zone: 'Mirpur' });
    expect(customer.status).toBe(201);
    expect(customer.body.mobile).toBe('+8801711223344');

    const sent = await api.post('/v1/messages', { customerId: 'e2e-1', text: 'Your bill of BDT 500 is due on 5 Dec.' });
    expect(sent.status).toBe(202);
    expect(sent.body.status).toBe('queued');
    expect(sent.body).toMatchObject({ to: '+8801711223344', encoding: 'GSM-7', segments: 1, provider: 'sandbox' });

    const delivered = await messageReaches(sent.body.id, 'delivered');
    expect(delivered.history.map((h: { status: string }) => h.status)).toEqual(['queued', 'sent', 'delivered']);
    expect(delivered.providerMessageId).toMatch(/^sbx_/);
    expect(delivered.attempts).toBe(1);
    for (const change of delivered.history) expect(Date.parse(change.at)).not.toBeNaN();

    const history = await api.get('/v1/messages?customerId=e2e-1');
    expect(history.body.items.map((m: { id: string }) => m.id)).toEqual([sent.body.id]);
  });

  it('records a failed delivery receipt with the provider\'s reason', async () => {
    const sent = await api.post('/v1/messages', { mobile: '01711110000', text: 'Hello' });
    const failed = await messageReaches(sent.body.id, 'failed');
    expect(failed.history.map((h: { status: string }) => h.status)).toEqual(['queued', 'sent', 'failed']);
    expect(failed.history.at(-1).reason).toMatch(/unreachable/i);
  });

  it('fails a message the provider rejects without retrying it', async () => {
    const sent = await api.post('/v1/messages', { mobile: '01711111111', text: 'Hello' });
    const failed = await messageReaches(sent.body.id, 'failed');
    expect(failed.attempts).toBe(1);
    expect(failed.history.at(-1).reason).toMatch(/rejected/i);
  });

  it('retries a provider that keeps failing, then marks the message failed and moves the task to the DLQ (a single send waits on the priority queue)', async () => {
    const sqs = new SQSClient({});
    const dlq = await sqs.send(new GetQueueUrlCommand({ QueueName: `${stack.env.SEND_PRIORITY_QUEUE_URL!.split('/').pop()}-dlq` }));
    const depth = async () =>
      Number(
        (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] })))
          .Attributes?.ApproximateNumberOfMessages ?? 0,
      );
    const before = await depth();

    const sent = await api.post('/v1/messages', { mobile: '01711119999', text: 'Hello' });
    const failed = await waitFor(
      () => api.get(`/v1/messages/${sent.body.id}`),
      (reply) => reply.body?.status === 'failed',
      60_000,
    );
    expect(failed.body.attempts).toBe(5);
    expect(failed.body.history.at(-1).reason).toMatch(/^Gave up after 5 attempts: Sandbox gateway unavailable/);
    await waitFor(depth, (n) => n === before + 1, 20_000);
  }, 90_000);

  it('rejects a forged delivery receipt and leaves the message as it was', async () => {
    const sent = await api.post('/v1/messages', { mobile: '01711223355', text: 'Hello' });
    const delivered = await messageReaches(sent.body.id, 'delivered');
    const gateway = (await api.get('/v1/gateways')).body.items.find((g: { channel: string; provider: string }) => g.channel === 'sms' && g.provider === 'sandbox');
    const body = JSON.stringify({ id: delivered.providerMessageId, status: 'FAILED', error: 'forged', at: new Date().toISOString() });

    const forged = await fetch(gateway.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sandbox-signature': signSandboxReceipt('not-the-gateway-secret-at-all', body) },
      body,
    });
    expect(forged.status).toBe(401);
    const unsigned = await fetch(gateway.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(401);

    const after = await api.get(`/v1/messages/${sent.body.id}`);
    expect(after.body.status).toBe('delivered');
    expect(after.body.history).toHaveLength(3);
  });

  it('answers 404 to a receipt for a gateway that does not exist', async () => {
    const reply = await fetch(`${stack.baseUrl}/webhooks/sms/sandbox/01ARZ3NDEKTSV4RRFFQ69G5FAV`, { method: 'POST', body: '{}' });
    expect(reply.status).toBe(404);
    expect(reply.headers.get('content-type')).toBe('application/problem+json');
  });

  it('sends once for two requests with the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'invoice-77-reminder' };
    const first = await api.post('/v1/messages', { mobile: '01711223366', text: 'Once only' }, headers);
    const second = await api.post('/v1/messages', { mobile: '01711223366', text: 'Once only' }, headers);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    await messageReaches(first.body.id, 'delivered');
    const all = await api.get('/v1/messages?limit=100');
    expect(all.body.items.filter((m: { text: string }) => m.text === 'Once only')).toHaveLength(1);

    const reused = await api.post('/v1/messages', { mobile: '01711223366', text: 'Something else' }, headers);
    expect(reused.status).toBe(409);
    expect(reused.body.detail).toMatch(/already used for a different request/);
  });

  it('resends a failed message as a new message, and refuses to resend one that did not fail', async () => {
    const sent = await api.post('/v1/messages', { mobile: '01711110000', text: 'Resend me' });
    await messageReaches(sent.body.id, 'failed');
    const resent = await api.post(`/v1/messages/${sent.body.id}/resend`);
    expect(resent.status).toBe(202);
    expect(resent.body.id).not.toBe(sent.body.id);
    expect(resent.body).toMatchObject({ resendOf: sent.body.id, text: 'Resend me', status: 'queued' });

    const ok = await api.post('/v1/messages', { mobile: '01711223377', text: 'Fine' });
    await messageReaches(ok.body.id, 'delivered');
    const refused = await api.post(`/v1/messages/${ok.body.id}/resend`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/only failed messages/i);
  });

  it('renders a template with the customer\'s fields and the request\'s variables', async () => {
    await api.put('/v1/customers/e2e-2', { name: 'Fatema Begum', mobile: '01811223344', package: 'Home 20 Mbps' });
    const sent = await api.post('/v1/messages', {
      customerId: 'e2e-2',
      templateId: 'due-reminder',
      variables: { amount: 1200, dueDate: '5 Dec', payLink: 'https://pay.example/x1' },
    });
    expect(sent.status).toBe(202);
    expect(sent.body.text).toBe('Dear Fatema Begum, your Home 20 Mbps bill of BDT 1200 is due on 5 Dec. Pay: https://pay.example/x1');
    expect(sent.body.templateId).toBe('due-reminder');
  });
});

describe('one SMS end to end through Twilio', () => {
  it('sends through the Messages API and reaches delivered from signed status callbacks', async () => {
    const accountSid = `AC${'a1'.repeat(16)}`;
    const authToken = 'twilio-auth-token-0123456789';
    // +1 415 555 0100 passes ispnotify's own checks (a US mobile-capable number); Twilio refuses it.
    const twilio = await startFakeTwilio({ accountSid, authToken, callbackDelayMs: 50, invalidNumbers: ['+14155550100'] });
    process.env.ISPNOTIFY_BASE_URL_TWILIO = twilio.baseUrl;
    try {
      const gateway = await api.post('/v1/gateways', {
        name: 'Twilio',
        provider: 'twilio',
        credentials: { accountSid, authToken },
        settings: { from: '+15005550006' },
        default: true,
      });
      expect(gateway.status).toBe(201);
      expect(gateway.body.credentials).toEqual({ accountSid: '********', authToken: '********' });
      expect(JSON.stringify(gateway.body)).not.toContain(authToken);
      // The demo ISP is in Bangladesh: US numbers need allowing first (against SMS pumping).
      expect((await api.request('PATCH', '/v1/settings', { destinationCountries: ['BD', 'US'] })).status).toBe(200);

      const sent = await api.post('/v1/messages', { mobile: '+14155552671', text: 'Hello from Twilio' });
      expect(sent.body.provider).toBe('twilio');
      const delivered = await messageReaches(sent.body.id, 'delivered');
      expect(delivered.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
      expect(delivered.history.map((h: { status: string }) => h.status)).toEqual(['queued', 'sent', 'delivered']);

      const request = twilio.requests.find((r) => r.path.endsWith('/Messages.json'));
      expect(request?.form?.To).toBe('+14155552671');
      // Its own callback URL: the gateway's webhook naming the message, so the receipt needs no provider-id lookup.
      expect(request?.form?.StatusCallback).toBe(`${gateway.body.webhookUrl}?m=${sent.body.id}`);

      const rejected = await api.post('/v1/messages', { mobile: '+14155550100', text: 'Bad number' });
      const failed = await messageReaches(rejected.body.id, 'failed');
      expect(failed.history.at(-1)).toMatchObject({ providerStatus: '21211' });
    } finally {
      const sandbox = (await api.get('/v1/gateways')).body.items.find((g: { channel: string; provider: string }) => g.channel === 'sms' && g.provider === 'sandbox');
      await api.put(`/v1/gateways/${sandbox.id}`, { name: sandbox.name, provider: 'sandbox', settings: sandbox.settings, default: true });
      await api.request('PATCH', '/v1/settings', { destinationCountries: null });
      delete process.env.ISPNOTIFY_BASE_URL_TWILIO;
      await twilio.close();
    }
  });
});
