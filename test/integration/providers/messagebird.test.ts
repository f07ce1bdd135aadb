import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  messageBirdSms,
  MessageBirdCredentials,
  MessageBirdSettings,
} from '../../../shared/adapters/providers/sms/messagebird.js';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { signMessageBirdJwt, startFakeMessageBird, type FakeMessageBird } from '../../support/fake-messagebird.js';
import { freePortThatRefuses } from '../../support/net.js';

const ACCESS_KEY = 'live_abcdefghijklmnopqrstuvwx';
const SIGNING_KEY = 'sk_0123456789abcdef0123456789abcdef';
const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_MESSAGEBIRD';
const REPORT_URL = 'https://notify.example.net/webhooks/sms/messagebird/01JNGW';
const BANGLA = 'প্রিয় গ্রাহক, আপনার বিল ৫০০ টাকা।';
const MESSAGE_ID = '01JNMSG0000000000000000000';

const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
const credentials: MessageBirdCredentials = { accessKey: ACCESS_KEY, signingKey: SIGNING_KEY };
const settings: MessageBirdSettings = { originator: 'MyISP' };

function sms(to: string, text = 'Your bill of 500 BDT is due on 5 March.', statusCallbackUrl = ''): OutboundSms {
  return { messageId: MESSAGE_ID, to, text, statusCallbackUrl };
}


