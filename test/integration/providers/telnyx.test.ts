import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { telnyxSms, TelnyxCredentials, TelnyxSettings } from '../../../shared/adapters/providers/sms/telnyx.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { startFakeTelnyx, type FakeTelnyx } from '../../support/fake-telnyx.js';
import { freePortThatRefuses } from '../../support/net.js';

const API_KEY = 'KEY0186D5D4E1F5BD0E9F9BE0C2B7F2E4E6_AbCdEfGhIjKlMnOp';
const PROFILE_ID = '16fd2706-8baf-433b-82eb-8c7fada847da';
const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_TELNYX';
const WEBHOOK_URL = 'https://notify.example.net/webhooks/sms/telnyx/01JNGW';
const BANGLA = 'প্রিয় গ্রাহক, আপনার বিল ৫০০ টাকা।';

const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
const credentials: TelnyxCredentials = { apiKey: API_KEY };

function sms(to: string, text = 'Your bill of 500 BDT is due on 5 March.', statusCallbackUrl = ''): OutboundSms {
  return { messageId: '01JNMSG0000000000000000000', to, text, statusCallbackUrl };
}


/** A message.finalized (or message.sent) event as Telnyx posts it. */
function event(eventType: string, id: string, status: string, errors: Array<{ code: string; title: string; detail?: string }> = []) {
  return {
    data: {
      event_type: eventType,
      id: 'b301ed3f-1490-491f-995f-6e64e69674d4',
      occurred_at: '2025-03-01T10:00:05.000+00:00',
      payload: {
        id,
        record_type: 'message',
        direction: 'outbound',
        type: 'SMS',
        from: { phone_number: '+13125550100' },
        to: [{ phone_number: '+8801711000001', status }],
        text: 'Your bill',
        errors,
      },
      record_type: 'event',
    },
    meta: { attempt: 1, delivered_to: WEBHOOK_URL },
  };
}

