/**
 * A local stand-in for SSLCommerz, for tests:
 *  - POST /gwprocess/v4/api.php (form-encoded, store_id and store_passwd in the form) checks the
 *    store, the mandatory fields and the decimal total_amount, and answers
 *    { status: 'SUCCESS', sessionkey, GatewayPageURL, … } or { status: 'FAILED', failedreason };
 *  - GET /validator/api/validationserverAPI.php?val_id&store_id&store_passwd&format=json answers
 *    the payment behind a val_id: status VALID the first time, VALIDATED after, and
 *    INVALID_TRANSACTION for a val_id it never issued.
 *
 * `pay(tranId)` plays the payer: it completes a session and returns the IPN fields SSLCommerz would
 * post to the session's ipn_url; `ipnRequest` turns fields (possibly altered) into a request.
 * Amounts are kept in minor units here and written as decimals on the wire, independently of the
 * adapter's conversion.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { WebhookRequest } from '../../shared/ports.js';
import { listenOnLoopback } from './net.js';

export interface FakeSslcommerzRequest {
  method: string;
  path: string;
  /** The query string's parameters. */
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  form: Record<string, string>;
  replyStatus: number;
  replyBody: unknown;
}

export interface FakeSslcommerzSession {
  sessionkey: string;
  form: Record<string, string>;
  /** total_amount in minor units, as the fake read it. */
  amountMinor: number;
}

export interface FakeSslcommerzPayment {
  valId: string;
  tranId: string;
  bankTranId: string;
  /** The currency and amount (minor units) the session asked for. */
  currencyType: string;
  currencyAmountMinor: number;
  /** What SSLCommerz settles in: BDT. */
  amountMinor: number;
  valueA: string;
  riskLevel: '0' | '1';
  validations: number;
}

export interface FakeSslcommerz {
  baseUrl: string;
  requests: FakeSslcommerzRequest[];
  sessions: Map<string, FakeSslcommerzSession>;
  payments: Map<string, FakeSslcommerzPayment>;
  /**
   * Completes session `tranId` as paid (or failed/cancelled) and returns the IPN fields SSLCommerz
   * posts. A paid one gets a val_id the validation API knows.
   */
  pay(tranId: string, options?: { status?: 'VALID' | 'FAILED' | 'CANCELLED'; riskLevel?: '0' | '1' }): Record<string, string>;
  /** The next n requests answer HTTP `status` (default 500) with an HTML error page. */
  failNext(n: number, status?: number): void;
  close(): Promise<void>;
}

/** Mandatory session fields (besides the store's), as SSLCommerz's v4 documentation lists them. */
const MANDATORY = [
  'total_amount',
  'currency',
  'tran_id',
  'success_url',
  'fail_url',
  'cancel_url',
  'product_name',
  'product_category',
  'product_profile',
  'shipping_method',
  'cus_name',
  'cus_email',
  'cus_add1',
  'cus_city',
  'cus_postcode',
  'cus_country',
  'cus_phone',
];

const PRODUCT_PROFILES = new Set(['general', 'physical-goods', 'non-physical-goods', 'airline-tickets', 'travel-vertical', 'telecom-vertical']);

/** BDT per unit of other currencies, as decimals (the fake's conversion rates). */
const DEFAULT_RATES: Record<string, string> = { USD: '121.50', EUR: '131.25' };

