import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  africasTalkingSms,
  type AfricasTalkingCredentials,
  type AfricasTalkingSettings,
} from '../../../shared/adapters/providers/sms/africastalking.js';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { startFakeAfricasTalking, type FakeAfricasTalking } from '../../support/fake-africastalking.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { freePortThatRefuses } from '../../support/net.js';

const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_AFRICASTALKING';
const USERNAME = 'ispnet';
const API_KEY = 'atsk_' + 'a1b2c3d4'.repeat(8);
const WEBHOOK_SECRET = 'at-webhook-secret-0123456789';
const credentials: AfricasTalkingCredentials = { username: USERNAME, apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET };
const settings: AfricasTalkingSettings = { from: 'ISPNet' };
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };

const TO = '+254711000001';
const ENGLISH = 'Your bill of 500 KES is due on 5 March.';
const BANGLA = 'প্রিয় গ্রাহক, আপনার ইন্টারনেট বিল ৫০০ টাকা।';

function sms(to: string, text = ENGLISH, statusCallbackUrl = ''): OutboundSms {
  return { messageId: '01JNMSG0000000000000000000', to, text, statusCallbackUrl };
}


describe("Africa's Talking SMS provider", () => {
  let fake: FakeAfricasTalking;
  const before = process.env[BASE_URL_VARIABLE];

  beforeEach(async () => {
    fake = await startFakeAfricasTalking({ username: USERNAME, apiKey: API_KEY });
    process.env[BASE_URL_VARIABLE] = fake.baseUrl;
  });

  afterEach(async () => {
    if (before === undefined) delete process.env[BASE_URL_VARIABLE];
    else process.env[BASE_URL_VARIABLE] = before;
    await fake.close();
  });

  it('is registered under the id "africastalking" as an SMS provider', () => {
    expect(smsProvider('africastalking')).toBe(africasTalkingSms);
    expect(africasTalkingSms.channel).toBe('sms');
    expect(africasTalkingSms.receiptWindowSeconds).toBeGreaterThan(0);
  });

  describe('sending', () => {
    it('posts the form with the apiKey header and returns the ATXid message id', async () => {
      const result = await africasTalkingSms.send(sms(TO), { credentials, settings }, ctx);

      expect(result.providerMessageId).toMatch(/^ATXid_[0-9a-f]{32}$/);
      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/version1/messaging');
      expect(request.headers.apikey).toBe(API_KEY);
      expect(request.headers.accept).toBe('application/json');
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request.form).toEqual({ username: USERNAME, to: TO, message: ENGLISH, from: 'ISPNet' });
      expect(request.replyStatus).toBe(201);
    });

    it('sends a Bangla text as it is and a GSM-7 text as it is, with no unicode flag (Africa\'s Talking encodes itself)', async () => {
      await africasTalkingSms.send(sms(TO, BANGLA), { credentials, settings }, ctx);
      await africasTalkingSms.send(sms(TO, ENGLISH), { credentials, settings }, ctx);

      expect(fake.requests[0]!.form.message).toBe(BANGLA);
      expect(fake.requests[1]!.form.message).toBe(ENGLISH);
      for (const request of fake.requests) expect(Object.keys(request.form).sort()).toEqual(['from', 'message', 'to', 'username']);
    });

    it('leaves out "from" when the gateway has no sender id, and never sends the status callback URL', async () => {
      await africasTalkingSms.send(sms(TO, ENGLISH, 'https://notify.example.net/webhooks/sms/africastalking/gw'), { credentials, settings: {} }, ctx);
      expect(fake.requests[0]!.form).toEqual({ username: USERNAME, to: TO, message: ENGLISH });
    });

    it('goes to the official host https://api.africastalking.com when no override is set', async () => {
      delete process.env[BASE_URL_VARIABLE];
      const calls: { url: string; headers: Headers }[] = [];
      const recording: ProviderContext = {
        ...ctx,
        fetch: async (input, init) => {
          calls.push({ url: String(input), headers: new Headers(init?.headers) });
          return Response.json(
            { SMSMessageData: { Message: 'Sent to 1/1', Recipients: [{ statusCode: 101, number: TO, status: 'Success', messageId: 'ATXid_1' }] } },
            { status: 201 },
          );
        },
      };
      const result = await africasTalkingSms.send(sms(TO), { credentials, settings }, recording);
      expect(result.providerMessageId).toBe('ATXid_1');
      expect(calls.map((c) => c.url)).toEqual(['https://api.africastalking.com/version1/messaging']);
      expect(calls[0]!.headers.get('apikey')).toBe(API_KEY);
    });

    it('turns InvalidPhoneNumber (403) into ProviderRejected naming the code', async () => {
      fake.recipientStatus('+254700000403', 'InvalidPhoneNumber');
      const error = await rejection(africasTalkingSms.send(sms('+254700000403'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('403');
      expect(error.message).toMatch(/403 InvalidPhoneNumber/);
    });

    it('turns UserInBlacklist and DoNotDisturbRejection into ProviderRejected', async () => {
      fake.recipientStatus('+254700000406', 'UserInBlacklist');
      fake.recipientStatus('+254700000409', 'DoNotDisturbRejection');
      for (const [to, code] of [['+254700000406', '406'], ['+254700000409', '409']] as const) {
        const error = await rejection(africasTalkingSms.send(sms(to), { credentials, settings }, ctx));
        expect(error).toBeInstanceOf(ProviderRejected);
        expect((error as ProviderRejected).code).toBe(code);
      }
    });

    it('turns InsufficientBalance into a GatewayFault, per recipient or for the whole request', async () => {
      fake.recipientStatus('+254700000405', 'InsufficientBalance');
      const perRecipient = await rejection(africasTalkingSms.send(sms('+254700000405'), { credentials, settings }, ctx));
      expect(perRecipient).toBeInstanceOf(GatewayFault);
      expect((perRecipient as GatewayFault).code).toBe('405');
      expect(perRecipient.message).toMatch(/top it up/);

      fake.statusNext(1, 'InsufficientBalance');
      const wholeRequest = await rejection(africasTalkingSms.send(sms(TO), { credentials, settings }, ctx));
      expect(wholeRequest).toBeInstanceOf(GatewayFault);
      expect((wholeRequest as GatewayFault).code).toBe('405');
    });

    it('turns InvalidSenderId and RiskHold into a GatewayFault', async () => {
      for (const [status, code] of [['InvalidSenderId', '402'], ['RiskHold', '401']] as const) {
        fake.statusNext(1, status);
        const error = await rejection(africasTalkingSms.send(sms(TO), { credentials, settings }, ctx));
        expect(error).toBeInstanceOf(GatewayFault);
        expect((error as GatewayFault).code).toBe(code);
      }
    });

    it('turns a wrong API key into a GatewayFault that points at the credentials without repeating them', async () => {
      const wrong = { ...credentials, apiKey: 'not-the-right-key-0000000000000000000' };
      const error = await rejection(africasTalkingSms.send(sms(TO), { credentials: wrong, settings }, ctx));
      expect(error).toBeInstanceOf(GatewayFault);
      expect((error as GatewayFault).code).toBe('401');
      expect(error.message).toMatch(/username and API key/);
      expect(error.message).not.toContain(wrong.apiKey);
    });

    it('turns InternalServerError / GatewayError statuses, HTTP 429 and HTTP 503 into ProviderUnavailable', async () => {
      for (const status of ['InternalServerError', 'GatewayError'] as const) {
        fake.statusNext(1, status);
        expect(await rejection(africasTalkingSms.send(sms(TO), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);
      }
      fake.failNext(1, 429);
      const throttled = await rejection(africasTalkingSms.send(sms(TO), { credentials, settings }, ctx));
      expect(throttled).toBeInstanceOf(ProviderUnavailable);
      expect((throttled as ProviderUnavailable).code).toBe('429');

      fake.failNext(1, 503);
      expect(await rejection(africasTalkingSms.send(sms(TO), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);

      const retry = await africasTalkingSms.send(sms(TO), { credentials, settings }, ctx);
      expect(retry.providerMessageId).toMatch(/^ATXid_/);
    });

    it('turns a refused connection into ProviderUnavailable', async () => {
      process.env[BASE_URL_VARIABLE] = `http://127.0.0.1:${await freePortThatRefuses()}`;
      const error = await rejection(africasTalkingSms.send(sms(TO), { credentials, settings }, ctx));
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

    const callbackUrl = () => `${webhook.url}/webhooks/sms/africastalking/01JNGW00000000000000000000?token=${WEBHOOK_SECRET}`;

    it('parses a Success report as delivered, and its token verifies', async () => {
      const { providerMessageId } = await africasTalkingSms.send(sms(TO), { credentials, settings }, ctx);
      await fake.postDeliveryReport(callbackUrl(), { id: providerMessageId, status: 'Success', phoneNumber: TO });

      const request = webhook.received[0]!;
      expect(africasTalkingSms.verifySignature(request, { credentials, settings })).toBe(true);
      expect(africasTalkingSms.parseWebhook(request)).toEqual([{ providerMessageId, status: 'delivered', providerStatus: 'Success' }]);
    });

    it('parses Failed and Rejected reports as failed with the reason in words', async () => {
      await fake.postDeliveryReport(callbackUrl(), { id: 'ATXid_f', status: 'Failed', phoneNumber: TO, failureReason: 'AbsentSubscriber' });
      await fake.postDeliveryReport(callbackUrl(), { id: 'ATXid_r', status: 'Rejected', phoneNumber: TO, failureReason: 'UserInBlackList' });

      expect(webhook.received.flatMap((r) => africasTalkingSms.parseWebhook(r))).toEqual([
        { providerMessageId: 'ATXid_f', status: 'failed', providerStatus: 'Failed/AbsentSubscriber', reason: "Africa's Talking reported AbsentSubscriber" },
        { providerMessageId: 'ATXid_r', status: 'failed', providerStatus: 'Rejected/UserInBlackList', reason: 'The subscriber has blocked messages from this sender' },
      ]);
    });

    it('maps Sent, Submitted and Buffered to sent and drops statuses it does not know', async () => {
      for (const status of ['Sent', 'Submitted', 'Buffered', 'Queued']) {
        await fake.postDeliveryReport(callbackUrl(), { id: 'ATXid_s', status, phoneNumber: TO });
      }
      expect(webhook.received.flatMap((r) => africasTalkingSms.parseWebhook(r)).map((u) => u.providerStatus)).toEqual(['Sent', 'Submitted', 'Buffered']);
      expect(new Set(webhook.received.flatMap((r) => africasTalkingSms.parseWebhook(r)).map((u) => u.status))).toEqual(new Set(['sent']));
    });

    it('refuses a report whose token is missing, wrong or of another length', async () => {
      await fake.postDeliveryReport(callbackUrl(), { id: 'ATXid_x', status: 'Success', phoneNumber: TO });
      const good = webhook.received[0]!;
      for (const url of [good.url.replace(/\?token=.*/, ''), good.url.replace(WEBHOOK_SECRET, 'at-webhook-secret-0123456780'), `${good.url}x`]) {
        expect(africasTalkingSms.verifySignature({ ...good, url }, { credentials, settings })).toBe(false);
      }
    });

    it('refuses a report without an id or a status as invalid input', () => {
      const request = (body: string): WebhookRequest => ({ method: 'POST', url: 'https://n.example/w', headers: {}, rawBody: body });
      for (const [body, field] of [['status=Success', 'id'], ['id=ATXid_1', 'status']] as const) {
        let thrown: unknown;
        try {
          africasTalkingSms.parseWebhook(request(body));
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(DomainError);
        expect((thrown as DomainError).kind).toBe('Invalid');
        expect((thrown as DomainError).fields[0]!.field).toBe(field);
      }
    });
  });

  describe('gateway configuration', () => {
    it('accepts good credentials and settings as they are', () => {
      expect(africasTalkingSms.credentials.parse(credentials)).toEqual(credentials);
      for (const from of ['ISPNet', '20880', '+27821234567']) expect(africasTalkingSms.settings.parse({ from })).toEqual({ from });
      expect(africasTalkingSms.settings.parse({})).toEqual({});
    });

    it('refuses an apiBaseUrl in the settings as an unknown field', () => {
      const result = africasTalkingSms.settings.safeParse({ from: 'ISPNet', apiBaseUrl: 'http://127.0.0.1:4010' });
      expect(result.success).toBe(false);
      expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['apiBaseUrl'] }));
    });

    it('refuses a sender id longer than 11 characters or with symbols', () => {
      for (const from of ['Far Too Long Sender', 'ISP-Net!']) {
        const result = africasTalkingSms.settings.safeParse({ from });
        expect(result.success).toBe(false);
        expect(result.error!.issues[0]!.message).toMatch(/alphanumeric sender id.*short code/);
      }
    });

    it('explains bad credentials and requires a webhook secret of at least 16 characters', () => {
      const result = africasTalkingSms.credentials.safeParse({ username: 'a b', apiKey: 'short', webhookSecret: 'short' });
      expect(result.success).toBe(false);
      const messages = Object.fromEntries(result.error!.issues.map((i) => [i.path.join('.'), i.message]));
      expect(messages.username).toMatch(/username/);
      expect(messages.apiKey).toMatch(/API key/);
      expect(messages.webhookSecret).toMatch(/16/);
      expect(africasTalkingSms.credentials.safeParse({ ...credentials, extra: 1 }).success).toBe(false);
    });
  });
});
