import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps } from '../../shared/deps.js';
import { PAYMENT_TOKEN_LENGTH } from '../../shared/domain/payment-token.js';
import { makePaymentLink } from '../../shared/services/payment-links.js';
import type { ApiReply, apiClient } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;

const DEMO_TEMPLATE = 'https://portal.example/pay?customer={{customer.id}}&bill={{bill.reference}}';
const DAY_MS = 24 * 60 * 60 * 1000;
let serial = 0;

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('payment-links', { liftRateLimit: true }));
  expect((await api.put('/v1/customers/pl-0001', { name: 'Selina Parvin', mobile: '01711998877' })).status).toBeLessThan(300);
  expect((await api.put('/v1/customers/pl-0002', { name: 'Other Person', mobile: '01711998866' })).status).toBeLessThan(300);
});

afterAll(async () => {
  await stack?.stop();
});

async function unpaidBill(id: string, reference = `NOV/2026 ${id}`) {
  const reply = await api.put(`/v1/bills/${id}`, { customerId: 'pl-0001', amount: 120_000, currency: 'BDT', dueDate: '2026-12-05', reference });
  expect(reply.status, JSON.stringify(reply.body)).toBeLessThan(300);
}

/** A stored link, as the broadcast pipeline makes one per recipient. */
async function storedLink(billId: string, options: { customerId?: string; expiresAt?: Date } = {}) {
  const made = await makePaymentLink(deps(), {
    operatorId: 'demo',
    customerId: options.customerId ?? 'pl-0001',
    billId,
    broadcastId: 'bc-links',
    messageId: `msg-${++serial}`,
    channel: 'sms',
    expiresAt: options.expiresAt ?? new Date(Date.now() + 14 * DAY_MS),
    createdAt: new Date().toISOString(),
  });
  await deps().paymentLinks.putMany([made.link]);
  return made;
}

/** The link as a phone opens it: no redirect followed, no API key. */
async function open(url: string, userAgent = 'Mozilla/5.0 (Linux; Android 14)') {
  const reply = await fetch(url, { redirect: 'manual', headers: { 'user-agent': userAgent } });
  return { status: reply.status, headers: reply.headers, text: await reply.text() };
}

const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
const patch = (body: unknown): Promise<ApiReply> => api.request('PATCH', '/v1/settings', body);

describe('GET /p/{token}', () => {
  it('makes a short, deterministic link on the stack\'s base URL', async () => {
    const input = { operatorId: 'demo', customerId: 'pl-0001', billId: 'b-x', messageId: 'msg-fixed', channel: 'sms' as const, expiresAt: new Date('2027-01-01T00:00:00Z'), createdAt: '2026-12-01T00:00:00.000Z' };
    const first = await makePaymentLink(deps(), input);
    expect(first).toEqual(await makePaymentLink(deps(), input));
    expect(first.url).toBe(`${stack.baseUrl}/p/${tokenOf(first.url)}`);
    expect(tokenOf(first.url)).toHaveLength(PAYMENT_TOKEN_LENGTH);
  });

  it('redirects to the operator\'s payment page, exactly as templated, and counts the clicks', async () => {
    await unpaidBill('pl-bill-1');
    const { link, url } = await storedLink('pl-bill-1');
    const reply = await open(url);
    expect(reply.status).toBe(302);
    expect(reply.headers.get('location')).toBe('https://portal.example/pay?customer=pl-0001&bill=NOV%2F2026%20pl-bill-1');
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.headers.get('referrer-policy')).toBe('no-referrer');
    const afterFirst = await deps().paymentLinks.get(link.id);
    expect(afterFirst).toMatchObject({ clicks: 1, userAgent: 'Mozilla/5.0 (Linux; Android 14)' });
    expect(afterFirst?.firstClickAt).toBe(afterFirst?.lastClickAt);

    expect((await open(url, 'Mozilla/5.0 (iPhone)')).status).toBe(302);
    const afterSecond = await deps().paymentLinks.get(link.id);
    expect(afterSecond).toMatchObject({ clicks: 2, firstClickAt: afterFirst?.firstClickAt, userAgent: 'Mozilla/5.0 (iPhone)' });
    // A third click, straight through the store: not the first.
    expect(await deps().paymentLinks.recordClick(link.id, new Date().toISOString(), 'ua')).toEqual({ first: false });
  });

  it('answers a token with one character changed with the error page, and counts nothing', async () => {
    await unpaidBill('pl-bill-2');
    const { link, url } = await storedLink('pl-bill-2');
    const token = tokenOf(url);
    // A character of the MAC: the link id still finds the link, the signature refuses it.
    const i = 20;
    const altered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    const reply = await open(`${stack.baseUrl}/p/${altered}`);
    expect(reply.status).toBe(404);
    expect(reply.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.headers.get('referrer-policy')).toBe('no-referrer');
    expect(reply.text).toContain('This payment link is not valid');
    expect(reply.text).not.toContain('pl-0001');
    expect((await deps().paymentLinks.get(link.id))?.clicks).toBeUndefined();

    // An unknown link id and a malformed token read the same.
    const unknown = await open(`${stack.baseUrl}/p/${'A'.repeat(12)}${token.slice(12)}`);
    expect(unknown.status).toBe(404);
    const malformed = await open(`${stack.baseUrl}/p/not-a-token`);
    expect(malformed.status).toBe(400);
    expect(malformed.text).toBe(reply.text);
  });

  it('never shows a bill through a link made for another customer', async () => {
    await unpaidBill('pl-bill-3');
    const { url } = await storedLink('pl-bill-3', { customerId: 'pl-0002' });
    const reply = await open(url);
    expect(reply.status).toBe(404);
    expect(reply.text).toContain('This payment link is not valid');
  });

  it('answers an expired link with 410 and counts nothing', async () => {
    await unpaidBill('pl-bill-4');
    const { link, url } = await storedLink('pl-bill-4', { expiresAt: new Date(Date.now() - 2 * 60 * 60 * 1000) });
    const reply = await open(url);
    expect(reply.status).toBe(410);
    expect(reply.text).toContain('This payment link has expired');
    expect((await deps().paymentLinks.get(link.id))?.clicks).toBeUndefined();
  });

  it('thanks the customer instead of redirecting once the bill is paid', async () => {
    await unpaidBill('pl-bill-5');
    const { url } = await storedLink('pl-bill-5');
    expect((await open(url)).status).toBe(302);
    const paid = await api.put('/v1/bills/pl-bill-5', { customerId: 'pl-0001', amount: 120_000, currency: 'BDT', dueDate: '2026-12-05', status: 'paid', paidAt: new Date().toISOString() });
    expect(paid.status).toBeLessThan(300);
    const reply = await open(url);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(reply.text).toContain('This bill is already paid, thank you.');
  });
});