/** "1234.56" → 123456 for the fake's own checks; undefined when not a decimal with at most 2 places. */
function parseDecimal(text: string): number | undefined {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** 123456 → "1234.56". */
function formatMinor(minor: number): string {
  const whole = Math.floor(minor / 100);
  const cents = minor % 100;
  return `${whole}.${cents < 10 ? '0' : ''}${cents}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const failed = (reason: string) => ({
  status: 200,
  body: { status: 'FAILED', failedreason: reason, sessionkey: '', gw: [], redirectGatewayURL: '', directPaymentURLBank: '', directPaymentURLCard: '', directPaymentURL: '', redirectGatewayURLFailed: '', GatewayPageURL: '', storeBanner: '', storeLogo: '', desc: [], is_direct_pay_enable: '' },
});

export async function startFakeSslcommerz(opts: { storeId: string; storePassword: string; rates?: Record<string, string> }): Promise<FakeSslcommerz> {
  const requests: FakeSslcommerzRequest[] = [];
  const sessions = new Map<string, FakeSslcommerzSession>();
  const payments = new Map<string, FakeSslcommerzPayment>();
  const rates = opts.rates ?? DEFAULT_RATES;
  let failures = { remaining: 0, status: 500 };
  let baseUrl = '';

  function createSession(form: URLSearchParams): { status: number; body: unknown } {
    if (form.get('store_id') !== opts.storeId || form.get('store_passwd') !== opts.storePassword) {
      return failed('Store Credential Error Or Store is De-active');
    }
    for (const field of MANDATORY) {
      if (!form.get(field)) return failed(`Invalid Information: ${field} is missing`);
    }
    const amount = parseDecimal(form.get('total_amount')!);
    if (amount === undefined) return failed('Invalid Information: total_amount must be a decimal (10,2)');
    const currency = form.get('currency')!;
    if (currency !== 'BDT' && rates[currency] === undefined) return failed(`Invalid Information: currency ${currency} is not supported`);
    const tranId = form.get('tran_id')!;
    if (tranId.length > 30) return failed('Invalid Information: tran_id is longer than 30 characters');
    if (sessions.has(tranId)) return failed('Duplicate tran_id');
    if (!PRODUCT_PROFILES.has(form.get('product_profile')!)) return failed('Invalid Information: product_profile');
    if (form.get('shipping_method') === 'YES' && !form.get('ship_name')) return failed('Invalid Information: ship_name is missing');
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(form.get('cus_email')!)) return failed('Invalid Information: cus_email is not valid');
    const sessionkey = randomBytes(16).toString('hex').toUpperCase();
    sessions.set(tranId, { sessionkey, form: Object.fromEntries(form), amountMinor: amount });
    return {
      status: 200,
      body: {
        status: 'SUCCESS',
        failedreason: '',
        sessionkey,
        gw: { visa: 'city_visa,ebl_visa,visacard', master: 'city_master,ebl_master,mastercard', mobilebanking: 'bkash,nagad', internetbanking: 'city,bankasia' },
        redirectGatewayURL: `${baseUrl}/gwprocess/v4/bankgw/indexhtml.php?mamount=${form.get('total_amount')}&ssl_id=${sessionkey}&Q=REDIRECT&SESSIONKEY=${sessionkey}&tran_type=success&cardname=`,
        directPaymentURLBank: '',
        directPaymentURLCard: '',
        directPaymentURL: '',
        redirectGatewayURLFailed: '',
        GatewayPageURL: `${baseUrl}/EasyCheckOut/testcde${sessionkey}`,
        storeBanner: `${baseUrl}/stores/logos/demoLogo.png`,
        storeLogo: `${baseUrl}/stores/logos/demoLogo.png`,
        desc: [],
        is_direct_pay_enable: '0',
      },
    };
  }

  function validation(query: URLSearchParams): { status: number; body: unknown } {
    if (query.get('format') !== 'json') return { status: 200, body: 'this fake answers format=json only' };
    if (query.get('store_id') !== opts.storeId || query.get('store_passwd') !== opts.storePassword) {
      return { status: 200, body: { status: 'INVALID_TRANSACTION', APIConnect: 'FAILED' } };
    }
    const payment = payments.get(query.get('val_id') ?? '');
    if (!payment) return { status: 200, body: { status: 'INVALID_TRANSACTION', APIConnect: 'DONE' } };
    payment.validations += 1;
    const rate = payment.currencyType === 'BDT' ? '1.0000' : `${rates[payment.currencyType]}00`;
    return {
      status: 200,
      body: {
        status: payment.validations === 1 ? 'VALID' : 'VALIDATED',
        tran_date: '2025-03-01 16:00:00',
        tran_id: payment.tranId,
        val_id: payment.valId,
        amount: formatMinor(payment.amountMinor),
        store_amount: formatMinor(payment.amountMinor - Math.round(payment.amountMinor * 0.025)),
        currency: 'BDT',
        bank_tran_id: payment.bankTranId,
        card_type: 'VISA-Dutch Bangla',
        card_no: '418117XXXXXX6675',
        card_issuer: 'TRUST BANK, LTD.',
        card_brand: 'VISA',
        card_issuer_country: 'Bangladesh',
        card_issuer_country_code: 'BD',
        currency_type: payment.currencyType,
        currency_amount: formatMinor(payment.currencyAmountMinor),
        currency_rate: rate,
        base_fair: '0.00',
        value_a: payment.valueA,
        value_b: '',
        value_c: '',
        value_d: '',
        emi_instalment: '0',
        emi_amount: '0.00',
        emi_description: '',
        emi_issuer: '',
        account_details: '',
        risk_title: payment.riskLevel === '1' ? 'Risky' : 'Safe',
        risk_level: payment.riskLevel,
        APIConnect: 'DONE',
        validated_on: '2025-03-01 16:00:05',
        gw_version: '',
      },
    };
  }

  function answer(req: IncomingMessage, path: string, query: URLSearchParams, form: URLSearchParams): { status: number; body: unknown } {
    if (failures.remaining > 0) {
      failures.remaining -= 1;
      return { status: failures.status, body: '<html><body><h1>Service Unavailable</h1></body></html>' };
    }
    if (path === '/gwprocess/v4/api.php' && req.method === 'POST') return createSession(form);
    if (path === '/validator/api/validationserverAPI.php' && req.method === 'GET') return validation(query);
    return { status: 404, body: '<html><body>Not Found</body></html>' };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    readBody(req).then(
      (rawBody) => {
        const url = new URL(req.url ?? '/', 'http://fake');
        const form = new URLSearchParams(rawBody);
        const { status, body } = answer(req, url.pathname, url.searchParams, form);
        requests.push({
          method: req.method ?? '',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: { ...req.headers },
          rawBody,
          form: Object.fromEntries(form),
          replyStatus: status,
          replyBody: body,
        });
        const json = typeof body !== 'string';
        res.writeHead(status, { 'content-type': json ? 'application/json' : 'text/html' });
        res.end(json ? JSON.stringify(body) : body);
      },
      () => {
        res.writeHead(400);
        res.end();
      },
    );
  });
  const port = await listenOnLoopback(server);
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    requests,
    sessions,
    payments,
    pay(tranId, options = {}) {
      const session = sessions.get(tranId);
      if (!session) throw new Error(`fake SSLCommerz: no session ${tranId}`);
      const status = options.status ?? 'VALID';
      const currencyType = session.form.currency!;
      const common = { tran_id: tranId, value_a: session.form.value_a ?? '', value_b: '', value_c: '', value_d: '' };
      if (status !== 'VALID') {
        return { ...common, status, error: status === 'FAILED' ? 'Transaction declined by the issuer' : 'Cancelled by the customer', amount: session.form.total_amount!, currency: currencyType };
      }
      // BDT at the fake's rate (rate has two decimals: minor × rate-in-hundredths / 100).
      const amountMinor = currencyType === 'BDT' ? session.amountMinor : Math.round((session.amountMinor * parseDecimal(rates[currencyType]!)!) / 100);
      const stamp = '250301160000';
      const payment: FakeSslcommerzPayment = {
        valId: `${stamp}${randomBytes(6).toString('hex').toUpperCase().slice(0, 10)}`,
        tranId,
        bankTranId: `${stamp}${randomBytes(4).toString('hex')}`,
        currencyType,
        currencyAmountMinor: session.amountMinor,
        amountMinor,
        valueA: session.form.value_a ?? '',
        riskLevel: options.riskLevel ?? '0',
        validations: 0,
      };
      payments.set(payment.valId, payment);
      return {
        ...common,
        status: 'VALID',
        tran_date: '2025-03-01 16:00:00',
        val_id: payment.valId,
        amount: formatMinor(amountMinor),
        store_amount: formatMinor(amountMinor - Math.round(amountMinor * 0.025)),
        card_type: 'VISA-Dutch Bangla',
        card_no: '418117XXXXXX6675',
        currency: 'BDT',
        bank_tran_id: payment.bankTranId,
        card_issuer: 'TRUST BANK, LTD.',
        card_brand: 'VISA',
        card_issuer_country: 'Bangladesh',
        card_issuer_country_code: 'BD',
        currency_type: currencyType,
        currency_amount: formatMinor(session.amountMinor),
        risk_level: payment.riskLevel,
        risk_title: payment.riskLevel === '1' ? 'Risky' : 'Safe',
        verify_sign: randomBytes(16).toString('hex'),
        verify_key: 'amount,bank_tran_id,base_fair,card_brand,card_issuer,card_issuer_country,card_no,card_type,currency,currency_amount,currency_type,risk_level,status,tran_date,tran_id,val_id,value_a',
      };
    },
    failNext(n, status = 500) {
      failures = { remaining: n, status };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** An IPN as SSLCommerz posts it to ipn_url: the fields form-encoded. */
export function ipnRequest(url: string, fields: Record<string, string>): WebhookRequest {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    rawBody: new URLSearchParams(fields).toString(),
  };
}
