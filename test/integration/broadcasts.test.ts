/**
 * Broadcasts on the local stack (issue 10): estimate and dry run, the background fan-out to every
 * recipient exactly once (a redelivered page, a worker that died halfway), progress, cancel (holds
 * given back), the history by broadcast, 402, and a payment-link broadcast's report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps } from '../../shared/deps.js';
import type { Broadcast } from '../../shared/domain/records.js';
import type { TaskQueue } from '../../shared/ports.js';
import { recoverBroadcastTasks, runBroadcastTask, type BroadcastTask, type FanoutDeps } from '../../shared/services/broadcast-fanout.js';
import { createBroadcast } from '../../shared/services/broadcasts.js';
import { audienceQuery } from '../../shared/services/broadcast-audience.js';
import { DEFAULT_PRICES } from '../../shared/services/billing.js';
import { apiClient, waitFor } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;

const ZONE = 'Banani';
const CUSTOMERS = 30;

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('broadcasts', { liftRateLimit: true }));
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => ({
    id: `bc-${String(i + 1).padStart(3, '0')}`,
    name: `Broadcast Customer ${i + 1}`,
    // Numbers ending 0100-0129: none of the sandbox's failure endings (0000 is never delivered, 1111 refused, 9999 retried).
    mobile: `0171${String(3000100 + i).padStart(7, '0')}`,
    status: i % 3 === 0 ? 'suspended' : 'active',
    zone: ZONE,
    package: i % 2 === 0 ? 'Home 20 Mbps' : 'Home 40 Mbps',
  }));
  const imported = await api.post('/v1/customers/import', { customers });
  expect(imported.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** Today in Dhaka (the demo's time zone) plus `days`, YYYY-MM-DD. */
const day = (days: number) => {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Dhaka' }).format(new Date());
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
};

