/**
 * Reminders that send themselves (issue 11), with a fixed clock: the right customers on the right
 * day for each step, nothing on a repeated run or a catch-up of a day that ran, nothing for bills
 * paid (even after the run) nor for renewed services, quiet hours, and the schedule made and deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps } from '../../shared/deps.js';
import type { Operator } from '../../shared/domain/records.js';
import type { TaskQueue } from '../../shared/ports.js';
import { runBroadcastTask, type BroadcastTask } from '../../shared/services/broadcast-fanout.js';
import { notifierScheduleName, reminderBroadcastId, runNotifier } from '../../shared/services/notifiers.js';
import { addDays } from '../../shared/domain/days.js';
import { localDay } from '../../shared/domain/rate-limit.js';
import { localScheduleStore } from '../../shared/adapters/scheduler/local-scheduler.js';
import { apiClient, waitFor } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;

/** 10:00 in Dhaka on 2 December 2026. */
const NOW = new Date('2026-12-02T04:00:00Z');
const TODAY = '2026-12-02';

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('notifiers', { liftRateLimit: true }));
  const customers = ['n-due', 'n-paid', 'n-late', 'n-later', 'n-exp', 'n-renewed'].map((id, i) => ({
    id,
    name: `Notified ${id}`,
    mobile: `0171${String(4000000 + i)}`,
    status: 'active',
    zone: 'Notifier zone',
    ...(id === 'n-exp' || id === 'n-renewed' ? { expiresAt: '2026-12-03' } : {}),
  }));
  expect((await api.post('/v1/customers/import', { customers })).status).toBe(200);
  const bill = (customerId: string, dueDate: string, extra: object = {}) => ({ customerId, amount: 80000, currency: 'BDT', dueDate, ...extra });
  await api.put('/v1/bills/N-1', bill('n-due', '2026-12-05'));
  await api.put('/v1/bills/N-2', bill('n-paid', '2026-12-05', { status: 'paid', paidAt: '2026-12-01T10:00:00Z' }));
  await api.put('/v1/bills/N-3', bill('n-late', '2026-11-30'));
  await api.put('/v1/bills/N-4', bill('n-later', '2026-12-06'));
  // Renewed after its expiry was indexed: its index entry for 2026-12-03 is stale.
  await api.put('/v1/customers/n-renewed', { name: 'Notified n-renewed', mobile: '01714000005', status: 'active', zone: 'Notifier zone', expiresAt: '2027-01-03' });
  await api.put('/v1/templates/rem-sms', { name: 'Reminder', channel: 'sms', body: 'Hi {{customer.name}}, BDT {{bill.amount}} is due on {{bill.dueDate}}. Pay: {{paymentLink}}' });
  await api.put('/v1/templates/exp-sms', { name: 'Expiry', channel: 'sms', body: 'Hi {{customer.name}}, your service ends on {{customer.expiresAt}}.' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** Deps at the fixed time, with a queue that keeps tasks so the test runs each step itself. */
function fixed(now = NOW) {
  const tasks: Array<{ queue: string; task: any; delaySeconds?: number }> = [];
  const queue: TaskQueue = { enqueue: async (name, list, options) => void tasks.push(...list.map((task) => ({ queue: name, task, delaySeconds: options?.delaySeconds }))) };
  return { d: { ...deps(), queue, clock: { now: () => now } }, tasks };
}

/** Runs every broadcast step queued (plans, then pages; not the pages' later settlement) and answers the send tasks. */
async function drain(d: ReturnType<typeof fixed>['d'], tasks: ReturnType<typeof fixed>['tasks']) {
  const step = (t: (typeof tasks)[number]) => t.queue === 'broadcasts' && t.task.type !== 'settle';
  for (let next = tasks.find(step); next; next = tasks.find(step)) {
    tasks.splice(tasks.indexOf(next), 1);
    await runBroadcastTask(d, next.task as BroadcastTask);
  }
  return tasks.filter((t) => t.queue.startsWith('send-'));
}

const demo = async () => (await deps().operators.get('demo')) as Operator;

async function messagesOf(broadcastId: string) {
  return (await api.get(`/v1/messages?broadcastId=${broadcastId}&limit=100`)).body.items as Array<{ id: string; customerId: string; status: string; text: string; notBefore?: string }>;
}

describe('notifier settings', () => {
  it('saves a ladder with its daily schedule, deletes the schedule when disabled, and refuses bad ladders', async () => {
    const saved = await api.put('/v1/notifiers/due-date', { enabled: true, steps: [{ offsetDays: 3, templateId: 'rem-sms', channel: 'sms' }, { offsetDays: -2, templateId: 'rem-sms', channel: 'sms' }], sendAt: '09:30' });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ kind: 'due-date', enabled: true, sendAt: '09:30', timezone: 'Asia/Dhaka' });
    const schedule = (await localScheduleStore.list()).find((s) => s.name === notifierScheduleName('demo', 'due-date'));
    expect(schedule).toMatchObject({ expression: 'cron(30 9 * * ? *)', timezone: 'Asia/Dhaka' });
    expect((await api.get('/v1/notifiers/due-date')).body.steps).toHaveLength(2);

    expect((await api.put('/v1/notifiers/expiration', { enabled: false, steps: [{ offsetDays: 1, templateId: 'exp-sms', channel: 'sms' }] })).status).toBe(200);
    expect((await localScheduleStore.list()).find((s) => s.name === notifierScheduleName('demo', 'expiration'))).toBeUndefined();

    const bad = await api.put('/v1/notifiers/due-date', { enabled: true, steps: [{ offsetDays: 1, templateId: 'nope' }, { offsetDays: 1, templateId: 'rem-sms' }], sendAt: '9:30' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['steps.1.offsetDays', 'sendAt']));
    const unknownTemplate = await api.put('/v1/notifiers/due-date', { enabled: true, steps: [{ offsetDays: 1, templateId: 'nope' }] });
    expect(unknownTemplate.status).toBe(400);
    expect(unknownTemplate.body.errors[0].field).toBe('steps.0.templateId');
    expect((await api.get('/v1/notifiers/birthday')).status).toBe(404);
    // The bad ladders changed nothing.
    expect((await api.get('/v1/notifiers/due-date')).body.steps.map((s: { offsetDays: number }) => s.offsetDays)).toEqual([3, -2]);
  });
});

