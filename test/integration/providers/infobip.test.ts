import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { infobipSms, type InfobipCredentials, type InfobipSettings } from '../../../shared/adapters/providers/sms/infobip.js';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { startFakeInfobip, type FakeInfobip } from '../../support/fake-infobip.js';

const API_KEY = '0123456789abcdef0123456789abcdef-1a2b3c4d-1111-2222-3333-444455556666';
const WEBHOOK_SECRET = 'infobip-webhook-secret-0001';
const credentials: InfobipCredentials = { apiKey: API_KEY, webhookSecret: WEBHOOK_SECRET };
const settings: InfobipSettings = { baseUrlSubdomain: 'xk9p2', from: 'ISPNet' };
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
const VARIABLE = 'ISPNOTIFY_BASE_URL_INFOBIP';
const CALLBACK = 'https://notify.example.net/webhooks/sms/infobip/01JNGW00000000000000000000?token=' + WEBHOOK_SECRET;

function sms(to: string, text = 'Your bill of 500 BDT is due on 5 March.', statusCallbackUrl = CALLBACK): OutboundSms {
  return { messageId: '01JNMSG0000000000000000000', to, text, statusCallbackUrl };
}

async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const report = (results: unknown[], url = CALLBACK): WebhookRequest => ({
  method: 'POST',
  url,
  headers: { 'content-type': 'application/json' },
  rawBody: JSON.stringify({ results }),
});

