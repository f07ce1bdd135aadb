/**
 * The WhatsApp → SMS fallback's promises, driven by hand (no workers): made once whichever path
 * reports the failure, finished by the reconciler when the failure's own attempt was lost, declined
 * when the operator turned it off, and after fallbackAfterSeconds for a message still undelivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps, type Deps } from '../../shared/deps.js';
import type { Operator } from '../../shared/domain/records.js';
import { deliverMessage } from '../../shared/services/deliver-message.js';
import { recordStatus } from '../../shared/services/fallback.js';
import { sendMessage } from '../../shared/services/messages.js';
import { reconcileMessages } from '../../shared/services/reconcile.js';
import { startDemoStack, type DemoStack } from '../support/demo-stack.js';

let demo: DemoStack;
let d: Deps;
let operator: Operator;

beforeAll(async () => {
  // No workers and no schedule: this file moves the messages itself.
  demo = await startDemoStack('whatsapp-fallback', { workers: false });
  d = deps();
  operator = (await d.operators.get('demo'))!;
});

afterAll(async () => {
  await demo?.stack.stop();
});

/** A queue that keeps what it is given, to look at and run by hand. */
function keptQueue() {
  const tasks: { queue: string; task: Record<string, any>; delaySeconds?: number }[] = [];
  return { tasks, queue: { enqueue: async (queue: string, more: object[], options?: { delaySeconds?: number }) => void tasks.push(...more.map((task) => ({ queue, task: task as Record<string, any>, delaySeconds: options?.delaySeconds }))) } };
}

const attempt = { receiveCount: 1, maxReceiveCount: 5, maxAttempts: 5, claimMs: 30_000 };
const failure = (at = new Date().toISOString()) => ({ status: 'failed' as const, at, reason: 'Not on WhatsApp', providerStatus: '131026' });

describe('the SMS fallback of a failed WhatsApp message', () => {
  it('is made once when the failure is reported twice, by different paths at the same time', async () => {
    const message = await sendMessage({ ...d, queue: keptQueue().queue }, operator, { customerId: 'wa-0001', text: 'Twice?', variables: {} });
    expect(message.channel).toBe('whatsapp');
    const { queue, tasks } = keptQueue();
    const paths = await Promise.all([
      recordStatus({ ...d, queue }, message, failure()),
      recordStatus({ ...d, queue }, message, failure()),
    ]);
    expect(paths.filter(Boolean)).toHaveLength(1); // one failure recorded; the other found it failed
    const failed = (await d.messages.get('demo', message.id))!;
    expect(failed.fallbackMessageId).toBeDefined();
    const fallback = (await d.messages.get('demo', failed.fallbackMessageId!))!;
    expect(fallback).toMatchObject({ channel: 'sms', to: '+8801711552211', fallbackOf: message.id, status: 'queued', lane: 'priority' });
    expect(tasks.map((t) => t.queue)).toEqual(['send-priority']);
    // Taken out of the pending index: the reconciler has nothing left to do for it.
    expect(await reconcileMessages({ ...d, queue: keptQueue().queue })).toMatchObject({ fallbacks: 0 });
  });

  it('is finished by the reconciler when the queue could not take it at the failure', async () => {
    const message = await sendMessage({ ...d, queue: keptQueue().queue }, operator, { customerId: 'wa-0001', text: 'Queue down', variables: {} });
    const down = { enqueue: async () => Promise.reject(new Error('SQS is unavailable')) };
    await recordStatus({ ...d, queue: down }, message, failure());
    // The fallback SMS was stored but could not be queued: it is failed with the reason, and linked.
    const failed = (await d.messages.get('demo', message.id))!;
    const first = (await d.messages.get('demo', failed.fallbackMessageId!))!;
    expect(first.status).toBe('failed');
    expect(first.history.at(-1)?.reason).toMatch(/Could not be queued/);
  });

  it('is made by the reconciler when the worker died between the failure and the fallback', async () => {
    const message = await sendMessage({ ...d, queue: keptQueue().queue }, operator, { customerId: 'wa-0001', text: 'Crash', variables: {} });
    // What recordStatus writes first: the failure, with the message kept in the pending index for its fallback.
    const minuteAgo = new Date(Date.now() - 61_000).toISOString();
    expect(await d.messages.transition('demo', message.id, failure(minuteAgo), { awaitingFallback: true })).toBe(true);
    expect((await d.messages.get('demo', message.id))!.fallbackMessageId).toBeUndefined();

    const { queue, tasks } = keptQueue();
    expect(await reconcileMessages({ ...d, queue })).toMatchObject({ fallbacks: 1 });
    const failed = (await d.messages.get('demo', message.id))!;
    expect(failed.fallbackMessageId).toBeDefined();
    expect(tasks.some((t) => t.task.messageId === failed.fallbackMessageId)).toBe(true);
    expect(await reconcileMessages({ ...d, queue })).toMatchObject({ fallbacks: 0 });
  });

  it('is declined, and leaves the pending index, when the operator turned fallback off', async () => {
    const message = await sendMessage({ ...d, queue: keptQueue().queue }, operator, { customerId: 'wa-0001', text: 'No fallback', variables: {} });
    await d.operators.update('demo', { fallbackToSms: false });
    try {
      await recordStatus({ ...d, queue: keptQueue().queue }, message, failure(new Date(Date.now() - 61_000).toISOString()));
      expect((await d.messages.get('demo', message.id))!.fallbackMessageId).toBeUndefined();
      expect(await reconcileMessages({ ...d, queue: keptQueue().queue })).toMatchObject({ fallbacks: 0 });
    } finally {
      await d.operators.update('demo', { fallbackToSms: null });
    }
  });

  it('is not made for a send whose outcome is unknown (the WhatsApp message may have arrived)', async () => {
    const message = await sendMessage({ ...d, queue: keptQueue().queue }, operator, { customerId: 'wa-0001', text: 'Unknown', variables: {} });
    await recordStatus({ ...d, queue: keptQueue().queue }, message, { status: 'failed', at: new Date().toISOString(), reason: 'outcome unknown' }, {}, { fallback: false });
    expect((await d.messages.get('demo', message.id))!.fallbackMessageId).toBeUndefined();
  });
});

