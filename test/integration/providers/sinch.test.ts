import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { sinchSms, type SinchCredentials, type SinchSettings } from '../../../shared/adapters/providers/sms/sinch.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { startFakeSinch, type FakeSinch } from '../../support/fake-sinch.js';

const SERVICE_PLAN_ID = 'jd63jf88477ll123ab4567cd89012ef3';
const API_TOKEN = '0123456789abcdef0123456789abcdef';
const WEBHOOK_SECRET = 'sinch-webhook-secret-000001';
const credentials: SinchCredentials = { servicePlanId: SERVICE_PLAN_ID, apiToken: API_TOKEN, webhookSecret: WEBHOOK_SECRET };
const settings: SinchSettings = { region: 'eu', from: 'ISPNet', webhookVerification: 'token' };
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
const VARIABLE = 'ISPNOTIFY_BASE_URL_SINCH';
const CALLBACK = `https://notify.example.net/webhooks/sms/sinch/01JNGW00000000000000000000?token=${WEBHOOK_SECRET}`;

function sms(to: string, text = 'Your bill of 500 BDT is due on 5 March.', statusCallbackUrl = CALLBACK): OutboundSms {
  return { messageId: '01JNMSG0000000000000000000', to, text, statusCallbackUrl };
}

async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const callback = (body: unknown, headers: Record<string, string> = {}, url = CALLBACK): WebhookRequest => ({
  method: 'POST',
  url,
  headers: { 'content-type': 'application/json', ...headers },
  rawBody: JSON.stringify(body),
});

const delivered = { type: 'recipient_delivery_report_sms', batch_id: '01FC66621XXXXX119Z8PMV1QPQ', recipient: '+8801711000001', code: 0, status: 'Delivered', at: '2025-03-01T10:00:05.000Z' };