describe('a due-date run', () => {
  it('reminds the bills due in 3 days and those 2 days overdue, once, however often it runs', async () => {
    const { d, tasks } = fixed();
    const run = await runNotifier(d, await demo(), 'due-date', { scheduled: true, scheduledTime: '2026-12-02T03:30:00Z' });
    expect(run.date).toBe(TODAY);
    expect(run.steps.map((s) => [s.offsetDays, (s as Record<string, unknown>).dueOn, s.recipients])).toEqual([
      [3, '2026-12-05', 1],
      [-2, '2026-11-30', 1],
    ]);
    const sends = await drain(d, tasks);
    expect(sends).toHaveLength(2);
    const [soon, late] = await Promise.all(run.steps.map((s) => messagesOf(String(s.broadcastId))));
    expect(soon!.map((m) => m.customerId)).toEqual(['n-due']);
    expect(late!.map((m) => m.customerId)).toEqual(['n-late']);
    expect(soon![0]!.text).toMatch(/^Hi Notified n-due, BDT 800\.00 is due on 2026-12-05\. Pay: http:\/\/127\.0\.0\.1:\d+\/p\/[A-Za-z0-9_-]{27}$/);

    // The schedule fires again (or a catch-up asks for the same day): the same broadcasts, nothing new.
    const again = fixed(new Date(NOW.getTime() + 3_600_000));
    const repeated = await runNotifier(again.d, await demo(), 'due-date', { scheduled: true, scheduledTime: '2026-12-02T03:30:00Z' });
    expect(repeated.steps.map((s) => s.broadcastId)).toEqual(run.steps.map((s) => s.broadcastId));
    expect(await drain(again.d, again.tasks)).toHaveLength(0);
    const caughtUp = await api.post('/v1/notifiers/due-date/run', { date: TODAY });
    expect(caughtUp.status).toBe(200);
    expect(caughtUp.body.steps.map((s: { broadcastId: string }) => s.broadcastId)).toEqual(run.steps.map((s) => s.broadcastId));
    expect(await messagesOf(String(run.steps[0]!.broadcastId))).toHaveLength(1);
    expect(run.steps[0]!.broadcastId).toBe(reminderBroadcastId('due-date', TODAY, 0));

    // Paid after the run, before the reminder left: it is not sent (checked at send time).
    await api.put('/v1/bills/N-1', { customerId: 'n-due', amount: 80000, currency: 'BDT', dueDate: '2026-12-05', status: 'paid', paidAt: '2026-12-02T04:05:00Z' });
    await deps().queue.enqueue('send-sms', sends.map((s) => s.task));
    const finals = await waitFor(
      async () => [...(await messagesOf(String(run.steps[0]!.broadcastId))), ...(await messagesOf(String(run.steps[1]!.broadcastId)))],
      (all) => all.every((m) => m.status !== 'queued'),
      30_000,
    );
    expect(Object.fromEntries(finals.map((m) => [m.customerId, m.status]))).toEqual({ 'n-due': 'cancelled', 'n-late': expect.stringMatching(/^(sent|delivered)$/) });
  }, 90_000);

  it('a catch-up run for a missed day sends that day\'s reminders', async () => {
    // Bill N-4 is due 2026-12-06: three days after 2026-12-03, a day whose run "did not happen".
    const caughtUp = await api.post('/v1/notifiers/due-date/run', { date: '2026-12-03' });
    expect(caughtUp.status).toBe(200);
    expect(caughtUp.body.steps[0]).toMatchObject({ dueOn: '2026-12-06', recipients: 1 });
    await waitFor(() => messagesOf(caughtUp.body.steps[0].broadcastId), (all) => all.length === 1 && all[0]!.status !== 'queued', 30_000);
    expect((await api.post('/v1/notifiers/due-date/run', { date: 'yesterday' })).status).toBe(400);
  }, 60_000);
});

