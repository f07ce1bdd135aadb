import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { twilioSignature, twilioSms, type TwilioCredentials } from '../../../shared/adapters/providers/sms/twilio.js';
import { whatsappProvider } from '../../../shared/adapters/providers/whatsapp/registry.js';
import {
  parseTwilioWhatsAppWebhook,
  twilioWhatsApp,
  type TwilioWhatsAppSettings,
} from '../../../shared/adapters/providers/whatsapp/twilio.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderThrottled, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundWhatsApp, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { caught, rejection } from '../../support/expect-error.js';
import { signedTwilioWebhook, startFakeTwilio, whatsappInboundParams, type FakeTwilio } from '../../support/fake-twilio.js';
import { freePortThatRefuses } from '../../support/net.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH_TOKEN = 'c0ffee'.repeat(5) + 'ab';
const SERVICE_SID = `MG${'fedcba9876543210'.repeat(2)}`;
const SENDER = '+14155550100';
const HX_DUE = `HX${'a1'.repeat(16)}`;
const HX_WELCOME = `HX${'b2'.repeat(16)}`;
const HX_UNKNOWN = `HX${'c3'.repeat(16)}`;
const DUE_TEXT = 'Dear customer, your bill of BDT {{1}} is due on {{2}}.';
const CUSTOMER = '+8801711000001';
const WEBHOOK_URL = 'https://notify.example.net/webhooks/whatsapp/twilio/01JNGW00000000000000000000';

const credentials: TwilioCredentials = { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN };
const settings: TwilioWhatsAppSettings = { from: SENDER, contentTemplates: { due_reminder: HX_DUE } };
const gateway = { credentials, settings };

const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };

const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_TWILIO';

function setBaseUrl(value: string | undefined): void {
  if (value === undefined) delete process.env[BASE_URL_VARIABLE];
  else process.env[BASE_URL_VARIABLE] = value;
}

const text = (to: string, body = 'Dear Rahim, your bill of BDT 1,200 is due on 5 Dec.', statusCallbackUrl?: string): OutboundWhatsApp => ({
  messageId: '01JNMSG0000000000000000000',
  to,
  content: { kind: 'text', text: body },
  ...(statusCallbackUrl ? { statusCallbackUrl } : {}),
});

const template = (to: string, name = 'due_reminder', parameters = ['1,200', '5 Dec'], statusCallbackUrl?: string): OutboundWhatsApp => ({
  messageId: '01JNMSG0000000000000000001',
  to,
  content: { kind: 'template', name, language: 'en', parameters },
  ...(statusCallbackUrl ? { statusCallbackUrl } : {}),
});

/** A form POST as Twilio sends it, unsigned: for parsing only. */
const posted = (params: Record<string, string>): WebhookRequest => ({
  method: 'POST',
  url: WEBHOOK_URL,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  rawBody: new URLSearchParams(params).toString(),
});