describe('fallbackAfterSeconds', () => {
  it('falls back when the WhatsApp message is still undelivered when its check is due, once, and not after delivery', async () => {
    await d.operators.update('demo', { fallbackAfterSeconds: 1200 });
    try {
      const fresh = (await d.operators.get('demo'))!;
      const { queue, tasks } = keptQueue();
      const slow = await sendMessage({ ...d, queue }, fresh, { customerId: 'wa-0001', text: 'Slow', variables: {} });
      const check = tasks.find((t) => t.task.fallbackCheck)!;
      // 20 minutes is more than a task may wait (15): the check waits 900 s, then goes round again.
      expect(check).toMatchObject({ queue: 'send-priority', delaySeconds: 900 });
      const again = keptQueue();
      expect(await deliverMessage({ ...d, queue: again.queue }, check.task as never, attempt)).toBe('fallback-checked');
      expect(again.tasks).toHaveLength(1);
      expect(again.tasks[0]!.delaySeconds).toBeGreaterThan(290);
      expect((await d.messages.get('demo', slow.id))!.fallbackMessageId).toBeUndefined();

      const due = { ...d, queue: keptQueue().queue, clock: { now: () => new Date(Date.now() + 1_201_000) } };
      expect(await deliverMessage(due, check.task as never, attempt)).toBe('fallback-checked');
      expect(await deliverMessage(due, check.task as never, attempt)).toBe('fallback-checked');
      const fellBack = (await d.messages.get('demo', slow.id))!;
      expect(fellBack.status).toBe('queued'); // the WhatsApp message itself is left as it is
      expect((await d.messages.get('demo', fellBack.fallbackMessageId!))!).toMatchObject({ channel: 'sms', fallbackOf: slow.id });

      // A delivered one is left alone.
      const quick = await sendMessage({ ...d, queue }, fresh, { customerId: 'wa-0001', text: 'Quick', variables: {} });
      const quickCheck = tasks.findLast((t) => t.task.fallbackCheck && t.task.messageId === quick.id)!;
      await d.messages.transition('demo', quick.id, { status: 'delivered', at: new Date().toISOString() });
      expect(await deliverMessage(due, quickCheck.task as never, attempt)).toBe('fallback-checked');
      expect((await d.messages.get('demo', quick.id))!.fallbackMessageId).toBeUndefined();
    } finally {
      await d.operators.update('demo', { fallbackAfterSeconds: null });
    }
  });
});