describe('Infobip SMS provider', () => {
  let fake: FakeInfobip;
  const before = process.env[VARIABLE];

  beforeEach(async () => {
    fake = await startFakeInfobip({ apiKey: API_KEY });
    process.env[VARIABLE] = fake.baseUrl;
  });

  afterEach(async () => {
    if (before === undefined) delete process.env[VARIABLE];
    else process.env[VARIABLE] = before;
    await fake.close();
  });

  it('is registered under its id', () => {
    expect(smsProvider('infobip')).toBe(infobipSms);
  });

  describe('sending', () => {
    it('posts one advanced text message with App auth, the number without "+", the sender and a JSON notifyUrl, and returns the messageId', async () => {
      const { providerMessageId } = await infobipSms.send(sms('+8801711000001'), { credentials, settings }, ctx);

      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/sms/2/text/advanced');
      expect(request.headers.authorization).toBe(`App ${API_KEY}`);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.json).toEqual({
        messages: [
          {
            destinations: [{ to: '8801711000001' }],
            from: 'ISPNet',
            text: 'Your bill of 500 BDT is due on 5 March.',
            notifyUrl: CALLBACK,
            notifyContentType: 'application/json',
            callbackData: '01JNMSG0000000000000000000',
          },
        ],
      });
      expect(request.replyStatus).toBe(200);
      expect(providerMessageId).toMatch(/^\d+$/);
    });

    it('sends a Bangla text as it is, with no encoding flag (Infobip picks Unicode itself), and leaves notifyUrl out when there is no callback', async () => {
      const bangla = 'প্রিয় গ্রাহক, আপনার বিল ৫০০ টাকা।';
      await infobipSms.send(sms('+8801711000001', bangla, ''), { credentials, settings: { baseUrlSubdomain: 'xk9p2' } }, ctx);
      const message = (fake.requests[0]!.json as { messages: Array<Record<string, unknown>> }).messages[0]!;
      expect(message.text).toBe(bangla);
      expect(Object.keys(message).sort()).toEqual(['callbackData', 'destinations', 'text']);
    });

    it('calls the account host built from the subdomain when no override is set', async () => {
      delete process.env[VARIABLE];
      const calls: string[] = [];
      const recording: ProviderContext = {
        ...ctx,
        fetch: (async (input: string | URL | Request) => {
          calls.push(String(input));
          return Response.json({ messages: [{ to: '8801711000001', messageId: '42', status: { groupId: 1, groupName: 'PENDING' } }] });
        }) as typeof fetch,
      };
      expect(await infobipSms.send(sms('+8801711000001'), { credentials, settings }, recording)).toEqual({ providerMessageId: '42' });
      expect(calls).toEqual(['https://xk9p2.api.infobip.com/sms/2/text/advanced']);
    });
  });

  describe('errors', () => {
    it('reports an invalid destination as ProviderRejected with the status name', async () => {
      fake.outcome('+8801711000009', 'invalid-destination');
      const error = await rejection(infobipSms.send(sms('+8801711000009'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect(error.message).toMatch(/REJECTED_DESTINATION.*Invalid destination address/);
    });

    it('reports missing credit and an unregistered sender as GatewayFault', async () => {
      fake.outcome('+8801711000008', 'not-enough-credits');
      const credit = await rejection(infobipSms.send(sms('+8801711000008'), { credentials, settings }, ctx));
      expect(credit).toBeInstanceOf(GatewayFault);
      expect(credit.message).toMatch(/REJECTED_NOT_ENOUGH_CREDITS.*top it up/);

      fake.outcome('+8801711000007', 'sender-not-registered');
      expect(await rejection(infobipSms.send(sms('+8801711000007'), { credentials, settings }, ctx))).toBeInstanceOf(GatewayFault);
    });

    it('reports a wrong API key as GatewayFault without repeating the key', async () => {
      const error = await rejection(infobipSms.send(sms('+8801711000001'), { credentials: { ...credentials, apiKey: `${API_KEY}x` }, settings }, ctx));
      expect(error).toBeInstanceOf(GatewayFault);
      expect(error.message).toMatch(/UNAUTHORIZED.*Invalid login details.*API key/);
      expect(error.message).not.toContain(API_KEY);
    });

    it('reports throttling (HTTP 429), server errors and the flooding filter as ProviderUnavailable', async () => {
      fake.failNext(1, 429);
      const throttled = await rejection(infobipSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(throttled).toBeInstanceOf(ProviderUnavailable);
      expect(throttled.message).toMatch(/TOO_MANY_REQUESTS/);

      fake.failNext(1, 503);
      expect(await rejection(infobipSms.send(sms('+8801711000001'), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);

      fake.outcome('+8801711000006', 'flooding');
      expect(await rejection(infobipSms.send(sms('+8801711000006'), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);
    });

    it('reports a refused connection as ProviderUnavailable', async () => {
      process.env[VARIABLE] = `http://127.0.0.1:${await refusedPort()}`;
      const error = await rejection(infobipSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('network');
    });
  });

  describe('delivery reports', () => {
    it('parses a delivered and an undeliverable report to our statuses', () => {
      const updates = infobipSms.parseWebhook(
        report([
          { messageId: '111', to: '8801711000001', status: { groupId: 3, groupName: 'DELIVERED', id: 5, name: 'DELIVERED_TO_HANDSET', description: 'Message delivered to handset' }, error: { groupId: 0, groupName: 'OK', id: 0, name: 'NO_ERROR', description: 'No Error', permanent: false } },
          { messageId: '222', to: '8801711000002', status: { groupId: 2, groupName: 'UNDELIVERABLE', id: 9, name: 'UNDELIVERABLE_NOT_DELIVERED', description: 'Message sent not delivered' }, error: { groupId: 1, groupName: 'HANDSET_ERRORS', id: 27, name: 'EC_ABSENT_SUBSCRIBER', description: 'Absent Subscriber', permanent: false } },
        ]),
      );
      expect(updates).toEqual([
        { providerMessageId: '111', status: 'delivered', providerStatus: 'DELIVERED_TO_HANDSET' },
        { providerMessageId: '222', status: 'failed', providerStatus: 'UNDELIVERABLE_NOT_DELIVERED/EC_ABSENT_SUBSCRIBER', reason: 'Infobip EC_ABSENT_SUBSCRIBER: Absent Subscriber' },
      ]);
    });

    it('records PENDING_ENROUTE as sent, drops other pending statuses and fails expired messages', () => {
      expect(infobipSms.parseWebhook(report([{ messageId: '1', status: { groupName: 'PENDING', name: 'PENDING_ENROUTE' } }]))).toEqual([
        { providerMessageId: '1', status: 'sent', providerStatus: 'PENDING_ENROUTE' },
      ]);
      expect(infobipSms.parseWebhook(report([{ messageId: '1', status: { groupName: 'PENDING', name: 'PENDING_ACCEPTED' } }]))).toEqual([]);
      expect(infobipSms.parseWebhook(report([{ messageId: '1', status: { groupName: 'EXPIRED', name: 'EXPIRED_EXPIRED' } }]))[0]).toMatchObject({ status: 'failed' });
    });

    it('refuses a report that is not JSON or has no results as invalid input', () => {
      for (const rawBody of ['not json', '{"messages":[]}', '{"results":[{"status":{"groupName":"DELIVERED"}}]}']) {
        let thrown: unknown;
        try {
          infobipSms.parseWebhook({ method: 'POST', url: CALLBACK, headers: {}, rawBody });
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(DomainError);
        expect((thrown as DomainError).kind).toBe('Invalid');
      }
    });

    it('accepts a report whose URL carries the webhook secret as token and refuses a missing or forged token', () => {
      expect(infobipSms.verifySignature(report([]), { credentials, settings })).toBe(true);
      expect(infobipSms.verifySignature(report([], CALLBACK.replace(/token=.*/, 'token=forged-token-0000000000')), { credentials, settings })).toBe(false);
      expect(infobipSms.verifySignature(report([], CALLBACK.replace(/\?token=.*/, '')), { credentials, settings })).toBe(false);
    });
  });

  describe('gateway configuration', () => {
    it('accepts good credentials and settings', () => {
      expect(infobipSms.credentials.parse(credentials)).toEqual(credentials);
      expect(infobipSms.settings.parse(settings)).toEqual(settings);
      expect(infobipSms.settings.parse({ baseUrlSubdomain: 'abc123', from: '8801711000000' })).toEqual({ baseUrlSubdomain: 'abc123', from: '8801711000000' });
    });

    it('refuses a subdomain that is a URL, a host or has other characters', () => {
      for (const baseUrlSubdomain of ['https://xk9p2.api.infobip.com', 'xk9p2.api.infobip.com', 'evil.example', 'XK9P2', '', 'a'.repeat(41), 'x/../y']) {
        const result = infobipSms.settings.safeParse({ baseUrlSubdomain });
        expect(result.success).toBe(false);
        expect(result.error!.issues[0]).toMatchObject({ path: ['baseUrlSubdomain'], message: expect.stringMatching(/subdomain.*api\.infobip\.com/) });
      }
    });

    it('refuses an apiBaseUrl as an unknown field', () => {
      const result = infobipSms.settings.safeParse({ ...settings, apiBaseUrl: 'http://127.0.0.1:4010' });
      expect(result.success).toBe(false);
      expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['apiBaseUrl'] }));
    });

    it('refuses a sender id longer than 11 characters and a short webhook secret, saying why', () => {
      const from = infobipSms.settings.safeParse({ ...settings, from: 'Far Too Long Sender' });
      expect(from.error!.issues[0]).toMatchObject({ path: ['from'], message: expect.stringMatching(/alphanumeric.*1–11/) });
      const secret = infobipSms.credentials.safeParse({ ...credentials, webhookSecret: 'short' });
      expect(secret.error!.issues[0]).toMatchObject({ path: ['webhookSecret'], message: expect.stringMatching(/16/) });
    });
  });
});
