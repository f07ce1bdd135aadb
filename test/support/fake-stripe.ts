/**
 * A local stand-in for Stripe's Checkout Sessions endpoint, for tests: POST /v1/checkout/sessions,
 * form-encoded, authenticated with the secret key (Bearer, or Basic with the key as user name, as
 * Stripe accepts both). It reads the bracketed form keys as Stripe does, refuses unknown parameters
 * and bad values with Stripe's error JSON ({ error: { type, code, message, param } }), and answers
 * a `checkout.session` object with an id and a hosted page url.
 *
 * It also builds webhooks as Stripe posts them: events around a session, signed with a
 * Stripe-Signature header computed here, independently of the adapter.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { WebhookRequest } from '../../shared/ports.js';
import { listenOnLoopback } from './net.js';

export interface FakeStripeRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** The form as received, key by key (bracketed keys kept as they are). */
  form: Record<string, string>;
  replyStatus: number;
  replyBody: unknown;
}

/** A session the fake created, as Stripe would return it. */
export interface FakeStripeSession {
  id: string;
  object: 'checkout.session';
  mode: string;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'unpaid' | 'paid' | 'no_payment_required';
  amount_subtotal: number;
  amount_total: number;
  currency: string;
  client_reference_id: string | null;
  customer_email: string | null;
  success_url: string;
  cancel_url: string | null;
  url: string | null;
  livemode: false;
  metadata: Record<string, string>;
  payment_intent: string | null;
  created: number;
  expires_at: number;
}

export interface FakeStripe {
  baseUrl: string;
  requests: FakeStripeRequest[];
  sessions: Map<string, FakeStripeSession>;
  /** The next n requests answer `status` with this Stripe error (default: a 500 api_error). */
  failNext(n: number, status?: number, error?: { type: string; code?: string; message: string; param?: string }): void;
  close(): Promise<void>;
}

/** The parameters this fake knows (Stripe refuses any other with "Received unknown parameter"). */
const KNOWN = new Set([
  'mode',
  'line_items[0][price_data][currency]',
  'line_items[0][price_data][unit_amount]',
  'line_items[0][price_data][product_data][name]',
  'line_items[0][quantity]',
  'client_reference_id',
  'success_url',
  'cancel_url',
  'customer_email',
  'metadata[reference]',
]);

/** Stripe's smallest charge in some currencies (minor units); https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts */
const MINIMUM: Record<string, number> = { usd: 50, eur: 50, gbp: 30 };

