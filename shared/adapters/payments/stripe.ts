/**
 * Stripe as the platform's payment provider: a hosted Checkout Session per payment
 * (POST /v1/checkout/sessions, form-encoded, the secret key as a bearer token), and the
 * `checkout.session.completed` / `checkout.session.async_payment_succeeded` webhooks, signed with
 * the endpoint's secret in the Stripe-Signature header.
 *
 * Configuration is the deployment's, never a tenant's: STRIPE_SECRET_KEY (sk_live_…, sk_test_… or a
 * restricted rk_… key allowed to write Checkout Sessions) and STRIPE_WEBHOOK_SECRET (whsec_…, the
 * signing secret of the webhook endpoint set in Stripe's dashboard; Stripe takes no per-session
 * notification URL, so `notifyUrl` is not sent). Requests go to https://api.stripe.com; tests and
 * staging point them elsewhere with ISPNOTIFY_BASE_URL_STRIPE (see ../providers/base-url.ts).
 *
 * Amounts: `unit_amount` is in the currency's smallest unit, which is what CheckoutRequest.amount
 * already is, so it is sent unchanged. For zero-decimal currencies (JPY, KRW, VND…) that is whole
 * units, as in ISO 4217. Stripe has exceptions of its own (ISK and UGX count as two-decimal in its
 * API, HUF and TWD payouts need multiples of 100, three-decimal currencies such as KWD need a last
 * digit of 0); a caller charging in those must pass an amount Stripe accepts. Stripe's answer is
 * passed on in its own words when it does not.
 *
 * Signatures: Stripe-Signature is `t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`. Each v1 is the
 * HMAC-SHA256, under the endpoint secret, of `${t}.${raw body}`; several appear while a secret is
 * being rolled, and one match is enough. Only v1 counts (v0 is a test-mode scheme Stripe no longer
 * recommends). The timestamp must be within 300 seconds of ctx.clock (Stripe's default tolerance),
 * either way, so a captured request cannot be replayed later.
 *
 * Replays inside those 300 seconds, and Stripe's own retries (the same event may come many times,
 * for up to three days, and both `completed` and `async_payment_succeeded` name the same session),
 * are the caller's to absorb: credit once per ConfirmedPayment.paymentId (the Checkout Session id).
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { invalid, ProviderUnavailable, unauthorized } from '../../domain/errors.js';
import type { CheckoutRequest, CheckoutSession, ConfirmedPayment, PaymentProvider, ProviderContext, WebhookRequest } from '../../ports.js';
import { safeExcerpt } from '../outbound/excerpt.js';
import { providerBaseUrl } from '../providers/base-url.js';
import { postForm, timingSafeEqualStrings, type HttpReply } from '../providers/http.js';

export const STRIPE_API_BASE_URL = 'https://api.stripe.com';

/** Stripe's default tolerance between the signed timestamp and now, in seconds. */
export const STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300;

/** Stripe's limit for client_reference_id. */
const MAX_CLIENT_REFERENCE = 200;

const CURRENCY = /^[A-Z]{3}$/;

/** The Stripe-Signature value for `payload` signed at `timestamp` (unix seconds): for tests and tools. */
export function stripeSignature(secret: string, timestamp: number, payload: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
}

/** The form Stripe documents for a one-line hosted Checkout Session in payment mode. */
export function stripeCheckoutForm(request: CheckoutRequest): URLSearchParams {
  checkRequest(request);
  const form = new URLSearchParams();
  form.append('mode', 'payment');
  form.append('line_items[0][price_data][currency]', request.currency.toLowerCase());
  form.append('line_items[0][price_data][unit_amount]', String(request.amount));
  form.append('line_items[0][price_data][product_data][name]', request.description);
  form.append('line_items[0][quantity]', '1');
  form.append('client_reference_id', request.reference);
  form.append('success_url', request.successUrl);
  form.append('cancel_url', request.cancelUrl);
  if (request.customerEmail !== undefined) form.append('customer_email', request.customerEmail);
  return form;
}