describe('settings.paymentUrlTemplate', () => {
  it('is described in /openapi.json, with the public GET /p/{token}', async () => {
    const doc = await api.get('/openapi.json');
    expect(doc.body.paths['/p/{token}'].get).toBeDefined();
    expect(doc.body.components.schemas.SettingsPatch.properties.paymentUrlTemplate).toBeDefined();
  });

  it('is the demo\'s portal in the settings', async () => {
    expect((await api.get('/v1/settings')).body.paymentUrlTemplate).toBe(DEMO_TEMPLATE);
  });

  it('is refused with 400 naming the field when not https or with an unknown variable', async () => {
    for (const template of ['http://portal.example/pay?c={{customer.id}}', 'https://portal.example/pay?m={{customer.mobile}}', '{{customer.id}}', 'https://portal.example/{{#bill.id}}']) {
      const reply = await patch({ paymentUrlTemplate: template });
      expect(reply.status, template).toBe(400);
      expect(reply.body.errors.map((e: { field: string }) => e.field)).toEqual(['paymentUrlTemplate']);
    }
    expect((await api.get('/v1/settings')).body.paymentUrlTemplate).toBe(DEMO_TEMPLATE);
  });

  it('changes where links go, and without one a link gets the "no payment page" page', async () => {
    await unpaidBill('pl-bill-6', 'R-6');
    const { url } = await storedLink('pl-bill-6');

    const changed = await patch({ paymentUrlTemplate: 'https://pay.isp.example/{{customer.id}}/{{bill.id}}?amount={{bill.amount}}&currency={{bill.currency}}&due={{bill.dueDate}}' });
    expect(changed.status).toBe(200);
    expect((await open(url)).headers.get('location')).toBe('https://pay.isp.example/pl-0001/pl-bill-6?amount=120000&currency=BDT&due=2026-12-05');

    const removed = await patch({ paymentUrlTemplate: null });
    expect(removed.status).toBe(200);
    expect(removed.body.paymentUrlTemplate).toBeNull();
    const reply = await open(url);
    expect(reply.status).toBe(409);
    expect(reply.text).toContain('has not set up an online payment page');

    expect((await patch({ paymentUrlTemplate: DEMO_TEMPLATE })).status).toBe(200);
    expect((await open(url)).headers.get('location')).toBe('https://portal.example/pay?customer=pl-0001&bill=R-6');
  });
});