async function allMessages(broadcastId: string) {
  const items: Array<{ id: string; customerId: string; status: string; text: string; paymentLinkId?: string }> = [];
  let cursor: string | undefined;
  do {
    const page = await api.get(`/v1/messages?broadcastId=${broadcastId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    cursor = page.body.cursor;
  } while (cursor);
  return items;
}

/** What is held, once earlier tests' sends have settled (two reads a second apart agree). */
async function settledReserved(): Promise<number> {
  let last = (await deps().billing.balance('demo', 'BDT')).reserved;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = (await deps().billing.balance('demo', 'BDT')).reserved;
    if (now === last) return now;
    last = now;
  }
}

/** The fan-out's deps with a queue that keeps the tasks instead of sending them, so a test runs each step itself. */
function capturing(): { d: FanoutDeps & { scheduler: ReturnType<typeof deps>['scheduler'] }; tasks: Array<{ queue: string; task: any }> } {
  const tasks: Array<{ queue: string; task: any }> = [];
  const queue: TaskQueue = { enqueue: async (name, list) => void tasks.push(...list.map((task) => ({ queue: name, task }))) };
  return { d: { ...deps(), queue }, tasks };
}

/** The message ids of the captured send tasks: a send group's task names up to ten. */
const sendIdsOf = (tasks: Array<{ queue: string; task: any }>): string[] =>
  tasks.filter((t) => t.queue === 'send-sms').flatMap((t) => (t.task.messageIds as string[] | undefined) ?? [t.task.messageId as string]);

describe('a broadcast', () => {
  it('estimates recipients, segments and cost, and a dry run shows five rendered samples and writes nothing', async () => {
    const reply = await api.post('/v1/broadcasts', { filter: { zone: [ZONE], status: ['active'] }, channel: 'sms', text: 'Dear {{customer.name}}, your {{customer.package}} line is up.', dryRun: true });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ state: 'dryRun', recipients: 20, segments: 20, cost: { amount: 20 * 35, currency: 'BDT' } });
    expect(reply.body.byChannel.sms).toMatchObject({ recipients: 20 });
    expect(reply.body.samples).toHaveLength(5);
    expect(reply.body.samples[0].text).toMatch(/^Dear Broadcast Customer \d+, your Home \d0 Mbps line is up\.$/);
    expect((await api.get(`/v1/broadcasts/${reply.body.id}`)).status).toBe(404);
  });

  it('counts a huge audience for a bounded time: past it the count so far is a lower bound, said so', async () => {
    const d = deps();
    const operator = (await d.operators.get('demo'))!;
    const broadcast = { filter: { zone: [ZONE] }, kind: 'broadcast', channel: 'sms', category: 'transactional' } as unknown as Broadcast;
    const query = audienceQuery(broadcast, operator, new Date());
    expect(await d.audience.count(operator.id, query)).toEqual({ count: CUSTOMERS, complete: true });
    expect(await d.audience.count(operator.id, query, { deadline: Date.now() - 1 })).toEqual({ count: 0, complete: false });
  });

  it('refuses bad input with the field, and a filter that reaches no one', async () => {
    const bad = await api.post('/v1/broadcasts', { filter: { zone: [] }, channel: 'fax', kind: 'payment_link' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['filter.zone', 'channel']));
    const none = await api.post('/v1/broadcasts', { filter: { zone: ['Nowhere'] }, text: 'hello' });
    expect(none.status).toBe(400);
    expect((await api.post('/v1/broadcasts', { text: 'x', sendAt: new Date(Date.now() - 1000).toISOString() })).status).toBe(400);
  });

  it('is refused with 402 and the shortfall when the prepaid balance cannot cover its estimate', async () => {
    await deps().billing.putPrices('demo', { currency: 'BDT', sms: { default: 10_000_000_000 }, whatsapp: {}, email: {} });
    try {
      const reply = await api.post('/v1/broadcasts', { filter: { zone: [ZONE] }, channel: 'sms', text: 'Pay up' });
      expect(reply.status).toBe(402);
      expect(reply.body.detail).toMatch(/more is needed/);
    } finally {
      await deps().billing.putPrices('demo', DEFAULT_PRICES);
    }
  });

  it('sends every recipient one message in the background, shows its progress, and lists its messages', async () => {
    const reply = await api.post('/v1/broadcasts', { name: 'Outage notice', filter: { zone: [ZONE] }, channel: 'sms', text: 'Hi {{customer.name}}: maintenance tonight.' });
    expect(reply.status).toBe(202);
    expect(reply.body).toMatchObject({ state: 'planning', recipients: CUSTOMERS });
    const done = await waitFor(
      () => api.get(`/v1/broadcasts/${reply.body.id}`),
      (r) => r.body.state === 'completed',
      60_000,
    );
    expect(done.body).toMatchObject({ name: 'Outage notice', recipients: CUSTOMERS, percentDone: 100, counts: { queued: 0, failed: 0 } });
    expect(done.body.counts.sent + done.body.counts.delivered + done.body.counts.read).toBe(CUSTOMERS);
    expect(done.body.spent).toEqual({ amount: CUSTOMERS * 35, currency: 'BDT' });
    expect(done.body.ratePerSecond.average).toBeGreaterThan(0);
    const messages = await allMessages(reply.body.id);
    expect(messages).toHaveLength(CUSTOMERS);
    expect(new Set(messages.map((m) => m.customerId)).size).toBe(CUSTOMERS);
    // Billed a page at a time once its messages left: one debit per page and channel, for every message.
    const billed = await waitFor(() => api.get(`/v1/broadcasts/${reply.body.id}`), (r) => r.body.billing.settled === r.body.billing.pages, 60_000);
    expect(billed.body.billing.pages).toBeGreaterThan(0);
    const debits: Array<{ amount: number; messages: number; segments: number }> = [];
    for await (const entry of deps().billing.entries('demo')) if (entry.broadcastId === reply.body.id) debits.push(entry as (typeof debits)[number]);
    expect(debits.reduce((sum, e) => sum - e.amount, 0)).toBe(CUSTOMERS * 35);
    expect(debits.reduce((sum, e) => sum + e.messages, 0)).toBe(CUSTOMERS);
    expect(debits.reduce((sum, e) => sum + e.segments, 0)).toBe(CUSTOMERS);
    expect(debits.length).toBeLessThanOrEqual(billed.body.billing.pages);
    expect((await api.get('/v1/broadcasts')).body.items.map((b: { id: string }) => b.id)).toContain(reply.body.id);
  }, 90_000);

  it('creates each message once when a page is delivered twice or its worker dies halfway', async () => {
    const { d, tasks } = capturing();
    const operator = (await d.operators.get('demo'))!;
    const { body } = await createBroadcast(d, operator, { kind: 'broadcast', filter: { zone: [ZONE], status: ['active'] }, channel: 'sms', text: 'Twice?', category: 'transactional', dryRun: false });
    const plan = tasks.shift()!.task as BroadcastTask;
    expect(await runBroadcastTask(d, plan)).toBe('planned-last');
    const expand = tasks.find((t) => t.task.type === 'expand')!.task as Extract<BroadcastTask, { type: 'expand' }>;
    tasks.length = 0;
    const reservedBefore = await settledReserved();

    // The worker dies after writing its messages, before it queues their sends: its claim on the page stays.
    const dying: FanoutDeps = {
      ...d,
      queue: {
        enqueue: async (name, list) => {
          if (name !== 'broadcasts') throw new Error('worker killed');
          tasks.push(...list.map((task) => ({ queue: name, task })));
        },
      },
    };
    await expect(runBroadcastTask(dying, expand)).rejects.toThrow('worker killed');
    const written = await allMessages(String(body.id));
    expect(written).toHaveLength(20);
    expect((await d.billing.balance('demo', 'BDT')).reserved - reservedBefore).toBe(20 * 35);

    // Redelivered while the claim holds: it waits for the claim to end.
    expect(await runBroadcastTask(d, expand)).toBe('busy');
    // After the claim ended: taken over, nothing written twice, nothing held twice, every send queued.
    tasks.length = 0;
    const later: FanoutDeps = { ...d, clock: { now: () => new Date(Date.now() + 5 * 60_000) } };
    expect(await runBroadcastTask(later, expand)).toBe('expanded');
    expect(await allMessages(String(body.id))).toHaveLength(20);
    expect((await d.billing.balance('demo', 'BDT')).reserved - reservedBefore).toBe(20 * 35);
    const sends = sendIdsOf(tasks);
    expect(sends.sort()).toEqual(written.map((m) => m.id).sort());
    // In the send groups the dying worker wrote them with: ten messages to a task, each in one group.
    const groupTasks = tasks.filter((t) => t.queue === 'send-sms').map((t) => t.task as { group: string; messageIds: string[] });
    expect(groupTasks.map((t) => t.messageIds.length)).toEqual([10, 10]);
    const stored = await d.messages.getMany(sends.map((messageId) => ({ operatorId: 'demo', messageId })));
    for (const t of groupTasks) for (const id of t.messageIds) expect(stored.find((m) => m.id === id)?.sendGroup).toBe(t.group);
    const settle = tasks.find((t) => t.task.type === 'settle')?.task as Extract<BroadcastTask, { type: 'settle' }>;
    // Before the messages leave, the page's settle step waits (and comes back later).
    expect(await runBroadcastTask(d, settle)).toBe('waiting');
    // And once done, a redelivery does nothing.
    tasks.length = 0;
    expect(await runBroadcastTask(d, expand)).toBe('duplicate');
    expect(tasks).toHaveLength(0);
    // Sent for real, each once: every group task twice, and a stray single task for each message
    // (refused: a message in a send group is sent under the group's claim only).
    await deps().queue.enqueue('send-sms', groupTasks);
    await deps().queue.enqueue('send-sms', groupTasks);
    await deps().queue.enqueue('send-sms', sends.map((messageId) => ({ operatorId: 'demo', messageId })));
    const final = await waitFor(() => allMessages(String(body.id)), (all) => all.every((m) => m.status !== 'queued'), 60_000);
    expect(final.every((m) => m.status === 'sent' || m.status === 'delivered')).toBe(true);
    for (const m of final) {
      const full = await api.get(`/v1/messages/${m.id}`);
      expect(full.body.tries.filter((t: { outcome: string }) => t.outcome === 'accepted')).toHaveLength(1);
    }
    // Billed once: the page's settle step debits the 20 that left, gives the hold back, and does nothing the second time.
    expect(settle.messageIds).toHaveLength(20);
    expect(await runBroadcastTask(d, settle)).toBe('settled');
    expect(await runBroadcastTask(d, settle)).toBe('duplicate');
    expect((await d.billing.balance('demo', 'BDT')).reserved).toBe(reservedBefore);
    const debits: Array<{ amount: number; messages: number }> = [];
    for await (const entry of d.billing.entries('demo')) if (entry.broadcastId === body.id) debits.push(entry as (typeof debits)[number]);
    expect(debits).toEqual([expect.objectContaining({ amount: -20 * 35, messages: 20, type: 'debit' })]);
    expect((await d.billing.getHold('demo', `page.${String(body.id)}.0`))?.status).toBe('settled');
  }, 120_000);

  it('stops before passing maxCost, and a marketing broadcast skips suppressed numbers (counted by reason)', async () => {
    const { d, tasks } = capturing();
    const operator = (await d.operators.get('demo'))!;
    // bc-002's number sent STOP: marketing skips it, transactional messages would still go.
    await d.suppressions.put('demo', { kind: 'phone', address: '+8801713000101', reason: 'STOP by SMS', scope: 'marketing', createdAt: new Date().toISOString() });
    const { body } = await createBroadcast(d, operator, { kind: 'broadcast', filter: { zone: [ZONE], status: ['active'] }, channel: 'sms', text: 'Offer: 2x speed this week', category: 'marketing', maxCost: 5 * 35, dryRun: false });
    for (let next = tasks.find((t) => t.task.type === 'plan'); next; next = tasks.find((t) => t.task.type === 'plan')) {
      tasks.splice(tasks.indexOf(next), 1);
      await runBroadcastTask(d, next.task);
    }
    for (const page of tasks.filter((t) => t.task.type === 'expand')) await runBroadcastTask(d, page.task);
    const written = await allMessages(String(body.id));
    expect(written).toHaveLength(5);
    expect(written.map((m) => m.customerId)).not.toContain('bc-002');
    const view = (await api.get(`/v1/broadcasts/${body.id}`)).body;
    expect(view.skipped).toEqual({ suppressed: 1, maxCost: 20 - 1 - 5 });
    expect(view.stoppedReason).toBe('maxCost');
    expect(sendIdsOf(tasks)).toHaveLength(5);
    // Cancelled, so the next test starts with these holds given back.
    await api.post(`/v1/broadcasts/${body.id}/cancel`);
    await waitFor(() => api.get(`/v1/broadcasts/${body.id}`), (r) => r.body.counts.cancelled === 5, 30_000);
    for (const settle of tasks.filter((t) => t.task.type === 'settle')) expect(await runBroadcastTask(d, settle.task)).toBe('settled');
    await d.suppressions.delete('demo', 'phone', '+8801713000101');
  });

  it('puts a running broadcast\'s lost tasks back after a restart (its queued sends, its open pages\' debits), and nothing for a finished one', async () => {
    const { d, tasks } = capturing();
    const operator = (await d.operators.get('demo'))!;
    const { body } = await createBroadcast(d, operator, { kind: 'broadcast', filter: { zone: [ZONE], status: ['active'] }, channel: 'sms', text: 'After a restart', category: 'transactional', dryRun: false });
    for (let next = tasks.find((t) => t.task.type === 'plan'); next; next = tasks.find((t) => t.task.type === 'plan')) {
      tasks.splice(tasks.indexOf(next), 1);
      await runBroadcastTask(d, next.task);
    }
    for (const page of tasks.filter((t) => t.task.type === 'expand')) await runBroadcastTask(d, page.task);
    const written = await allMessages(String(body.id));
    expect(written).toHaveLength(20);
    // The local SQS server restarted: every task is gone.
    tasks.length = 0;
    const broadcast = (await d.broadcasts.get('demo', String(body.id)))!;
    // Its walk was done (one plan step): no plan step to put back.
    expect(await recoverBroadcastTasks(d, broadcast)).toEqual({ sends: 20, settles: 1, plans: 0 });
    expect(sendIdsOf(tasks).sort()).toEqual(written.map((m) => m.id).sort());
    const settle = tasks.find((t) => t.task.type === 'settle')!.task as Extract<BroadcastTask, { type: 'settle' }>;
    expect(new Set(settle.messageIds)).toEqual(new Set(written.map((m) => m.id)));
    // Cancelled and debited (nothing left us): a finished broadcast has nothing to put back.
    await api.post(`/v1/broadcasts/${body.id}/cancel`);
    await waitFor(() => api.get(`/v1/broadcasts/${body.id}`), (r) => r.body.counts.cancelled === 20, 30_000);
    expect(await runBroadcastTask(d, settle)).toBe('settled');
    tasks.length = 0;
    expect(await recoverBroadcastTasks(d, (await d.broadcasts.get('demo', String(body.id)))!)).toEqual({ sends: 0, settles: 0, plans: 0 });
    expect(tasks).toHaveLength(0);
  }, 60_000);

  it('cancels what has not left: those messages become cancelled and their holds are given back', async () => {
    const { d, tasks } = capturing();
    const operator = (await d.operators.get('demo'))!;
    const reservedBefore = await settledReserved();
    const { body } = await createBroadcast(d, operator, { kind: 'broadcast', filter: { zone: [ZONE] }, channel: 'sms', text: 'Never mind', category: 'transactional', dryRun: false });
    // Every plan step (one per status partition here), then every page.
    for (let next = tasks.find((t) => t.task.type === 'plan'); next; next = tasks.find((t) => t.task.type === 'plan')) {
      tasks.splice(tasks.indexOf(next), 1);
      await runBroadcastTask(d, next.task);
    }
    for (const page of tasks.filter((t) => t.task.type === 'expand')) await runBroadcastTask(d, page.task);
    expect((await d.billing.balance('demo', 'BDT')).reserved - reservedBefore).toBe(CUSTOMERS * 35);
    // The sends were kept back (captured): the messages wait, queued.
    const cancelled = await api.post(`/v1/broadcasts/${body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    const view = await waitFor(() => api.get(`/v1/broadcasts/${body.id}`), (r) => r.body.counts.cancelled === CUSTOMERS, 30_000);
    expect(view.body.counts.queued).toBe(0);
    expect((await allMessages(String(body.id))).every((m) => m.status === 'cancelled')).toBe(true);
    // The pages' settle steps give their holds back whole: nothing left us, nothing is debited.
    const settles = tasks.filter((t) => t.task.type === 'settle');
    expect(settles.length).toBeGreaterThan(0);
    for (const settle of settles) expect(await runBroadcastTask(d, settle.task)).toBe('settled');
    expect((await d.billing.balance('demo', 'BDT')).reserved).toBe(reservedBefore);
    const debits: unknown[] = [];
    for await (const entry of d.billing.entries('demo')) if (entry.broadcastId === body.id) debits.push(entry);
    expect(debits).toEqual([]);
    expect((await api.post(`/v1/broadcasts/${body.id}/cancel`)).body.state).toBe('cancelled');
    const broadcast = (await d.broadcasts.get('demo', String(body.id))) as Broadcast;
    expect(broadcast.cancelledAt).toBeDefined();
  }, 60_000);
});