describe('Twilio WhatsApp provider', () => {
  let fake: FakeTwilio;
  const baseUrlBefore = process.env[BASE_URL_VARIABLE];

  beforeEach(async () => {
    fake = await startFakeTwilio({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      callbackDelayMs: 5,
      whatsappSenders: [SENDER],
      contentTemplates: { [HX_DUE]: DUE_TEXT, [HX_WELCOME]: 'Welcome to ISPNet! Reply HELP for support.' },
    });
    setBaseUrl(fake.baseUrl);
  });

  afterEach(async () => {
    setBaseUrl(baseUrlBefore);
    await fake.close();
  });

  it('is registered under "twilio" on the whatsapp channel, next to (not instead of) Twilio SMS', () => {
    expect(whatsappProvider('twilio')).toBe(twilioWhatsApp);
    expect(smsProvider('twilio')).toBe(twilioSms);
    expect(twilioWhatsApp).toMatchObject({ id: 'twilio', channel: 'whatsapp', displayName: 'Twilio WhatsApp', receiptWindowSeconds: twilioSms.receiptWindowSeconds });
    // The very same credentials schema as SMS: one Account SID and Auth Token serve both.
    expect(twilioWhatsApp.credentials).toBe(twilioSms.credentials);
    expect(typeof twilioWhatsApp.lookup).toBe('function');
  });

  describe('sending', () => {
    it('sends free-form text as Body between whatsapp: addresses, with Basic auth and the StatusCallback', async () => {
      const callback = `${WEBHOOK_URL}?x=1`;
      const result = await twilioWhatsApp.send(text(CUSTOMER, undefined, callback), gateway, ctx);

      expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request.basicAuth).toEqual({ username: ACCOUNT_SID, password: AUTH_TOKEN });
      expect(request.form).toEqual({
        To: `whatsapp:${CUSTOMER}`,
        From: `whatsapp:${SENDER}`,
        Body: 'Dear Rahim, your bill of BDT 1,200 is due on 5 Dec.',
        StatusCallback: callback,
      });
      expect(request.replyStatus).toBe(201);
      expect(fake.messages[0]).toMatchObject({ sid: result.providerMessageId, to: `whatsapp:${CUSTOMER}`, from: `whatsapp:${SENDER}` });
    });

    it('sends MessagingServiceSid instead of From when the gateway uses a messaging service', async () => {
      await twilioWhatsApp.send(text(CUSTOMER), { credentials, settings: { messagingServiceSid: SERVICE_SID } }, ctx);
      const form = fake.requests[0]!.form;
      expect(form).toEqual({ To: `whatsapp:${CUSTOMER}`, MessagingServiceSid: SERVICE_SID, Body: 'Dear Rahim, your bill of BDT 1,200 is due on 5 Dec.' });
    });

    it("sends a template as the gateway's Content SID with its parameters as ContentVariables, and no Body", async () => {
      const result = await twilioWhatsApp.send(template(CUSTOMER), gateway, ctx);

      expect(result.providerMessageId).toMatch(/^SM/);
      const form = fake.requests[0]!.form;
      expect(Object.keys(form).sort()).toEqual(['ContentSid', 'ContentVariables', 'From', 'To']);
      expect(form).toMatchObject({ To: `whatsapp:${CUSTOMER}`, From: `whatsapp:${SENDER}`, ContentSid: HX_DUE });
      expect(form.ContentVariables).toBe('{"1":"1,200","2":"5 Dec"}');
      expect(JSON.parse(form.ContentVariables!)).toEqual({ 1: '1,200', 2: '5 Dec' });
      // Twilio rendered the approved template with them.
      expect(fake.messages[0]!.body).toBe('Dear customer, your bill of BDT 1,200 is due on 5 Dec.');
    });

    it('takes a template named by its Content SID as is, and sends no ContentVariables when it has no parameters', async () => {
      await twilioWhatsApp.send(template(CUSTOMER, HX_WELCOME, []), { credentials, settings: { from: SENDER } }, ctx);
      expect(fake.requests[0]!.form).toEqual({ To: `whatsapp:${CUSTOMER}`, From: `whatsapp:${SENDER}`, ContentSid: HX_WELCOME });
      expect(fake.messages[0]!.body).toBe('Welcome to ISPNet! Reply HELP for support.');
    });

    it('rejects a template the gateway has no Content SID for, naming it, without calling Twilio', async () => {
      const error = await rejection(twilioWhatsApp.send(template(CUSTOMER, 'welcome_offer'), gateway, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('no-content-template');
      expect(error.message).toMatch(/"welcome_offer".*contentTemplates/);
      // A name that only looks like a key of another object is not a mapping either.
      const inherited = await rejection(twilioWhatsApp.send(template(CUSTOMER, 'toString'), gateway, ctx));
      expect((inherited as ProviderRejected).code).toBe('no-content-template');
      expect(fake.requests).toHaveLength(0);
    });

    it('rejects an empty template parameter (Twilio refuses empty ContentVariables) and a number that is not E.164, without calling Twilio', async () => {
      const empty = await rejection(twilioWhatsApp.send(template(CUSTOMER, 'due_reminder', ['1,200', ' ']), gateway, ctx));
      expect(empty).toBeInstanceOf(ProviderRejected);
      expect((empty as ProviderRejected).code).toBe('empty-parameter');
      expect(empty.message).toMatch(/\{\{2\}\}/);

      const notE164 = await rejection(twilioWhatsApp.send(text('01711000001'), gateway, ctx));
      expect(notE164).toBeInstanceOf(ProviderRejected);
      expect((notE164 as ProviderRejected).code).toBe('invalid-number');
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('send errors', () => {
    it('makes a sender Twilio has no WhatsApp channel for (63007) a GatewayFault with the reason in words', async () => {
      const error = await rejection(twilioWhatsApp.send(text(CUSTOMER), { credentials, settings: { from: '+14155550199' } }, ctx));
      expect(fake.requests[0]!.replyStatus).toBe(400);
      expect(error).toBeInstanceOf(GatewayFault);
      expect((error as GatewayFault).code).toBe('63007');
      expect(error.message).toBe(
        'Twilio has no WhatsApp sender with this From address in the account (not registered, pending approval, or another account) (Twilio error 63007): ' +
          'Twilio could not find a Channel with the specified From address: whatsapp:+14155550199',
      );
    });

    it('makes a wrong Auth Token (401, 20003) and a refused account (403) GatewayFaults', async () => {
      const wrong = { accountSid: ACCOUNT_SID, authToken: 'not-the-right-token-000' };
      const unauthorized = await rejection(twilioWhatsApp.send(text(CUSTOMER), { credentials: wrong, settings }, ctx));
      expect(fake.requests[0]!.replyStatus).toBe(401);
      expect(unauthorized).toBeInstanceOf(GatewayFault);
      expect((unauthorized as GatewayFault).code).toBe('20003');
      expect(unauthorized.message).toMatch(/Account SID and Auth Token/);

      fake.failNextWith(1, 403, 20005, 'Account not active');
      const forbidden = await rejection(twilioWhatsApp.send(text(CUSTOMER), gateway, ctx));
      expect(forbidden).toBeInstanceOf(GatewayFault);
      expect((forbidden as GatewayFault).code).toBe('20005');
      expect(forbidden.message).toMatch(/HTTP 403.*Account not active/);
    });

    it("makes Twilio's 429 and WhatsApp's rate limit (63018) ProviderThrottled", async () => {
      fake.failNext(1, 429);
      const tooMany = await rejection(twilioWhatsApp.send(text(CUSTOMER), gateway, ctx));
      expect(fake.requests[0]!.replyStatus).toBe(429);
      expect(tooMany).toBeInstanceOf(ProviderThrottled);
      expect((tooMany as ProviderThrottled).code).toBe('20429');

      fake.failNextWith(1, 400, 63018, 'Rate limit exceeded for Channel');
      const channelLimit = await rejection(twilioWhatsApp.send(text(CUSTOMER), gateway, ctx));
      expect(channelLimit).toBeInstanceOf(ProviderThrottled);
      expect((channelLimit as ProviderThrottled).code).toBe('63018');
      expect(channelLimit.message).toMatch(/^The WhatsApp sender's rate or messaging limit was reached \(Twilio error 63018\)/);
    });

    it('makes recipient, window and template errors ProviderRejected, each with its words', async () => {
      const cases: [number, RegExp][] = [
        [63016, /only an approved template can be sent/],
        [63003, /not an active WhatsApp account/],
        [63024, /not on WhatsApp/],
        [63027, /template does not exist in this language/],
        [63028, /number of template parameters/],
      ];
      for (const [code, words] of cases) {
        fake.failNextWith(1, 400, code, `Twilio says ${code}`);
        const error = await rejection(twilioWhatsApp.send(text(CUSTOMER), gateway, ctx));
        expect(error).toBeInstanceOf(ProviderRejected);
        expect((error as ProviderRejected).code).toBe(String(code));
        expect(error.message).toMatch(words);
        expect(error.message).toMatch(new RegExp(`\\(Twilio error ${code}\\): Twilio says ${code}$`));
      }
    });

    it("rejects a mapped Content SID Twilio does not have (21655), as Twilio answers it", async () => {
      const error = await rejection(twilioWhatsApp.send(template(CUSTOMER, 'due_reminder'), { credentials, settings: { from: SENDER, contentTemplates: { due_reminder: HX_UNKNOWN } } }, ctx));
      expect(fake.requests[0]!.form.ContentSid).toBe(HX_UNKNOWN);
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('21655');
      expect(error.message).toMatch(/Content SID does not exist/);
    });

    it("makes Twilio's and WhatsApp's own trouble (500, 63012) and an unreachable Twilio ProviderUnavailable", async () => {
      fake.failNext(1, 500);
      const serverError = await rejection(twilioWhatsApp.send(text(CUSTOMER), gateway, ctx));
      expect(serverError).toBeInstanceOf(ProviderUnavailable);
      expect(serverError).not.toBeInstanceOf(ProviderThrottled);
      expect((serverError as ProviderUnavailable).code).toBe('20500');

      fake.failNextWith(1, 400, 63012, 'Channel provider returned an internal service error');
      const whatsappDown = await rejection(twilioWhatsApp.send(text(CUSTOMER), gateway, ctx));
      expect(whatsappDown).toBeInstanceOf(ProviderUnavailable);
      expect(whatsappDown).not.toBeInstanceOf(ProviderThrottled);
      expect((whatsappDown as ProviderUnavailable).code).toBe('63012');

      setBaseUrl(`http://127.0.0.1:${await freePortThatRefuses()}`);
      const unreachable = await rejection(twilioWhatsApp.send(text(CUSTOMER), gateway, ctx));
      expect(unreachable).toBeInstanceOf(ProviderUnavailable);
      expect((unreachable as ProviderUnavailable).code).toBe('network');
    });

    it('leaves a code it does not know to the HTTP status, as for Twilio SMS', async () => {
      fake.failNextWith(1, 400, 21211, "The 'To' number is not a valid phone number.");
      const error = await rejection(twilioWhatsApp.send(text(CUSTOMER), gateway, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect(error.message).toBe("Twilio error 21211: The 'To' number is not a valid phone number.");
    });
  });

  describe('base URL', () => {
    it("calls Twilio's official host when ISPNOTIFY_BASE_URL_TWILIO is unset", async () => {
      setBaseUrl(undefined);
      const calls: string[] = [];
      const stub: ProviderContext = {
        ...ctx,
        fetch: async (input) => {
          calls.push(String(input));
          return Response.json({ sid: `SM${'9'.repeat(32)}`, status: 'queued' }, { status: 201 });
        },
      };
      expect(await twilioWhatsApp.send(text(CUSTOMER), gateway, stub)).toEqual({ providerMessageId: `SM${'9'.repeat(32)}` });
      expect(calls).toEqual([`https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`]);
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

    const callbackUrl = () => `${webhook.url}/webhooks/whatsapp/twilio/01JNGW00000000000000000000?tenant=op1`;

    async function parsedCallbacks(message: OutboundWhatsApp) {
      const { providerMessageId } = await twilioWhatsApp.send(message, gateway, ctx);
      await fake.settled();
      const requests = webhook.received;
      expect(requests.length).toBeGreaterThan(0);
      for (const request of requests) expect(twilioWhatsApp.verifySignature(request, gateway)).toBe(true);
      return { providerMessageId, updates: requests.flatMap((r) => twilioWhatsApp.parseWebhook(r, { settings })) };
    }

    it('posts sent, delivered and read callbacks that verify and parse to our statuses', async () => {
      const { providerMessageId, updates } = await parsedCallbacks(text(CUSTOMER, undefined, callbackUrl()));
      expect(updates).toEqual([
        { providerMessageId, status: 'sent', providerStatus: 'sent' },
        { providerMessageId, status: 'delivered', providerStatus: 'delivered' },
        { providerMessageId, status: 'read', providerStatus: 'read' },
      ]);
    });

    it('reports free-form text outside the 24-hour window (63016) as failed with the reason in words', async () => {
      const { providerMessageId, updates } = await parsedCallbacks(text('+8801711063016', undefined, callbackUrl()));
      expect(updates).toEqual([
        {
          providerMessageId,
          status: 'failed',
          providerStatus: 'failed/63016',
          reason: 'More than 24 hours have passed since the customer last wrote, so only an approved template can be sent',
        },
      ]);
    });

    it('reports a template to a number not on WhatsApp (63024), and one with missing parameters (63028), as failed', async () => {
      const notOnWhatsApp = await parsedCallbacks(template('+8801711063024', 'due_reminder', ['1,200', '5 Dec'], callbackUrl()));
      expect(notOnWhatsApp.updates).toEqual([
        { providerMessageId: notOnWhatsApp.providerMessageId, status: 'failed', providerStatus: 'failed/63024', reason: 'The number is not on WhatsApp or cannot receive messages' },
      ]);

      webhook.received.length = 0;
      const short = await parsedCallbacks(template(CUSTOMER, 'due_reminder', ['1,200'], callbackUrl()));
      expect(short.updates).toEqual([
        { providerMessageId: short.providerMessageId, status: 'failed', providerStatus: 'failed/63028', reason: 'The number of template parameters does not match the template' },
      ]);
    });

    it('drops statuses before WhatsApp has the message, and words other codes like Twilio SMS', () => {
      const sid = `SM${'1'.repeat(32)}`;
      for (const status of ['queued', 'accepted', 'sending', 'scheduled']) {
        expect(twilioWhatsApp.parseWebhook(posted({ MessageSid: sid, MessageStatus: status, SmsStatus: status, To: `whatsapp:${CUSTOMER}` }), { settings })).toEqual([]);
      }
      expect(twilioWhatsApp.parseWebhook(posted({ MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30008' }), { settings })).toEqual([
        { providerMessageId: sid, status: 'failed', providerStatus: 'undelivered/30008', reason: 'Unknown error' },
      ]);
      expect(twilioWhatsApp.parseWebhook(posted({ MessageSid: sid, MessageStatus: 'failed', ErrorCode: '63999' }), { settings })).toEqual([
        { providerMessageId: sid, status: 'failed', providerStatus: 'failed/63999', reason: 'Twilio error 63999' },
      ]);
    });
  });

  describe('inbound messages', () => {
    const receivedAt = new Date('2025-03-01T10:15:30.000Z');
    const inbound = (overrides: Partial<Parameters<typeof whatsappInboundParams>[0]> = {}) =>
      signedTwilioWebhook(AUTH_TOKEN, WEBHOOK_URL, whatsappInboundParams({ accountSid: ACCOUNT_SID, from: '+8801711223344', to: SENDER, body: 'আমি আগামীকাল বিল দেব', ...overrides }));

    it("reads a customer's text: its sid, the number without whatsapp:, the text, and when it reached us", () => {
      const request = inbound({ messageSid: `SM${'4'.repeat(32)}` });
      expect(twilioWhatsApp.verifySignature(request, gateway)).toBe(true);
      expect(parseTwilioWhatsAppWebhook(request.rawBody, settings, receivedAt)).toEqual([
        { kind: 'inbound', providerMessageId: `SM${'4'.repeat(32)}`, from: '+8801711223344', text: 'আমি আগামীকাল বিল দেব', at: '2025-03-01T10:15:30.000Z' },
      ]);

      // Through the provider, `at` is the moment the webhook is read (Twilio's inbound webhook has no timestamp).
      const before = Date.now();
      const [message] = twilioWhatsApp.parseWebhook(request, { settings });
      const after = Date.now();
      expect(message).toMatchObject({ kind: 'inbound', from: '+8801711223344', text: 'আমি আগামীকাল বিল দেব' });
      const at = Date.parse((message as { at: string }).at);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(after);
    });

    it('describes media, with or without a caption, and reads a tapped button', () => {
      const parse = (request: WebhookRequest) => parseTwilioWhatsAppWebhook(request.rawBody, settings, receivedAt).map((m) => (m as { text: string }).text);
      expect(parse(inbound({ body: 'my receipt', media: [['image/jpeg', 'https://api.twilio.com/media/ME1']] }))).toEqual(['[image] my receipt']);
      expect(parse(inbound({ body: '', media: [['application/pdf', 'https://api.twilio.com/media/ME2']] }))).toEqual(['[document]']);
      expect(parse(inbound({ body: '', button: { text: 'Pay now', payload: 'pay-c-1001' } }))).toEqual(['Pay now']);
      expect(parse(inbound({ body: '', messageType: 'sticker' }))).toEqual(['[sticker]']);
    });

    it("ignores a message to another sender than the gateway's, and takes any with a messaging service", () => {
      const toOther = inbound({ to: '+14155550111' });
      expect(parseTwilioWhatsAppWebhook(toOther.rawBody, settings, receivedAt)).toEqual([]);
      expect(parseTwilioWhatsAppWebhook(toOther.rawBody, { from: undefined }, receivedAt)).toHaveLength(1);
    });

    it('refuses a body without MessageSid, or one that is neither a status nor a WhatsApp message, as Invalid', () => {
      const noSid = caught(() => twilioWhatsApp.parseWebhook(posted({ From: 'whatsapp:+8801711223344', Body: 'hi' }), { settings }));
      expect(noSid.kind).toBe('Invalid');
      expect(noSid.message).toMatch(/MessageSid/);

      const sms = caught(() => twilioWhatsApp.parseWebhook(posted({ MessageSid: `SM${'5'.repeat(32)}`, SmsStatus: 'received', From: '+8801711223344', Body: 'hi' }), { settings }));
      expect(sms).toBeInstanceOf(DomainError);
      expect(sms.kind).toBe('Invalid');
      expect(sms.fields).toEqual([expect.objectContaining({ field: 'From' })]);
    });
  });

  describe('webhook signatures', () => {
    it("checks X-Twilio-Signature with the SMS adapter's algorithm: tampering, another URL or token, or no header fail", () => {
      const request = signedTwilioWebhook(AUTH_TOKEN, WEBHOOK_URL, { MessageSid: `SM${'6'.repeat(32)}`, MessageStatus: 'read', To: `whatsapp:${CUSTOMER}` });
      expect(twilioWhatsApp.verifySignature(request, gateway)).toBe(true);
      expect(twilioWhatsApp.verifySignature({ ...request, rawBody: request.rawBody.replace('read', 'failed') }, gateway)).toBe(false);
      expect(twilioWhatsApp.verifySignature({ ...request, url: `${WEBHOOK_URL}?tenant=op2` }, gateway)).toBe(false);
      expect(twilioWhatsApp.verifySignature(request, { credentials: { ...credentials, authToken: 'another-auth-token-0000000000000' }, settings })).toBe(false);
      const { ['x-twilio-signature']: _signature, ...unsigned } = request.headers;
      expect(twilioWhatsApp.verifySignature({ ...request, headers: unsigned }, gateway)).toBe(false);
    });

    it('accepts a signature computed over the URL with the default port written out, like Twilio SMS', () => {
      const params = { MessageSid: `SM${'7'.repeat(32)}`, MessageStatus: 'delivered' };
      const request: WebhookRequest = {
        method: 'POST',
        url: 'https://notify.example.net/webhooks/whatsapp/twilio/gw',
        headers: { 'x-twilio-signature': twilioSignature(AUTH_TOKEN, 'https://notify.example.net:443/webhooks/whatsapp/twilio/gw', params) },
        rawBody: new URLSearchParams(params).toString(),
      };
      expect(twilioWhatsApp.verifySignature(request, gateway)).toBe(true);
    });
  });

  describe('lookup', () => {
    const query = (providerMessageId?: string) => ({
      messageId: '01JNMSG0000000000000000000',
      to: CUSTOMER,
      text: 'Dear Rahim, your bill of BDT 1,200 is due on 5 Dec.',
      sentAfter: new Date(Date.now() - 1000).toISOString(),
      ...(providerMessageId ? { providerMessageId } : {}),
    });

    it('fetches a message by sid and answers its status, a WhatsApp failure in words', async () => {
      const read = await twilioWhatsApp.send(text(CUSTOMER), gateway, ctx);
      const failed = await twilioWhatsApp.send(text('+8801711063016'), gateway, ctx);
      await fake.settled();

      expect(await twilioWhatsApp.lookup!(query(read.providerMessageId), gateway, ctx)).toEqual({
        found: true,
        providerMessageId: read.providerMessageId,
        status: { providerMessageId: read.providerMessageId, status: 'read', providerStatus: 'read' },
      });
      expect(await twilioWhatsApp.lookup!(query(failed.providerMessageId), gateway, ctx)).toMatchObject({
        found: true,
        status: { status: 'failed', providerStatus: 'failed/63016', reason: expect.stringMatching(/only an approved template can be sent/) },
      });
      const fetches = fake.requests.filter((r) => r.method === 'GET');
      expect(fetches.map((r) => r.path)).toEqual([
        `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${read.providerMessageId}.json`,
        `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${failed.providerMessageId}.json`,
      ]);
      expect(await twilioWhatsApp.lookup!(query(`SM${'8'.repeat(32)}`), gateway, ctx)).toEqual({ found: false });
    });

    it('cannot search for a message whose sid was lost: ProviderUnavailable, without asking Twilio', async () => {
      const error = await rejection(twilioWhatsApp.lookup!(query(), gateway, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('lookup-unsupported');
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('gateway configuration', () => {
    it('accepts a sender with or without the whatsapp: prefix, or a messaging service, and content templates', () => {
      expect(twilioWhatsApp.settings.parse({ from: `whatsapp:${SENDER}` })).toEqual({ from: SENDER });
      expect(twilioWhatsApp.settings.parse({ from: ` ${SENDER} `, contentTemplates: { due_reminder: HX_DUE } })).toEqual({ from: SENDER, contentTemplates: { due_reminder: HX_DUE } });
      expect(twilioWhatsApp.settings.parse({ messagingServiceSid: SERVICE_SID })).toEqual({ messagingServiceSid: SERVICE_SID });
    });

    it('refuses an alphanumeric sender, a bad Content SID, neither or both senders, and an apiBaseUrl', () => {
      const alphanumeric = twilioWhatsApp.settings.safeParse({ from: 'ISPNet' });
      expect(alphanumeric.success).toBe(false);
      expect(alphanumeric.error!.issues[0]).toMatchObject({ path: ['from'], message: expect.stringMatching(/E\.164/) });

      const badSid = twilioWhatsApp.settings.safeParse({ from: SENDER, contentTemplates: { due_reminder: 'due_reminder' } });
      expect(badSid.success).toBe(false);
      expect(badSid.error!.issues[0]).toMatchObject({ path: ['contentTemplates', 'due_reminder'], message: expect.stringMatching(/Content SID.*"HX"/) });

      for (const input of [{}, { from: SENDER, messagingServiceSid: SERVICE_SID }]) {
        const result = twilioWhatsApp.settings.safeParse(input);
        expect(result.success).toBe(false);
        expect(result.error!.issues[0]!.message).toMatch(/exactly one of "from".*"messagingServiceSid"/);
      }

      const withUrl = twilioWhatsApp.settings.safeParse({ from: SENDER, apiBaseUrl: 'http://127.0.0.1:4010/reflect' });
      expect(withUrl.success).toBe(false);
      expect(withUrl.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['apiBaseUrl'] }));
    });
  });
});
