import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { msg91Sms, type Msg91Credentials, type Msg91Settings } from '../../../shared/adapters/providers/sms/msg91.js';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { startFakeMsg91, type FakeMsg91 } from '../../support/fake-msg91.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { freePortThatRefuses } from '../../support/net.js';

const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_MSG91';
const AUTH_KEY = '344558AVO73xXuTvj608924b4P1';
const WEBHOOK_SECRET = 'msg91-webhook-secret-0123456789';
const credentials: Msg91Credentials = { authKey: AUTH_KEY, webhookSecret: WEBHOOK_SECRET };
const settings: Msg91Settings = {
  senderId: 'ISPNET',
  templateId: '608d315c1a91bf72b63ec83a',
  dltTemplateId: '1107161234567890123',
  textVariable: 'var1',
};
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };

const TO = '+919812345678';
const ENGLISH = 'Dear customer, your internet bill of Rs 500 is due on 5 March.';
const BANGLA = 'প্রিয় গ্রাহক, আপনার ইন্টারনেট বিল ৫০০ টাকা।';

function sms(to: string, text = ENGLISH, statusCallbackUrl = ''): OutboundSms {
  return { messageId: '01JNMSG0000000000000000000', to, text, statusCallbackUrl };
}


describe('MSG91 SMS provider', () => {
  let fake: FakeMsg91;
  const before = process.env[BASE_URL_VARIABLE];

  beforeEach(async () => {
    fake = await startFakeMsg91({ authKey: AUTH_KEY });
    process.env[BASE_URL_VARIABLE] = fake.baseUrl;
  });

  afterEach(async () => {
    if (before === undefined) delete process.env[BASE_URL_VARIABLE];
    else process.env[BASE_URL_VARIABLE] = before;
    await fake.close();
  });

  it('is registered under the id "msg91" as an SMS provider', () => {
    expect(smsProvider('msg91')).toBe(msg91Sms);
    expect(msg91Sms.channel).toBe('sms');
    expect(msg91Sms.receiptWindowSeconds).toBeGreaterThan(0);
  });

  describe('sending', () => {
    it('posts the flow JSON with the authkey header, the DLT ids and the text in the template variable, and returns the request id', async () => {
      const result = await msg91Sms.send(sms(TO, ENGLISH, 'https://notify.example.net/webhooks/sms/msg91/gw'), { credentials, settings }, ctx);

      expect(result.providerMessageId).toMatch(/^[0-9a-f]{24}$/);
      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/api/v5/flow');
      expect(request.headers.authkey).toBe(AUTH_KEY);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.json).toEqual({
        template_id: '608d315c1a91bf72b63ec83a',
        sender: 'ISPNET',
        DLT_TE_ID: '1107161234567890123',
        short_url: '0',
        recipients: [{ mobiles: '919812345678', var1: ENGLISH }],
      });
      expect(request.replyStatus).toBe(200);
    });

    it('sets unicode: 1 for a Bangla text and no unicode flag for a GSM-7 text', async () => {
      await msg91Sms.send(sms(TO, BANGLA), { credentials, settings }, ctx);
      await msg91Sms.send(sms(TO, ENGLISH), { credentials, settings }, ctx);

      expect(fake.requests[0]!.json).toMatchObject({ unicode: 1, recipients: [{ mobiles: '919812345678', var1: BANGLA }] });
      expect(fake.requests[1]!.json).not.toHaveProperty('unicode');
    });

    it("puts the text in the gateway's own template variable", async () => {
      await fake.close();
      fake = await startFakeMsg91({ authKey: AUTH_KEY, textVariable: 'message' });
      process.env[BASE_URL_VARIABLE] = fake.baseUrl;
      await msg91Sms.send(sms(TO), { credentials, settings: { ...settings, textVariable: 'message' } }, ctx);
      expect(fake.requests[0]!.json!.recipients).toEqual([{ mobiles: '919812345678', message: ENGLISH }]);
    });

    it('goes to the official host https://control.msg91.com when no override is set', async () => {
      delete process.env[BASE_URL_VARIABLE];
      const calls: { url: string; headers: Headers }[] = [];
      const recording: ProviderContext = {
        ...ctx,
        fetch: async (input, init) => {
          calls.push({ url: String(input), headers: new Headers(init?.headers) });
          return Response.json({ type: 'success', message: '3465646f6e65313233343536' });
        },
      };
      const result = await msg91Sms.send(sms(TO), { credentials, settings }, recording);
      expect(result.providerMessageId).toBe('3465646f6e65313233343536');
      expect(calls.map((c) => c.url)).toEqual(['https://control.msg91.com/api/v5/flow']);
      expect(calls[0]!.headers.get('authkey')).toBe(AUTH_KEY);
    });

    it('turns error 202 (invalid mobile number) into ProviderRejected with the code', async () => {
      fake.errorFor('919800000202', '202');
      const error = await rejection(msg91Sms.send(sms('+919800000202'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('202');
      expect(error.message).toMatch(/invalid mobile number/i);
    });

    it('turns error 301 (insufficient balance) into a GatewayFault telling to recharge', async () => {
      fake.errorNext(1, '301');
      const error = await rejection(msg91Sms.send(sms(TO), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(GatewayFault);
      expect((error as GatewayFault).code).toBe('301');
      expect(error.message).toMatch(/recharge/);
    });

    it('turns 203 (sender / DLT) and 418 (IP not whitelisted) into a GatewayFault', async () => {
      for (const code of ['203', '418'] as const) {
        fake.errorNext(1, code);
        const error = await rejection(msg91Sms.send(sms(TO), { credentials, settings }, ctx));
        expect(error).toBeInstanceOf(GatewayFault);
        expect((error as GatewayFault).code).toBe(code);
      }
    });

    it('turns a wrong authkey into a GatewayFault without repeating the key', async () => {
      const wrong = { ...credentials, authKey: 'WrongKey0000000000000000' };
      const error = await rejection(msg91Sms.send(sms(TO), { credentials: wrong, settings }, ctx));
      expect(error).toBeInstanceOf(GatewayFault);
      expect((error as GatewayFault).code).toBe('207');
      expect(error.message).toMatch(/Authkey/);
      expect(error.message).not.toContain(wrong.authKey);
    });

    it('turns HTTP 429, HTTP 503 and error 306 (route unavailable) into ProviderUnavailable, then succeeds', async () => {
      fake.failNext(1, 429);
      const throttled = await rejection(msg91Sms.send(sms(TO), { credentials, settings }, ctx));
      expect(throttled).toBeInstanceOf(ProviderUnavailable);
      expect((throttled as ProviderUnavailable).code).toBe('429');

      fake.failNext(1, 503);
      expect(await rejection(msg91Sms.send(sms(TO), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);

      fake.errorNext(1, '306');
      expect(await rejection(msg91Sms.send(sms(TO), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);

      expect((await msg91Sms.send(sms(TO), { credentials, settings }, ctx)).providerMessageId).toMatch(/^[0-9a-f]{24}$/);
    });

    it('turns a refused connection into ProviderUnavailable', async () => {
      process.env[BASE_URL_VARIABLE] = `http://127.0.0.1:${await freePortThatRefuses()}`;
      const error = await rejection(msg91Sms.send(sms(TO), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('network');
    });
  });

  describe('delivery reports', () => {
    let webhook: WebhookReceiver;
    beforeEach(async () => {
      webhook = await startWebhookReceiver();
    });
    afterEach(async () => {
      await webhook.close();
    });

    const callbackUrl = () => `${webhook.url}/webhooks/sms/msg91/01JNGW00000000000000000000?token=${WEBHOOK_SECRET}`;

    it('parses a version 2 (form) DELIVERED report as delivered, and its token verifies', async () => {
      const { providerMessageId } = await msg91Sms.send(sms(TO), { credentials, settings }, ctx);
      await fake.postReport(callbackUrl(), { requestId: providerMessageId, number: '919812345678', status: '1', desc: 'DELIVERED' }, 2);

      const request = webhook.received[0]!;
      expect(msg91Sms.verifySignature(request, { credentials, settings })).toBe(true);
      expect(msg91Sms.parseWebhook(request)).toEqual([{ providerMessageId, status: 'delivered', providerStatus: '1/DELIVERED' }]);
    });

    it('parses a version 3 (JSON) failed report as failed with the reason in words', async () => {
      await fake.postReport(callbackUrl(), { requestId: 'req-2', number: '919812345678', status: '2', desc: 'FAILED', failedReason: 'Absent subscriber' }, 3);
      await fake.postReport(callbackUrl(), { requestId: 'req-9', number: '919812345678', status: '9', desc: 'NDNC' }, 3);

      expect(webhook.received.flatMap((r) => msg91Sms.parseWebhook(r))).toEqual([
        { providerMessageId: 'req-2', status: 'failed', providerStatus: '2/FAILED', reason: 'The operator could not deliver the message: Absent subscriber (MSG91 status 2)' },
        { providerMessageId: 'req-9', status: 'failed', providerStatus: '9/NDNC', reason: 'The number is on the National Do Not Call registry (NDNC) (MSG91 status 9)' },
      ]);
    });

    it('maps rejected (16, 25) and blocked (17) to failed and drops statuses it does not know', async () => {
      for (const status of ['16', '25', '17', '8']) {
        await fake.postReport(callbackUrl(), { requestId: `req-${status}`, number: '919812345678', status, desc: 'X' }, 2);
      }
      const updates = webhook.received.flatMap((r) => msg91Sms.parseWebhook(r));
      expect(updates.map((u) => [u.providerMessageId, u.status])).toEqual([
        ['req-16', 'failed'],
        ['req-25', 'failed'],
        ['req-17', 'failed'],
      ]);
    });

    it('refuses a report whose token is missing or forged', async () => {
      await fake.postReport(callbackUrl(), { requestId: 'req-1', number: '919812345678', status: '1', desc: 'DELIVERED' }, 3);
      const good = webhook.received[0]!;
      expect(msg91Sms.verifySignature({ ...good, url: good.url.replace(/\?token=.*/, '') }, { credentials, settings })).toBe(false);
      expect(msg91Sms.verifySignature({ ...good, url: good.url.replace(WEBHOOK_SECRET, 'msg91-webhook-secret-0123456780') }, { credentials, settings })).toBe(false);
    });

    it('refuses malformed reports as invalid input', () => {
      const request = (rawBody: string, contentType: string): WebhookRequest => ({ method: 'POST', url: 'https://n.example/w', headers: { 'content-type': contentType }, rawBody });
      const bad = [
        request('status=1', 'application/x-www-form-urlencoded'),
        request('data=not-json', 'application/x-www-form-urlencoded'),
        request('{"status":"1"}', 'application/json'),
        request('[{"report":[]}]', 'application/json'),
      ];
      for (const r of bad) {
        let thrown: unknown;
        try {
          msg91Sms.parseWebhook(r);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(DomainError);
        expect((thrown as DomainError).kind).toBe('Invalid');
      }
    });
  });

  describe('gateway configuration', () => {
    it('accepts good settings and fills in var1 as the text variable', () => {
      const { textVariable: _omitted, ...rest } = settings;
      expect(msg91Sms.settings.parse(rest)).toEqual({ ...rest, textVariable: 'var1' });
      expect(msg91Sms.credentials.parse(credentials)).toEqual(credentials);
    });

    it('requires the DLT template id', () => {
      const { dltTemplateId: _omitted, ...rest } = settings;
      const result = msg91Sms.settings.safeParse(rest);
      expect(result.success).toBe(false);
      expect(result.error!.issues[0]!.path).toEqual(['dltTemplateId']);
      const badDlt = msg91Sms.settings.safeParse({ ...settings, dltTemplateId: 'ABC123' });
      expect(badDlt.error!.issues[0]!.message).toMatch(/DLT Content Template ID/);
    });

    it('refuses a sender id that is not exactly 6 letters', () => {
      for (const senderId of ['ISPNETW', 'ISP1NT', 'ISP']) {
        const result = msg91Sms.settings.safeParse({ ...settings, senderId });
        expect(result.success).toBe(false);
        expect(result.error!.issues[0]!.message).toMatch(/exactly 6 letters/);
      }
    });

    it('refuses an apiBaseUrl in the settings as an unknown field', () => {
      const result = msg91Sms.settings.safeParse({ ...settings, apiBaseUrl: 'http://127.0.0.1:4010' });
      expect(result.success).toBe(false);
      expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['apiBaseUrl'] }));
    });

    it('requires a webhook secret of at least 16 characters and an Authkey of letters and digits', () => {
      const result = msg91Sms.credentials.safeParse({ authKey: 'bad key!', webhookSecret: 'short' });
      expect(result.success).toBe(false);
      const messages = Object.fromEntries(result.error!.issues.map((i) => [i.path.join('.'), i.message]));
      expect(messages.authKey).toMatch(/Authkey/);
      expect(messages.webhookSecret).toMatch(/16/);
    });
  });
});