describe('a payment-link broadcast', () => {
  it('sends each customer with an overdue bill a personal link, and its report counts a click and a payment', async () => {
    const overdue = ['bc-002', 'bc-003', 'bc-005', 'bc-006'];
    for (const [i, customerId] of overdue.entries()) {
      expect((await api.put(`/v1/bills/PL-${i}`, { customerId, amount: 105000, currency: 'BDT', dueDate: day(-10), reference: `NOV-${i}` })).status).toBe(201);
    }
    // Not overdue enough: not in the audience.
    await api.put('/v1/bills/PL-late', { customerId: 'bc-008', amount: 50000, currency: 'BDT', dueDate: day(-1) });
    const reply = await api.post('/v1/broadcasts', {
      kind: 'payment_link',
      filter: { overdueDays: 7, zone: [ZONE] },
      channel: 'sms',
      text: '{customer_name}, {amount} BDT was due on {due_date}. Pay: {payment_link}',
    });
    expect(reply.status).toBe(202);
    expect(reply.body.recipients).toBe(overdue.length);
    await waitFor(() => api.get(`/v1/broadcasts/${reply.body.id}`), (r) => r.body.state === 'completed', 60_000);
    const messages = await allMessages(reply.body.id);
    expect(messages.map((m) => m.customerId).sort()).toEqual(overdue);
    const first = messages.find((m) => m.customerId === 'bc-002')!;
    expect(first.text).toMatch(/^Broadcast Customer 2, 1050\.00 BDT was due on \d{4}-\d\d-\d\d\. Pay: http:\/\/127\.0\.0\.1:\d+\/p\/[A-Za-z0-9_-]+$/);
    const link = first.text.slice(first.text.indexOf('http'));
    expect(new Set(messages.map((m) => m.text.slice(m.text.indexOf('/p/')))).size).toBe(overdue.length);

    const click = await fetch(link, { redirect: 'manual', headers: { 'user-agent': 'test-phone' } });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toContain('customer=bc-002');
    await fetch(link, { redirect: 'manual' });
    // Paid after the message (the billing system marks it paid).
    await api.put('/v1/bills/PL-0', { customerId: 'bc-002', amount: 105000, currency: 'BDT', dueDate: day(-10), reference: 'NOV-0', status: 'paid', paidAt: new Date(Date.now() + 1000).toISOString() });

    const report = await api.get(`/v1/broadcasts/${reply.body.id}/report`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ recipients: 4, sent: 4, clicked: 1, paid: 1, collected: { amount: 105000, currency: 'BDT' }, conversionRate: 0.25 });
    expect(report.body.medianMinutesToPay).toBeGreaterThanOrEqual(0);
    expect(report.body.byZone).toEqual([expect.objectContaining({ zone: ZONE, paid: 1 })]);
    expect(report.body.byChannel).toEqual([expect.objectContaining({ channel: 'sms', recipients: 4, clicked: 1 })]);
    // Not a payment-link broadcast: no report.
    const plain = (await api.get('/v1/broadcasts')).body.items.find((b: { kind: string }) => b.kind === 'broadcast');
    expect((await api.get(`/v1/broadcasts/${plain.id}/report`)).status).toBe(409);
  }, 90_000);
});
