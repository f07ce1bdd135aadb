/** The ISP's bills to its customers (/v1/bills): kept current by its billing system, found by a Query on status and due date. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('customer-bills', { liftRateLimit: true }));
});

afterAll(async () => {
  await stack?.stop();
});

/** YYYY-MM-DD, `days` from today in Dhaka (the demo's time zone). */
const day = (days: number) => {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Dhaka' }).format(new Date());
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
};
const ids = (reply: { body: { items: { id: string }[] } }) => reply.body.items.map((b) => b.id).sort();

describe('/v1/bills', () => {
  it('creates and replaces a bill for a customer, and refuses bad input field by field', async () => {
    const created = await api.put('/v1/bills/INV-1', { customerId: 'c-0001', amount: 120000, currency: 'BDT', dueDate: day(-10), reference: 'NOV-0001' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'INV-1', customerId: 'c-0001', amount: 120000, status: 'unpaid', reference: 'NOV-0001' });
    const replaced = await api.put('/v1/bills/INV-1', { customerId: 'c-0001', amount: 120000, currency: 'BDT', dueDate: day(-10), status: 'paid', paidAt: new Date().toISOString() });
    expect(replaced.status).toBe(200);
    expect((await api.get('/v1/bills/INV-1')).body.status).toBe('paid');
    const bad = await api.put('/v1/bills/INV-X', { customerId: 'nobody', amount: 1.5, currency: 'taka', dueDate: '5 Dec' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['amount', 'currency', 'dueDate']);
    expect((await api.put('/v1/bills/INV-X', { customerId: 'nobody', amount: 1, currency: 'BDT', dueDate: day(0) })).status).toBe(400);
    expect((await api.get('/v1/bills/INV-X')).status).toBe(404);
  });

  it('imports up to 1,000 rows, keeping the valid ones and naming each invalid one', async () => {
    const reply = await api.post('/v1/bills/import', {
      bills: [
        { id: 'INV-2', customerId: 'c-0002', amount: 80000, currency: 'BDT', dueDate: day(-8) },
        { id: 'INV-3', customerId: 'c-0003', amount: 80000, currency: 'BDT', dueDate: day(-3) },
        { id: 'INV-4', customerId: 'c-0004', amount: 80000, currency: 'BDT', dueDate: day(5) },
        { id: 'INV-5', customerId: 'c-0005', amount: 80000, currency: 'BDT', dueDate: day(5), status: 'void' },
        { id: 'INV-6', customerId: 'ghost', amount: 1, currency: 'BDT', dueDate: day(1) },
        { id: 'INV-2', customerId: 'c-0002', amount: 1, currency: 'BDT', dueDate: day(1) },
        { customerId: 'c-0002' },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ received: 7, imported: 4 });
    expect(reply.body.failed.map((f: { index: number }) => f.index)).toEqual([4, 5, 6]);
    expect(reply.body.failed[0].errors).toEqual([{ field: 'customerId', message: 'no customer with id "ghost"' }]);
    expect((await api.post('/v1/bills/import', { bills: Array.from({ length: 1001 }, () => ({})) })).status).toBe(400);
  });

  it('finds unpaid bills overdue by N days, due on a day, and a customer\'s bills', async () => {
    expect(ids(await api.get('/v1/bills?overdueDays=7'))).toEqual(['INV-2']);
    expect(ids(await api.get('/v1/bills?overdueDays=0'))).toEqual(['INV-2', 'INV-3']);
    expect(ids(await api.get(`/v1/bills?dueAfter=${day(5)}&dueBefore=${day(5)}`))).toEqual(['INV-4']);
    expect(ids(await api.get(`/v1/bills?status=void`))).toEqual(['INV-5']);
    expect(ids(await api.get('/v1/bills?customerId=c-0001'))).toEqual(['INV-1']);
    expect(ids(await api.get('/v1/bills?customerId=c-0001&status=unpaid'))).toEqual([]);
    expect((await api.get('/v1/bills?overdueDays=7&status=paid')).status).toBe(400);
    expect((await api.get(`/v1/bills?dueAfter=${day(5)}&dueBefore=${day(1)}`)).status).toBe(400);
  });
});
