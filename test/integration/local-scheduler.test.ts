import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fireDueSchedules, startLocalScheduleLoop, type ScheduleLoopDeps } from '../../shared/adapters/scheduler/local-schedule-loop.js';
import { localScheduleStore, localScheduler } from '../../shared/adapters/scheduler/local-scheduler.js';
import { deps } from '../../shared/deps.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let sqs: SQSClient;
// No workers: nothing else reads the broadcasts queue, and no loop but the tests' own fires.
beforeAll(async () => {
  stack = await startTestStack('local-scheduler', { workers: false });
  sqs = new SQSClient({});
});
afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
});

let now: Date;
const clock = { now: () => now };
const scheduler = () => localScheduler(clock);
const loopDeps = (): ScheduleLoopDeps => ({ queue: deps().queue, clock });

/** Every message on the broadcasts queue now, taken off it. */
async function takeBroadcastTasks(): Promise<unknown[]> {
  const QueueUrl = stack.env.BROADCASTS_QUEUE_URL!;
  const bodies: unknown[] = [];
  for (;;) {
    const reply = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const messages = reply.Messages ?? [];
    if (messages.length === 0) return bodies;
    bodies.push(...messages.map((m) => JSON.parse(m.Body!)));
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
}

const stored = async (name: string) => (await localScheduleStore.list()).find((s) => s.name === name);

beforeEach(async () => {
  now = new Date('2026-03-07T12:00:00Z');
  await takeBroadcastTasks();
});
afterEach(async () => {
  for (const schedule of await localScheduleStore.list()) await scheduler().delete(schedule.name);
});

describe('local scheduler', () => {
  it('fires a one-time schedule once, at its time, and then it is gone', async () => {
    await scheduler().once('broadcast-1', new Date('2026-03-07T12:01:00Z'), { queue: 'broadcasts', body: { broadcastId: 'b1' } });
    expect(await stored('broadcast-1')).toMatchObject({ kind: 'once', expression: 'at(2026-03-07T12:01:00)', nextFireAt: '2026-03-07T12:01:00.000Z' });

    expect(await fireDueSchedules(loopDeps())).toBe(0);
    now = new Date('2026-03-07T12:01:05Z');
    expect(await fireDueSchedules(loopDeps())).toBe(1);
    expect(await takeBroadcastTasks()).toEqual([{ broadcastId: 'b1' }]);
    expect(await stored('broadcast-1')).toBeUndefined();

    now = new Date('2026-03-08T12:00:00Z');
    expect(await fireDueSchedules(loopDeps())).toBe(0);
    expect(await takeBroadcastTasks()).toEqual([]);
  });

  it('fires a recurring schedule and re-arms it on the next local time, across a DST change', async () => {
    // 02:30 New York: on 2026-03-08 it does not exist and fires at 03:00 EDT (07:00Z).
    const body = { notifier: 'due-date', scheduledTime: '<aws.scheduler.scheduled-time>' };
    await scheduler().recurring('notifier-due-date-op1', 'cron(30 2 * * ? *)', 'America/New_York', { queue: 'broadcasts', body });
    expect(await stored('notifier-due-date-op1')).toMatchObject({ kind: 'recurring', timezone: 'America/New_York', flexibleWindowMinutes: 15, nextFireAt: '2026-03-08T07:00:00.000Z' });

    now = new Date('2026-03-08T07:00:20Z');
    expect(await fireDueSchedules(loopDeps())).toBe(1);
    expect(await fireDueSchedules(loopDeps())).toBe(0);
    expect((await stored('notifier-due-date-op1'))?.nextFireAt).toBe('2026-03-09T06:30:00.000Z');

    now = new Date('2026-03-09T06:30:10Z');
    expect(await fireDueSchedules(loopDeps())).toBe(1);
    expect((await stored('notifier-due-date-op1'))?.nextFireAt).toBe('2026-03-10T06:30:00.000Z');
    // EventBridge's context attributes are filled in as on AWS: the time each fire was due.
    expect(await takeBroadcastTasks()).toEqual([
      { notifier: 'due-date', scheduledTime: '2026-03-08T07:00:00Z' },
      { notifier: 'due-date', scheduledTime: '2026-03-09T06:30:00Z' },
    ]);
  });

  it('replaces a schedule of the same name, and stops firing one that was deleted', async () => {
    const target = { queue: 'broadcasts' as const, body: { notifier: 'expiration' } };
    await scheduler().recurring('notifier-expiration-op1', 'cron(30 9 * * ? *)', 'Asia/Dhaka', target);
    await scheduler().recurring('notifier-expiration-op1', 'cron(0 10 * * ? *)', 'Asia/Dhaka', target, { flexibleWindowMinutes: 0 });
    expect(await localScheduleStore.list()).toHaveLength(1);
    expect(await stored('notifier-expiration-op1')).toMatchObject({ expression: 'cron(0 10 * * ? *)', nextFireAt: '2026-03-08T04:00:00.000Z', flexibleWindowMinutes: 0 });

    await scheduler().delete('notifier-expiration-op1');
    await scheduler().delete('notifier-expiration-op1'); // already gone: fine
    now = new Date('2026-03-09T00:00:00Z');
    expect(await fireDueSchedules(loopDeps())).toBe(0);
    expect(await takeBroadcastTasks()).toEqual([]);
  });

  it('fires a schedule once when two passes race for it', async () => {
    await scheduler().once('race', new Date('2026-03-08T11:59:00Z'), { queue: 'broadcasts', body: { n: 1 } });
    await scheduler().recurring('race-daily', 'cron(0 12 * * ? *)', 'UTC', { queue: 'broadcasts', body: { n: 2 } });
    now = new Date('2026-03-08T12:00:30Z');
    const counts = await Promise.all([fireDueSchedules(loopDeps()), fireDueSchedules(loopDeps()), fireDueSchedules(loopDeps())]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(2);
    expect(((await takeBroadcastTasks()) as Array<{ n: number }>).map((t) => t.n).sort()).toEqual([1, 2]);
  });

  it('does not fire again when the fire loop is restarted', async () => {
    await scheduler().once('restart-once', new Date('2026-03-08T11:59:00Z'), { queue: 'broadcasts', body: { kind: 'once' } });
    await scheduler().recurring('restart-daily', 'cron(0 12 * * ? *)', 'UTC', { queue: 'broadcasts', body: { kind: 'daily' } });
    now = new Date('2026-03-08T12:00:30Z');
    const first = startLocalScheduleLoop(loopDeps(), { intervalMs: 50 });
    await expect.poll(async () => (await localScheduleStore.list()).map((s) => s.nextFireAt), { timeout: 5_000 }).toEqual(['2026-03-09T12:00:00.000Z']);
    await first.stop();
    const second = startLocalScheduleLoop(loopDeps(), { intervalMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    await second.stop();
    expect(((await takeBroadcastTasks()) as Array<{ kind: string }>).map((t) => t.kind).sort()).toEqual(['daily', 'once']);
  });

  it('keeps a schedule due when its task could not be queued, and fires it on the next pass', async () => {
    await scheduler().once('flaky', new Date('2026-03-07T11:59:00Z'), { queue: 'broadcasts', body: { try: 'again' } });
    const failing: ScheduleLoopDeps = { clock, queue: { enqueue: async () => Promise.reject(new Error('SQS is down')) } };
    expect(await fireDueSchedules(failing)).toBe(0);
    expect((await stored('flaky'))?.nextFireAt).toBe('2026-03-07T11:59:00.000Z');
    expect(await fireDueSchedules(loopDeps())).toBe(1);
    expect(await takeBroadcastTasks()).toEqual([{ try: 'again' }]);
  });

  it('drops a fire more than a day late, as EventBridge does past its maximum event age', async () => {
    await scheduler().once('stale', new Date('2026-03-05T12:00:00Z'), { queue: 'broadcasts', body: { stale: true } });
    await scheduler().recurring('asleep', 'cron(0 9 * * ? *)', 'UTC', { queue: 'broadcasts', body: { asleep: true } });
    // The laptop slept for three days: the daily one re-arms after now, without a burst of missed fires.
    now = new Date('2026-03-11T10:00:00Z');
    expect(await fireDueSchedules(loopDeps())).toBe(2);
    expect(await takeBroadcastTasks()).toEqual([]);
    expect(await localScheduleStore.list()).toMatchObject([{ name: 'asleep', nextFireAt: '2026-03-12T09:00:00.000Z' }]);
  });

  it('refuses a queue that is not a schedule target', async () => {
    await expect(scheduler().once('nope', new Date(), { queue: 'send-sms', body: {} })).rejects.toThrow(/not a schedule target/);
  });
});
