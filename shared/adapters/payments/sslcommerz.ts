/**
 * SSLCommerz (Bangladesh) as the platform's payment provider: a hosted payment session per
 * payment (POST /gwprocess/v4/api.php, form-encoded, the store id and password in the form), and
 * the IPN SSLCommerz posts to `ipn_url`, which is only a hint: every IPN is checked with the Order
 * Validation API (GET /validator/api/validationserverAPI.php) before anything is credited, and
 * only what that API answers is believed. (The IPN's verify_sign MD5 is not relied on.)
 *
 * Configuration is the deployment's: SSLCOMMERZ_STORE_ID and SSLCOMMERZ_STORE_PASSWORD. Requests go
 * to the live host https://securepay.sslcommerz.com; the sandbox (https://sandbox.sslcommerz.com,
 * with a sandbox store), tests and staging are chosen with ISPNOTIFY_BASE_URL_SSLCOMMERZ (see
 * ../providers/base-url.ts).
 *
 * Amounts: ours are integer minor units (poisha); SSLCommerz takes and answers decimal strings of
 * whole units ("1234.56"). Both ways are exact string arithmetic, never floating point. Only
 * two-decimal currencies are accepted (SSLCommerz converts non-BDT ones to BDT at its rate; the
 * validation then reports `currency_type`/`currency_amount` as asked and `currency`/`amount` in BDT).
 *
 * tran_id: SSLCommerz wants it unique per attempt and at most 30 characters, which a reference such
 * as "bill:<ULID>" plus a random part does not fit. So tran_id is the reference's first 19
 * characters (anything but letters, digits, "-" and "_" made "-") + "-" + 10 random hex
 * characters, and the whole reference travels in value_a, which the validation API gives back.
 * CheckoutSession.sessionId is that tran_id: it is what the IPN, the validation answer and
 * SSLCommerz's transaction query API all name the attempt by.
 *
 * Payment id: val_id. SSLCommerz issues it when a payment succeeds, it is what the validation API
 * is keyed by, and it stays the same across IPN retries and repeated validations (status VALID the
 * first time, VALIDATED after). bank_tran_id is the paying bank's or wallet's own reference: its
 * format and uniqueness are each channel's, not SSLCommerz's, so it is not used as the key.
 *
 * What the caller must still do: credit once per paymentId (IPNs are retried, and a genuine IPN can
 * be posted again by anyone who saw it), and credit the amount confirmed, which is what was paid,
 * not what the reference was billed. Payments SSLCommerz flags as risky (risk_level 1) are
 * confirmed like the others: SSLCommerz leaves that decision to the merchant.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { invalid, ProviderUnavailable, unauthorized } from '../../domain/errors.js';
import type { CheckoutRequest, CheckoutSession, ConfirmedPayment, PaymentProvider, ProviderContext, WebhookRequest } from '../../ports.js';
import { safeExcerpt } from '../outbound/excerpt.js';
import { providerBaseUrl } from '../providers/base-url.js';
import { httpRequest, postForm, type HttpReply } from '../providers/http.js';

export const SSLCOMMERZ_BASE_URL = 'https://securepay.sslcommerz.com';
/** The sandbox: set ISPNOTIFY_BASE_URL_SSLCOMMERZ to it (with a sandbox store's id and password). */
export const SSLCOMMERZ_SANDBOX_BASE_URL = 'https://sandbox.sslcommerz.com';

export const SSLCOMMERZ_SESSION_PATH = '/gwprocess/v4/api.php';
export const SSLCOMMERZ_VALIDATION_PATH = '/validator/api/validationserverAPI.php';

/**
 * The customer fields SSLCommerz requires but a platform payment does not have: the payer is an
 * ISP operator paying us, with no shipping. SSLCommerz mails its receipt to cus_email, so without a
 * customerEmail that receipt goes to this reserved, undeliverable address (RFC 2606).
 */
export const SSLCOMMERZ_PLACEHOLDER_CUSTOMER = {
  cus_name: 'ispnotify customer',
  cus_email: 'no-reply@example.com',
  cus_add1: 'Dhaka',
  cus_city: 'Dhaka',
  cus_postcode: '1000',
  cus_country: 'Bangladesh',
  cus_phone: '01700000000',
} as const;