function checkRequest(request: CheckoutRequest): void {
  if (!Number.isSafeInteger(request.amount) || request.amount <= 0) {
    throw invalid('The amount must be a positive whole number of minor units (cents, poisha).', [{ field: 'amount', message: 'must be a positive integer' }]);
  }
  if (!CURRENCY.test(request.currency)) {
    throw invalid('The currency must be an ISO 4217 code in upper case, such as BDT or USD.', [{ field: 'currency', message: 'must be three upper-case letters' }]);
  }
  if (request.reference === '' || request.reference.length > MAX_CLIENT_REFERENCE) {
    throw invalid(`The reference must be 1 to ${MAX_CLIENT_REFERENCE} characters (Stripe's client_reference_id).`, [{ field: 'reference', message: 'bad length' }]);
  }
  if (request.description.trim() === '') {
    throw invalid('The description names the line item on the payment page and cannot be empty.', [{ field: 'description', message: 'required' }]);
  }
}

const StripeError = z.object({
  error: z.object({
    message: z.string().optional(),
    type: z.string().optional(),
    code: z.string().optional(),
    param: z.string().optional(),
  }),
});

const CreatedSession = z.object({ id: z.string().min(1), url: z.url() });

/** The error a failed Checkout Session request means. */
function checkoutFailure(reply: HttpReply): Error {
  const parsed = StripeError.safeParse(reply.json);
  const detail = parsed.success ? parsed.data.error : undefined;
  const code = detail?.code ?? detail?.type;
  if (reply.status === 401) {
    // Stripe's own message repeats part of the key: it is left out.
    return new Error('Stripe refused STRIPE_SECRET_KEY (HTTP 401): the key is wrong, revoked, or not a secret key; set a valid sk_… key.');
  }
  if (reply.status === 403) {
    return new Error('Stripe refused the request with STRIPE_SECRET_KEY (HTTP 403): a restricted key needs write access to Checkout Sessions.');
  }
  const words = detail?.message ? safeExcerpt(detail.message, 300) : safeExcerpt(reply.text) || 'no details';
  const suffix = [code, detail?.param ? `param ${detail.param}` : undefined].filter(Boolean).join(', ');
  const message = `Stripe answered HTTP ${reply.status}: ${words}${suffix ? ` (${suffix})` : ''}`;
  if (reply.status === 429 || reply.status === 408 || reply.status >= 500) return new ProviderUnavailable(message, code);
  return new Error(message);
}

// ---- webhooks ----

const Session = z.object({
  id: z.string().min(1),
  object: z.literal('checkout.session'),
  client_reference_id: z.string().nullable().optional(),
  amount_total: z.number().int().nonnegative().nullable().optional(),
  currency: z.string().nullable().optional(),
  payment_status: z.string(),
});

const Event = z.object({
  id: z.string(),
  type: z.string(),
  data: z.object({ object: z.unknown() }),
});

/** Events that mean a Checkout Session's payment is done (async methods such as bank debits confirm later). */
const PAID_EVENTS = new Set(['checkout.session.completed', 'checkout.session.async_payment_succeeded']);

interface ParsedSignature {
  timestamp: number;
  v1: string[];
}

function parseSignatureHeader(header: string): ParsedSignature | undefined {
  let timestamp: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (key === 'v1') {
      v1.push(value.toLowerCase());
    }
  }
  if (timestamp === undefined || v1.length === 0) return undefined;
  return { timestamp, v1 };
}

/**
 * Checks a webhook's Stripe-Signature against `secret` at `now`: throws DomainError Unauthorized
 * when it is missing, malformed, matches no v1 signature, or is outside the tolerance window.
 */