describe('Sinch SMS provider', () => {
  let fake: FakeSinch;
  const before = process.env[VARIABLE];

  beforeEach(async () => {
    fake = await startFakeSinch({ servicePlanId: SERVICE_PLAN_ID, apiToken: API_TOKEN });
    process.env[VARIABLE] = fake.baseUrl;
  });

  afterEach(async () => {
    if (before === undefined) delete process.env[VARIABLE];
    else process.env[VARIABLE] = before;
    await fake.close();
  });

  it('is registered under its id', () => {
    expect(smsProvider('sinch')).toBe(sinchSms);
  });

  describe('sending', () => {
    it('posts a batch to the service plan with the Bearer token, asks for per-recipient reports at the callback URL, and returns the batch id', async () => {
      const { providerMessageId } = await sinchSms.send(sms('+8801711000001'), { credentials, settings }, ctx);

      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe(`/xms/v1/${SERVICE_PLAN_ID}/batches`);
      expect(request.headers.authorization).toBe(`Bearer ${API_TOKEN}`);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.json).toEqual({
        from: 'ISPNet',
        to: ['+8801711000001'],
        body: 'Your bill of 500 BDT is due on 5 March.',
        type: 'mt_text',
        client_reference: '01JNMSG0000000000000000000',
        delivery_report: 'per_recipient',
        callback_url: CALLBACK,
      });
      expect(request.replyStatus).toBe(201);
      expect(providerMessageId).toMatch(/^01J[0-9A-F]{23}$/);
    });

    it('sends a Bangla text as it is with no encoding flag (Sinch picks UCS-2 itself), and asks for no report without a callback URL', async () => {
      const bangla = 'প্রিয় গ্রাহক, আপনার বিল ৫০০ টাকা।';
      await sinchSms.send(sms('+8801711000001', bangla, ''), { credentials, settings: { region: 'eu', webhookVerification: 'token' } }, ctx);
      const body = fake.requests[0]!.json as Record<string, unknown>;
      expect(body.body).toBe(bangla);
      expect(Object.keys(body).sort()).toEqual(['body', 'client_reference', 'to', 'type']);
    });

    it("calls the region's official host when no override is set", async () => {
      delete process.env[VARIABLE];
      const calls: string[] = [];
      const recording: ProviderContext = {
        ...ctx,
        fetch: (async (input: string | URL | Request) => {
          calls.push(String(input));
          return Response.json({ id: '01FC66621XXXXX119Z8PMV1QPQ' }, { status: 201 });
        }) as typeof fetch,
      };
      for (const region of ['us', 'au'] as const) {
        expect(await sinchSms.send(sms('+8801711000001'), { credentials, settings: { ...settings, region } }, recording)).toEqual({ providerMessageId: '01FC66621XXXXX119Z8PMV1QPQ' });
      }
      expect(calls).toEqual([`https://us.sms.api.sinch.com/xms/v1/${SERVICE_PLAN_ID}/batches`, `https://au.sms.api.sinch.com/xms/v1/${SERVICE_PLAN_ID}/batches`]);
    });
  });

  describe('errors', () => {
    it('reports a badly formatted or illegal number as ProviderRejected with the code', async () => {
      fake.outcome('+8801711000009', 'invalid-number');
      const bad = await rejection(sinchSms.send(sms('+8801711000009'), { credentials, settings }, ctx));
      expect(bad).toBeInstanceOf(ProviderRejected);
      expect(bad.message).toMatch(/syntax_invalid_parameter_format.*Invalid MSISDN/);

      fake.outcome('+8801711000008', 'illegal-number-type');
      expect(await rejection(sinchSms.send(sms('+8801711000008'), { credentials, settings }, ctx))).toBeInstanceOf(ProviderRejected);
    });

    it('reports a blocked account and a wrong token as GatewayFault without repeating the token', async () => {
      fake.outcome('+8801711000007', 'blocked-account');
      const blocked = await rejection(sinchSms.send(sms('+8801711000007'), { credentials, settings }, ctx));
      expect(blocked).toBeInstanceOf(GatewayFault);
      expect(blocked.message).toMatch(/blocked_account/);

      const otherToken = 'ffffffffffffffffffffffffffffffff';
      const auth = await rejection(sinchSms.send(sms('+8801711000001'), { credentials: { ...credentials, apiToken: otherToken }, settings }, ctx));
      expect(auth).toBeInstanceOf(GatewayFault);
      expect(auth.message).toMatch(/HTTP 401.*API token/);
      expect(auth.message).not.toContain(otherToken);
    });

    it('reports throttling (HTTP 429) and server errors as ProviderUnavailable', async () => {
      fake.failNext(1, 429);
      expect(await rejection(sinchSms.send(sms('+8801711000001'), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);
      fake.failNext(1, 503);
      expect(await rejection(sinchSms.send(sms('+8801711000001'), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);
    });

    it('reports a refused connection as ProviderUnavailable', async () => {
      process.env[VARIABLE] = `http://127.0.0.1:${await refusedPort()}`;
      const error = await rejection(sinchSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('network');
    });
  });

  describe('delivery reports', () => {
    it('parses delivered, dispatched and failed recipient reports to our statuses', () => {
      expect(sinchSms.parseWebhook(callback(delivered))).toEqual([{ providerMessageId: delivered.batch_id, status: 'delivered', providerStatus: 'Delivered/0' }]);
      expect(sinchSms.parseWebhook(callback({ ...delivered, status: 'Dispatched', code: 401 }))).toEqual([
        { providerMessageId: delivered.batch_id, status: 'sent', providerStatus: 'Dispatched/401' },
      ]);
      expect(sinchSms.parseWebhook(callback({ ...delivered, status: 'Failed', code: 402 }))).toEqual([
        { providerMessageId: delivered.batch_id, status: 'failed', providerStatus: 'Failed/402', reason: 'Message unroutable (Sinch Failed, code 402)' },
      ]);
    });

    it('drops queued reports and reads a batch summary report', () => {
      expect(sinchSms.parseWebhook(callback({ ...delivered, status: 'Queued', code: 400 }))).toEqual([]);
      expect(
        sinchSms.parseWebhook(callback({ type: 'delivery_report_sms', batch_id: 'B1', total_message_count: 1, statuses: [{ code: 0, count: 1, status: 'Delivered' }] })),
      ).toEqual([{ providerMessageId: 'B1', status: 'delivered', providerStatus: 'Delivered/0' }]);
    });

    it('refuses a report that is not JSON, has an unknown type or lacks batch_id as invalid input', () => {
      const bodies = ['not json', JSON.stringify({ type: 'something_else' }), JSON.stringify({ type: 'recipient_delivery_report_sms', status: 'Delivered' })];
      for (const rawBody of bodies) {
        let thrown: unknown;
        try {
          sinchSms.parseWebhook({ method: 'POST', url: CALLBACK, headers: {}, rawBody });
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(DomainError);
        expect((thrown as DomainError).kind).toBe('Invalid');
      }
    });

    it('with token verification, accepts the webhook secret as token and refuses a forged or missing one', () => {
      expect(sinchSms.verifySignature(callback(delivered), { credentials, settings })).toBe(true);
      expect(sinchSms.verifySignature(callback(delivered, {}, CALLBACK.replace(/token=.*/, 'token=forged-token-00000000000')), { credentials, settings })).toBe(false);
      expect(sinchSms.verifySignature(callback(delivered, {}, CALLBACK.replace(/\?.*/, '')), { credentials, settings })).toBe(false);
    });

    it('with hmac verification, accepts Sinch signature headers over body.nonce.timestamp and refuses a tampered body, another secret or missing headers', () => {
      const hmacSettings: SinchSettings = { ...settings, webhookVerification: 'hmac' };
      const rawBody = JSON.stringify(delivered);
      const nonce = '01FJA8B4A7BM43YGWSG9GBV067';
      const timestamp = '1740823205';
      const signature = createHmac('sha256', WEBHOOK_SECRET).update(`${rawBody}.${nonce}.${timestamp}`).digest('base64');
      const signed: WebhookRequest = {
        method: 'POST',
        url: 'https://notify.example.net/webhooks/sms/sinch/gw',
        headers: {
          'content-type': 'application/json',
          'x-sinch-webhook-signature': signature,
          'x-sinch-webhook-signature-nonce': nonce,
          'x-sinch-webhook-signature-timestamp': timestamp,
          'x-sinch-webhook-signature-algorithm': 'HmacSHA256',
        },
        rawBody,
      };
      expect(sinchSms.verifySignature(signed, { credentials, settings: hmacSettings })).toBe(true);
      expect(sinchSms.verifySignature({ ...signed, rawBody: rawBody.replace('Delivered', 'Failed') }, { credentials, settings: hmacSettings })).toBe(false);
      expect(sinchSms.verifySignature(signed, { credentials: { ...credentials, webhookSecret: 'another-secret-0000000' }, settings: hmacSettings })).toBe(false);
      const { ['x-sinch-webhook-signature-nonce']: _nonce, ...withoutNonce } = signed.headers;
      expect(sinchSms.verifySignature({ ...signed, headers: withoutNonce }, { credentials, settings: hmacSettings })).toBe(false);
      // A URL token alone does not pass when the gateway expects HMAC.
      expect(sinchSms.verifySignature(callback(delivered), { credentials, settings: hmacSettings })).toBe(false);
    });
  });

  describe('gateway configuration', () => {
    it('accepts good credentials and settings, with token verification by default', () => {
      expect(sinchSms.credentials.parse(credentials)).toEqual(credentials);
      expect(sinchSms.settings.parse({ region: 'us', from: '+14155550100' })).toEqual({ region: 'us', from: '+14155550100', webhookVerification: 'token' });
      expect(sinchSms.settings.parse({ region: 'ca', from: '12345', webhookVerification: 'hmac' })).toMatchObject({ from: '12345', webhookVerification: 'hmac' });
    });

    it('refuses a region outside us, eu, au, br, ca, naming the choices', () => {
      for (const region of ['uk', 'https://eu.sms.api.sinch.com', 'EU']) {
        const result = sinchSms.settings.safeParse({ region });
        expect(result.success).toBe(false);
        expect(result.error!.issues[0]).toMatchObject({ path: ['region'], message: expect.stringMatching(/us, eu, au, br or ca/) });
      }
    });

    it('refuses an apiBaseUrl as an unknown field', () => {
      const result = sinchSms.settings.safeParse({ region: 'eu', apiBaseUrl: 'http://127.0.0.1:4010' });
      expect(result.success).toBe(false);
      expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['apiBaseUrl'] }));
    });

    it('refuses a sender that is neither E.164, a short code nor a short alphanumeric id, and explains bad credentials', () => {
      const from = sinchSms.settings.safeParse({ region: 'eu', from: 'Far Too Long Sender' });
      expect(from.error!.issues[0]).toMatchObject({ path: ['from'], message: expect.stringMatching(/E\.164.*short code.*alphanumeric/) });
      const bad = sinchSms.credentials.safeParse({ servicePlanId: 'abc', apiToken: 'short', webhookSecret: 'short' });
      const messages = Object.fromEntries(bad.error!.issues.map((i) => [i.path.join('.'), i.message]));
      expect(messages.servicePlanId).toMatch(/service plan ID/);
      expect(messages.apiToken).toMatch(/API token/);
      expect(messages.webhookSecret).toMatch(/16/);
    });
  });
});