function stripeError(status: number, type: string, message: string, extra: { code?: string; param?: string } = {}) {
  return {
    status,
    body: {
      error: {
        ...(extra.code ? { code: extra.code, doc_url: `https://stripe.com/docs/error-codes/${extra.code.replace(/_/g, '-')}` } : {}),
        message,
        ...(extra.param ? { param: extra.param } : {}),
        request_log_url: `https://dashboard.stripe.com/test/logs/req_${randomBytes(7).toString('hex')}`,
        type,
      },
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The key a request authenticates with: "Bearer sk_…" or Basic "sk_…:". */
function keyOf(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const bearer = /^Bearer (.+)$/.exec(authorization)?.[1];
  if (bearer) return bearer;
  const basic = /^Basic (.+)$/.exec(authorization)?.[1];
  if (basic) return Buffer.from(basic, 'base64').toString('utf8').replace(/:$/, '');
  return undefined;
}

const masked = (key: string) => `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;

export async function startFakeStripe(opts: { secretKey: string; now?: () => Date }): Promise<FakeStripe> {
  const requests: FakeStripeRequest[] = [];
  const sessions = new Map<string, FakeStripeSession>();
  let failures: { remaining: number; status: number; error: { type: string; code?: string; message: string; param?: string } } = {
    remaining: 0,
    status: 500,
    error: { type: 'api_error', message: 'An unknown error occurred' },
  };
  const now = opts.now ?? (() => new Date());

  function answer(req: IncomingMessage, form: URLSearchParams): { status: number; body: unknown } {
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      const { type, message, code, param } = failures.error;
      return stripeError(failures.status, type, message, { ...(code ? { code } : {}), ...(param ? { param } : {}) });
    }
    const key = keyOf(req.headers.authorization);
    if (key === undefined) {
      return stripeError(401, 'invalid_request_error', 'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.');
    }
    if (key !== opts.secretKey) return stripeError(401, 'invalid_request_error', `Invalid API Key provided: ${masked(key)}`);
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (path !== '/v1/checkout/sessions') return stripeError(404, 'invalid_request_error', `Unrecognized request URL (${req.method}: ${path}).`);
    if (req.method !== 'POST') return stripeError(405, 'invalid_request_error', `Unrecognized request URL (${req.method}: ${path}).`);
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return stripeError(400, 'invalid_request_error', 'Invalid request: the body must be application/x-www-form-urlencoded.');
    }

    for (const name of form.keys()) {
      if (!KNOWN.has(name)) return stripeError(400, 'invalid_request_error', `Received unknown parameter: ${name}`, { code: 'parameter_unknown', param: name });
    }
    for (const name of new Set(form.keys())) {
      if (form.getAll(name).length > 1) return stripeError(400, 'invalid_request_error', `Invalid value for ${name}: given more than once.`, { param: name });
    }
    const mode = form.get('mode');
    if (mode === null) return stripeError(400, 'invalid_request_error', 'Missing required param: mode.', { code: 'parameter_missing', param: 'mode' });
    if (mode !== 'payment') return stripeError(400, 'invalid_request_error', 'This fake only creates sessions in payment mode.', { param: 'mode' });
    const currency = form.get('line_items[0][price_data][currency]');
    if (currency === null || !/^[a-z]{3}$/.test(currency)) {
      return stripeError(400, 'invalid_request_error', 'Invalid currency: must be a supported three-letter ISO code in lowercase.', { param: 'line_items[0][price_data][currency]' });
    }
    const unitAmountText = form.get('line_items[0][price_data][unit_amount]') ?? '';
    if (!/^\d{1,12}$/.test(unitAmountText)) {
      return stripeError(400, 'invalid_request_error', 'Invalid integer: unit_amount.', { param: 'line_items[0][price_data][unit_amount]' });
    }
    const name = form.get('line_items[0][price_data][product_data][name]');
    if (!name) {
      return stripeError(400, 'invalid_request_error', 'Missing required param: line_items[0][price_data][product_data][name].', {
        code: 'parameter_missing',
        param: 'line_items[0][price_data][product_data][name]',
      });
    }
    const quantityText = form.get('line_items[0][quantity]') ?? '';
    if (!/^[1-9]\d{0,5}$/.test(quantityText)) return stripeError(400, 'invalid_request_error', 'Invalid integer: quantity.', { param: 'line_items[0][quantity]' });
    const successUrl = form.get('success_url');
    if (!successUrl || !/^https?:\/\//.test(successUrl)) {
      return stripeError(400, 'invalid_request_error', 'Not a valid URL', { code: 'url_invalid', param: 'success_url' });
    }
    const cancelUrl = form.get('cancel_url');
    if (cancelUrl !== null && !/^https?:\/\//.test(cancelUrl)) return stripeError(400, 'invalid_request_error', 'Not a valid URL', { code: 'url_invalid', param: 'cancel_url' });
    const reference = form.get('client_reference_id');
    if (reference !== null && (reference.length === 0 || reference.length > 200)) {
      return stripeError(400, 'invalid_request_error', 'client_reference_id must be at most 200 characters.', { param: 'client_reference_id' });
    }
    const email = form.get('customer_email');
    if (email !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
      return stripeError(400, 'invalid_request_error', `Invalid email address: ${email}`, { code: 'email_invalid', param: 'customer_email' });
    }
    const total = Number(unitAmountText) * Number(quantityText);
    const minimum = MINIMUM[currency];
    if (minimum !== undefined && total < minimum) {
      return stripeError(400, 'invalid_request_error', `The Checkout Session's total amount due must add up to at least ${minimum} ${currency} minor units.`, {
        code: 'amount_too_small',
      });
    }

    const created = Math.floor(now().getTime() / 1000);
    const id = `cs_test_a1${randomBytes(24).toString('base64url').replace(/[-_]/g, 'x')}`;
    const session: FakeStripeSession = {
      id,
      object: 'checkout.session',
      mode,
      status: 'open',
      payment_status: 'unpaid',
      amount_subtotal: total,
      amount_total: total,
      currency,
      client_reference_id: reference,
      customer_email: email,
      success_url: successUrl,
      cancel_url: cancelUrl,
      url: `https://checkout.stripe.com/c/pay/${id}#fidkdWxOYHwnPyd1blpxYHZxWjA0`,
      livemode: false,
      metadata: {},
      payment_intent: null,
      created,
      expires_at: created + 24 * 3600,
    };
    sessions.set(id, session);
    return { status: 200, body: session };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    readBody(req).then(
      (rawBody) => {
        const form = new URLSearchParams(rawBody);
        const { status, body } = answer(req, form);
        requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: { ...req.headers },
          rawBody,
          form: Object.fromEntries(form),
          replyStatus: status,
          replyBody: body,
        });
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${randomBytes(7).toString('hex')}` });
        res.end(JSON.stringify(body));
      },
      () => {
        res.writeHead(400);
        res.end();
      },
    );
  });
  const port = await listenOnLoopback(server);

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    sessions,
    failNext(n, status = 500, error = { type: 'api_error', message: 'An unknown error occurred' }) {
      failures = { remaining: n, status, error };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

// ---- webhooks as Stripe posts them ----

/** The session as it is once paid (what checkout.session.completed carries for a card payment). */
export function paidSession(session: FakeStripeSession, overrides: Partial<FakeStripeSession> = {}): FakeStripeSession {
  return {
    ...session,
    status: 'complete',
    payment_status: 'paid',
    url: null,
    payment_intent: `pi_${randomBytes(12).toString('hex')}`,
    ...overrides,
  };
}

/** A Stripe event of `type` around `object`, as the JSON Stripe posts. */
export function stripeEvent(type: string, object: unknown, created = 1740823200): string {
  return JSON.stringify({
    id: `evt_${randomBytes(12).toString('hex')}`,
    object: 'event',
    api_version: '2025-02-24.acacia',
    created,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  });
}

/** HMAC-SHA256 (hex) of `${timestamp}.${payload}` under `secret`: computed here, not by the adapter. */
export function stripeV1(secret: string, timestamp: number, payload: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex');
}

export interface SignOptions {
  /** Unix seconds the header carries. */
  timestamp: number;
  /** Secrets to sign with, one v1 each, in order (Stripe sends several while a secret is rolled). */
  secrets: string[];
  /** Also a v0 element (an old test-mode scheme the adapter must ignore). */
  v0?: string;
}

/** A webhook request as Stripe posts `payload`, with its Stripe-Signature header. */
export function signedStripeWebhook(url: string, payload: string, options: SignOptions): WebhookRequest {
  const parts = [`t=${options.timestamp}`, ...options.secrets.map((secret) => `v1=${stripeV1(secret, options.timestamp, payload)}`)];
  if (options.v0 !== undefined) parts.push(`v0=${options.v0}`);
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)', 'stripe-signature': parts.join(',') },
    rawBody: payload,
  };
}