describe('an expiration run', () => {
  it('reminds services expiring tomorrow, not the one renewed since, and waits out quiet hours', async () => {
    await api.put('/v1/notifiers/expiration', { enabled: true, steps: [{ offsetDays: 1, templateId: 'exp-sms', channel: 'sms' }] });
    // Quiet from 09:00 to 12:00 in Dhaka: at 10:00 the reminders wait until 12:00 (06:00 UTC).
    await api.request('PATCH', '/v1/settings', { quietHours: { start: '09:00', end: '12:00' } });
    try {
      const { d, tasks } = fixed();
      const run = await runNotifier(d, await demo(), 'expiration');
      expect(run.steps[0]).toMatchObject({ expiresOn: '2026-12-03' });
      const sends = await drain(d, tasks);
      const messages = await messagesOf(String(run.steps[0]!.broadcastId));
      // (Seeded demo customers may expire that day too.)
      const ours = messages.filter((m) => m.customerId.startsWith('n-'));
      expect(ours.map((m) => m.customerId)).toEqual(['n-exp']);
      expect(ours[0]!.text).toBe('Hi Notified n-exp, your service ends on 2026-12-03.');
      const stored = await deps().messages.get('demo', ours[0]!.id);
      expect(stored?.notBefore).toBe('2026-12-02T06:00:00.000Z');
      // One task per send group (up to ten messages each).
      expect(sends.flatMap((s) => s.task.messageIds ?? [s.task.messageId]).sort()).toEqual(messages.map((m) => m.id).sort());
      expect(sends.every((s) => s.delaySeconds === 900)).toBe(true);
      const broadcast = await deps().broadcasts.get('demo', String(run.steps[0]!.broadcastId));
      expect(broadcast?.reminder).toEqual({ notifier: 'expiration', step: 0, date: TODAY });
    } finally {
      await api.request('PATCH', '/v1/settings', { quietHours: null });
    }
  }, 60_000);
});

describe('the day a run is for', () => {
  it('is the local day of the scheduled time, also on daylight-saving days', () => {
    // New York springs forward on 2026-03-08 and falls back on 2026-11-01: 09:30 local is still that day.
    expect(localDay(new Date('2026-03-08T13:30:00Z'), 'America/New_York')).toBe('2026-03-08');
    expect(localDay(new Date('2026-03-07T14:30:00Z'), 'America/New_York')).toBe('2026-03-07');
    expect(localDay(new Date('2026-11-01T14:30:00Z'), 'America/New_York')).toBe('2026-11-01');
    expect(localDay(new Date('2026-11-01T04:30:00Z'), 'America/New_York')).toBe('2026-11-01');
    expect(addDays('2026-03-07', 1)).toBe('2026-03-08');
    expect(addDays('2026-12-30', 3)).toBe('2027-01-02');
    expect(addDays('2026-03-01', -2)).toBe('2026-02-27');
  });
});
