import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { csmsIdFor, sslWirelessSms, type SslWirelessCredentials, type SslWirelessSettings } from '../../../shared/adapters/providers/sms/sslwireless.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { startFakeSslWireless, type FakeSslWireless } from '../../support/fake-sslwireless.js';
import { freePortThatRefuses } from '../../support/net.js';

const API_TOKEN = 'ispnet-1e22baee-51cd-4ad4-bf42-2cef5d0038c1';
const WEBHOOK_SECRET = 'a-webhook-secret-of-32-characters';
const credentials: SslWirelessCredentials = { apiToken: API_TOKEN, webhookSecret: WEBHOOK_SECRET };
const settings: SslWirelessSettings = { sid: 'ISPNETNONBULK' };
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
const VARIABLE = 'ISPNOTIFY_BASE_URL_SSLWIRELESS';
const MESSAGE_ID = '01JNMSG0000000000000000000';
const BANGLA = 'প্রিয় গ্রাহক, আপনার ইন্টারনেট বিল ৫০০ টাকা।';

const sms = (to: string, text = 'Your bill of 500 BDT is due on 5 March.', statusCallbackUrl = ''): OutboundSms => ({ messageId: MESSAGE_ID, to, text, statusCallbackUrl });


describe('SSL Wireless SMS provider', () => {
  let fake: FakeSslWireless;
  const before = process.env[VARIABLE];

  beforeEach(async () => {
    fake = await startFakeSslWireless({ apiToken: API_TOKEN, sid: settings.sid });
    process.env[VARIABLE] = fake.baseUrl;
  });

  afterEach(async () => {
    if (before === undefined) delete process.env[VARIABLE];
    else process.env[VARIABLE] = before;
    await fake.close();
  });

  it('is registered under the id "sslwireless"', () => {
    expect(smsProvider('sslwireless')).toBe(sslWirelessSms);
    expect(sslWirelessSms.channel).toBe('sms');
  });

  describe('sending', () => {
    it('posts the token, SID, MSISDN without "+", text and a csms_id as JSON, and returns the reference_id', async () => {
      const result = await sslWirelessSms.send(sms('+8801711000001'), { credentials, settings }, ctx);

      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/api/v3/send-sms');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.json).toEqual({
        api_token: API_TOKEN,
        sid: 'ISPNETNONBULK',
        msisdn: '8801711000001',
        sms: 'Your bill of 500 BDT is due on 5 March.',
        csms_id: csmsIdFor(MESSAGE_ID),
      });
      const reference = (JSON.parse(request.replyBody) as { smsinfo: { reference_id: string }[] }).smsinfo[0]!.reference_id;
      expect(result.providerMessageId).toBe(reference);
    });

    it('sends Bangla text as it is, with no Unicode flag (the API detects it), and GSM-7 text the same way', async () => {
      await sslWirelessSms.send(sms('+8801711000001', BANGLA), { credentials, settings }, ctx);
      await sslWirelessSms.send(sms('+8801711000001'), { credentials, settings }, ctx);
      expect(fake.requests[0]!.json).toMatchObject({ sms: BANGLA });
      expect(Object.keys(fake.requests[0]!.json!).sort()).toEqual(['api_token', 'csms_id', 'msisdn', 'sid', 'sms']);
      expect(Object.keys(fake.requests[1]!.json!).sort()).toEqual(['api_token', 'csms_id', 'msisdn', 'sid', 'sms']);
      expect(fake.requests[0]!.replyBody).toContain('"sms_type":"BN"');
    });

    it('derives a csms_id of at most 20 characters that is the same for the same message and differs between messages', () => {
      expect(csmsIdFor(MESSAGE_ID)).toHaveLength(20);
      expect(csmsIdFor(MESSAGE_ID)).toBe(csmsIdFor(MESSAGE_ID));
      expect(csmsIdFor('01JNMSG0000000000000000001')).not.toBe(csmsIdFor(MESSAGE_ID));
      expect(csmsIdFor('short1')).toBe('short1');
    });

    it('calls the official host when no override is set', async () => {
      delete process.env[VARIABLE];
      const urls: string[] = [];
      const recording: typeof fetch = async (input) => {
        urls.push(String(input));
        return Response.json({ status: 'SUCCESS', status_code: 200, error_message: '', smsinfo: [{ sms_status: 'SUCCESS', reference_id: 'ref-1' }] });
      };
      const result = await sslWirelessSms.send(sms('+8801711000001'), { credentials, settings }, { ...ctx, fetch: recording });
      expect(urls).toEqual(['https://smsplus.sslwireless.com/api/v3/send-sms']);
      expect(result.providerMessageId).toBe('ref-1');
    });
  });

  describe('errors', () => {
    it('rejects the message when SSL Wireless answers 4022 invalid MSISDN', async () => {
      fake.failFor('8801711000009', 'invalid-msisdn');
      const error = await rejection(sslWirelessSms.send(sms('+8801711000009'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect(error).toMatchObject({ code: '4022' });
      expect(error.message).toMatch(/4022.*invalid.*Invalid MSISDN/);
    });

    it('rejects a number that is not an international number without calling SSL Wireless', async () => {
      const error = await rejection(sslWirelessSms.send(sms('not-a-number'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect(fake.requests).toHaveLength(0);
    });

    it('reports insufficient balance (4017) and a blacklisted IP (4003) as gateway faults', async () => {
      fake.failNext(1, 'insufficient-balance');
      const balance = await rejection(sslWirelessSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(balance).toBeInstanceOf(GatewayFault);
      expect(balance).toMatchObject({ code: '4017' });
      expect(balance.message).toMatch(/balance/i);

      fake.failNext(1, 'ip-blacklisted');
      const ip = await rejection(sslWirelessSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(ip).toBeInstanceOf(GatewayFault);
      expect(ip).toMatchObject({ code: '4003' });
    });

    it('reports a wrong API token as a gateway fault without repeating the token', async () => {
      const error = await rejection(sslWirelessSms.send(sms('+8801711000001'), { credentials: { ...credentials, apiToken: 'wrong-token-0000000000' }, settings }, ctx));
      expect(error).toBeInstanceOf(GatewayFault);
      expect(error).toMatchObject({ code: '4001' });
      expect(error.message).not.toContain('wrong-token');
      expect(error.message).not.toContain(API_TOKEN);
    });

    it('reports a SID not on the account as a gateway fault', async () => {
      const error = await rejection(sslWirelessSms.send(sms('+8801711000001'), { credentials, settings: { sid: 'OTHERSID' } }, ctx));
      expect(error).toBeInstanceOf(GatewayFault);
      expect(error).toMatchObject({ code: '4002' });
    });

    it('asks to retry later on HTTP 429 and on a 5xx', async () => {
      fake.failNext(1, 'throttled');
      expect(await rejection(sslWirelessSms.send(sms('+8801711000001'), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);
      fake.failNext(1, 'server-error');
      expect(await rejection(sslWirelessSms.send(sms('+8801711000001'), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);
    });

    it('asks to retry later when SSL Wireless cannot be reached', async () => {
      process.env[VARIABLE] = `http://127.0.0.1:${await freePortThatRefuses()}`;
      const error = await rejection(sslWirelessSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error).toMatchObject({ code: 'network' });
    });
  });

  describe('webhooks', () => {
    const request = (url: string): WebhookRequest => ({ method: 'POST', url, headers: {}, rawBody: '{}' });

    it('accepts a request carrying the gateway\'s webhook secret as its token and refuses a forged or missing one', () => {
      const gateway = { credentials, settings };
      expect(sslWirelessSms.verifySignature(request(`https://notify.example.net/webhooks/sms/sslwireless/gw?token=${WEBHOOK_SECRET}`), gateway)).toBe(true);
      expect(sslWirelessSms.verifySignature(request('https://notify.example.net/webhooks/sms/sslwireless/gw?token=forged-token-000000000000'), gateway)).toBe(false);
      expect(sslWirelessSms.verifySignature(request('https://notify.example.net/webhooks/sms/sslwireless/gw'), gateway)).toBe(false);
    });

    it('refuses any receipt as invalid input, since SSL Wireless\'s receipt format is not documented', () => {
      let thrown: unknown;
      try {
        sslWirelessSms.parseWebhook(request('https://notify.example.net/webhooks/sms/sslwireless/gw'));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DomainError);
      expect((thrown as DomainError).kind).toBe('Invalid');
    });
  });

  describe('gateway configuration', () => {
    it('accepts good credentials and settings', () => {
      expect(sslWirelessSms.credentials.parse(credentials)).toEqual(credentials);
      expect(sslWirelessSms.settings.parse({ sid: 'STARAUTOPOWERNONBULK' })).toEqual({ sid: 'STARAUTOPOWERNONBULK' });
    });

    it('refuses an apiBaseUrl in the settings or the credentials as an unknown field', () => {
      const s = sslWirelessSms.settings.safeParse({ ...settings, apiBaseUrl: 'http://127.0.0.1:4010' });
      expect(s.success).toBe(false);
      expect(s.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['apiBaseUrl'] }));
      expect(sslWirelessSms.credentials.safeParse({ ...credentials, apiBaseUrl: 'https://x' }).success).toBe(false);
    });

    it('refuses a SID longer than 20 characters or with spaces, a short token and a short webhook secret, saying why', () => {
      const sid = sslWirelessSms.settings.safeParse({ sid: 'A SID WITH SPACES' });
      expect(sid.success).toBe(false);
      expect(sid.error!.issues[0]!.message).toMatch(/SID.*1–20/);
      expect(sslWirelessSms.settings.safeParse({ sid: 'X'.repeat(21) }).success).toBe(false);
      const bad = sslWirelessSms.credentials.safeParse({ apiToken: 'short', webhookSecret: 'short' });
      expect(bad.success).toBe(false);
      const messages = Object.fromEntries(bad.error!.issues.map((i) => [i.path.join('.'), i.message]));
      expect(messages.apiToken).toMatch(/API token/);
      expect(messages.webhookSecret).toMatch(/16/);
    });
  });
});
