import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decimalToMinor,
  minorToDecimal,
  SSLCOMMERZ_PLACEHOLDER_CUSTOMER,
  sslcommerzPayments,
  sslcommerzTranId,
} from '../../../shared/adapters/payments/sslcommerz.js';
import { DomainError, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { CheckoutRequest, PaymentProvider, ProviderContext } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { ipnRequest, startFakeSslcommerz, type FakeSslcommerz } from '../../support/fake-sslcommerz.js';
import { freePortThatRefuses } from '../../support/net.js';

const STORE_ID = 'ispno67c2a1f0e8b12';
const STORE_PASSWORD = 'ispno67c2a1f0e8b12@ssl';
const ENV = { SSLCOMMERZ_STORE_ID: STORE_ID, SSLCOMMERZ_STORE_PASSWORD: STORE_PASSWORD };

const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
const IPN_URL = 'https://notify.example.net/webhooks/payments/sslcommerz';
const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_SSLCOMMERZ';
const REFERENCE = 'bill:01JNBILL00000000000000000A';

const checkout = (overrides: Partial<CheckoutRequest> = {}): CheckoutRequest => ({
  reference: REFERENCE,
  amount: 123456,
  currency: 'BDT',
  description: 'ispnotify bill for February 2025',
  successUrl: 'https://console.example.net/billing/paid',
  cancelUrl: 'https://console.example.net/billing',
  notifyUrl: IPN_URL,
  customerEmail: 'accounts@dhaka-net.example.com',
  ...overrides,
});

function setBaseUrl(value: string | undefined): void {
  if (value === undefined) delete process.env[BASE_URL_VARIABLE];
  else process.env[BASE_URL_VARIABLE] = value;
}

describe('SSLCommerz amounts', () => {
  it('writes minor units as decimal taka with two decimals', () => {
    expect(minorToDecimal(123456)).toBe('1234.56');
    expect(minorToDecimal(5)).toBe('0.05');
    expect(minorToDecimal(50)).toBe('0.50');
    expect(minorToDecimal(100)).toBe('1.00');
    expect(minorToDecimal(0)).toBe('0.00');
    expect(minorToDecimal(1000)).toBe('10.00');
    expect(minorToDecimal(50000000)).toBe('500000.00');
    expect(minorToDecimal(Number.MAX_SAFE_INTEGER)).toBe('90071992547409.91');
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => minorToDecimal(bad)).toThrow(RangeError);
  });

  it('reads decimal strings back exactly, without floating point', () => {
    expect(decimalToMinor('1234.56')).toBe(123456);
    expect(decimalToMinor('0.05')).toBe(5);
    expect(decimalToMinor('0.1')).toBe(10);
    expect(decimalToMinor('1234.5')).toBe(123450);
    expect(decimalToMinor('100')).toBe(10000);
    expect(decimalToMinor('10.0000')).toBe(1000);
    // 0.29 * 100 is 28.999999999999996 in floating point; 1.15 * 100 is 114.99999999999999.
    expect(decimalToMinor('0.29')).toBe(29);
    expect(decimalToMinor('1.15')).toBe(115);
    expect(decimalToMinor('4.35')).toBe(435);
    for (const bad of ['', '.5', '1.', '-1.00', '+1.00', '1e3', '1,234.56', '12.345', '0.001', 'NaN', '1.2.3', ' ', '০.০৫', '99999999999999999.00']) {
      expect(decimalToMinor(bad)).toBeUndefined();
    }
  });

  it('round-trips every safe amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (minor) => {
        const text = minorToDecimal(minor);
        expect(text).toMatch(/^\d+\.\d{2}$/);
        expect(decimalToMinor(text)).toBe(minor);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('SSLCommerz tran_id', () => {
  it('is at most 30 characters, starts with the reference and ends with a random part', () => {
    expect(sslcommerzTranId(REFERENCE, '0a1b2c3d4e')).toBe('bill-01JNBILL000000-0a1b2c3d4e');
    expect(sslcommerzTranId('topup:42', 'ffffffffff')).toBe('topup-42-ffffffffff');
    const ids = new Set(Array.from({ length: 200 }, () => sslcommerzTranId(REFERENCE)));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^bill-01JNBILL000000-[0-9a-f]{10}$/);
  });
});

describe('SSLCommerz payments', () => {
  const baseUrlBefore = process.env[BASE_URL_VARIABLE];
  let fake: FakeSslcommerz;
  let sslcommerz: PaymentProvider;

  beforeEach(async () => {
    fake = await startFakeSslcommerz({ storeId: STORE_ID, storePassword: STORE_PASSWORD });
    setBaseUrl(fake.baseUrl);
    sslcommerz = sslcommerzPayments(ENV)!;
  });

  afterEach(async () => {
    setBaseUrl(baseUrlBefore);
    await fake.close();
  });

  describe('configuration', () => {
    it('is undefined without both the store id and the store password', () => {
      expect(sslcommerzPayments({})).toBeUndefined();
      expect(sslcommerzPayments({ SSLCOMMERZ_STORE_ID: STORE_ID })).toBeUndefined();
      expect(sslcommerzPayments({ SSLCOMMERZ_STORE_PASSWORD: STORE_PASSWORD })).toBeUndefined();
      expect(sslcommerzPayments({ SSLCOMMERZ_STORE_ID: ' ', SSLCOMMERZ_STORE_PASSWORD: STORE_PASSWORD })).toBeUndefined();
      expect(sslcommerzPayments(ENV)?.id).toBe('sslcommerz');
    });

    it('reads process.env by default', () => {
      const before = { id: process.env.SSLCOMMERZ_STORE_ID, password: process.env.SSLCOMMERZ_STORE_PASSWORD };
      try {
        delete process.env.SSLCOMMERZ_STORE_ID;
        process.env.SSLCOMMERZ_STORE_PASSWORD = STORE_PASSWORD;
        expect(sslcommerzPayments()).toBeUndefined();
        process.env.SSLCOMMERZ_STORE_ID = STORE_ID;
        expect(sslcommerzPayments()?.id).toBe('sslcommerz');
      } finally {
        if (before.id === undefined) delete process.env.SSLCOMMERZ_STORE_ID;
        else process.env.SSLCOMMERZ_STORE_ID = before.id;
        if (before.password === undefined) delete process.env.SSLCOMMERZ_STORE_PASSWORD;
        else process.env.SSLCOMMERZ_STORE_PASSWORD = before.password;
      }
    });
  });

  describe('creating a payment session', () => {
    it('posts the documented form to /gwprocess/v4/api.php and returns the tran_id and GatewayPageURL', async () => {
      const session = await sslcommerz.createCheckout(checkout(), ctx);

      expect(fake.requests).toHaveLength(1);
      const request = fake.requests[0]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/gwprocess/v4/api.php');
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request.headers.authorization).toBeUndefined();
      const tranId = request.form.tran_id!;
      expect(tranId).toMatch(/^bill-01JNBILL000000-[0-9a-f]{10}$/);
      expect(request.form).toEqual({
        store_id: STORE_ID,
        store_passwd: STORE_PASSWORD,
        total_amount: '1234.56',
        currency: 'BDT',
        tran_id: tranId,
        success_url: 'https://console.example.net/billing/paid',
        fail_url: 'https://console.example.net/billing',
        cancel_url: 'https://console.example.net/billing',
        ipn_url: IPN_URL,
        product_name: 'ispnotify bill for February 2025',
        product_category: 'SMS credit',
        product_profile: 'non-physical-goods',
        shipping_method: 'NO',
        num_of_item: '1',
        emi_option: '0',
        cus_name: 'ispnotify customer',
        cus_email: 'accounts@dhaka-net.example.com',
        cus_add1: 'Dhaka',
        cus_city: 'Dhaka',
        cus_postcode: '1000',
        cus_country: 'Bangladesh',
        cus_phone: '01700000000',
        value_a: REFERENCE,
      });
      const stored = fake.sessions.get(tranId)!;
      expect(stored.amountMinor).toBe(123456);
      expect(session).toEqual({ sessionId: tranId, url: `${fake.baseUrl}/EasyCheckOut/testcde${stored.sessionkey}` });
    });

    it('uses the placeholder email without a customerEmail, and a fresh tran_id for each attempt', async () => {
      const first = await sslcommerz.createCheckout(checkout({ customerEmail: undefined, amount: 5 }), ctx);
      const second = await sslcommerz.createCheckout(checkout({ customerEmail: undefined, amount: 5 }), ctx);
      expect(fake.requests[0]!.form.cus_email).toBe(SSLCOMMERZ_PLACEHOLDER_CUSTOMER.cus_email);
      expect(fake.requests[0]!.form.total_amount).toBe('0.05');
      expect(first.sessionId).not.toBe(second.sessionId);
      expect(fake.requests.map((r) => r.replyStatus)).toEqual([200, 200]);
    });

    it('refuses what SSLCommerz cannot take before calling it', async () => {
      for (const bad of [{ amount: 0 }, { amount: 10.5 }, { currency: 'JPY' }, { currency: 'KWD' }, { currency: 'bdt' }, { currency: 'XYZ' }, { reference: '' }, { description: '' }]) {
        const error = await rejection(sslcommerz.createCheckout(checkout(bad), ctx));
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).kind).toBe('Invalid');
      }
      expect(fake.requests).toHaveLength(0);
    });

    it('names the store credentials when SSLCommerz refuses them, without the password', async () => {
      const wrong = sslcommerzPayments({ SSLCOMMERZ_STORE_ID: STORE_ID, SSLCOMMERZ_STORE_PASSWORD: 'not-the-password@ssl' })!;
      const error = await rejection(wrong.createCheckout(checkout(), ctx));
      expect(fake.requests[0]!.replyBody).toMatchObject({ status: 'FAILED', failedreason: 'Store Credential Error Or Store is De-active' });
      expect(error).not.toBeInstanceOf(ProviderUnavailable);
      expect(error.message).toMatch(/SSLCOMMERZ_STORE_ID and SSLCOMMERZ_STORE_PASSWORD/);
      expect(error.message).toMatch(/Store Credential Error Or Store is De-active/);
      expect(error.message).not.toContain('not-the-password');
      expect(error.message).not.toContain(STORE_PASSWORD);
    });

    it("passes other refusals on in SSLCommerz's words, and 5xx or no answer as ProviderUnavailable", async () => {
      const wrongCurrency = await rejection(sslcommerz.createCheckout(checkout({ currency: 'GBP' }), ctx));
      expect(wrongCurrency).not.toBeInstanceOf(ProviderUnavailable);
      expect(wrongCurrency.message).toBe('SSLCommerz refused the payment session: Invalid Information: currency GBP is not supported');

      fake.failNext(1, 503);
      const down = await rejection(sslcommerz.createCheckout(checkout(), ctx));
      expect(down).toBeInstanceOf(ProviderUnavailable);
      expect(down.message).toMatch(/HTTP 503/);
      expect(down.message).not.toContain(STORE_PASSWORD);

      setBaseUrl(`http://127.0.0.1:${await freePortThatRefuses()}`);
      expect(await rejection(sslcommerz.createCheckout(checkout(), ctx))).toBeInstanceOf(ProviderUnavailable);
    });

    it('goes to securepay.sslcommerz.com when no override is set', async () => {
      setBaseUrl(undefined);
      const urls: string[] = [];
      const stub: ProviderContext = {
        ...ctx,
        fetch: async (input) => {
          urls.push(String(input));
          return Response.json({ status: 'SUCCESS', failedreason: '', sessionkey: 'ABC', GatewayPageURL: 'https://securepay.sslcommerz.com/EasyCheckOut/ABC' });
        },
      };
      expect((await sslcommerz.createCheckout(checkout(), stub)).url).toBe('https://securepay.sslcommerz.com/EasyCheckOut/ABC');
      expect(urls).toEqual(['https://securepay.sslcommerz.com/gwprocess/v4/api.php']);
    });
  });

  describe('IPN', () => {
    async function paidIpn(overrides: Partial<CheckoutRequest> = {}) {
      const session = await sslcommerz.createCheckout(checkout(overrides), ctx);
      return { tranId: session.sessionId, fields: fake.pay(session.sessionId) };
    }

    async function refusal(fields: Record<string, string>): Promise<DomainError> {
      const error = await rejection(sslcommerz.confirm(ipnRequest(IPN_URL, fields), ctx));
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).kind).toBe('Unauthorized');
      return error as DomainError;
    }

    it('confirms a VALID IPN after asking the validation API, with the amount in poisha', async () => {
      const { tranId, fields } = await paidIpn();
      const confirmed = await sslcommerz.confirm(ipnRequest(IPN_URL, fields), ctx);

      expect(confirmed).toEqual({ paymentId: fields.val_id, reference: REFERENCE, amount: 123456, currency: 'BDT' });
      const validation = fake.requests.at(-1)!;
      expect(validation.method).toBe('GET');
      expect(validation.path).toBe('/validator/api/validationserverAPI.php');
      expect(validation.query).toEqual({ val_id: fields.val_id, store_id: STORE_ID, store_passwd: STORE_PASSWORD, v: '1', format: 'json' });
      expect(validation.replyBody).toMatchObject({ status: 'VALID', tran_id: tranId, amount: '1234.56' });
    });

    it('confirms the same payment again (VALIDATED) with the same paymentId, for the caller to credit once', async () => {
      const { fields } = await paidIpn();
      const first = await sslcommerz.confirm(ipnRequest(IPN_URL, fields), ctx);
      const again = await sslcommerz.confirm(ipnRequest(IPN_URL, fields), ctx);
      expect(fake.requests.at(-1)!.replyBody).toMatchObject({ status: 'VALIDATED' });
      expect(again).toEqual(first);
    });

    it('refuses a forged IPN whose val_id SSLCommerz does not know (INVALID_TRANSACTION)', async () => {
      const { fields } = await paidIpn();
      const error = await refusal({ ...fields, val_id: '2503011600000FORGED' });
      expect(error.message).toMatch(/forged/);
      expect(fake.requests.at(-1)!.replyBody).toEqual({ status: 'INVALID_TRANSACTION', APIConnect: 'DONE' });
    });

    it('refuses an IPN whose amount or currency differs from what SSLCommerz validated', async () => {
      const { fields } = await paidIpn();
      expect((await refusal({ ...fields, amount: '12345.60' })).message).toMatch(/states amount 12345.60 but the validation API says 1234.56/);
      expect((await refusal({ ...fields, currency_amount: '1234.57' })).message).toMatch(/currency_amount/);
      expect((await refusal({ ...fields, currency_type: 'USD' })).message).toMatch(/currency_type/);
      expect((await refusal({ ...fields, currency: 'USD' })).message).toMatch(/currency/);
      expect((await refusal({ ...fields, amount: 'lots' })).message).toMatch(/amount/);
      // The same amount written differently is the same amount.
      expect(await sslcommerz.confirm(ipnRequest(IPN_URL, { ...fields, amount: '1234.560' }), ctx)).toMatchObject({ amount: 123456 });
    });

    it("refuses a genuine val_id posted with another attempt's tran_id", async () => {
      const cheap = await paidIpn({ amount: 1000, reference: 'topup:01JNCHEAP000000000000000000' });
      const dear = await sslcommerz.createCheckout(checkout({ amount: 5000000 }), ctx);
      expect((await refusal({ ...cheap.fields, tran_id: dear.sessionId })).message).toMatch(/tran_id/);
      expect((await refusal({ ...cheap.fields, tran_id: '' })).message).toMatch(/tran_id/);
      const { tran_id: _omitted, ...withoutTranId } = cheap.fields;
      await refusal(withoutTranId);
    });

    it('answers undefined for a failed or cancelled IPN without asking anything', async () => {
      for (const status of ['FAILED', 'CANCELLED'] as const) {
        const session = await sslcommerz.createCheckout(checkout(), ctx);
        const fields = fake.pay(session.sessionId, { status });
        const before = fake.requests.length;
        expect(await sslcommerz.confirm(ipnRequest(IPN_URL, fields), ctx)).toBeUndefined();
        expect(fake.requests).toHaveLength(before);
      }
      expect(await sslcommerz.confirm(ipnRequest(IPN_URL, { status: 'UNATTEMPTED', tran_id: 'x' }), ctx)).toBeUndefined();
    });

    it('does not believe an IPN that says VALID when the validation API does not', async () => {
      const { fields } = await paidIpn();
      const stub: ProviderContext = { ...ctx, fetch: async () => Response.json({ status: 'FAILED', tran_id: fields.tran_id, APIConnect: 'DONE' }) };
      expect(await sslcommerz.confirm(ipnRequest(IPN_URL, fields), stub)).toBeUndefined();
      const pending: ProviderContext = { ...ctx, fetch: async () => Response.json({ status: 'PENDING', APIConnect: 'DONE' }) };
      expect(await sslcommerz.confirm(ipnRequest(IPN_URL, fields), pending)).toBeUndefined();
    });

    it('confirms a payment asked in USD in USD, not in the BDT it settled in', async () => {
      const { fields } = await paidIpn({ amount: 1000, currency: 'USD', description: 'SMS credit, USD 10' });
      expect(fields).toMatchObject({ amount: '1215.00', currency: 'BDT', currency_type: 'USD', currency_amount: '10.00' });
      expect(fake.requests.at(-1)!.form.total_amount).toBe('10.00');
      expect(await sslcommerz.confirm(ipnRequest(IPN_URL, fields), ctx)).toEqual({ paymentId: fields.val_id, reference: REFERENCE, amount: 1000, currency: 'USD' });
    });

    it('refuses an IPN without a val_id as Invalid', async () => {
      for (const rawBody of ['status=VALID&tran_id=x', '', 'val_id=&status=VALID', `val_id=${'a'.repeat(101)}`, 'val_id=has%20space']) {
        const error = await rejection(sslcommerz.confirm({ method: 'POST', url: IPN_URL, headers: {}, rawBody }, ctx));
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).kind).toBe('Invalid');
      }
      expect(fake.requests).toHaveLength(0);
    });

    it('tells a store credential problem at validation apart from a forged IPN', async () => {
      const { fields } = await paidIpn();
      const wrong = sslcommerzPayments({ SSLCOMMERZ_STORE_ID: STORE_ID, SSLCOMMERZ_STORE_PASSWORD: 'stale-password@ssl' })!;
      const error = await rejection(wrong.confirm(ipnRequest(IPN_URL, fields), ctx));
      expect(error).not.toBeInstanceOf(DomainError);
      expect(error.message).toMatch(/APIConnect FAILED.*SSLCOMMERZ_STORE_PASSWORD/);
      expect(error.message).not.toContain('stale-password');
    });

    it('answers ProviderUnavailable when the validation API is down or answers no JSON, so the IPN is retried', async () => {
      const { fields } = await paidIpn();
      fake.failNext(1, 502);
      const down = await rejection(sslcommerz.confirm(ipnRequest(IPN_URL, fields), ctx));
      expect(down).toBeInstanceOf(ProviderUnavailable);
      expect(down.message).not.toContain(STORE_PASSWORD);
      const html: ProviderContext = { ...ctx, fetch: async () => new Response('<html>maintenance</html>', { status: 200 }) };
      expect(await rejection(sslcommerz.confirm(ipnRequest(IPN_URL, fields), html))).toBeInstanceOf(ProviderUnavailable);
      // Still confirmable once SSLCommerz answers again.
      expect(await sslcommerz.confirm(ipnRequest(IPN_URL, fields), ctx)).toMatchObject({ amount: 123456 });
    });

    it("ignores a validated payment that is not one of ours (no value_a), and refuses one whose tran_id is not its reference's", async () => {
      const { fields } = await paidIpn();
      const validated = { status: 'VALID', APIConnect: 'DONE', tran_id: fields.tran_id, val_id: fields.val_id, amount: '1234.56', currency: 'BDT', currency_type: 'BDT', currency_amount: '1234.56' };
      const answering = (body: object): ProviderContext => ({ ...ctx, fetch: async () => Response.json(body) });
      expect(await sslcommerz.confirm(ipnRequest(IPN_URL, fields), answering({ ...validated, value_a: '' }))).toBeUndefined();
      const error = await rejection(sslcommerz.confirm(ipnRequest(IPN_URL, fields), answering({ ...validated, value_a: 'topup:01JNSOMETHINGELSE0000000000' })));
      expect((error as DomainError).kind).toBe('Unauthorized');
    });
  });
});
