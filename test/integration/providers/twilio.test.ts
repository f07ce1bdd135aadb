import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providerBaseUrl, providerBaseUrlOverrides } from '../../../shared/adapters/providers/base-url.js';
import { classifyHttpFailure, timingSafeEqualStrings } from '../../../shared/adapters/providers/http.js';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import {
  TWILIO_LIST_SETTLE_SECONDS,
  twilioSignature,
  twilioSms,
  type TwilioCredentials,
  type TwilioSettings,
} from '../../../shared/adapters/providers/sms/twilio.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, ProviderLookupQuery, WebhookRequest } from '../../../shared/ports.js';
import { startFakeTwilio, type FakeTwilio } from '../../support/fake-twilio.js';
import { rejection } from '../../support/expect-error.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { freePortThatRefuses } from '../../support/net.js';

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH_TOKEN = 'c0ffee'.repeat(5) + 'ab';
const SERVICE_SID = `MG${'fedcba9876543210'.repeat(2)}`;
const credentials: TwilioCredentials = { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN };

const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
/** Lookups compare Twilio's dates (the fake's real time) with the send's; they need a real clock. */
const liveCtx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date() } };

const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_TWILIO';

/** Sets (or, with undefined, removes) ISPNOTIFY_BASE_URL_TWILIO. */
function setBaseUrl(value: string | undefined): void {
  if (value === undefined) delete process.env[BASE_URL_VARIABLE];
  else process.env[BASE_URL_VARIABLE] = value;
}

/** A queued message, as Twilio answers a send (201) or a fetch (200). */
const queuedReply = (method: string) => Response.json({ sid: `SM${'9'.repeat(32)}`, status: 'queued' }, { status: method === 'POST' ? 201 : 200 });

