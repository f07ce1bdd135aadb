import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { vonageSignature, vonageSms, type VonageCredentials, type VonageSettings } from '../../../shared/adapters/providers/sms/vonage.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { startFakeVonage, type FakeVonage } from '../../support/fake-vonage.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { freePortThatRefuses } from '../../support/net.js';

const API_KEY = 'a1b2c3d4';
const API_SECRET = 'S3cr3tS3cr3tS3cr';
const SIGNATURE_SECRET = 'sig-secret-0123456789abcdef';
const WEBHOOK_SECRET = 'token-0123456789abcdef';
const signed: VonageCredentials = { apiKey: API_KEY, apiSecret: API_SECRET, signatureSecret: SIGNATURE_SECRET };
const tokenOnly: VonageCredentials = { apiKey: API_KEY, apiSecret: API_SECRET, webhookSecret: WEBHOOK_SECRET };
const settings: VonageSettings = { from: 'ISPNet', signatureMethod: 'sha256' };

const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_VONAGE';
const GSM_TEXT = 'Your bill of 500 BDT is due on 5 March.';
const BANGLA_TEXT = 'প্রিয় গ্রাহক, আপনার ইন্টারনেট বিল ৫০০ টাকা।';

function sms(to: string, text = GSM_TEXT, statusCallbackUrl = ''): OutboundSms {
  return { messageId: '01JNMSG0000000000000000000', to, text, statusCallbackUrl };
}