const TRAN_ID_PREFIX = 19;
/** SSLCommerz's limits: tran_id string(30), product_name string(255), value_a string(255). */
const MAX_TRAN_ID = 30;
const MAX_PRODUCT_NAME = 255;
const MAX_VALUE = 255;

const CURRENCY = /^[A-Z]{3}$/;

// ---- amounts ----

/** Integer minor units as the decimal string SSLCommerz takes: 123456 → "1234.56", 5 → "0.05". */
export function minorToDecimal(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`${minor} is not a non-negative whole number of minor units.`);
  const digits = String(minor).padStart(3, '0');
  return `${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/**
 * A decimal string from SSLCommerz as integer minor units: "1234.56" → 123456, "0.05" → 5,
 * "100" → 10000, "12.5" → 1250, "10.0000" → 1000. Undefined for anything that is not a plain
 * non-negative decimal or has a non-zero digit past the second decimal (it has no exact value in
 * minor units).
 */
export function decimalToMinor(text: string): number | undefined {
  const match = /^(\d{1,15})(?:\.(\d{1,12}))?$/.exec(text.trim());
  if (!match) return undefined;
  const whole = match[1]!;
  const fraction = match[2] ?? '';
  if (/[1-9]/.test(fraction.slice(2))) return undefined;
  const minor = Number(whole) * 100 + Number(fraction.slice(0, 2).padEnd(2, '0'));
  return Number.isSafeInteger(minor) ? minor : undefined;
}

/** ISO 4217 codes this runtime knows (Intl formats any well-formed code, so it is asked for its list). */
const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** How many decimals an ISO 4217 currency has (2 for BDT and USD, 0 for JPY, 3 for KWD); undefined if unknown. */
function fractionDigits(currency: string): number | undefined {
  if (!KNOWN_CURRENCIES.has(currency)) return undefined;
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
}

// ---- sessions ----

/** A tran_id for one attempt to pay `reference`: its first characters, "-", and a random part. */
export function sslcommerzTranId(reference: string, random: string = randomBytes(5).toString('hex')): string {
  const prefix = reference.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, TRAN_ID_PREFIX);
  return `${prefix}-${random}`.slice(0, MAX_TRAN_ID);
}

/** The reference part a tran_id made by sslcommerzTranId starts with. */
function tranIdPrefix(reference: string): string {
  return `${reference.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, TRAN_ID_PREFIX)}-`;
}

function checkRequest(request: CheckoutRequest): void {
  if (!Number.isSafeInteger(request.amount) || request.amount <= 0) {
    throw invalid('The amount must be a positive whole number of minor units (poisha).', [{ field: 'amount', message: 'must be a positive integer' }]);
  }
  if (!CURRENCY.test(request.currency) || fractionDigits(request.currency) !== 2) {
    throw invalid('SSLCommerz takes amounts with two decimals: the currency must be an upper-case ISO 4217 code with two decimals, such as BDT or USD.', [
      { field: 'currency', message: 'must be a two-decimal ISO 4217 code' },
    ]);
  }
  if (request.reference === '' || request.reference.length > MAX_VALUE) {
    throw invalid(`The reference must be 1 to ${MAX_VALUE} characters (SSLCommerz's value_a).`, [{ field: 'reference', message: 'bad length' }]);
  }
  if (request.description.trim() === '') {
    throw invalid('The description names the product on the payment page and cannot be empty.', [{ field: 'description', message: 'required' }]);
  }
}

/** The session form, without the store credentials. */
export function sslcommerzSessionForm(request: CheckoutRequest, tranId: string): Record<string, string> {
  checkRequest(request);
  return {
    total_amount: minorToDecimal(request.amount),
    currency: request.currency,
    tran_id: tranId,
    success_url: request.successUrl,
    // We have one page for "not paid": a failure and a cancellation both land there.
    fail_url: request.cancelUrl,
    cancel_url: request.cancelUrl,
    ipn_url: request.notifyUrl,
    product_name: Array.from(request.description.trim()).slice(0, MAX_PRODUCT_NAME).join(''),
    product_category: 'SMS credit',
    product_profile: 'non-physical-goods',
    shipping_method: 'NO',
    num_of_item: '1',
    emi_option: '0',
    ...SSLCOMMERZ_PLACEHOLDER_CUSTOMER,
    ...(request.customerEmail !== undefined ? { cus_email: request.customerEmail } : {}),
    value_a: request.reference,
  };
}