describe('Telnyx SMS provider', () => {
  let fake: FakeTelnyx;
  let settings: TelnyxSettings;
  const before = process.env[BASE_URL_VARIABLE];

  beforeEach(async () => {
    fake = await startFakeTelnyx({ apiKey: API_KEY });
    process.env[BASE_URL_VARIABLE] = fake.baseUrl;
    settings = { from: '+13125550100', publicKey: fake.publicKey };
  });

  afterEach(async () => {
    if (before === undefined) delete process.env[BASE_URL_VARIABLE];
    else process.env[BASE_URL_VARIABLE] = before;
    await fake.close();
  });

  it('is registered under the id "telnyx"', () => {
    expect(smsProvider('telnyx')).toBe(telnyxSms);
    expect(telnyxSms.channel).toBe('sms');
    expect(telnyxSms.receiptWindowSeconds).toBeGreaterThan(0);
  });

  describe('sending', () => {
    it('posts JSON from, to, text and webhook_url to /v2/messages with the Bearer key and returns the message id', async () => {
      const result = await telnyxSms.send(sms('+8801711000001', undefined, WEBHOOK_URL), { credentials, settings }, ctx);

      expect(result.providerMessageId).toMatch(/^[0-9a-f-]{36}$/);
      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/v2/messages');
      expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.json).toEqual({ from: '+13125550100', to: '+8801711000001', text: 'Your bill of 500 BDT is due on 5 March.', webhook_url: WEBHOOK_URL });
      expect(request.replyStatus).toBe(200);
    });

    it('omits webhook_url when the message has no callback URL and sends messaging_profile_id when set', async () => {
      await telnyxSms.send(sms('+8801711000001'), { credentials, settings: { ...settings, messagingProfileId: PROFILE_ID } }, ctx);
      expect(fake.requests[0]!.json).toEqual({ from: '+13125550100', to: '+8801711000001', text: 'Your bill of 500 BDT is due on 5 March.', messaging_profile_id: PROFILE_ID });
    });

    it('sends a Bangla text as it is, with no encoding flag (Telnyx picks UCS-2 itself), like a GSM-7 text', async () => {
      await telnyxSms.send(sms('+8801711000001', BANGLA), { credentials, settings }, ctx);
      await telnyxSms.send(sms('+8801711000001'), { credentials, settings }, ctx);
      expect(fake.requests[0]!.json).toEqual({ from: '+13125550100', to: '+8801711000001', text: BANGLA });
      expect(Object.keys(fake.requests[1]!.json!).sort()).toEqual(['from', 'text', 'to']);
    });

    it("turns Telnyx's 40310 invalid 'to' address into ProviderRejected quoting Telnyx's words", async () => {
      fake.failFor('+8801711000099', 'invalid-to');
      const error = await rejection(telnyxSms.send(sms('+8801711000099'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('40310');
      expect(error.message).toContain("Invalid 'to' address");
    });

    it('turns 40300 (the recipient replied STOP) into ProviderRejected', async () => {
      fake.failFor('+8801711000098', 'blocked-stop');
      const error = await rejection(telnyxSms.send(sms('+8801711000098'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('40300');
    });

    it('turns a wrong API key (401, 10009) into a GatewayFault that points at the key without repeating it', async () => {
      const wrong = { apiKey: 'KEY_not_the_right_one_000000000' };
      const error = await rejection(telnyxSms.send(sms('+8801711000001'), { credentials: wrong, settings }, ctx));
      expect(error).toBeInstanceOf(GatewayFault);
      expect((error as GatewayFault).code).toBe('10009');
      expect(error.message).toMatch(/API key/);
      expect(error.message).not.toContain('KEY_not_the_right_one');
    });

    it('turns a disabled account (40314) and an unknown sender (40305) into GatewayFault', async () => {
      fake.failNext(1, 'account-disabled');
      const disabled = await rejection(telnyxSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(disabled).toBeInstanceOf(GatewayFault);
      expect((disabled as GatewayFault).code).toBe('40314');

      fake.failNext(1, 'invalid-from');
      const sender = await rejection(telnyxSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(sender).toBeInstanceOf(GatewayFault);
      expect((sender as GatewayFault).code).toBe('40305');
    });

    it('turns 429 (10011) and a 500 into ProviderUnavailable, and succeeds once Telnyx recovers', async () => {
      fake.failNext(1, 'rate-limited');
      const limited = await rejection(telnyxSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(limited).toBeInstanceOf(ProviderUnavailable);
      expect((limited as ProviderUnavailable).code).toBe('10011');

      fake.failNext(1, 'server-error');
      expect(await rejection(telnyxSms.send(sms('+8801711000001'), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);

      const ok = await telnyxSms.send(sms('+8801711000001'), { credentials, settings }, ctx);
      expect(ok.providerMessageId).toBeTruthy();
      expect(fake.requests.map((r) => r.replyStatus)).toEqual([429, 500, 200]);
    });

    it('turns a refused connection into ProviderUnavailable', async () => {
      process.env[BASE_URL_VARIABLE] = `http://127.0.0.1:${await freePortThatRefuses()}`;
      const error = await rejection(telnyxSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error.message).toMatch(/Could not reach Telnyx/);
    });

    it("goes to Telnyx's official https host when the deployment sets no override", async () => {
      delete process.env[BASE_URL_VARIABLE];
      const calls: string[] = [];
      const recording: ProviderContext = {
        ...ctx,
        fetch: async (input) => {
          calls.push(String(input));
          return Response.json({ data: { id: '40385f64-5717-4562-b3fc-2c963f66afa6' } });
        },
      };
      const result = await telnyxSms.send(sms('+8801711000001'), { credentials, settings }, recording);
      expect(calls).toEqual(['https://api.telnyx.com/v2/messages']);
      expect(result.providerMessageId).toBe('40385f64-5717-4562-b3fc-2c963f66afa6');
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('delivery receipts', () => {
    it('reads message.finalized delivered as delivered', () => {
      const updates = telnyxSms.parseWebhook(fake.webhook(WEBHOOK_URL, event('message.finalized', 'msg-1', 'delivered')));
      expect(updates).toEqual([{ providerMessageId: 'msg-1', status: 'delivered', providerStatus: 'delivered' }]);
    });

    it('reads delivery_failed and sending_failed as failed, with the reason in words and the code', () => {
      const [failed] = telnyxSms.parseWebhook(
        fake.webhook(WEBHOOK_URL, event('message.finalized', 'msg-2', 'delivery_failed', [{ code: '40008', title: 'Undeliverable' }])),
      );
      expect(failed).toMatchObject({ providerMessageId: 'msg-2', status: 'failed', providerStatus: 'delivery_failed/40008' });
      expect(failed!.reason).toMatch(/Undeliverable/);

      const [sending] = telnyxSms.parseWebhook(fake.webhook(WEBHOOK_URL, event('message.finalized', 'msg-3', 'sending_failed')));
      expect(sending).toMatchObject({ providerMessageId: 'msg-3', status: 'failed', providerStatus: 'sending_failed' });
      expect(sending!.reason).toMatch(/sending failed/);
    });

    it('reads message.sent as sent and drops statuses and events it does not record', () => {
      expect(telnyxSms.parseWebhook(fake.webhook(WEBHOOK_URL, event('message.sent', 'msg-4', 'sent')))).toEqual([
        { providerMessageId: 'msg-4', status: 'sent', providerStatus: 'sent' },
      ]);
      expect(telnyxSms.parseWebhook(fake.webhook(WEBHOOK_URL, event('message.finalized', 'msg-5', 'delivery_unconfirmed')))).toEqual([]);
      expect(telnyxSms.parseWebhook(fake.webhook(WEBHOOK_URL, event('message.received', 'msg-6', 'webhook_delivered')))).toEqual([]);
    });

    it('refuses a webhook that is not JSON or has no message id as invalid', () => {
      for (const rawBody of ['not json', '{"data":{"event_type":"message.finalized","payload":{}}}']) {
        expect(() => telnyxSms.parseWebhook({ method: 'POST', url: WEBHOOK_URL, headers: {}, rawBody })).toThrow(DomainError);
      }
    });

    it('accepts a webhook signed with the account key within five minutes', () => {
      const request = fake.webhook(WEBHOOK_URL, event('message.finalized', 'msg-1', 'delivered'));
      expect(telnyxSms.verifySignature(request, { credentials, settings })).toBe(true);
    });

    it('refuses a forged body, a forged or missing signature, another key and a replay older than five minutes', async () => {
      const request = fake.webhook(WEBHOOK_URL, event('message.finalized', 'msg-1', 'delivered'));
      const verify = (r: typeof request, s = settings) => telnyxSms.verifySignature(r, { credentials, settings: s });

      expect(verify({ ...request, rawBody: request.rawBody.replace('delivered', 'failed') })).toBe(false);
      expect(verify({ ...request, headers: { ...request.headers, 'telnyx-signature-ed25519': Buffer.alloc(64, 1).toString('base64') } })).toBe(false);
      const { 'telnyx-signature-ed25519': _dropped, ...unsigned } = request.headers;
      expect(verify({ ...request, headers: unsigned })).toBe(false);
      expect(verify({ ...request, headers: { ...request.headers, 'telnyx-timestamp': String(Number(request.headers['telnyx-timestamp']) + 1) } })).toBe(false);

      const other = await startFakeTelnyx({ apiKey: API_KEY });
      try {
        expect(verify(request, { ...settings, publicKey: other.publicKey })).toBe(false);
      } finally {
        await other.close();
      }

      const old = fake.webhook(WEBHOOK_URL, event('message.finalized', 'msg-1', 'delivered'), Math.floor(Date.now() / 1000) - 301);
      expect(verify(old)).toBe(false);
      const recent = fake.webhook(WEBHOOK_URL, event('message.finalized', 'msg-1', 'delivered'), Math.floor(Date.now() / 1000) - 240);
      expect(verify(recent)).toBe(true);
    });
  });

  describe('gateway settings', () => {
    it('accepts an E.164 number, a short code, or an alphanumeric id with a messaging profile', () => {
      expect(TelnyxSettings.safeParse({ from: '+13125550100', publicKey: fake.publicKey }).success).toBe(true);
      expect(TelnyxSettings.safeParse({ from: '55555', publicKey: fake.publicKey }).success).toBe(true);
      expect(TelnyxSettings.safeParse({ from: 'MyISP', messagingProfileId: PROFILE_ID, publicKey: fake.publicKey }).success).toBe(true);
    });

    it('refuses an alphanumeric id without a messaging profile, a sender over 11 characters, and a bad public key', () => {
      const noProfile = TelnyxSettings.safeParse({ from: 'MyISP', publicKey: fake.publicKey });
      expect(noProfile.success).toBe(false);
      expect(JSON.stringify(noProfile.error?.issues)).toMatch(/messagingProfileId/);
      expect(TelnyxSettings.safeParse({ from: 'TwelveCharsX1', messagingProfileId: PROFILE_ID, publicKey: fake.publicKey }).success).toBe(false);
      expect(TelnyxSettings.safeParse({ from: '+13125550100', publicKey: 'c2hvcnQ=' }).success).toBe(false);
      expect(TelnyxSettings.safeParse({ from: '+13125550100' }).success).toBe(false);
    });

    it('refuses unknown fields such as apiBaseUrl, in settings and credentials', () => {
      expect(TelnyxSettings.safeParse({ ...settings, apiBaseUrl: 'http://127.0.0.1:4010' }).success).toBe(false);
      expect(TelnyxCredentials.safeParse({ apiKey: API_KEY, apiBaseUrl: 'http://127.0.0.1:4010' }).success).toBe(false);
      expect(TelnyxCredentials.safeParse({ apiKey: 'short' }).success).toBe(false);
    });
  });
});
