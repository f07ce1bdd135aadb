import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { plivoSms, plivoV3Signature, plivoV3SignedString, type PlivoCredentials, type PlivoSettings } from '../../../shared/adapters/providers/sms/plivo.js';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { startFakePlivo, type FakePlivo } from '../../support/fake-plivo.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { freePortThatRefuses } from '../../support/net.js';

const AUTH_ID = 'MAXXXXXXXXXXXXXXXX01';
const AUTH_TOKEN = 'plivo-auth-token-0123456789abcdefghij';
const credentials: PlivoCredentials = { authId: AUTH_ID, authToken: AUTH_TOKEN };
const settings: PlivoSettings = { src: '+14155550100' };
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_PLIVO';
const GSM_TEXT = 'Your bill of 500 BDT is due on 5 March.';
const BANGLA_TEXT = 'প্রিয় গ্রাহক, আপনার ইন্টারনেট বিল ৫০০ টাকা।';

function sms(to: string, text = GSM_TEXT, statusCallbackUrl = ''): OutboundSms {
  return { messageId: '01JNMSG0000000000000000000', to, text, statusCallbackUrl };
}


describe('Plivo SMS provider', () => {
  let fake: FakePlivo;
  const before = process.env[BASE_URL_VARIABLE];

  beforeEach(async () => {
    fake = await startFakePlivo({ authId: AUTH_ID, authToken: AUTH_TOKEN });
    process.env[BASE_URL_VARIABLE] = fake.baseUrl;
  });

  afterEach(async () => {
    if (before === undefined) delete process.env[BASE_URL_VARIABLE];
    else process.env[BASE_URL_VARIABLE] = before;
    await fake.close();
  });

  it('is registered under the id "plivo"', () => {
    expect(smsProvider('plivo')).toBe(plivoSms);
    expect(plivoSms.channel).toBe('sms');
  });

  describe('sending', () => {
    it('posts JSON src, dst, text, url and method with Basic auth to the account path and returns the message_uuid', async () => {
      const callback = 'https://notify.example.net/webhooks/sms/plivo/01JNGW';
      const result = await plivoSms.send(sms('+8801711000001', GSM_TEXT, callback), { credentials, settings }, ctx);

      expect(result.providerMessageId).toMatch(/^[0-9a-f-]{36}$/);
      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe(`/v1/Account/${AUTH_ID}/Message/`);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.basicAuth).toEqual({ username: AUTH_ID, password: AUTH_TOKEN });
      expect(request.json).toEqual({ src: '+14155550100', dst: '+8801711000001', text: GSM_TEXT, url: callback, method: 'POST' });
      expect(request.replyStatus).toBe(202);
    });

    it('sends a Bangla text as it is, with no encoding flag (Plivo detects Unicode itself), and no url when there is no callback', async () => {
      await plivoSms.send(sms('+8801711000001', BANGLA_TEXT), { credentials, settings }, ctx);
      expect(fake.requests[0]!.json).toEqual({ src: '+14155550100', dst: '+8801711000001', text: BANGLA_TEXT });
    });

    it('calls the official host when no override is set', async () => {
      delete process.env[BASE_URL_VARIABLE];
      const calls: { url: string; auth: string | null }[] = [];
      const recording: ProviderContext = {
        ...ctx,
        fetch: async (input, init) => {
          calls.push({ url: String(input), auth: new Headers(init?.headers).get('authorization') });
          return Response.json({ api_id: 'x', message: 'message(s) queued', message_uuid: ['db3ce55a-7f1d-11e1-8ea7-1231380bc196'] }, { status: 202 });
        },
      };
      const result = await plivoSms.send(sms('+8801711000001'), { credentials, settings }, recording);
      expect(calls).toEqual([{ url: `https://api.plivo.com/v1/Account/${AUTH_ID}/Message/`, auth: `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}` }]);
      expect(result.providerMessageId).toBe('db3ce55a-7f1d-11e1-8ea7-1231380bc196');
    });
  });

  describe('send errors', () => {
    it('rejects the message for an invalid destination number', async () => {
      const error = await rejection(plivoSms.send(sms('+12345'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('400');
      expect(error.message).toMatch(/is not a valid phone number/);
    });

    it('reports a gateway fault for bad credentials, no credit and an unusable sender', async () => {
      const wrong = await rejection(plivoSms.send(sms('+8801711000001'), { credentials: { ...credentials, authToken: 'not-the-right-token-000' }, settings }, ctx));
      expect(wrong).toBeInstanceOf(GatewayFault);
      expect(wrong.message).toMatch(/Auth ID and Auth Token/);
      expect(wrong.message).not.toContain('not-the-right-token-000');

      fake.failFor('+8801711000009', 400, 'Insufficient credit to send the message');
      const broke = await rejection(plivoSms.send(sms('+8801711000009'), { credentials, settings }, ctx));
      expect(broke).toBeInstanceOf(GatewayFault);
      expect(broke.message).toMatch(/Insufficient credit/);

      fake.failFor('+8801711000008', 400, 'src +14155550100 is not owned by this account');
      expect(await rejection(plivoSms.send(sms('+8801711000008'), { credentials, settings }, ctx))).toBeInstanceOf(GatewayFault);
    });

    it('asks for a retry on 429, 500 and when Plivo cannot be reached', async () => {
      for (const status of [429, 500, 503]) {
        fake.failNext(1, status);
        const error = await rejection(plivoSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
        expect(error).toBeInstanceOf(ProviderUnavailable);
        expect((error as ProviderUnavailable).code).toBe(String(status));
      }
      process.env[BASE_URL_VARIABLE] = `http://127.0.0.1:${await freePortThatRefuses()}`;
      const unreachable = await rejection(plivoSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(unreachable).toBeInstanceOf(ProviderUnavailable);
      expect((unreachable as ProviderUnavailable).code).toBe('network');
    });
  });

  describe('status callbacks', () => {
    let webhook: WebhookReceiver;

    beforeEach(async () => {
      webhook = await startWebhookReceiver();
    });

    afterEach(async () => {
      await webhook.close();
    });

    async function callbacksFor(to: string) {
      const callbackUrl = `${webhook.url}/webhooks/sms/plivo/01JNGW?tenant=op1`;
      const { providerMessageId } = await plivoSms.send(sms(to, GSM_TEXT, callbackUrl), { credentials, settings }, ctx);
      await fake.settled();
      expect(webhook.received).toHaveLength(2);
      return { providerMessageId, requests: webhook.received };
    }

    it('verifies the V3 signature of sent and delivered callbacks and parses them', async () => {
      const { providerMessageId, requests } = await callbacksFor('+8801711000001');
      for (const request of requests) expect(plivoSms.verifySignature(request, { credentials, settings })).toBe(true);
      expect(requests.flatMap((r) => plivoSms.parseWebhook(r))).toEqual([
        { providerMessageId, status: 'sent', providerStatus: 'sent' },
        { providerMessageId, status: 'delivered', providerStatus: 'delivered' },
      ]);
    });

    it('reports an undelivered callback as failed with the error code in words', async () => {
      const { providerMessageId, requests } = await callbacksFor('+8801711000050');
      expect(plivoSms.verifySignature(requests[1]!, { credentials, settings })).toBe(true);
      expect(plivoSms.parseWebhook(requests[1]!)).toEqual([
        { providerMessageId, status: 'failed', providerStatus: 'undelivered/50', reason: 'Invalid destination number' },
      ]);
    });

    it('refuses a tampered body, another URL, a missing nonce or another token', async () => {
      const { requests } = await callbacksFor('+8801711000001');
      const delivered = requests[1]!;
      const tampered = { ...delivered, rawBody: delivered.rawBody.replace('Status=delivered', 'Status=failed') };
      expect(tampered.rawBody).not.toBe(delivered.rawBody);
      expect(plivoSms.verifySignature(tampered, { credentials, settings })).toBe(false);
      expect(plivoSms.verifySignature({ ...delivered, url: delivered.url.replace('op1', 'op2') }, { credentials, settings })).toBe(false);
      const { ['x-plivo-signature-v3-nonce']: _nonce, ...noNonce } = delivered.headers;
      expect(plivoSms.verifySignature({ ...delivered, headers: noNonce }, { credentials, settings })).toBe(false);
      expect(plivoSms.verifySignature(delivered, { credentials: { ...credentials, authToken: 'another-auth-token-0000000' }, settings })).toBe(false);
    });
  });

  describe('signature algorithm', () => {
    it('builds the V3 string: URL, sorted query, ".", sorted form pairs, "." and the nonce', () => {
      const form = new URLSearchParams({ To: '8801711000001', MessageUUID: 'u-1', Status: 'sent' });
      expect(plivoV3SignedString('POST', 'https://n.example.net/cb?z=2&a=1', '12345', form)).toBe(
        'https://n.example.net/cb?a=1&z=2.MessageUUIDu-1StatussentTo8801711000001.12345',
      );
      expect(plivoV3SignedString('POST', 'https://n.example.net/cb', '12345', form)).toBe('https://n.example.net/cb?MessageUUIDu-1StatussentTo8801711000001.12345');
      expect(plivoV3SignedString('GET', 'https://n.example.net/cb?b=2&a=1', '9')).toBe('https://n.example.net/cb?a=1&b=2.9');
      expect(plivoV3SignedString('POST', 'https://n.example.net/cb', '9')).toBe('https://n.example.net/cb.9');
    });

    it('accepts any one of several comma-separated signatures', () => {
      const url = 'https://n.example.net/cb';
      const body = 'MessageUUID=u-1&Status=delivered';
      const good = plivoV3Signature(AUTH_TOKEN, 'POST', url, '42', new URLSearchParams(body));
      const request: WebhookRequest = {
        method: 'POST',
        url,
        headers: { 'x-plivo-signature-v3': `bm90LWl0,${good}`, 'x-plivo-signature-v3-nonce': '42' },
        rawBody: body,
      };
      expect(plivoSms.verifySignature(request, { credentials, settings })).toBe(true);
      expect(plivoSms.verifySignature({ ...request, headers: { ...request.headers, 'x-plivo-signature-v3': 'bm90LWl0' } }, { credentials, settings })).toBe(false);
    });
  });

  describe('parsing callbacks', () => {
    const callback = (params: Record<string, string>): WebhookRequest => ({
      method: 'POST',
      url: 'https://notify.example.net/webhooks/sms/plivo/gw',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: new URLSearchParams(params).toString(),
    });

    it('drops queued, maps failed and rejected to failed, and names unknown codes', () => {
      expect(plivoSms.parseWebhook(callback({ MessageUUID: 'u-1', Status: 'queued' }))).toEqual([]);
      expect(plivoSms.parseWebhook(callback({ MessageUUID: 'u-1', Status: 'failed', ErrorCode: '900' }))).toEqual([
        { providerMessageId: 'u-1', status: 'failed', providerStatus: 'failed/900', reason: 'Plivo error 900' },
      ]);
      expect(plivoSms.parseWebhook(callback({ MessageUUID: 'u-1', Status: 'rejected' }))[0]).toMatchObject({ status: 'failed', reason: 'Plivo reported the message rejected' });
    });

    it('reads a GET callback from the query string', () => {
      const request: WebhookRequest = { method: 'GET', url: 'https://notify.example.net/cb?MessageUUID=u-2&Status=delivered&ErrorCode=000', headers: {}, rawBody: '' };
      expect(plivoSms.parseWebhook(request)).toEqual([{ providerMessageId: 'u-2', status: 'delivered', providerStatus: 'delivered' }]);
    });

    it('refuses a callback without MessageUUID as invalid input', () => {
      let thrown: unknown;
      try {
        plivoSms.parseWebhook(callback({ Status: 'delivered' }));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DomainError);
      expect((thrown as DomainError).kind).toBe('Invalid');
      expect((thrown as DomainError).message).toMatch(/MessageUUID/);
    });
  });

  describe('gateway configuration', () => {
    it('accepts good credentials and senders as they are', () => {
      expect(plivoSms.credentials.parse(credentials)).toEqual(credentials);
      expect(plivoSms.settings.parse(settings)).toEqual(settings);
      expect(plivoSms.settings.parse({ src: 'ISPNet' })).toEqual({ src: 'ISPNet' });
    });

    it('explains bad credentials and refuses a bad sender', () => {
      const result = plivoSms.credentials.safeParse({ authId: 'AC123', authToken: 'short' });
      expect(result.success).toBe(false);
      const messages = Object.fromEntries(result.error!.issues.map((i) => [i.path.join('.'), i.message]));
      expect(messages.authId).toMatch(/Auth ID/);
      expect(messages.authToken).toMatch(/Auth Token.*16/);
      for (const src of ['Far Too Long Sender', '01711-223344', 'ISP Net']) {
        const bad = plivoSms.settings.safeParse({ src });
        expect(bad.success).toBe(false);
        expect(bad.error!.issues[0]).toMatchObject({ path: ['src'], message: expect.stringMatching(/E\.164.*alphanumeric/) });
      }
    });

    it('refuses an apiBaseUrl as an unknown field', () => {
      const result = plivoSms.settings.safeParse({ src: 'ISPNet', apiBaseUrl: 'http://127.0.0.1:4010' });
      expect(result.success).toBe(false);
      expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['apiBaseUrl'] }));
    });
  });
});
