import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { paymentProvider } from '../../../shared/adapters/payments/registry.js';
import { stripeCheckoutForm, stripePayments } from '../../../shared/adapters/payments/stripe.js';
import { DomainError, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { CheckoutRequest, PaymentProvider, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { paidSession, signedStripeWebhook, startFakeStripe, stripeEvent, stripeV1, type FakeStripe } from '../../support/fake-stripe.js';
import { freePortThatRefuses } from '../../support/net.js';

const SECRET_KEY = 'sk_test_51Pq0abcDEFghiJKLmnoPQRstuVWXyz0123456789';
const WEBHOOK_SECRET = 'whsec_0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const ENV = { STRIPE_SECRET_KEY: SECRET_KEY, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET };

const NOW = new Date('2025-03-01T10:00:00.000Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => NOW } };

const WEBHOOK_URL = 'https://notify.example.net/webhooks/payments/stripe';
const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_STRIPE';

const checkout = (overrides: Partial<CheckoutRequest> = {}): CheckoutRequest => ({
  reference: 'topup:01JNTOPUP0000000000000000A',
  amount: 250000,
  currency: 'BDT',
  description: 'SMS credit top-up (BDT 2,500)',
  successUrl: 'https://console.example.net/billing/paid?session={CHECKOUT_SESSION_ID}',
  cancelUrl: 'https://console.example.net/billing',
  notifyUrl: 'https://notify.example.net/webhooks/payments/stripe',
  customerEmail: 'billing@dhaka-net.example.com',
  ...overrides,
});

function setBaseUrl(value: string | undefined): void {
  if (value === undefined) delete process.env[BASE_URL_VARIABLE];
  else process.env[BASE_URL_VARIABLE] = value;
}

describe('Stripe payments', () => {
  const baseUrlBefore = process.env[BASE_URL_VARIABLE];
  let fake: FakeStripe;
  let stripe: PaymentProvider;

  beforeEach(async () => {
    fake = await startFakeStripe({ secretKey: SECRET_KEY, now: () => NOW });
    setBaseUrl(fake.baseUrl);
    stripe = stripePayments(ENV)!;
  });

  afterEach(async () => {
    setBaseUrl(baseUrlBefore);
    await fake.close();
  });

  describe('configuration', () => {
    it('is undefined without STRIPE_SECRET_KEY (absent or blank), and reads no other variable for it', () => {
      expect(stripePayments({})).toBeUndefined();
      expect(stripePayments({ STRIPE_SECRET_KEY: '  ', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET })).toBeUndefined();
      expect(stripePayments({ STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET })).toBeUndefined();
      expect(stripePayments(ENV)?.id).toBe('stripe');
    });

    it('reads process.env by default', () => {
      const before = { key: process.env.STRIPE_SECRET_KEY, secret: process.env.STRIPE_WEBHOOK_SECRET };
      try {
        delete process.env.STRIPE_SECRET_KEY;
        expect(stripePayments()).toBeUndefined();
        process.env.STRIPE_SECRET_KEY = SECRET_KEY;
        expect(stripePayments()?.id).toBe('stripe');
      } finally {
        if (before.key === undefined) delete process.env.STRIPE_SECRET_KEY;
        else process.env.STRIPE_SECRET_KEY = before.key;
        if (before.secret === undefined) delete process.env.STRIPE_WEBHOOK_SECRET;
        else process.env.STRIPE_WEBHOOK_SECRET = before.secret;
      }
    });

    it('is found in the registry by id, configured from the env given', () => {
      expect(paymentProvider('stripe', ENV)?.id).toBe('stripe');
      expect(paymentProvider('stripe', {})).toBeUndefined();
      expect(paymentProvider('sslcommerz', { SSLCOMMERZ_STORE_ID: 'teststore', SSLCOMMERZ_STORE_PASSWORD: 'teststore@ssl' })?.id).toBe('sslcommerz');
      expect(paymentProvider('paypal', ENV)).toBeUndefined();
      expect(paymentProvider('toString', ENV)).toBeUndefined();
      expect(paymentProvider('__proto__', ENV)).toBeUndefined();
    });
  });

  describe('creating a Checkout Session', () => {
    it('posts exactly the documented form with the secret key as a bearer token, and returns the session id and page', async () => {
      const session = await stripe.createCheckout(checkout(), ctx);

      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/v1/checkout/sessions');
      expect(request.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect([...new URLSearchParams(request.rawBody)]).toEqual([
        ['mode', 'payment'],
        ['line_items[0][price_data][currency]', 'bdt'],
        ['line_items[0][price_data][unit_amount]', '250000'],
        ['line_items[0][price_data][product_data][name]', 'SMS credit top-up (BDT 2,500)'],
        ['line_items[0][quantity]', '1'],
        ['client_reference_id', 'topup:01JNTOPUP0000000000000000A'],
        ['success_url', 'https://console.example.net/billing/paid?session={CHECKOUT_SESSION_ID}'],
        ['cancel_url', 'https://console.example.net/billing'],
        ['customer_email', 'billing@dhaka-net.example.com'],
      ]);
      // Brackets and braces are percent-encoded on the wire, as curl --data-urlencode would.
      expect(request.rawBody).toContain('line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=bdt');
      expect(request.rawBody).not.toContain('notify.example.net');

      expect(request.replyStatus).toBe(200);
      const created = fake.sessions.get(session.sessionId)!;
      expect(created).toMatchObject({ amount_total: 250000, currency: 'bdt', client_reference_id: 'topup:01JNTOPUP0000000000000000A', mode: 'payment' });
      expect(session).toEqual({ sessionId: created.id, url: created.url });
      expect(session.sessionId).toMatch(/^cs_test_/);
      expect(session.url).toMatch(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    });

    it('leaves customer_email out when there is none, and sends the amount unchanged in minor units', async () => {
      await stripe.createCheckout(checkout({ customerEmail: undefined, amount: 1999, currency: 'USD' }), ctx);
      const form = fake.requests[0]!.form;
      expect(form).not.toHaveProperty('customer_email');
      expect(form['line_items[0][price_data][unit_amount]']).toBe('1999');
      expect(form['line_items[0][price_data][currency]']).toBe('usd');
      // A zero-decimal currency: the minor units are whole yen.
      expect(stripeCheckoutForm(checkout({ amount: 1500, currency: 'JPY' })).get('line_items[0][price_data][unit_amount]')).toBe('1500');
    });

    it('refuses a request it cannot send before calling Stripe', async () => {
      for (const bad of [{ amount: 0 }, { amount: -5 }, { amount: 12.5 }, { currency: 'bdt' }, { currency: 'TAKA' }, { reference: '' }, { reference: 'x'.repeat(201) }, { description: ' ' }]) {
        const error = await rejection(stripe.createCheckout(checkout(bad), ctx));
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).kind).toBe('Invalid');
      }
      expect(fake.requests).toHaveLength(0);
    });

    it('names the key problem on a 401 without repeating the key', async () => {
      const wrongKey = 'sk_test_51Pq0WRONGwrongWRONGwrong000000000000000';
      const error = await rejection(stripePayments({ STRIPE_SECRET_KEY: wrongKey })!.createCheckout(checkout(), ctx));
      expect(fake.requests[0]!.replyStatus).toBe(401);
      expect(error).not.toBeInstanceOf(ProviderUnavailable);
      expect(error).not.toBeInstanceOf(DomainError);
      expect(error.message).toMatch(/STRIPE_SECRET_KEY/);
      expect(error.message).toMatch(/401/);
      expect(error.message).not.toContain(wrongKey);
      expect(error.message).not.toContain(wrongKey.slice(-4));
      expect(error.message).not.toContain('sk_test_51');
    });

    it("passes a 400 or 402 on in Stripe's words as a plain Error", async () => {
      // The fake's own validation: USD below Stripe's minimum charge.
      const small = await rejection(stripe.createCheckout(checkout({ amount: 20, currency: 'USD' }), ctx));
      expect(fake.requests[0]!.replyStatus).toBe(400);
      expect(small).not.toBeInstanceOf(ProviderUnavailable);
      expect(small.message).toMatch(/^Stripe answered HTTP 400: The Checkout Session's total amount due must add up to at least 50 usd/);
      expect(small.message).toMatch(/amount_too_small/);

      fake.failNext(1, 402, { type: 'invalid_request_error', code: 'account_invalid', message: 'Your account cannot currently make live charges.' });
      const refused = await rejection(stripe.createCheckout(checkout(), ctx));
      expect(refused).not.toBeInstanceOf(ProviderUnavailable);
      expect(refused.message).toBe('Stripe answered HTTP 402: Your account cannot currently make live charges. (account_invalid)');

      fake.failNext(1, 400, { type: 'invalid_request_error', message: 'Invalid URL: success_url', param: 'success_url', code: 'url_invalid' });
      const badUrl = await rejection(stripe.createCheckout(checkout(), ctx));
      expect(badUrl.message).toBe('Stripe answered HTTP 400: Invalid URL: success_url (url_invalid, param success_url)');
    });

    it('answers ProviderUnavailable for 429, 5xx and an unreachable Stripe', async () => {
      fake.failNext(1, 429, { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly.' });
      const limited = await rejection(stripe.createCheckout(checkout(), ctx));
      expect(limited).toBeInstanceOf(ProviderUnavailable);
      expect(limited.message).toMatch(/HTTP 429/);

      fake.failNext(1, 500);
      const down = await rejection(stripe.createCheckout(checkout(), ctx));
      expect(down).toBeInstanceOf(ProviderUnavailable);
      expect(down.message).toMatch(/HTTP 500: An unknown error occurred/);

      setBaseUrl(`http://127.0.0.1:${await freePortThatRefuses()}`);
      const unreachable = await rejection(stripe.createCheckout(checkout(), ctx));
      expect(unreachable).toBeInstanceOf(ProviderUnavailable);
      expect(unreachable.message).toMatch(/Could not reach Stripe/);
    });

    it('goes to api.stripe.com when no override is set', async () => {
      setBaseUrl(undefined);
      const urls: string[] = [];
      const stub: ProviderContext = {
        ...ctx,
        fetch: async (input) => {
          urls.push(String(input));
          return Response.json({ id: 'cs_test_stub', object: 'checkout.session', url: 'https://checkout.stripe.com/c/pay/cs_test_stub' });
        },
      };
      expect(await stripe.createCheckout(checkout(), stub)).toEqual({ sessionId: 'cs_test_stub', url: 'https://checkout.stripe.com/c/pay/cs_test_stub' });
      expect(urls).toEqual(['https://api.stripe.com/v1/checkout/sessions']);
    });
  });

  describe('webhooks', () => {
    /** A paid session of `reference` as Stripe completes it, and its completed event. */
    async function completedEvent(type = 'checkout.session.completed', overrides: Record<string, unknown> = {}) {
      const session = await stripe.createCheckout(checkout({ amount: 150000 }), ctx);
      const paid = { ...paidSession(fake.sessions.get(session.sessionId)!), ...overrides };
      return { sessionId: session.sessionId, payload: stripeEvent(type, paid) };
    }
    const signed = (payload: string, secrets = [WEBHOOK_SECRET], timestamp = NOW_SECONDS - 2): WebhookRequest =>
      signedStripeWebhook(WEBHOOK_URL, payload, { timestamp, secrets });

    async function refusal(request: WebhookRequest, at = ctx): Promise<DomainError> {
      const error = await rejection(stripe.confirm(request, at));
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).kind).toBe('Unauthorized');
      return error as DomainError;
    }

    it('confirms a signed checkout.session.completed that is paid', async () => {
      const { sessionId, payload } = await completedEvent();
      expect(await stripe.confirm(signed(payload), ctx)).toEqual({
        paymentId: sessionId,
        reference: 'topup:01JNTOPUP0000000000000000A',
        amount: 150000,
        currency: 'BDT',
      });
    });

    it('confirms checkout.session.async_payment_succeeded for the same session id', async () => {
      const { sessionId, payload } = await completedEvent('checkout.session.async_payment_succeeded');
      expect(await stripe.confirm(signed(payload), ctx)).toMatchObject({ paymentId: sessionId, amount: 150000 });
    });

    it('accepts a header with several v1 signatures when one is right, and ignores v0', async () => {
      const { payload } = await completedEvent();
      const rolled = signedStripeWebhook(WEBHOOK_URL, payload, { timestamp: NOW_SECONDS, secrets: ['whsec_old_secret_no_longer_used', WEBHOOK_SECRET], v0: 'ab'.repeat(32) });
      expect(rolled.headers['stripe-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64},v0=/);
      expect(await stripe.confirm(rolled, ctx)).toMatchObject({ amount: 150000 });

      // Only a v0 that is right: v0 does not count.
      const v0Only: WebhookRequest = { ...rolled, headers: { ...rolled.headers, 'stripe-signature': `t=${NOW_SECONDS},v0=${stripeV1(WEBHOOK_SECRET, NOW_SECONDS, payload)}` } };
      await refusal(v0Only);
    });

    it('refuses a body signed with another secret, a tampered body, and missing or malformed headers', async () => {
      const { payload } = await completedEvent();
      expect((await refusal(signed(payload, ['whsec_someone_else_0000000000000000']))).message).toMatch(/does not match/);
      expect((await refusal({ ...signed(payload), rawBody: payload.replace('"amount_total":150000', '"amount_total":15000000') })).message).toMatch(/does not match/);
      expect((await refusal({ ...signed(payload), rawBody: `${payload}\n` })).message).toMatch(/does not match/);

      const good = signed(payload);
      const { ['stripe-signature']: header, ...unsigned } = good.headers;
      expect((await refusal({ ...good, headers: unsigned })).message).toMatch(/without a Stripe-Signature/);
      const v1 = /v1=([0-9a-f]{64})/.exec(header!)![1]!;
      for (const bad of [`v1=${v1}`, `t=${NOW_SECONDS - 2}`, `t=abc,v1=${v1}`, `t=${NOW_SECONDS - 2},t=${NOW_SECONDS},v1=${v1}`, `t=${NOW_SECONDS - 2},v1=${v1.slice(1)}`, '', 'garbage']) {
        await refusal({ ...good, headers: { ...unsigned, 'stripe-signature': bad } });
      }
      // Upper-case hex is the same signature.
      expect(await stripe.confirm({ ...good, headers: { ...unsigned, 'stripe-signature': `t=${NOW_SECONDS - 2},v1=${v1.toUpperCase()}` } }, ctx)).toMatchObject({ amount: 150000 });
    });

    it('refuses a timestamp more than 300 s away from the clock, either way, as outside the replay window', async () => {
      const { payload } = await completedEvent();
      expect(await stripe.confirm(signed(payload, [WEBHOOK_SECRET], NOW_SECONDS - 300), ctx)).toMatchObject({ amount: 150000 });
      expect(await stripe.confirm(signed(payload, [WEBHOOK_SECRET], NOW_SECONDS + 300), ctx)).toMatchObject({ amount: 150000 });
      expect((await refusal(signed(payload, [WEBHOOK_SECRET], NOW_SECONDS - 301))).message).toMatch(/replay window/);
      expect((await refusal(signed(payload, [WEBHOOK_SECRET], NOW_SECONDS + 301))).message).toMatch(/replay window/);
      // The same request, accepted now, is refused by a clock ten minutes later.
      const request = signed(payload);
      expect(await stripe.confirm(request, ctx)).toBeDefined();
      const later: ProviderContext = { ...ctx, clock: { now: () => new Date(NOW.getTime() + 10 * 60_000) } };
      expect((await refusal(request, later)).message).toMatch(/replay window/);
    });

    it('answers undefined for events that are not a paid session of ours', async () => {
      const session = await stripe.createCheckout(checkout(), ctx);
      const open = fake.sessions.get(session.sessionId)!;
      const cases = [
        stripeEvent('checkout.session.completed', paidSession(open, { payment_status: 'unpaid' })),
        stripeEvent('checkout.session.completed', paidSession(open, { payment_status: 'no_payment_required', amount_total: 0 })),
        stripeEvent('checkout.session.completed', paidSession(open, { client_reference_id: null })),
        stripeEvent('checkout.session.expired', { ...open, status: 'expired' }),
        stripeEvent('checkout.session.async_payment_failed', paidSession(open, { payment_status: 'unpaid' })),
        stripeEvent('payment_intent.succeeded', { id: 'pi_3abc', object: 'payment_intent', amount: 250000, currency: 'bdt', status: 'succeeded' }),
        stripeEvent('charge.refunded', { id: 'ch_3abc', object: 'charge', amount_refunded: 250000 }),
      ];
      for (const payload of cases) expect(await stripe.confirm(signed(payload), ctx)).toBeUndefined();
    });

    it('refuses a signed body that is not a Stripe event as Invalid', async () => {
      for (const payload of ['not json', '{"type":"checkout.session.completed"}', stripeEvent('checkout.session.completed', { id: 'cs_1', object: 'payment_intent' })]) {
        const error = await rejection(stripe.confirm(signed(payload), ctx));
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).kind).toBe('Invalid');
      }
    });

    it('cannot verify anything without STRIPE_WEBHOOK_SECRET, and says so', async () => {
      const { payload } = await completedEvent();
      const unverifiable = stripePayments({ STRIPE_SECRET_KEY: SECRET_KEY })!;
      const error = await rejection(unverifiable.confirm(signed(payload), ctx));
      expect(error).not.toBeInstanceOf(DomainError);
      expect(error.message).toMatch(/STRIPE_WEBHOOK_SECRET is not set/);
    });
  });
});