describe('Vonage SMS provider', () => {
  let fake: FakeVonage;
  const before = process.env[BASE_URL_VARIABLE];

  beforeEach(async () => {
    fake = await startFakeVonage({ apiKey: API_KEY, apiSecret: API_SECRET, signatureSecret: SIGNATURE_SECRET, signatureMethod: 'sha256' });
    process.env[BASE_URL_VARIABLE] = fake.baseUrl;
  });

  afterEach(async () => {
    if (before === undefined) delete process.env[BASE_URL_VARIABLE];
    else process.env[BASE_URL_VARIABLE] = before;
    await fake.close();
  });

  it('is registered under the id "vonage"', () => {
    expect(smsProvider('vonage')).toBe(vonageSms);
    expect(vonageSms.channel).toBe('sms');
  });

  describe('sending', () => {
    it('posts the form with api_key, api_secret, sender, digits-only number, client-ref and callback, and returns the message-id', async () => {
      const callback = 'https://notify.example.net/webhooks/sms/vonage/01JNGW';
      const result = await vonageSms.send(sms('+8801711000001', GSM_TEXT, callback), { credentials: signed, settings }, ctx);

      expect(result.providerMessageId).toMatch(/^[0-9A-F]{16}$/);
      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/sms/json');
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request.form).toEqual({
        api_key: API_KEY,
        api_secret: API_SECRET,
        from: 'ISPNet',
        to: '8801711000001',
        text: GSM_TEXT,
        'client-ref': '01JNMSG0000000000000000000',
        callback,
      });
      expect(request.vonageStatus).toBe('0');
    });

    it('sets type=unicode for a Bangla text and leaves it out for GSM-7', async () => {
      await vonageSms.send(sms('+8801711000001', BANGLA_TEXT), { credentials: signed, settings }, ctx);
      await vonageSms.send(sms('+8801711000001', GSM_TEXT), { credentials: signed, settings }, ctx);

      expect(fake.requests[0]!.form.type).toBe('unicode');
      expect(fake.requests[0]!.form.text).toBe(BANGLA_TEXT);
      expect(fake.requests[1]!.form).not.toHaveProperty('type');
      expect(fake.requests[1]!.form).not.toHaveProperty('callback');
    });

    it('sends an E.164 sender without its plus sign', async () => {
      await vonageSms.send(sms('+8801711000001'), { credentials: signed, settings: { from: '+14155550100' } }, ctx);
      expect(fake.requests[0]!.form.from).toBe('14155550100');
    });

    it('calls the official host when no override is set', async () => {
      delete process.env[BASE_URL_VARIABLE];
      const calls: string[] = [];
      const recording: ProviderContext = {
        ...ctx,
        fetch: async (input) => {
          calls.push(String(input));
          return Response.json({ 'message-count': '1', messages: [{ to: '8801711000001', 'message-id': '0A0000001234567B', status: '0' }] });
        },
      };
      const result = await vonageSms.send(sms('+8801711000001'), { credentials: signed, settings }, recording);
      expect(calls).toEqual(['https://rest.nexmo.com/sms/json']);
      expect(result.providerMessageId).toBe('0A0000001234567B');
    });
  });

  describe('send errors', () => {
    it('rejects the message for a barred or invalid number (status 7, 6, 3)', async () => {
      fake.failFor('8801711000007', '7', 'Number barred.');
      const barred = await rejection(vonageSms.send(sms('+8801711000007'), { credentials: signed, settings }, ctx));
      expect(barred).toBeInstanceOf(ProviderRejected);
      expect((barred as ProviderRejected).code).toBe('7');
      expect(barred.message).toMatch(/Number barred/);

      const tooShort = await rejection(vonageSms.send(sms('+12345'), { credentials: signed, settings }, ctx));
      expect(tooShort).toBeInstanceOf(ProviderRejected);
      expect((tooShort as ProviderRejected).code).toBe('3');
    });

    it('reports a gateway fault for bad credentials, no credit, a suspended account and demo mode', async () => {
      const wrong = await rejection(vonageSms.send(sms('+8801711000001'), { credentials: { ...signed, apiSecret: 'not-the-secret' }, settings }, ctx));
      expect(wrong).toBeInstanceOf(GatewayFault);
      expect((wrong as GatewayFault).code).toBe('4');
      expect(wrong.message).toMatch(/API key and secret/);
      expect(wrong.message).not.toContain('not-the-secret');

      for (const [status, text, words] of [
        ['9', 'Quota Exceeded - rejected', /top up/],
        ['8', 'Account barred', /suspended/],
        ['29', 'Non White-listed Destination - rejected', /demo mode/],
        ['15', 'Illegal Sender Address - rejected', /sender/],
      ] as const) {
        fake.statusNext(1, status, text);
        const error = await rejection(vonageSms.send(sms('+8801711000001'), { credentials: signed, settings }, ctx));
        expect(error).toBeInstanceOf(GatewayFault);
        expect((error as GatewayFault).code).toBe(status);
        expect(error.message).toMatch(words);
      }
    });

    it('asks for a retry when Vonage throttles (status 1), fails internally (5), answers 429 or 5xx', async () => {
      fake.statusNext(1, '1');
      const throttled = await rejection(vonageSms.send(sms('+8801711000001'), { credentials: signed, settings }, ctx));
      expect(throttled).toBeInstanceOf(ProviderUnavailable);
      expect((throttled as ProviderUnavailable).code).toBe('1');

      fake.statusNext(1, '5', 'Internal Error');
      expect(await rejection(vonageSms.send(sms('+8801711000001'), { credentials: signed, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);

      for (const status of [429, 500, 503]) {
        fake.httpNext(1, status);
        const error = await rejection(vonageSms.send(sms('+8801711000001'), { credentials: signed, settings }, ctx));
        expect(error).toBeInstanceOf(ProviderUnavailable);
        expect(error.message).not.toContain('<');
      }
    });

    it('asks for a retry when Vonage cannot be reached', async () => {
      process.env[BASE_URL_VARIABLE] = `http://127.0.0.1:${await freePortThatRefuses()}`;
      const error = await rejection(vonageSms.send(sms('+8801711000001'), { credentials: signed, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('network');
    });
  });

  describe('delivery receipts', () => {
    let webhook: WebhookReceiver;

    beforeEach(async () => {
      webhook = await startWebhookReceiver();
    });

    afterEach(async () => {
      await webhook.close();
    });

    async function receiptFor(to: string): Promise<{ providerMessageId: string; receipt: WebhookRequest }> {
      const { providerMessageId } = await vonageSms.send(sms(to, GSM_TEXT, `${webhook.url}/webhooks/sms/vonage/gw`), { credentials: signed, settings }, ctx);
      await fake.settled();
      expect(webhook.received).toHaveLength(1);
      return { providerMessageId, receipt: webhook.received[0]! };
    }

    it('verifies a signed receipt and parses delivered', async () => {
      const { providerMessageId, receipt } = await receiptFor('+8801711000001');
      expect(vonageSms.verifySignature(receipt, { credentials: signed, settings })).toBe(true);
      expect(vonageSms.parseWebhook(receipt)).toEqual([{ providerMessageId, status: 'delivered', providerStatus: 'delivered' }]);
    });

    it('parses a failed receipt with the err-code in words', async () => {
      const { providerMessageId, receipt } = await receiptFor('+8801711000003');
      expect(vonageSms.verifySignature(receipt, { credentials: signed, settings })).toBe(true);
      expect(vonageSms.parseWebhook(receipt)).toEqual([
        { providerMessageId, status: 'failed', providerStatus: 'failed/3', reason: 'Absent subscriber (permanent)' },
      ]);
    });

    it('refuses a tampered, unsigned, or otherwise signed receipt', async () => {
      const { receipt } = await receiptFor('+8801711000003');
      const tampered = { ...receipt, rawBody: receipt.rawBody.replace('"status":"failed"', '"status":"delivered"') };
      expect(tampered.rawBody).not.toBe(receipt.rawBody);
      expect(vonageSms.verifySignature(tampered, { credentials: signed, settings })).toBe(false);

      const body = JSON.parse(receipt.rawBody) as Record<string, string>;
      const { sig: _sig, ...unsignedBody } = body;
      expect(vonageSms.verifySignature({ ...receipt, rawBody: JSON.stringify(unsignedBody) }, { credentials: signed, settings })).toBe(false);

      expect(vonageSms.verifySignature(receipt, { credentials: { ...signed, signatureSecret: 'another-secret-0123456789' }, settings })).toBe(false);
      expect(vonageSms.verifySignature(receipt, { credentials: signed, settings: { ...settings, signatureMethod: 'sha512' } })).toBe(false);
    });

    it('checks the md5hash method on a GET receipt, whose parameters are in the query string', () => {
      const params = { messageId: '0A0000001234567B', status: 'delivered', 'err-code': '0', msisdn: '8801711000001', timestamp: '1740823200', nonce: 'a=b&c' };
      const sig = vonageSignature(params, SIGNATURE_SECRET, 'md5hash');
      const url = `https://notify.example.net/webhooks/sms/vonage/gw?${new URLSearchParams({ ...params, sig })}`;
      const request: WebhookRequest = { method: 'GET', url, headers: {}, rawBody: '' };
      expect(vonageSms.verifySignature(request, { credentials: signed, settings: { from: 'ISPNet' } })).toBe(true);
      expect(vonageSms.verifySignature({ ...request, url: url.replace('delivered', 'expired') }, { credentials: signed, settings: { from: 'ISPNet' } })).toBe(false);
      expect(vonageSms.parseWebhook(request)).toEqual([{ providerMessageId: '0A0000001234567B', status: 'delivered', providerStatus: 'delivered' }]);
    });

    it('without a signature secret, accepts only the webhook URL token', () => {
      const body = new URLSearchParams({ messageId: '0A0000001234567B', status: 'delivered', 'err-code': '0' }).toString();
      const request = (url: string): WebhookRequest => ({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: body });
      const base = 'https://notify.example.net/webhooks/sms/vonage/gw';
      expect(vonageSms.verifySignature(request(`${base}?token=${WEBHOOK_SECRET}`), { credentials: tokenOnly, settings })).toBe(true);
      expect(vonageSms.verifySignature(request(`${base}?token=forged-token-0123456789`), { credentials: tokenOnly, settings })).toBe(false);
      expect(vonageSms.verifySignature(request(base), { credentials: tokenOnly, settings })).toBe(false);
      expect(vonageSms.parseWebhook(request(`${base}?token=${WEBHOOK_SECRET}`))).toEqual([
        { providerMessageId: '0A0000001234567B', status: 'delivered', providerStatus: 'delivered' },
      ]);
    });

    it('maps accepted and buffered to sent, expired and rejected to failed, and drops unknown', () => {
      const receipt = (status: string, errCode = '0'): WebhookRequest => ({
        method: 'POST',
        url: 'https://notify.example.net/webhooks/sms/vonage/gw',
        headers: { 'content-type': 'application/json' },
        rawBody: JSON.stringify({ messageId: 'X1', status, 'err-code': errCode }),
      });
      expect(vonageSms.parseWebhook(receipt('accepted'))).toEqual([{ providerMessageId: 'X1', status: 'sent', providerStatus: 'accepted' }]);
      expect(vonageSms.parseWebhook(receipt('buffered'))[0]?.status).toBe('sent');
      expect(vonageSms.parseWebhook(receipt('expired', '2'))).toEqual([
        { providerMessageId: 'X1', status: 'failed', providerStatus: 'expired/2', reason: 'Absent subscriber (temporary)' },
      ]);
      expect(vonageSms.parseWebhook(receipt('rejected', '77'))[0]?.reason).toBe('Vonage error 77');
      expect(vonageSms.parseWebhook(receipt('unknown'))).toEqual([]);
    });

    it('refuses a receipt without messageId, or that is not JSON, as invalid input', () => {
      for (const rawBody of ['{"status":"delivered"}', '{not json']) {
        let thrown: unknown;
        try {
          vonageSms.parseWebhook({ method: 'POST', url: 'https://notify.example.net/x', headers: { 'content-type': 'application/json' }, rawBody });
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(DomainError);
        expect((thrown as DomainError).kind).toBe('Invalid');
      }
    });
  });

  describe('gateway configuration', () => {
    it('accepts good credentials and settings as they are', () => {
      expect(vonageSms.credentials.parse(signed)).toEqual(signed);
      expect(vonageSms.credentials.parse(tokenOnly)).toEqual(tokenOnly);
      expect(vonageSms.settings.parse({ from: '+14155550100' })).toEqual({ from: '+14155550100' });
      expect(vonageSms.settings.parse(settings)).toEqual(settings);
    });

    it('requires a way to verify receipts: a signature secret or a webhook secret of 16 characters', () => {
      const none = vonageSms.credentials.safeParse({ apiKey: API_KEY, apiSecret: API_SECRET });
      expect(none.success).toBe(false);
      expect(none.error!.issues[0]!.message).toMatch(/signatureSecret.*webhookSecret/);
      const short = vonageSms.credentials.safeParse({ apiKey: API_KEY, apiSecret: API_SECRET, webhookSecret: 'short' });
      expect(short.success).toBe(false);
      expect(short.error!.issues[0]).toMatchObject({ path: ['webhookSecret'] });
    });

    it('refuses a sender that is neither E.164 nor an alphanumeric id of at most 11 characters', () => {
      for (const from of ['Far Too Long Sender', 'ISP-Net!', '0171122']) {
        const result = vonageSms.settings.safeParse({ from });
        expect(result.success).toBe(false);
        expect(result.error!.issues[0]).toMatchObject({ path: ['from'], message: expect.stringMatching(/E\.164.*alphanumeric/) });
      }
    });

    it('refuses an unknown signature method and an apiBaseUrl as unknown field', () => {
      expect(vonageSms.settings.safeParse({ from: 'ISPNet', signatureMethod: 'sha384' }).success).toBe(false);
      const result = vonageSms.settings.safeParse({ from: 'ISPNet', apiBaseUrl: 'http://127.0.0.1:4010' });
      expect(result.success).toBe(false);
      expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['apiBaseUrl'] }));
      expect(vonageSms.credentials.safeParse({ ...signed, apiBaseUrl: 'http://x' }).success).toBe(false);
    });
  });
});