const SessionReply = z.object({
  status: z.string(),
  failedreason: z.string().nullable().optional(),
  sessionkey: z.string().nullable().optional(),
  GatewayPageURL: z.string().nullable().optional(),
});

/** What SSLCommerz says when the store id or password is wrong, or the store is not active. */
const CREDENTIAL_TROUBLE = /credential|de-?active|inactive|store id|password/i;

function httpFailure(reply: HttpReply, what: string): Error {
  const detail = `SSLCommerz answered HTTP ${reply.status} to ${what}${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`;
  if (reply.status === 429 || reply.status === 408 || reply.status >= 500) return new ProviderUnavailable(detail);
  return new Error(detail);
}

// ---- IPN and validation ----

const Validation = z.object({
  status: z.string(),
  APIConnect: z.string().optional(),
  tran_id: z.string().optional(),
  val_id: z.string().optional(),
  amount: z.string().optional(),
  currency: z.string().optional(),
  currency_type: z.string().optional(),
  currency_amount: z.string().optional(),
  value_a: z.string().nullable().optional(),
});
type Validation = z.infer<typeof Validation>;

const PAID = new Set(['VALID', 'VALIDATED']);
/** What an IPN's val_id may look like: printable ASCII, bounded (it goes into a query string). */
const VAL_ID = /^[\x21-\x7E]{1,100}$/;

/** The amount paid as SSLCommerz's validation states it: in the currency asked for when it says so. */
function paidAmount(v: Validation): { amount: number; currency: string } | undefined {
  const [text, currency] = v.currency_type && v.currency_amount ? [v.currency_amount, v.currency_type] : [v.amount, v.currency];
  if (text === undefined || currency === undefined) return undefined;
  const amount = decimalToMinor(text);
  return amount === undefined ? undefined : { amount, currency: currency.trim().toUpperCase() };
}

/** Throws Unauthorized when the IPN states an amount or currency the validation does not. */
function checkIpnAgrees(ipn: URLSearchParams, v: Validation): void {
  const pairs: [string, string | undefined][] = [
    ['amount', v.amount],
    ['currency', v.currency],
    ['currency_amount', v.currency_amount],
    ['currency_type', v.currency_type],
  ];
  for (const [field, validated] of pairs) {
    const stated = ipn.get(field);
    if (stated === null || validated === undefined) continue;
    const agrees = field.endsWith('amount')
      ? decimalToMinor(stated) !== undefined && decimalToMinor(stated) === decimalToMinor(validated)
      : stated.trim().toUpperCase() === validated.trim().toUpperCase();
    if (!agrees) throw unauthorized(`SSLCommerz IPN states ${field} ${safeExcerpt(stated, 20)} but the validation API says ${safeExcerpt(validated, 20)}.`);
  }
}

