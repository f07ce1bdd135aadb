import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyHttpFailure, timingSafeEqualStrings } from '../../../shared/adapters/providers/http.js';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { twilioSignature, twilioSms, type TwilioCredentials, type TwilioSettings } from '../../../shared/adapters/providers/sms/twilio.js';
import { DomainError, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { startFakeTwilio, type FakeTwilio } from '../../support/fake-twilio.js';
import { rejection } from '../../support/expect-error.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH_TOKEN = 'c0ffee'.repeat(5) + 'ab';
const SERVICE_SID = `MG${'fedcba9876543210'.repeat(2)}`;
const credentials: TwilioCredentials = { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN };

const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };

async function freePortThatRefuses(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function sms(to: string, statusCallbackUrl = ''): OutboundSms {
  return { messageId: '01JNMSG0000000000000000000', to, text: 'Your bill of 500 BDT is due on 5 March.', statusCallbackUrl };
}

describe('Twilio SMS provider', () => {
  let fake: FakeTwilio;
  let settings: TwilioSettings;

  beforeEach(async () => {
    fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, callbackDelayMs: 5 });
    settings = { from: '+15005550006', apiBaseUrl: fake.baseUrl };
  });

  afterEach(async () => {
    await fake.close();
  });

  it('is registered under the id "twilio"', () => {
    expect(smsProvider('twilio')).toBe(twilioSms);
    expect(twilioSms.channel).toBe('sms');
  });

  describe('sending', () => {
    it('returns the SM sid, having sent Basic auth, the form fields and the StatusCallback', async () => {
      const callback = 'https://notify.example.net/webhooks/sms/twilio/01JNGW?x=1';
      const result = await twilioSms.send(sms('+8801711000001', callback), { credentials, settings }, ctx);

      expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request.basicAuth).toEqual({ username: ACCOUNT_SID, password: AUTH_TOKEN });
      expect(request.form).toEqual({
        To: '+8801711000001',
        Body: 'Your bill of 500 BDT is due on 5 March.',
        From: '+15005550006',
        StatusCallback: callback,
      });
      expect(request.replyStatus).toBe(201);
    });

    it('sends MessagingServiceSid instead of From when the gateway uses a messaging service', async () => {
      await twilioSms.send(sms('+8801711000001'), { credentials, settings: { messagingServiceSid: SERVICE_SID, apiBaseUrl: fake.baseUrl } }, ctx);

      const form = fake.requests[0]!.form;
      expect(form.MessagingServiceSid).toBe(SERVICE_SID);
      expect(form).not.toHaveProperty('From');
      expect(form).not.toHaveProperty('StatusCallback');
    });

    it('accepts an API base URL with a trailing slash', async () => {
      const result = await twilioSms.send(sms('+8801711000001'), { credentials, settings: { ...settings, apiBaseUrl: `${fake.baseUrl}/` } }, ctx);
      expect(result.providerMessageId).toMatch(/^SM/);
      expect(fake.requests[0]!.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    });

    it("turns Twilio's 21211 invalid number into ProviderRejected with code 21211 and Twilio's words", async () => {
      const error = await rejection(twilioSms.send(sms('+15005550001'), { credentials, settings }, ctx));

      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('21211');
      expect(error.message).toBe("Twilio error 21211: The 'To' number +15005550001 is not a valid phone number.");
    });

    it('turns 21614 (not a mobile number) into ProviderRejected', async () => {
      const error = await rejection(twilioSms.send(sms('+15005550009'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('21614');
    });

    it('turns a wrong auth token into ProviderRejected that points at the credentials', async () => {
      const wrong = { accountSid: ACCOUNT_SID, authToken: 'not-the-right-token-000' };
      const error = await rejection(twilioSms.send(sms('+8801711000001'), { credentials: wrong, settings }, ctx));

      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('20003');
      expect(error.message).toMatch(/credentials/);
      expect(error.message).toMatch(/Account SID and Auth Token/);
      expect(error.message).not.toContain('not-the-right-token-000');
    });

    it('turns a 503 into ProviderUnavailable and succeeds once Twilio recovers', async () => {
      fake.failNext(1, 503);
      const error = await rejection(twilioSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error.message).toMatch(/20500/);

      const retry = await twilioSms.send(sms('+8801711000001'), { credentials, settings }, ctx);
      expect(retry.providerMessageId).toMatch(/^SM/);
      expect(fake.requests.map((r) => r.replyStatus)).toEqual([503, 201]);
    });

    it('turns a 429 rate limit into ProviderUnavailable', async () => {
      fake.failNext(2, 429);
      for (let i = 0; i < 2; i++) {
        const error = await rejection(twilioSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
        expect(error).toBeInstanceOf(ProviderUnavailable);
        expect((error as ProviderUnavailable).code).toBe('20429');
      }
    });

    it('turns a refused connection into ProviderUnavailable', async () => {
      const port = await freePortThatRefuses();
      const error = await rejection(
        twilioSms.send(sms('+8801711000001'), { credentials, settings: { ...settings, apiBaseUrl: `http://127.0.0.1:${port}` } }, ctx),
      );
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error.message).toMatch(/Could not reach Twilio/);
    });

    it('turns a Twilio that never answers into ProviderUnavailable when the deadline passes', async () => {
      const silent = createServer(() => {
        /* never answers */
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as AddressInfo;
      // The adapter's own deadline is 10 s; a fetch with a 50 ms deadline stands in for it expiring.
      const impatient: ProviderContext = { ...ctx, fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(50) }) };
      try {
        const error = await rejection(
          twilioSms.send(sms('+8801711000001'), { credentials, settings: { ...settings, apiBaseUrl: `http://127.0.0.1:${port}` } }, impatient),
        );
        expect(error).toBeInstanceOf(ProviderUnavailable);
        expect((error as ProviderUnavailable).code).toBe('timeout');
      } finally {
        silent.closeAllConnections();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
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

    async function sendAndCollect(to: string): Promise<{ providerMessageId: string; requests: WebhookRequest[]; callbackUrl: string }> {
      const callbackUrl = `${webhook.url}/webhooks/sms/twilio/01JNGW00000000000000000000?tenant=op1`;
      const { providerMessageId } = await twilioSms.send(sms(to, callbackUrl), { credentials, settings }, ctx);
      await fake.settled();
      const requests = webhook.received;
      return { providerMessageId, requests, callbackUrl };
    }

    it('posts sent then delivered callbacks that verify and parse to our statuses', async () => {
      const { providerMessageId, requests, callbackUrl } = await sendAndCollect('+8801711000001');

      expect(requests).toHaveLength(2);
      for (const request of requests) {
        expect(request.url).toBe(callbackUrl);
        expect(twilioSms.verifySignature(request, { credentials, settings })).toBe(true);
      }
      expect(requests.flatMap((r) => twilioSms.parseWebhook(r))).toEqual([
        { providerMessageId, status: 'sent', providerStatus: 'sent' },
        { providerMessageId, status: 'delivered', providerStatus: 'delivered' },
      ]);
    });

    it('rejects a callback whose body was tampered with, whose URL differs, whose header is missing or that was signed with another token', async () => {
      const { requests } = await sendAndCollect('+8801711000001');
      const delivered = requests[1]!;
      expect(twilioSms.verifySignature(delivered, { credentials, settings })).toBe(true);

      const tampered = { ...delivered, rawBody: delivered.rawBody.replace('MessageStatus=delivered', 'MessageStatus=read') };
      expect(tampered.rawBody).not.toBe(delivered.rawBody);
      expect(twilioSms.verifySignature(tampered, { credentials, settings })).toBe(false);

      const otherUrl = { ...delivered, url: delivered.url.replace('tenant=op1', 'tenant=op2') };
      expect(twilioSms.verifySignature(otherUrl, { credentials, settings })).toBe(false);

      const { ['x-twilio-signature']: _signature, ...unsigned } = delivered.headers;
      expect(twilioSms.verifySignature({ ...delivered, headers: unsigned }, { credentials, settings })).toBe(false);

      const otherToken = { ...credentials, authToken: 'another-auth-token-0000000000000' };
      expect(twilioSms.verifySignature(delivered, { credentials: otherToken, settings })).toBe(false);
    });

    it('reports an undelivered 30003 as failed with the reason in words', async () => {
      const { providerMessageId, requests } = await sendAndCollect('+8801711000003');

      expect(requests).toHaveLength(2);
      expect(requests.every((r) => twilioSms.verifySignature(r, { credentials, settings }))).toBe(true);
      expect(twilioSms.parseWebhook(requests[1]!)).toEqual([
        { providerMessageId, status: 'failed', providerStatus: 'undelivered/30003', reason: 'Unreachable destination handset' },
      ]);
    });
  });

  describe('signature algorithm', () => {
    it("matches the known-good signature from Twilio's own request-validator test vector", () => {
      // Published vector (twilio-ruby spec/util/request_validator_spec.rb): token, URL, params and signature.
      const params = {
        ToState: 'California', CalledState: 'California', Direction: 'inbound', FromState: 'CA',
        AccountSid: 'ACba8bc05eacf94afdae398e642c9cc32d', Caller: '+14153595711', CallerZip: '94108',
        CallerCountry: 'US', From: '+14153595711', FromCity: 'SAN FRANCISCO', CallerCity: 'SAN FRANCISCO',
        To: '+14157669926', FromZip: '94108', FromCountry: 'US', ToCity: '', CallStatus: 'ringing',
        CalledCity: '', CallerState: 'CA', CalledZip: '', ToZip: '', ToCountry: 'US',
        CallSid: 'CA136d09cd59a3c0ec8dbff44da5c03f31', CalledCountry: 'US', Called: '+14157669926',
        ApiVersion: '2010-04-01', ApplicationSid: 'AP44efecad51364e80b133bb7c07eb8204',
      };
      const request: WebhookRequest = {
        method: 'POST',
        url: 'http://twiliotests.heroku.com/validate/voice',
        headers: { 'x-twilio-signature': 'oVb2kXoVy8GEfwBDjR8bk/ZZ6eA=' },
        rawBody: new URLSearchParams(params).toString(),
      };
      const gateway = { credentials: { accountSid: ACCOUNT_SID, authToken: '2bd9e9638872de601313dc77410d3b23' }, settings };
      expect(twilioSms.verifySignature(request, gateway)).toBe(true);
      expect(twilioSms.verifySignature({ ...request, rawBody: `${request.rawBody}&Extra=1` }, gateway)).toBe(false);
    });

    it('accepts a signature computed over the URL with the default port written out', () => {
      const params = { MessageSid: `SM${'2'.repeat(32)}`, MessageStatus: 'delivered' };
      const withPort = 'https://notify.example.net:443/webhooks/sms/twilio/gw';
      const signature = twilioSignature(AUTH_TOKEN, withPort, params);
      const request: WebhookRequest = {
        method: 'POST',
        url: 'https://notify.example.net/webhooks/sms/twilio/gw',
        headers: { 'x-twilio-signature': signature },
        rawBody: new URLSearchParams(params).toString(),
      };
      expect(twilioSms.verifySignature(request, { credentials, settings })).toBe(true);
    });
  });

  describe('parsing callbacks', () => {
    const callback = (params: Record<string, string>): WebhookRequest => ({
      method: 'POST',
      url: 'https://notify.example.net/webhooks/sms/twilio/gw',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: new URLSearchParams(params).toString(),
    });
    const sid = `SM${'1'.repeat(32)}`;

    it('drops statuses before the message leaves Twilio', () => {
      for (const status of ['accepted', 'queued', 'sending', 'scheduled']) {
        expect(twilioSms.parseWebhook(callback({ MessageSid: sid, MessageStatus: status }))).toEqual([]);
      }
    });

    it('maps read to read and canceled to failed', () => {
      expect(twilioSms.parseWebhook(callback({ MessageSid: sid, MessageStatus: 'read' }))).toEqual([{ providerMessageId: sid, status: 'read', providerStatus: 'read' }]);
      const [canceled] = twilioSms.parseWebhook(callback({ MessageSid: sid, MessageStatus: 'canceled' }));
      expect(canceled).toMatchObject({ providerMessageId: sid, status: 'failed', providerStatus: 'canceled' });
      expect(canceled?.reason).toBeTruthy();
    });

    it('names an unknown error code as "Twilio error <code>"', () => {
      expect(twilioSms.parseWebhook(callback({ MessageSid: sid, MessageStatus: 'failed', ErrorCode: '30410' }))).toEqual([
        { providerMessageId: sid, status: 'failed', providerStatus: 'failed/30410', reason: 'Twilio error 30410' },
      ]);
      expect(twilioSms.parseWebhook(callback({ MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30007' }))[0]?.reason).toBe(
        'Message filtered by the carrier',
      );
    });

    it('refuses a callback without MessageSid as invalid input', () => {
      let thrown: unknown;
      try {
        twilioSms.parseWebhook(callback({ MessageStatus: 'delivered' }));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DomainError);
      expect((thrown as DomainError).kind).toBe('Invalid');
      expect((thrown as DomainError).message).toMatch(/MessageSid/);
    });
  });

  describe('gateway configuration', () => {
    it('accepts good credentials and fills in the default API base URL', () => {
      expect(twilioSms.credentials.parse({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN })).toEqual(credentials);
      expect(twilioSms.settings.parse({ from: 'ISPNet' })).toEqual({ from: 'ISPNet', apiBaseUrl: 'https://api.twilio.com' });
      expect(twilioSms.settings.parse({ messagingServiceSid: SERVICE_SID })).toEqual({ messagingServiceSid: SERVICE_SID, apiBaseUrl: 'https://api.twilio.com' });
    });

    it('explains what is wrong with bad credentials', () => {
      const result = twilioSms.credentials.safeParse({ accountSid: 'SK123', authToken: 'short' });
      expect(result.success).toBe(false);
      const messages = Object.fromEntries(result.error!.issues.map((i) => [i.path.join('.'), i.message]));
      expect(messages.accountSid).toMatch(/Account SID.*"AC" followed by 32 hexadecimal/);
      expect(messages.authToken).toMatch(/Auth Token.*16/);
    });

    it('requires exactly one of from and messagingServiceSid, naming both', () => {
      for (const settingsInput of [{}, { from: '+15005550006', messagingServiceSid: SERVICE_SID }]) {
        const result = twilioSms.settings.safeParse(settingsInput);
        expect(result.success).toBe(false);
        expect(result.error!.issues[0]!.message).toMatch(/exactly one of "from".*"messagingServiceSid"/);
      }
    });

    it('rejects a sender that is neither E.164 nor a short alphanumeric id, and a non-http base URL', () => {
      const badFrom = twilioSms.settings.safeParse({ from: 'Far Too Long Sender' });
      expect(badFrom.success).toBe(false);
      expect(badFrom.error!.issues[0]).toMatchObject({ path: ['from'], message: expect.stringMatching(/E\.164.*alphanumeric/) });

      const badUrl = twilioSms.settings.safeParse({ from: '+15005550006', apiBaseUrl: 'ftp://api.twilio.com' });
      expect(badUrl.success).toBe(false);
      expect(badUrl.error!.issues[0]).toMatchObject({ path: ['apiBaseUrl'] });
    });
  });
});

describe('shared HTTP provider helpers', () => {
  it('classifies timeouts, early, rate-limited and server errors as retryable and other 4xx as permanent', () => {
    for (const status of [408, 425, 429, 500, 502, 503, 504]) expect(classifyHttpFailure(status, 'x')).toBeInstanceOf(ProviderUnavailable);
    for (const status of [400, 401, 403, 404, 422]) expect(classifyHttpFailure(status, 'x')).toBeInstanceOf(ProviderRejected);
    expect(classifyHttpFailure(400, 'bad number', '21211')).toMatchObject({ message: 'bad number', code: '21211' });
  });

  it('compares strings in constant time and treats different lengths as unequal', () => {
    expect(timingSafeEqualStrings('abc', 'abc')).toBe(true);
    expect(timingSafeEqualStrings('abc', 'abd')).toBe(false);
    expect(timingSafeEqualStrings('abc', 'abcd')).toBe(false);
    expect(timingSafeEqualStrings('', '')).toBe(true);
  });
});
