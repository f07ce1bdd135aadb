/**
 * Issue 9 on the local stack: roles, prices, a prepaid balance that concurrency never overdraws,
 * holds settled once and released on failure, balance = sum(ledger), a Stripe payment credited once
 * however often its webhook comes, a bill (JSON and PDF) made once per month, and the CSV export.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps } from '../../shared/deps.js';
import { PLATFORM_OWNER } from '../../shared/ports.js';
import { verifyLedger } from '../../shared/services/billing.js';
import { makeBill } from '../../shared/services/bills.js';
import { createKey } from '../../shared/services/keys.js';
import { apiClient, waitFor } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import { paidSession, signedStripeWebhook, startFakeStripe, stripeEvent, type FakeStripe } from '../support/fake-stripe.js';
import { ipnRequest, startFakeSslcommerz, type FakeSslcommerz } from '../support/fake-sslcommerz.js';
import type { startTestStack } from '../support/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

let stack: Stack;
let demo: ReturnType<typeof apiClient>;
let platform: ReturnType<typeof apiClient>;
let isp: ReturnType<typeof apiClient>;
let ispKey: string;
let stripe: FakeStripe;
const stripeKey = 'sk_test_' + 'a1'.repeat(12);
const stripeSecret = 'whsec_' + 'b2'.repeat(16);

beforeAll(async () => {
  ({ stack, api: demo } = await startDemoStack('billing', { liftRateLimit: true }));
  const { apiKey } = await createKey(deps(), PLATFORM_OWNER, { role: 'platform', label: 'test' });
  platform = apiClient(stack.baseUrl, apiKey);
  stripe = await startFakeStripe({ secretKey: stripeKey });
  Object.assign(process.env, { STRIPE_SECRET_KEY: stripeKey, STRIPE_WEBHOOK_SECRET: stripeSecret, ISPNOTIFY_BASE_URL_STRIPE: stripe.baseUrl });
  expect((await platform.request('PUT', '/v1/platform/prices', { currency: 'BDT', sms: { default: 35, BD: 25 }, whatsapp: { default: 0 }, email: { default: 0 } })).status).toBe(200);
  const created = await platform.post('/v1/platform/operators', { id: 'prepaid-isp', name: 'Prepaid ISP', country: 'BD', timezone: 'Asia/Dhaka', billing: 'prepaid', lowBalanceThreshold: 100 });
  expect(created.status).toBe(201);
  ispKey = created.body.apiKey;
  isp = apiClient(stack.baseUrl, ispKey);
  await deps().operators.update('prepaid-isp', { requestsPerSecond: 1000 });
  expect((await isp.post('/v1/gateways', { name: 'SMS', provider: 'sandbox', credentials: { webhookSecret: 'a-billing-sandbox-secret-0123' } })).status).toBe(201);
});

afterAll(async () => {
  for (const name of ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'ISPNOTIFY_BASE_URL_STRIPE']) delete process.env[name];
  await stripe?.close();
  await stack?.stop();
});

const balance = async () => (await isp.get('/v1/billing/balance')).body as { balance: number; reserved: number; available: number; currency: string };

describe('roles', () => {
  it('gives each key its role\'s routes, and answers 403 naming the role a route needs', async () => {
    const make = async (role: string, extra: Record<string, unknown> = {}) => {
      const reply = await isp.post('/v1/keys', { role, label: role, ...extra });
      expect(reply.status).toBe(201);
      expect(reply.body.key).toMatch(/^isk_…/);
      return apiClient(stack.baseUrl, reply.body.apiKey);
    };
    const readOnly = await make('read-only');
    const billing = await make('billing');
    expect((await readOnly.get('/v1/customers')).status).toBe(200);
    const refused = await readOnly.post('/v1/messages', { mobile: '01711000001', text: 'x' });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/needs role admin or reseller; this key has role read-only/);
    expect((await billing.get('/v1/billing/balance')).status).toBe(200);
    expect((await billing.get('/v1/customers')).status).toBe(403);
    expect((await isp.post('/v1/keys', { role: 'reseller' })).status).toBe(400);
    // Keys are listed masked; a deleted key stops working.
    const listed = (await isp.get('/v1/keys')).body.items as { id: string; role: string; key: string }[];
    expect(listed.map((k) => k.role)).toEqual(expect.arrayContaining(['admin', 'read-only', 'billing']));
    expect(JSON.stringify(listed)).not.toMatch(/isk_[A-Za-z0-9_-]{20}/);
    const readOnlyId = listed.find((k) => k.role === 'read-only')!.id;
    expect((await isp.request('DELETE', `/v1/keys/${readOnlyId}`)).status).toBe(204);
    expect((await readOnly.get('/v1/customers')).status).toBe(401);
    // The platform and operators stay apart.
    expect((await platform.get('/v1/customers')).status).toBe(403);
    expect((await isp.get('/v1/platform/operators')).status).toBe(403);
    expect((await platform.get('/v1/platform/operators')).body.items.map((o: { id: string }) => o.id)).toEqual(expect.arrayContaining(['prepaid-isp']));
  });
});

describe('reseller keys', () => {
  it('see and message their reseller\'s customers only, and their debits name the reseller', async () => {
    await demo.put('/v1/customers/north-1', { name: 'North One', mobile: '01711770001', resellerId: 'north' });
    await demo.put('/v1/customers/south-1', { name: 'South One', mobile: '01711770002', resellerId: 'south' });
    const key = await demo.post('/v1/keys', { role: 'reseller', resellerId: 'north', label: 'North reseller' });
    expect(key.status).toBe(201);
    const north = apiClient(stack.baseUrl, key.body.apiKey);
    const listed = (await north.get('/v1/customers?limit=100')).body.items as { id: string; resellerId?: string }[];
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((c) => c.resellerId === 'north')).toBe(true);
    expect((await north.get('/v1/customers/south-1')).status).toBe(404);
    expect((await north.post('/v1/messages', { customerId: 'south-1', text: 'Hi' })).status).toBe(404);
    expect((await north.post('/v1/messages', { mobile: '01711770003', text: 'Hi' })).status).toBe(403);
    expect((await north.get('/v1/messages')).status).toBe(403);
    const sent = await north.post('/v1/messages', { customerId: 'north-1', text: 'Your bill is due.' });
    expect(sent.status).toBe(202);
    expect(sent.body.resellerId).toBe('north');
    // A reseller cannot move a customer to itself, nor touch the operator's settings.
    expect((await north.put('/v1/customers/south-1', { name: 'Taken', mobile: '01711770002' })).status).toBe(404);
    expect((await north.get('/v1/settings')).status).toBe(403);
    const debit = await waitFor(
      async () => ((await demo.get('/v1/billing/ledger?type=debit&limit=100')).body.items as { messageId: string; resellerId?: string }[]).find((e) => e.messageId === sent.body.id),
      (entry) => entry !== undefined,
    );
    expect(debit!.resellerId).toBe('north');
  });
});

describe('a prepaid balance', () => {
  it('is topped up once per reference', async () => {
    const first = await platform.post('/v1/platform/operators/prepaid-isp/topups', { amount: 500, currency: 'BDT', reference: 'bank-0001' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ type: 'topup', amount: 500, balanceAfter: 500 });
    const again = await platform.post('/v1/platform/operators/prepaid-isp/topups', { amount: 500, currency: 'BDT', reference: 'bank-0001' });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect((await platform.post('/v1/platform/operators/prepaid-isp/topups', { amount: 500, currency: 'USD', reference: 'x' })).status).toBe(400);
    expect(await balance()).toMatchObject({ balance: 500, reserved: 0, available: 500, currency: 'BDT' });
  });

  it('lets exactly the affordable messages through when 50 are sent at once (20 segments at 25), the rest 402 with the shortfall', async () => {
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => isp.post('/v1/messages', { mobile: `017110${String(10000 + i)}`, text: 'Your bill is due.' })),
    );
    const accepted = replies.filter((r) => r.status === 202);
    const refused = replies.filter((r) => r.status === 402);
    expect(accepted).toHaveLength(20);
    expect(refused).toHaveLength(30);
    expect(refused[0]!.body.shortfall).toEqual({ amount: 25, currency: 'BDT' });
    expect(accepted[0]!.body.cost).toEqual({ amount: 25, currency: 'BDT' });
    // Once they are sent, each is debited once: nothing held, nothing left, never below zero.
    await waitFor(balance, (b) => b.reserved === 0 && b.balance === 0, 30_000);
    const check = await verifyLedger(deps(), 'prepaid-isp');
    expect(check).toMatchObject({ ok: true, balance: 0, ledgerSum: 0, reserved: 0 });
    const debits = (await isp.get('/v1/billing/ledger?type=debit&limit=100')).body.items as { messageId: string; amount: number }[];
    expect(debits).toHaveLength(20);
    // Below the threshold (100): warned once, a flag on the balance, not one warning per message.
    expect((await deps().billing.balance('prepaid-isp', 'BDT')).lowBalanceAlerted).toBe(true);
    expect(await deps().billing.markLowBalance('prepaid-isp', true)).toBe(false);
    expect(new Set(debits.map((e) => e.messageId)).size).toBe(20);
  });

  it('never charges twice: a second settle of a sent message (a redelivered task, a failover, a reconciler) changes nothing', async () => {
    const debits = (await isp.get('/v1/billing/ledger?type=debit&limit=1')).body.items as { messageId: string }[];
    const messageId = debits[0]!.messageId;
    expect(await deps().billing.settle('prepaid-isp', messageId, new Date().toISOString())).toBe('already');
    expect(await deps().billing.release('prepaid-isp', messageId, new Date().toISOString())).toBe('already');
    expect((await verifyLedger(deps(), 'prepaid-isp')).ok).toBe(true);
  });

  it('gives a failed message\'s hold back', async () => {
    await platform.post('/v1/platform/operators/prepaid-isp/topups', { amount: 100, currency: 'BDT', reference: 'bank-0002' });
    // The sandbox rejects numbers ending 1111: failed before a provider accepted it.
    const sent = await isp.post('/v1/messages', { mobile: '01711221111', text: 'Rejected' });
    expect(sent.status).toBe(202);
    await waitFor(() => isp.get(`/v1/messages/${sent.body.id}`), (r) => r.body.status === 'failed');
    expect(await waitFor(balance, (b) => b.reserved === 0)).toMatchObject({ balance: 100, available: 100 });
    // The top-up took it back to the threshold: the warning may come again next time.
    expect((await deps().billing.balance('prepaid-isp', 'BDT')).lowBalanceAlerted).toBeUndefined();
    expect((await verifyLedger(deps(), 'prepaid-isp')).ok).toBe(true);
  });

  it('exports the ledger as CSV', async () => {
    const csv = await isp.request('GET', '/v1/billing/ledger', undefined, { accept: 'text/csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = typeof csv.body === 'string' ? csv.body : JSON.stringify(csv.body);
    expect(text.split('\r\n')[0]).toBe('id,at,type,amount,currency,balanceAfter,reason,messageId,billId,paymentId,resellerId,channel,segments,messages,broadcastId');
    expect(text).toContain('"topup","500","BDT","500"');
  });
});

describe('payments', () => {
  it('credits a Stripe top-up once, however many times its webhook comes, and refuses a forged one', async () => {
    const before = (await balance()).balance;
    const checkout = await isp.post('/v1/billing/topups/checkout', { amount: 1000, provider: 'stripe' });
    expect(checkout.status).toBe(201);
    expect(checkout.body.url).toMatch(/^https?:\/\//);
    const session = stripe.sessions.get(checkout.body.sessionId)!;
    expect(session).toMatchObject({ client_reference_id: checkout.body.reference, amount_total: 1000, currency: 'bdt' });
    const payload = stripeEvent('checkout.session.completed', paidSession(session), Math.floor(Date.now() / 1000));
    const url = `${stack.baseUrl}/webhooks/payments/stripe`;
    const post = (secret: string) => {
      const request = signedStripeWebhook(url, payload, { timestamp: Math.floor(Date.now() / 1000), secrets: [secret] });
      return fetch(url, { method: 'POST', headers: request.headers, body: request.rawBody });
    };
    expect((await post('whsec_forged')).status).toBe(401);
    const replies = await Promise.all([post(stripeSecret), post(stripeSecret), post(stripeSecret)]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await balance()).balance).toBe(before + 1000);
    expect((await verifyLedger(deps(), 'prepaid-isp')).ok).toBe(true);
  });
});

describe('SSLCommerz', () => {
  let ssl: FakeSslcommerz;
  beforeAll(async () => {
    ssl = await startFakeSslcommerz({ storeId: 'isp-store', storePassword: 'store-pass-0123' });
    Object.assign(process.env, { SSLCOMMERZ_STORE_ID: 'isp-store', SSLCOMMERZ_STORE_PASSWORD: 'store-pass-0123', ISPNOTIFY_BASE_URL_SSLCOMMERZ: ssl.baseUrl });
  });
  afterAll(async () => {
    for (const name of ['SSLCOMMERZ_STORE_ID', 'SSLCOMMERZ_STORE_PASSWORD', 'ISPNOTIFY_BASE_URL_SSLCOMMERZ']) delete process.env[name];
    await ssl?.close();
  });

  it('credits a top-up paid through SSLCommerz once, after validating its IPN, and refuses one that does not validate', async () => {
    const before = (await balance()).balance;
    const checkout = await isp.post('/v1/billing/topups/checkout', { amount: 123456, provider: 'sslcommerz' });
    expect(checkout.status).toBe(201);
    expect(checkout.body).toMatchObject({ provider: 'sslcommerz', amount: 123456, currency: 'BDT' });
    const ipn = ssl.pay(checkout.body.sessionId);
    const url = `${stack.baseUrl}/webhooks/payments/sslcommerz`;
    const post = (fields: Record<string, string>) => {
      const request = ipnRequest(url, fields);
      return fetch(url, { method: 'POST', headers: request.headers, body: request.rawBody });
    };
    expect((await post({ ...ipn, val_id: 'forged-val-id' })).status).toBe(401);
    expect((await post(ipn)).status).toBe(200);
    expect((await post(ipn)).status).toBe(200); // the IPN again
    expect((await balance()).balance).toBe(before + 123456);
    expect((await verifyLedger(deps(), 'prepaid-isp')).ok).toBe(true);
  });
});

describe('the platform\'s corrections', () => {
  it('changes billing terms, and adds adjustments and refunds once, never past what is available', async () => {
    const terms = await platform.request('PATCH', '/v1/platform/operators/prepaid-isp', { creditLimit: 1000, lowBalanceThreshold: 200 });
    expect(terms.status).toBe(200);
    expect(terms.body).toMatchObject({ billing: 'prepaid', creditLimit: 1000, lowBalanceThreshold: 200 });
    const state = await balance();
    expect(state.available).toBe(state.balance + 1000 - state.reserved);
    const refund = await platform.post('/v1/platform/operators/prepaid-isp/adjustments', { type: 'refund', amount: 50, currency: 'BDT', reason: 'Gateway outage on 3 Nov', reference: 'refund-1' });
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({ type: 'refund', amount: 50, balanceAfter: state.balance + 50 });
    expect((await platform.post('/v1/platform/operators/prepaid-isp/adjustments', { type: 'refund', amount: 50, currency: 'BDT', reason: 'again', reference: 'refund-1' })).status).toBe(200);
    const tooMuch = await platform.post('/v1/platform/operators/prepaid-isp/adjustments', { type: 'adjustment', amount: -(state.available + 50 + 1), currency: 'BDT', reason: 'Too much', reference: 'adj-too-much' });
    expect(tooMuch.status).toBe(402);
    expect(tooMuch.body.shortfall).toEqual({ amount: 1, currency: 'BDT' });
    expect((await platform.post('/v1/platform/operators/prepaid-isp/adjustments', { type: 'adjustment', amount: -10, currency: 'BDT', reason: 'Rounding', reference: 'adj-1' })).status).toBe(201);
    expect((await verifyLedger(deps(), 'prepaid-isp')).ok).toBe(true);
    await platform.request('PATCH', '/v1/platform/operators/prepaid-isp', { creditLimit: 0 });
  });
});

describe('bills', () => {
  it('makes a month\'s statement once, with usage by channel and day, as JSON and as a PDF', async () => {
    const d = deps();
    const operator = (await d.operators.get('prepaid-isp'))!;
    const month = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Dhaka', year: 'numeric', month: '2-digit' }).format(new Date());
    const nextMonth = { ...d, clock: { now: () => new Date(Date.now() + 32 * 86_400_000) } };
    expect((await isp.get('/v1/billing/bills')).body.items).toEqual([]);
    await expect(makeBill(d, operator, month)).rejects.toMatchObject({ kind: 'Conflict' }); // the month has not ended
    const first = await makeBill(nextMonth, operator, month);
    const second = await makeBill(nextMonth, operator, month);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(first.bill).toMatchObject({ kind: 'statement', currency: 'BDT', total: 500, status: 'paid' });
    expect(first.bill.byChannel).toEqual([{ channel: 'sms', messages: 20, segments: 20, amount: 500 }]);

    const listed = (await isp.get('/v1/billing/bills')).body.items;
    expect(listed.map((b: { id: string }) => b.id)).toEqual([first.bill.id]);
    const pdf = await fetch(`${stack.baseUrl}/v1/billing/bills/${first.bill.id}`, { headers: { authorization: `Bearer ${ispKey}`, accept: 'application/pdf' } });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const bills = (await isp.get('/v1/billing/ledger?type=bill')).body.items;
    expect(bills).toHaveLength(1);
    expect(bills[0]).toMatchObject({ amount: 0, billId: first.bill.id });
  });
});