/** SSLCommerz as the platform's payment provider, or undefined without a store id and password. */
export function sslcommerzPayments(env: NodeJS.ProcessEnv = process.env): PaymentProvider | undefined {
  const storeId = env.SSLCOMMERZ_STORE_ID?.trim();
  const storePassword = env.SSLCOMMERZ_STORE_PASSWORD?.trim();
  if (!storeId || !storePassword) return undefined;
  const baseUrl = () => providerBaseUrl('sslcommerz', SSLCOMMERZ_BASE_URL);

  async function validate(valId: string, ctx: ProviderContext): Promise<Validation> {
    const query = new URLSearchParams({ val_id: valId, store_id: storeId!, store_passwd: storePassword!, v: '1', format: 'json' });
    const reply = await httpRequest(ctx, `${baseUrl()}${SSLCOMMERZ_VALIDATION_PATH}?${query.toString()}`, { method: 'GET', headers: { accept: 'application/json' } }, { provider: 'SSLCommerz' });
    if (!reply.ok) throw httpFailure(reply, 'the order validation');
    const parsed = Validation.safeParse(reply.json);
    if (!parsed.success) throw new ProviderUnavailable(`SSLCommerz's order validation answered without a status: ${safeExcerpt(reply.text) || 'empty body'}`);
    return parsed.data;
  }

  return {
    id: 'sslcommerz',

    async createCheckout(request: CheckoutRequest, ctx: ProviderContext): Promise<CheckoutSession> {
      const tranId = sslcommerzTranId(request.reference);
      const form = { store_id: storeId, store_passwd: storePassword, ...sslcommerzSessionForm(request, tranId) };
      const reply = await postForm(ctx, `${baseUrl()}${SSLCOMMERZ_SESSION_PATH}`, form, { provider: 'SSLCommerz' });
      if (!reply.ok) throw httpFailure(reply, 'the session request');
      const parsed = SessionReply.safeParse(reply.json);
      if (!parsed.success) throw new ProviderUnavailable(`SSLCommerz answered the session request without a status: ${safeExcerpt(reply.text) || 'empty body'}`);
      const { status, failedreason, GatewayPageURL: url } = parsed.data;
      if (status.toUpperCase() !== 'SUCCESS') {
        const reason = safeExcerpt(failedreason ?? '', 300) || `status ${safeExcerpt(status, 40)}`;
        if (CREDENTIAL_TROUBLE.test(reason)) {
          throw new Error(`SSLCommerz refused the store (check SSLCOMMERZ_STORE_ID and SSLCOMMERZ_STORE_PASSWORD, and the base URL's live or sandbox host): ${reason}`);
        }
        throw new Error(`SSLCommerz refused the payment session: ${reason}`);
      }
      if (!url || !/^https?:\/\//i.test(url)) {
        throw new Error('SSLCommerz created the session but gave no GatewayPageURL (is any payment method enabled for the store?).');
      }
      return { sessionId: tranId, url };
    },

    async confirm(request: WebhookRequest, ctx: ProviderContext): Promise<ConfirmedPayment | undefined> {
      const ipn = new URLSearchParams(request.rawBody);
      const ipnStatus = ipn.get('status')?.trim().toUpperCase();
      // FAILED, CANCELLED, UNATTEMPTED, EXPIRED: nothing to credit, and nothing to ask.
      if (ipnStatus !== undefined && !PAID.has(ipnStatus)) return undefined;
      const valId = ipn.get('val_id')?.trim();
      if (!valId) throw invalid('SSLCommerz IPN without val_id.');
      if (!VAL_ID.test(valId)) throw invalid('SSLCommerz IPN with a malformed val_id.');

      const v = await validate(valId, ctx);
      if (v.APIConnect !== undefined && v.APIConnect !== 'DONE') {
        if (v.APIConnect === 'INVALID_REQUEST') throw unauthorized('SSLCommerz does not accept this val_id (APIConnect INVALID_REQUEST).');
        throw new Error(`SSLCommerz refused the order validation (APIConnect ${safeExcerpt(v.APIConnect, 30)}): check SSLCOMMERZ_STORE_ID and SSLCOMMERZ_STORE_PASSWORD.`);
      }
      const status = v.status.trim().toUpperCase();
      if (status === 'INVALID_TRANSACTION') throw unauthorized('SSLCommerz knows no payment with this val_id: the IPN is forged.');
      if (!PAID.has(status)) return undefined;

      const ipnTranId = ipn.get('tran_id');
      if (!v.tran_id || ipnTranId === null || ipnTranId !== v.tran_id) {
        throw unauthorized('SSLCommerz IPN names another tran_id than the validated payment.');
      }
      if (v.val_id !== undefined && v.val_id !== valId) throw unauthorized('SSLCommerz validated another val_id than the IPN names.');
      checkIpnAgrees(ipn, v);

      const reference = v.value_a ?? '';
      // A payment of the store made by something else than this adapter: not one of ours to credit.
      if (!reference) return undefined;
      if (!v.tran_id.startsWith(tranIdPrefix(reference))) {
        throw unauthorized('SSLCommerz payment whose tran_id was not made for its reference (value_a).');
      }
      const paid = paidAmount(v);
      if (!paid || !CURRENCY.test(paid.currency)) throw new ProviderUnavailable('SSLCommerz validated the payment without a readable amount and currency.');
      return { paymentId: valId, reference, amount: paid.amount, currency: paid.currency };
    },
  };
}