describe('MessageBird SMS provider', () => {
  let fake: FakeMessageBird;
  const before = process.env[BASE_URL_VARIABLE];

  beforeEach(async () => {
    fake = await startFakeMessageBird({ accessKey: ACCESS_KEY, signingKey: SIGNING_KEY });
    process.env[BASE_URL_VARIABLE] = fake.baseUrl;
  });

  afterEach(async () => {
    if (before === undefined) delete process.env[BASE_URL_VARIABLE];
    else process.env[BASE_URL_VARIABLE] = before;
    await fake.close();
  });

  it('is registered under the id "messagebird"', () => {
    expect(smsProvider('messagebird')).toBe(messageBirdSms);
    expect(messageBirdSms.channel).toBe('sms');
    expect(messageBirdSms.receiptWindowSeconds).toBeGreaterThan(0);
  });

  describe('sending', () => {
    it('posts originator, the MSISDN recipient, body, reference and reportUrl to /messages with the AccessKey header, and returns the id', async () => {
      const result = await messageBirdSms.send(sms('+8801711000001', undefined, REPORT_URL), { credentials, settings }, ctx);

      expect(result.providerMessageId).toMatch(/^[0-9a-f]{32}$/);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/messages');
      expect(request.headers.authorization).toBe(`AccessKey ${ACCESS_KEY}`);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.json).toEqual({
        originator: 'MyISP',
        recipients: ['8801711000001'],
        body: 'Your bill of 500 BDT is due on 5 March.',
        reference: MESSAGE_ID,
        reportUrl: REPORT_URL,
      });
      expect(request.replyStatus).toBe(201);
    });

    it('sets datacoding "unicode" for a Bangla text and leaves it out (plain) for a GSM-7 text, with no reportUrl when none is given', async () => {
      await messageBirdSms.send(sms('+8801711000001', BANGLA), { credentials, settings }, ctx);
      await messageBirdSms.send(sms('+8801711000001'), { credentials, settings }, ctx);
      expect(fake.requests[0]!.json).toMatchObject({ body: BANGLA, datacoding: 'unicode' });
      expect(fake.requests[0]!.json).not.toHaveProperty('reportUrl');
      expect(fake.requests[1]!.json).not.toHaveProperty('datacoding');
    });

    it('turns error 10 on recipients into ProviderRejected with the code and MessageBird\'s words', async () => {
      fake.failFor('8801711000099', 'invalid-recipient');
      const error = await rejection(messageBirdSms.send(sms('+8801711000099'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('10');
      expect(error.message).toContain('no (correct) recipients found');
    });

    it('turns a wrong access key (401, code 2) into a GatewayFault that names the key without repeating it', async () => {
      const wrong = { ...credentials, accessKey: 'live_wrongwrongwrongwrongwr' };
      const error = await rejection(messageBirdSms.send(sms('+8801711000001'), { credentials: wrong, settings }, ctx));
      expect(error).toBeInstanceOf(GatewayFault);
      expect((error as GatewayFault).code).toBe('2');
      expect(error.message).toMatch(/access key/);
      expect(error.message).not.toContain('live_wrongwrong');
    });

    it('turns "not enough balance" (25) and an invalid originator into GatewayFault', async () => {
      fake.failNext(1, 'no-balance');
      const balance = await rejection(messageBirdSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(balance).toBeInstanceOf(GatewayFault);
      expect((balance as GatewayFault).code).toBe('25');
      expect(balance.message).toMatch(/balance/);

      fake.failNext(1, 'invalid-originator');
      const originator = await rejection(messageBirdSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(originator).toBeInstanceOf(GatewayFault);
      expect(originator.message).toMatch(/originator/);
    });

    it('turns 429 and an internal error (99) into ProviderUnavailable, and succeeds once MessageBird recovers', async () => {
      fake.failNext(1, 'rate-limited');
      expect(await rejection(messageBirdSms.send(sms('+8801711000001'), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);
      fake.failNext(1, 'server-error');
      const internal = await rejection(messageBirdSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(internal).toBeInstanceOf(ProviderUnavailable);
      expect((internal as ProviderUnavailable).code).toBe('99');

      const ok = await messageBirdSms.send(sms('+8801711000001'), { credentials, settings }, ctx);
      expect(ok.providerMessageId).toBeTruthy();
      expect(fake.requests.map((r) => r.replyStatus)).toEqual([429, 500, 201]);
    });

    it('turns a refused connection into ProviderUnavailable', async () => {
      process.env[BASE_URL_VARIABLE] = `http://127.0.0.1:${await freePortThatRefuses()}`;
      const error = await rejection(messageBirdSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error.message).toMatch(/Could not reach MessageBird/);
    });

    it("goes to MessageBird's official https host when the deployment sets no override", async () => {
      delete process.env[BASE_URL_VARIABLE];
      const calls: string[] = [];
      const recording: ProviderContext = {
        ...ctx,
        fetch: async (input) => {
          calls.push(String(input));
          return Response.json({ id: 'e8077d803532c0b5937c639b60216938' }, { status: 201 });
        },
      };
      const result = await messageBirdSms.send(sms('+8801711000001'), { credentials, settings }, recording);
      expect(calls).toEqual(['https://rest.messagebird.com/messages']);
      expect(result.providerMessageId).toBe('e8077d803532c0b5937c639b60216938');
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('status reports', () => {
    it('reads delivered and sent from the query parameters', () => {
      expect(messageBirdSms.parseWebhook(fake.statusReport(REPORT_URL, { id: 'mb-1', status: 'delivered', reference: MESSAGE_ID }))).toEqual([
        { providerMessageId: 'mb-1', status: 'delivered', providerStatus: 'delivered' },
      ]);
      expect(messageBirdSms.parseWebhook(fake.statusReport(REPORT_URL, { id: 'mb-2', status: 'sent' }))).toEqual([
        { providerMessageId: 'mb-2', status: 'sent', providerStatus: 'sent' },
      ]);
    });

    it('reads delivery_failed and expired as failed, with the reason and error code', () => {
      const [failed] = messageBirdSms.parseWebhook(
        fake.statusReport(REPORT_URL, { id: 'mb-3', status: 'delivery_failed', statusReason: 'unknown_subscriber', statusErrorCode: '1' }),
      );
      expect(failed).toMatchObject({ providerMessageId: 'mb-3', status: 'failed', providerStatus: 'delivery_failed/1' });
      expect(failed!.reason).toBe('MessageBird: delivery failed (unknown subscriber, error 1)');

      const [expired] = messageBirdSms.parseWebhook(fake.statusReport(REPORT_URL, { id: 'mb-4', status: 'expired' }));
      expect(expired).toMatchObject({ providerMessageId: 'mb-4', status: 'failed', reason: 'MessageBird: expired before delivery' });
    });

    it('reads a report posted as a form too, and drops scheduled and buffered', () => {
      const posted: WebhookRequest = {
        method: 'POST',
        url: REPORT_URL,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        rawBody: 'id=mb-5&status=delivered&recipient=8801711000001',
      };
      expect(messageBirdSms.parseWebhook(posted)).toEqual([{ providerMessageId: 'mb-5', status: 'delivered', providerStatus: 'delivered' }]);
      expect(messageBirdSms.parseWebhook(fake.statusReport(REPORT_URL, { id: 'mb-6', status: 'buffered' }))).toEqual([]);
      expect(messageBirdSms.parseWebhook(fake.statusReport(REPORT_URL, { id: 'mb-7', status: 'scheduled' }))).toEqual([]);
    });

    it('refuses a report without id or status as invalid', () => {
      expect(() => messageBirdSms.parseWebhook({ method: 'GET', url: `${REPORT_URL}?status=delivered`, headers: {}, rawBody: '' })).toThrow(DomainError);
      expect(() => messageBirdSms.parseWebhook({ method: 'GET', url: `${REPORT_URL}?id=mb-1`, headers: {}, rawBody: '' })).toThrow(DomainError);
    });

    it('accepts a report whose Signature-JWT is signed with the signing key and hashes this URL (HS256 and HS512)', () => {
      expect(messageBirdSms.verifySignature(fake.statusReport(REPORT_URL, { id: 'mb-1', status: 'delivered' }), { credentials, settings })).toBe(true);
      expect(messageBirdSms.verifySignature(fake.statusReport(REPORT_URL, { id: 'mb-1', status: 'delivered' }, { alg: 'HS512' }), { credentials, settings })).toBe(true);
    });

    it('checks payload_hash against a posted body and refuses a body the token does not hash', () => {
      const rawBody = 'id=mb-5&status=delivered';
      const payloadHash = createHash('sha256').update(rawBody).digest('hex');
      const signed = fake.statusReport(REPORT_URL, { id: 'mb-5', status: 'delivered' }, { claims: { payload_hash: payloadHash } });
      const posted = { ...signed, method: 'POST', rawBody };
      expect(messageBirdSms.verifySignature(posted, { credentials, settings })).toBe(true);
      expect(messageBirdSms.verifySignature({ ...posted, rawBody: 'id=mb-5&status=delivery_failed' }, { credentials, settings })).toBe(false);
      // A body the JWT has no payload_hash for is not trusted.
      const getReport = fake.statusReport(REPORT_URL, { id: 'mb-5', status: 'delivered' });
      expect(messageBirdSms.verifySignature({ ...getReport, method: 'POST', rawBody }, { credentials, settings })).toBe(false);
    });

    it('refuses a changed query, another signing key, a missing header, an expired token, a foreign issuer, no jti and alg "none"', () => {
      const verify = (request: WebhookRequest) => messageBirdSms.verifySignature(request, { credentials, settings });
      const good = fake.statusReport(REPORT_URL, { id: 'mb-1', status: 'delivery_failed' });

      expect(verify({ ...good, url: good.url.replace('delivery_failed', 'delivered') })).toBe(false);
      expect(verify(fake.statusReport(REPORT_URL, { id: 'mb-1', status: 'delivered' }, { signingKey: 'another-signing-key-0000000000' }))).toBe(false);
      expect(verify({ ...good, headers: {} })).toBe(false);
      const now = Math.floor(Date.now() / 1000);
      expect(verify(fake.statusReport(REPORT_URL, { id: 'mb-1', status: 'delivered' }, { nowSeconds: now - 3600 }))).toBe(false);
      expect(verify(fake.statusReport(REPORT_URL, { id: 'mb-1', status: 'delivered' }, { claims: { iss: 'SomeoneElse' } }))).toBe(false);
      expect(verify(fake.statusReport(REPORT_URL, { id: 'mb-1', status: 'delivered' }, { claims: { jti: undefined } }))).toBe(false);
      expect(verify(fake.statusReport(REPORT_URL, { id: 'mb-1', status: 'delivered' }, { claims: { url_hash: undefined } }))).toBe(false);

      const [, claims] = good.headers['messagebird-signature-jwt']!.split('.');
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${claims}.`;
      expect(verify({ ...good, headers: { 'messagebird-signature-jwt': unsigned } })).toBe(false);
      expect(verify({ ...good, headers: { 'messagebird-signature-jwt': 'not-a-jwt' } })).toBe(false);
      // A token signed by the fake's helper with the right key verifies: the helper is sound.
      expect(signMessageBirdJwt({ iss: 'MessageBird' }, SIGNING_KEY).split('.')).toHaveLength(3);
    });
  });

  describe('gateway settings', () => {
    it('accepts a phone number with country code or an alphanumeric id of up to 11 characters', () => {
      for (const originator of ['+31612345678', '31612345678', 'MyISP', 'ISP Net 24']) {
        expect(MessageBirdSettings.safeParse({ originator }).success).toBe(true);
      }
    });

    it('refuses an alphanumeric id over 11 characters, punctuation, and an empty originator', () => {
      for (const originator of ['TwelveCharsX1', 'My-ISP!', '', '+0123']) {
        expect(MessageBirdSettings.safeParse({ originator }).success).toBe(false);
      }
    });

    it('refuses unknown fields such as apiBaseUrl, and credentials without a signing key', () => {
      expect(MessageBirdSettings.safeParse({ originator: 'MyISP', apiBaseUrl: 'http://127.0.0.1:4010' }).success).toBe(false);
      expect(MessageBirdCredentials.safeParse({ ...credentials, apiBaseUrl: 'http://127.0.0.1:4010' }).success).toBe(false);
      expect(MessageBirdCredentials.safeParse({ accessKey: ACCESS_KEY }).success).toBe(false);
      expect(MessageBirdCredentials.safeParse({ accessKey: ACCESS_KEY, signingKey: 'short' }).success).toBe(false);
    });
  });
});
