import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bulkSmsBdSms, type BulkSmsBdCredentials, type BulkSmsBdSettings } from '../../../shared/adapters/providers/sms/bulksmsbd.js';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { startFakeBulkSmsBd, type FakeBulkSmsBd } from '../../support/fake-bulksmsbd.js';
import { freePortThatRefuses } from '../../support/net.js';

const API_KEY = 'Bh6WCte0rmh9n0CCepCo';
const WEBHOOK_SECRET = 'a-webhook-secret-of-32-characters';
const credentials: BulkSmsBdCredentials = { apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET };
const settings: BulkSmsBdSettings = { senderId: '8809617611058' };
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
const VARIABLE = 'ISPNOTIFY_BASE_URL_BULKSMSBD';
const BANGLA = 'প্রিয় গ্রাহক, আপনার ইন্টারনেট বিল ৫০০ টাকা।';

const sms = (to: string, text = 'Your bill of 500 BDT is due on 5 March.', statusCallbackUrl = ''): OutboundSms => ({ messageId: '01JNMSG0000000000000000000', to, text, statusCallbackUrl });


describe('BulkSMSBD SMS provider', () => {
  let fake: FakeBulkSmsBd;
  const before = process.env[VARIABLE];

  beforeEach(async () => {
    fake = await startFakeBulkSmsBd({ apiKey: API_KEY, senderId: settings.senderId });
    process.env[VARIABLE] = fake.baseUrl;
  });

  afterEach(async () => {
    if (before === undefined) delete process.env[VARIABLE];
    else process.env[VARIABLE] = before;
    await fake.close();
  });

  it('is registered under the id "bulksmsbd"', () => {
    expect(smsProvider('bulksmsbd')).toBe(bulkSmsBdSms);
    expect(bulkSmsBdSms.channel).toBe('sms');
  });

  describe('sending', () => {
    it('posts api_key, senderid, the number without "+", the message and type=text as a form, and returns the message_id', async () => {
      const result = await bulkSmsBdSms.send(sms('+8801711000001', undefined, 'https://notify.example.net/cb'), { credentials, settings }, ctx);

      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/api/smsapi');
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request.params).toEqual({
        api_key: API_KEY,
        senderid: '8809617611058',
        number: '8801711000001',
        message: 'Your bill of 500 BDT is due on 5 March.',
        type: 'text',
      });
      expect(result.providerMessageId).toBe(String((JSON.parse(request.replyBody) as { message_id: number }).message_id));
    });

    it('sends Bangla text with type=unicode', async () => {
      await bulkSmsBdSms.send(sms('+8801711000001', BANGLA), { credentials, settings }, ctx);
      expect(fake.requests[0]!.params).toMatchObject({ type: 'unicode', message: BANGLA });
    });

    it('calls the official host when no override is set', async () => {
      delete process.env[VARIABLE];
      const calls: { url: string; body: string }[] = [];
      const recording: typeof fetch = async (input, init) => {
        calls.push({ url: String(input), body: typeof init?.body === 'string' ? init.body : '' });
        return Response.json({ response_code: 202, message_id: 42, success_message: 'SMS Submitted Successfully', error_message: '' });
      };
      const result = await bulkSmsBdSms.send(sms('+8801711000001'), { credentials, settings }, { ...ctx, fetch: recording });
      expect(calls.map((c) => c.url)).toEqual(['https://bulksmsbd.net/api/smsapi']);
      expect(calls[0]!.body).toContain(`api_key=${API_KEY}`);
      expect(result.providerMessageId).toBe('42');
    });
  });

  describe('errors', () => {
    it('rejects the message when BulkSMSBD answers 1001 Invalid Number', async () => {
      fake.failFor('8801711000009', 'invalid-number');
      const error = await rejection(bulkSmsBdSms.send(sms('+8801711000009'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect(error).toMatchObject({ code: '1001' });
      expect(error.message).toMatch(/1001.*invalid.*Invalid Number/);
    });

    it('reports 1007 Balance Insufficient and 1032 IP not whitelisted as gateway faults', async () => {
      fake.failNext(1, 'balance-insufficient');
      const balance = await rejection(bulkSmsBdSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(balance).toBeInstanceOf(GatewayFault);
      expect(balance).toMatchObject({ code: '1007' });
      expect(balance.message).toMatch(/recharge/);

      fake.failNext(1, 'ip-not-whitelisted');
      const ip = await rejection(bulkSmsBdSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(ip).toBeInstanceOf(GatewayFault);
      expect(ip).toMatchObject({ code: '1032' });
    });

    it('reports a wrong API key (1011) and a wrong sender id (1002) as gateway faults without repeating the key', async () => {
      const key = await rejection(bulkSmsBdSms.send(sms('+8801711000001'), { credentials: { ...credentials, apiKey: 'WrongKey000000000000' }, settings }, ctx));
      expect(key).toBeInstanceOf(GatewayFault);
      expect(key).toMatchObject({ code: '1011' });
      expect(key.message).not.toContain('WrongKey');
      const sender = await rejection(bulkSmsBdSms.send(sms('+8801711000001'), { credentials, settings: { senderId: 'OtherBrand' } }, ctx));
      expect(sender).toBeInstanceOf(GatewayFault);
      expect(sender).toMatchObject({ code: '1002' });
    });

    it('asks to retry later on HTTP 429 and on 1005 Internal Error', async () => {
      fake.failNext(1, 'throttled');
      expect(await rejection(bulkSmsBdSms.send(sms('+8801711000001'), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);
      fake.failNext(1, 'internal-error');
      const internal = await rejection(bulkSmsBdSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(internal).toBeInstanceOf(ProviderUnavailable);
      expect(internal).toMatchObject({ code: '1005' });
    });

    it('asks to retry later when BulkSMSBD cannot be reached', async () => {
      process.env[VARIABLE] = `http://127.0.0.1:${await freePortThatRefuses()}`;
      const error = await rejection(bulkSmsBdSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error).toMatchObject({ code: 'network' });
    });
  });

  describe('webhooks', () => {
    const request = (url: string): WebhookRequest => ({ method: 'POST', url, headers: {}, rawBody: 'status=delivered' });

    it('accepts only a request carrying the gateway\'s webhook secret as its token', () => {
      const gateway = { credentials, settings };
      expect(bulkSmsBdSms.verifySignature(request(`https://notify.example.net/webhooks/sms/bulksmsbd/gw?token=${WEBHOOK_SECRET}`), gateway)).toBe(true);
      expect(bulkSmsBdSms.verifySignature(request('https://notify.example.net/webhooks/sms/bulksmsbd/gw?token=forged-token-000000000000'), gateway)).toBe(false);
      expect(bulkSmsBdSms.verifySignature(request('https://notify.example.net/webhooks/sms/bulksmsbd/gw'), gateway)).toBe(false);
    });

    it('refuses any receipt as invalid input, since BulkSMSBD sends none', () => {
      let thrown: unknown;
      try {
        bulkSmsBdSms.parseWebhook(request('https://notify.example.net/webhooks/sms/bulksmsbd/gw'));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DomainError);
      expect((thrown as DomainError).kind).toBe('Invalid');
      expect((thrown as DomainError).message).toBe('BulkSMSBD sends no delivery receipts');
    });

    it('keeps a short receipt window, since sent is final for BulkSMSBD', () => {
      expect(bulkSmsBdSms.receiptWindowSeconds).toBeLessThanOrEqual(300);
    });
  });

  describe('gateway configuration', () => {
    it('accepts a numeric sender and a masking name', () => {
      expect(bulkSmsBdSms.settings.parse({ senderId: '8809617611058' })).toEqual({ senderId: '8809617611058' });
      expect(bulkSmsBdSms.settings.parse({ senderId: 'Mallick NDC' })).toEqual({ senderId: 'Mallick NDC' });
      expect(bulkSmsBdSms.credentials.parse(credentials)).toEqual(credentials);
    });

    it('refuses an apiBaseUrl in the settings as an unknown field', () => {
      const result = bulkSmsBdSms.settings.safeParse({ ...settings, apiBaseUrl: 'http://127.0.0.1:4010' });
      expect(result.success).toBe(false);
      expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['apiBaseUrl'] }));
    });

    it('refuses a masking name over 11 characters, an API key with symbols and a short webhook secret, saying why', () => {
      const sender = bulkSmsBdSms.settings.safeParse({ senderId: 'Far Too Long Brand' });
      expect(sender.success).toBe(false);
      expect(sender.error!.issues[0]!.message).toMatch(/sender id.*1–11/);
      const bad = bulkSmsBdSms.credentials.safeParse({ apiKey: 'not a key!', webhookSecret: 'short' });
      expect(bad.success).toBe(false);
      const messages = Object.fromEntries(bad.error!.issues.map((i) => [i.path.join('.'), i.message]));
      expect(messages.apiKey).toMatch(/API key/);
      expect(messages.webhookSecret).toMatch(/16/);
    });
  });
});