/** A fetch that records each request and answers it from `reply`, sending nothing anywhere. */
function recordingFetch(reply: (method: string) => Response = queuedReply) {
  const calls: { url: string; method: string; headers: Headers; body: string }[] = [];
  const fetchStub: typeof fetch = async (input, init) => {
    calls.push({
      url: String(input instanceof Request ? input.url : input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : '',
    });
    return reply(init?.method ?? 'GET');
  };
  return { calls, ctx: { ...ctx, fetch: fetchStub } satisfies ProviderContext };
}


function sms(to: string, statusCallbackUrl = ''): OutboundSms {
  return { messageId: '01JNMSG0000000000000000000', to, text: 'Your bill of 500 BDT is due on 5 March.', statusCallbackUrl };
}

/** A lookup for the message sms(to) sends, claimed a second ago. */
function lookupQuery(to = '+8801711000001'): ProviderLookupQuery {
  return { messageId: '01JNMSG0000000000000000000', to, text: 'Your bill of 500 BDT is due on 5 March.', sentAfter: new Date(Date.now() - 1000).toISOString() };
}

describe('Twilio SMS provider', () => {
  let fake: FakeTwilio;
  let settings: TwilioSettings;
  const baseUrlBefore = process.env[BASE_URL_VARIABLE];

  beforeEach(async () => {
    fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, callbackDelayMs: 5 });
    setBaseUrl(fake.baseUrl);
    settings = { from: '+15005550006' };
  });

  afterEach(async () => {
    setBaseUrl(baseUrlBefore);
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
      await twilioSms.send(sms('+8801711000001'), { credentials, settings: { messagingServiceSid: SERVICE_SID } }, ctx);

      const form = fake.requests[0]!.form;
      expect(form.MessagingServiceSid).toBe(SERVICE_SID);
      expect(form).not.toHaveProperty('From');
      expect(form).not.toHaveProperty('StatusCallback');
    });

    it('accepts a base URL override with a trailing slash', async () => {
      setBaseUrl(`${fake.baseUrl}/`);
      const result = await twilioSms.send(sms('+8801711000001'), { credentials, settings }, ctx);
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

    it('turns a wrong auth token into a GatewayFault (the gateway, not the message, is wrong) that points at the credentials', async () => {
      const wrong = { accountSid: ACCOUNT_SID, authToken: 'not-the-right-token-000' };
      const error = await rejection(twilioSms.send(sms('+8801711000001'), { credentials: wrong, settings }, ctx));

      expect(error).toBeInstanceOf(GatewayFault);
      expect((error as GatewayFault).code).toBe('20003');
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
      setBaseUrl(`http://127.0.0.1:${await freePortThatRefuses()}`);
      const error = await rejection(twilioSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
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
      setBaseUrl(`http://127.0.0.1:${port}`);
      try {
        const error = await rejection(twilioSms.send(sms('+8801711000001'), { credentials, settings }, impatient));
        expect(error).toBeInstanceOf(ProviderUnavailable);
        expect((error as ProviderUnavailable).code).toBe('timeout');
      } finally {
        silent.closeAllConnections();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });
  });

  describe('where requests go', () => {
    it("goes to Twilio's official https host when the deployment sets no override", async () => {
      setBaseUrl(undefined);
      const recorder = recordingFetch();
      const result = await twilioSms.send(sms('+8801711000001'), { credentials, settings }, recorder.ctx);

      expect(result.providerMessageId).toBe(`SM${'9'.repeat(32)}`);
      expect(recorder.calls.map((c) => [c.method, c.url])).toEqual([['POST', `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`]]);
      expect(fake.requests).toHaveLength(0);
    });

    it('goes to ISPNOTIFY_BASE_URL_TWILIO when the deployment sets it, read at each call', async () => {
      setBaseUrl('http://127.0.0.1:4010/');
      const recorder = recordingFetch();
      await twilioSms.send(sms('+8801711000001'), { credentials, settings }, recorder.ctx);
      setBaseUrl('https://twilio-staging.example.net/proxy');
      await twilioSms.lookup!({ ...lookupQuery(), providerMessageId: `SM${'9'.repeat(32)}` }, { credentials, settings }, recorder.ctx);

      expect(recorder.calls.map((c) => c.url)).toEqual([
        `http://127.0.0.1:4010/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`,
        `https://twilio-staging.example.net/proxy/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/SM${'9'.repeat(32)}.json`,
      ]);
    });

    it('ignores an apiBaseUrl left in the settings of a gateway saved before it was removed', async () => {
      setBaseUrl(undefined);
      const recorder = recordingFetch();
      const stale = { ...settings, apiBaseUrl: 'http://127.0.0.1:4010/reflect' } as TwilioSettings;
      await twilioSms.send(sms('+8801711000001'), { credentials, settings: stale }, recorder.ctx);
      expect(recorder.calls[0]!.url).toBe(`https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    });

    it('refuses an override that is not an http(s) base URL, naming the variable', async () => {
      for (const value of ['ftp://files.example.net', 'not a url', 'http://user:pass@127.0.0.1:4010', 'http://127.0.0.1:4010/?x=1']) {
        setBaseUrl(value);
        expect(() => providerBaseUrl('twilio', 'https://api.twilio.com')).toThrow(/ISPNOTIFY_BASE_URL_TWILIO/);
        const recorder = recordingFetch();
        await expect(twilioSms.send(sms('+8801711000001'), { credentials, settings }, recorder.ctx)).rejects.toThrow(/ISPNOTIFY_BASE_URL_TWILIO/);
        expect(recorder.calls).toHaveLength(0);
      }
      setBaseUrl('  ');
      expect(providerBaseUrl('twilio', 'https://api.twilio.com')).toBe('https://api.twilio.com');
    });

    it('names the variable after the provider id and lists every override for the Lambdas', () => {
      expect(providerBaseUrl('some-provider.v2', 'https://api.example.com')).toBe('https://api.example.com');
      expect(
        providerBaseUrlOverrides({
          ISPNOTIFY_BASE_URL_TWILIO: 'http://127.0.0.1:4010/',
          ISPNOTIFY_BASE_URL_SOME_PROVIDER_V2: 'https://staging.example.net',
          ISPNOTIFY_BASE_URL_EMPTY: '',
          OTHER_VARIABLE: 'http://127.0.0.1:1',
        }),
      ).toEqual({ ISPNOTIFY_BASE_URL_TWILIO: 'http://127.0.0.1:4010', ISPNOTIFY_BASE_URL_SOME_PROVIDER_V2: 'https://staging.example.net' });
      expect(() => providerBaseUrlOverrides({ ISPNOTIFY_BASE_URL_TWILIO: 'file:///etc/passwd' })).toThrow(/ISPNOTIFY_BASE_URL_TWILIO/);
    });

    it('quotes only a short, sanitized excerpt of a reply that is not Twilio JSON', async () => {
      const page = `<html><head><script>alert(1)</script></head><body>\u0007Bad gateway\u202E ${'x'.repeat(500)}</body></html>`;
      const recorder = recordingFetch(() => new Response(page, { status: 502, headers: { 'content-type': 'text/html' } }));
      const error = await rejection(twilioSms.send(sms('+8801711000001'), { credentials, settings }, recorder.ctx));

      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error.message).toMatch(/^Twilio answered HTTP 502: /);
      const quoted = error.message.slice('Twilio answered HTTP 502: '.length);
      expect([...quoted].length).toBeLessThanOrEqual(160);
      expect(quoted).not.toMatch(/[<>\u0000-\u001f\u007f\u202e]/);
      expect(quoted).not.toContain('alert');
      expect(quoted.startsWith('Bad gateway xxx')).toBe(true);
    });
  });

  describe('looking a message up (reconciliation)', () => {
    const TO = '+8801711000001';
    const TEXT = 'Your bill of 500 BDT is due on 5 March.';
    const minutes = (n: number) => n * 60_000;

    /** Sends through the adapter like the sender would, and returns the sid (which the "crash" then loses). */
    async function sendThroughTwilio(to = TO): Promise<string> {
      const { providerMessageId } = await twilioSms.send(sms(to), { credentials, settings }, ctx);
      return providerMessageId;
    }

    const lookup = (query: ProviderLookupQuery, gatewaySettings: TwilioSettings = settings, context: ProviderContext = liveCtx) =>
      twilioSms.lookup!(query, { credentials, settings: gatewaySettings }, context);

    it('asks about receipts overdue by an hour', () => {
      expect(twilioSms.receiptWindowSeconds).toBe(3600);
    });

    it('finds a sent message by SID and maps its status like a status callback', async () => {
      const delivered = await sendThroughTwilio();
      const undelivered = await sendThroughTwilio('+8801711000003');
      await fake.settled();

      expect(await lookup({ ...lookupQuery(), providerMessageId: delivered })).toEqual({
        found: true,
        providerMessageId: delivered,
        status: { providerMessageId: delivered, status: 'delivered', providerStatus: 'delivered' },
      });
      expect(await lookup({ ...lookupQuery('+8801711000003'), providerMessageId: undelivered })).toEqual({
        found: true,
        providerMessageId: undelivered,
        status: { providerMessageId: undelivered, status: 'failed', providerStatus: 'undelivered/30003', reason: 'Unreachable destination handset' },
      });
      const get = fake.requests.find((r) => r.method === 'GET')!;
      expect(get.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${delivered}.json`);
      expect(get.basicAuth).toEqual({ username: ACCOUNT_SID, password: AUTH_TOKEN });
    });

    it('answers found without a status while Twilio has not sent the message yet, and failed for a canceled one', async () => {
      const queued = fake.addMessage({ to: TO, body: TEXT, from: settings.from!, status: 'queued' });
      const canceled = fake.addMessage({ to: TO, body: TEXT, from: settings.from!, status: 'canceled' });

      expect(await lookup({ ...lookupQuery(), providerMessageId: queued.sid })).toEqual({ found: true, providerMessageId: queued.sid });
      expect(await lookup({ ...lookupQuery(), providerMessageId: canceled.sid })).toEqual({
        found: true,
        providerMessageId: canceled.sid,
        status: { providerMessageId: canceled.sid, status: 'failed', providerStatus: 'canceled', reason: 'Canceled before sending' },
      });
    });

    it('answers found:false for an unknown SID (404)', async () => {
      const unknown = `SM${'0'.repeat(32)}`;
      expect(await lookup({ ...lookupQuery(), providerMessageId: unknown })).toEqual({ found: false });
      expect(fake.requests.map((r) => r.replyStatus)).toEqual([404]);
    });

    it('finds a message by To, text and time when the SID was lost', async () => {
      const sentAfter = new Date(Date.now() - 1000).toISOString();
      // Around it: the same text long before the send, another text since, the same text to someone else.
      fake.addMessage({ to: TO, body: TEXT, from: settings.from!, dateCreated: new Date(Date.now() - minutes(30)) });
      fake.addMessage({ to: TO, body: 'Your payment was received, thank you.', from: settings.from! });
      fake.addMessage({ to: '+8801711999999', body: TEXT, from: settings.from! });
      const sid = await sendThroughTwilio();

      const result = await lookup({ ...lookupQuery(), sentAfter });

      expect(result).toMatchObject({ found: true, providerMessageId: sid });
      const list = fake.requests.find((r) => r.method === 'GET')!;
      expect(list.path.split('?')[0]).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
      expect(list.query).toEqual({ To: TO, From: '+15005550006', PageSize: '100' });
      expect(list.basicAuth).toEqual({ username: ACCOUNT_SID, password: AUTH_TOKEN });
    });

    it('finds it with a messaging service, which has no fixed From to filter on', async () => {
      const sid = fake.addMessage({ to: TO, body: TEXT, messagingServiceSid: SERVICE_SID, from: '+15005550007', status: 'sent' }).sid;
      const result = await lookup({ ...lookupQuery(), sentAfter: new Date(Date.now() - 1000).toISOString() }, { messagingServiceSid: SERVICE_SID });

      expect(result).toEqual({ found: true, providerMessageId: sid, status: { providerMessageId: sid, status: 'sent', providerStatus: 'sent' } });
      expect(fake.requests[0]!.query).toEqual({ To: TO, PageSize: '100' });
    });

    it('recognizes the text when Twilio shows it with smart punctuation replaced or opt-out text appended', async () => {
      const text = 'Dear Rahim, your bill is due \u201Ctoday\u201D \u2014 pay now\u2026';
      const sid = fake.addMessage({ to: TO, body: 'Dear Rahim, your bill is due "today" - pay now...\nReply STOP to unsubscribe.', from: settings.from! }).sid;
      expect(await lookup({ ...lookupQuery(), text, sentAfter: new Date(Date.now() - 1000).toISOString() })).toMatchObject({ found: true, providerMessageId: sid });
    });

    it('answers found:false when Twilio never received it', async () => {
      const sentAfter = new Date(Date.now() - minutes(20)).toISOString();
      fake.addMessage({ to: TO, body: TEXT, from: settings.from!, dateCreated: new Date(Date.now() - minutes(45)) });
      fake.addMessage({ to: TO, body: 'Another text', from: settings.from!, dateCreated: new Date(Date.now() - minutes(10)) });

      expect(await lookup({ ...lookupQuery(), sentAfter })).toEqual({ found: false });
    });

    it("does not answer found:false while Twilio's message list may still lag behind the send", async () => {
      const error = await rejection(lookup({ ...lookupQuery(), sentAfter: new Date(Date.now() - 5000).toISOString() }));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('lookup-too-early');

      // The same question once the list has had time to catch up.
      const later: ProviderContext = { ...liveCtx, clock: { now: () => new Date(Date.now() + TWILIO_LIST_SETTLE_SECONDS * 1000) } };
      expect(await lookup({ ...lookupQuery(), sentAfter: new Date(Date.now() - 5000).toISOString() }, settings, later)).toEqual({ found: false });
    });

    it('answers the oldest of several identical messages created since the send', async () => {
      const sentAfter = Date.now() - minutes(20);
      fake.addMessage({ to: TO, body: TEXT, from: settings.from!, dateCreated: new Date(sentAfter - minutes(5)) });
      const first = fake.addMessage({ to: TO, body: TEXT, from: settings.from!, dateCreated: new Date(sentAfter + 2000) });
      fake.addMessage({ to: TO, body: TEXT, from: settings.from!, dateCreated: new Date(sentAfter + 10_000) });

      expect(await lookup({ ...lookupQuery(), sentAfter: new Date(sentAfter).toISOString() })).toMatchObject({ found: true, providerMessageId: first.sid });
    });

    it('reads the pages after the first, on the same host and path', async () => {
      const sentAfter = new Date(Date.now() - 1000).toISOString();
      const sid = await sendThroughTwilio();
      for (let i = 0; i < 120; i++) fake.addMessage({ to: TO, body: `Notice ${i}`, from: settings.from!, dateCreated: new Date(Date.now() + 5000 + i) });

      expect(await lookup({ ...lookupQuery(), sentAfter })).toMatchObject({ found: true, providerMessageId: sid });
      const lists = fake.requests.filter((r) => r.method === 'GET');
      expect(lists.map((r) => r.query.Page)).toEqual([undefined, '1']);
      expect(lists[1]!.query).toMatchObject({ To: TO, From: '+15005550006', PageSize: '100' });
    });

    it('gives up for now, rather than answer found:false, when the number has more messages than it reads', async () => {
      for (let i = 0; i < 520; i++) fake.addMessage({ to: TO, body: `Notice ${i}`, from: settings.from!, dateCreated: new Date(Date.now() - minutes(10) + i) });

      const error = await rejection(lookup({ ...lookupQuery(), sentAfter: new Date(Date.now() - minutes(20)).toISOString() }));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('lookup-inconclusive');
      expect(fake.requests).toHaveLength(5);
    });

    it('gives up for now when Twilio hides the text of messages sent since (body redaction)', async () => {
      fake.addMessage({ to: TO, body: null, from: settings.from!, dateCreated: new Date(Date.now() - minutes(10)) });
      const error = await rejection(lookup({ ...lookupQuery(), sentAfter: new Date(Date.now() - minutes(20)).toISOString() }));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('lookup-inconclusive');
    });

    it('throws ProviderUnavailable on 500 and 429 and GatewayFault on 401, by SID and by content', async () => {
      const bySid = { ...lookupQuery(), providerMessageId: `SM${'1'.repeat(32)}` };
      const byContent = { ...lookupQuery(), sentAfter: new Date(Date.now() - minutes(20)).toISOString() };
      for (const query of [bySid, byContent]) {
        fake.failNext(1, 500);
        const serverError = await rejection(lookup(query));
        expect(serverError).toBeInstanceOf(ProviderUnavailable);
        expect((serverError as ProviderUnavailable).code).toBe('20500');

        fake.failNext(1, 429);
        const rateLimited = await rejection(lookup(query));
        expect(rateLimited).toBeInstanceOf(ProviderUnavailable);
        expect((rateLimited as ProviderUnavailable).code).toBe('20429');

        const wrong = { accountSid: ACCOUNT_SID, authToken: 'not-the-right-token-000' };
        const unauthorized = await rejection(twilioSms.lookup!(query, { credentials: wrong, settings }, liveCtx));
        expect(unauthorized).toBeInstanceOf(GatewayFault);
        expect((unauthorized as GatewayFault).code).toBe('20003');
        expect(unauthorized.message).toMatch(/Account SID and Auth Token/);
      }
    });

    it("follows next_page_uri only on Twilio's host and the account's list path", async () => {
      const listPath = `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;
      const pages = [`https://elsewhere.example.net${listPath}?To=x&Page=1`, 'http://169.254.169.254/latest/meta-data/?Page=2'];
      const recorder = recordingFetch(() => Response.json({ messages: [], next_page_uri: pages.shift() ?? null }));
      setBaseUrl(undefined);

      const error = await rejection(lookup({ ...lookupQuery(), sentAfter: new Date(Date.now() - minutes(20)).toISOString() }, settings, { ...recorder.ctx, clock: liveCtx.clock }));
      expect(recorder.calls.map((c) => c.url)).toEqual([
        `https://api.twilio.com${listPath}?To=%2B8801711000001&PageSize=100&From=%2B15005550006`,
        `https://api.twilio.com${listPath}?To=x&Page=1`,
      ]);
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error.message).toMatch(/outside the account's message list/);
    });

    it('throws ProviderUnavailable when Twilio cannot be reached', async () => {
      setBaseUrl(`http://127.0.0.1:${await freePortThatRefuses()}`);
      const error = await rejection(lookup({ ...lookupQuery(), providerMessageId: `SM${'1'.repeat(32)}` }));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('network');
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

    it('reads a customer\'s SMS to the number as an inbound message, and never as a status', () => {
      const incoming = callback({ MessageSid: sid, SmsSid: sid, SmsStatus: 'received', From: '+8801711000009', To: '+15005550006', Body: 'STOP' });
      expect(twilioSms.parseWebhook(incoming)).toEqual([]);
      expect(twilioSms.parseInbound!(incoming)).toEqual([{ kind: 'inbound', providerMessageId: sid, from: '+8801711000009', text: 'STOP', at: expect.any(String) }]);
      // A status callback is not inbound.
      expect(twilioSms.parseInbound!(callback({ MessageSid: sid, MessageStatus: 'delivered', From: '+15005550006' }))).toEqual([]);
    });

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
    it('accepts good credentials and settings as they are', () => {
      expect(twilioSms.credentials.parse({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN })).toEqual(credentials);
      expect(twilioSms.settings.parse({ from: 'ISPNet' })).toEqual({ from: 'ISPNet' });
      expect(twilioSms.settings.parse({ messagingServiceSid: SERVICE_SID })).toEqual({ messagingServiceSid: SERVICE_SID });
    });

    it('refuses an apiBaseUrl in the settings as an unknown field, whatever its value', () => {
      for (const apiBaseUrl of ['http://127.0.0.1:4010/reflect', 'https://api.twilio.com']) {
        const result = twilioSms.settings.safeParse({ from: '+15005550006', apiBaseUrl });
        expect(result.success).toBe(false);
        expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['apiBaseUrl'] }));
      }
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

    it('rejects a sender that is neither E.164 nor a short alphanumeric id', () => {
      const badFrom = twilioSms.settings.safeParse({ from: 'Far Too Long Sender' });
      expect(badFrom.success).toBe(false);
      expect(badFrom.error!.issues[0]).toMatchObject({ path: ['from'], message: expect.stringMatching(/E\.164.*alphanumeric/) });
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