export function verifyStripeSignature(request: WebhookRequest, secret: string, now: Date, toleranceSeconds = STRIPE_SIGNATURE_TOLERANCE_SECONDS): void {
  const header = request.headers['stripe-signature'];
  if (!header) throw unauthorized('Stripe webhook without a Stripe-Signature header.');
  const parsed = parseSignatureHeader(header);
  if (!parsed) throw unauthorized('Stripe webhook with a malformed Stripe-Signature header (no t= or no v1=).');
  const expected = stripeSignature(secret, parsed.timestamp, request.rawBody);
  let matched = false;
  // Every candidate is compared (in constant time each), whether or not an earlier one matched.
  for (const candidate of parsed.v1) {
    if (timingSafeEqualStrings(candidate, expected)) matched = true;
  }
  if (!matched) throw unauthorized('Stripe webhook signature does not match (wrong endpoint secret or altered body).');
  const ageSeconds = Math.abs(Math.floor(now.getTime() / 1000) - parsed.timestamp);
  if (ageSeconds > toleranceSeconds) {
    throw unauthorized(`Stripe webhook timestamp is ${ageSeconds} s away from now, outside the ${toleranceSeconds} s replay window.`);
  }
}

/** The payment a verified event body confirms, or undefined for any other event. */
function paymentOf(rawBody: string): ConfirmedPayment | undefined {
  let json: unknown;
  try {
    json = JSON.parse(rawBody) as unknown;
  } catch {
    throw invalid('Stripe webhook body is not JSON.');
  }
  const event = Event.safeParse(json);
  if (!event.success) throw invalid('Stripe webhook body is not a Stripe event.');
  if (!PAID_EVENTS.has(event.data.type)) return undefined;
  const session = Session.safeParse(event.data.data.object);
  if (!session.success) throw invalid(`Stripe ${event.data.type} event without a Checkout Session.`);
  const { id, client_reference_id: reference, amount_total: amount, currency, payment_status: status } = session.data;
  // 'unpaid' (an async method still pending) and 'no_payment_required' credit nothing.
  if (status !== 'paid') return undefined;
  // A session we did not create (a Payment Link, the dashboard) carries no reference of ours.
  if (!reference) return undefined;
  if (amount === null || amount === undefined || !currency) throw invalid(`Stripe session ${safeExcerpt(id, 80)} is paid but has no amount_total or currency.`);
  return { paymentId: id, reference, amount, currency: currency.toUpperCase() };
}

/** Stripe as the platform's payment provider, or undefined when STRIPE_SECRET_KEY is not set. */
export function stripePayments(env: NodeJS.ProcessEnv = process.env): PaymentProvider | undefined {
  const secretKey = env.STRIPE_SECRET_KEY?.trim();
  if (!secretKey) return undefined;
  const webhookSecret = env.STRIPE_WEBHOOK_SECRET?.trim();

  return {
    id: 'stripe',

    async createCheckout(request: CheckoutRequest, ctx: ProviderContext): Promise<CheckoutSession> {
      const form = stripeCheckoutForm(request);
      const url = `${providerBaseUrl('stripe', STRIPE_API_BASE_URL)}/v1/checkout/sessions`;
      const reply = await postForm(ctx, url, form, { provider: 'Stripe', headers: { authorization: `Bearer ${secretKey}` } });
      if (!reply.ok) throw checkoutFailure(reply);
      const session = CreatedSession.safeParse(reply.json);
      if (!session.success) {
        throw new ProviderUnavailable(`Stripe answered HTTP ${reply.status} without a session id and url: ${safeExcerpt(reply.text) || 'empty body'}`);
      }
      return { sessionId: session.data.id, url: session.data.url };
    },

    async confirm(request: WebhookRequest, ctx: ProviderContext): Promise<ConfirmedPayment | undefined> {
      if (!webhookSecret) {
        // Our misconfiguration, not the sender's: an Error (5xx) makes Stripe retry once it is fixed.
        throw new Error('STRIPE_WEBHOOK_SECRET is not set: Stripe webhooks cannot be verified.');
      }
      verifyStripeSignature(request, webhookSecret, ctx.clock.now());
      return paymentOf(request.rawBody);
    },
  };
}
