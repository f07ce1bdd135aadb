/**
 * An audience longer than a page: the estimate samples it with a filtered Query, whose Limit counts
 * the rows it read, not those the filter kept (a zone whose customers come late in the index must
 * still be found); and its walk, ten pages a plan step, goes on after a restart lost its next step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps } from '../../shared/deps.js';
import type { TaskQueue } from '../../shared/ports.js';
import { createBroadcast } from '../../shared/services/broadcasts.js';
import { PAGE_SIZE, PAGES_PER_PLAN_STEP, PLAN_AHEAD_MAX, recoverBroadcastTasks, runBroadcastTask, type BroadcastTask } from '../../shared/services/broadcast-fanout.js';
import { apiClient } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('broadcast-sample', { liftRateLimit: true }));
  // More active customers of one zone than a plan step reads (first in id order), then 3 of another.
  const walked = PAGE_SIZE * PAGES_PER_PLAN_STEP + 50;
  const customers = Array.from({ length: walked + 3 }, (_, i) => ({
    id: `${i < walked ? 'a' : 'z'}-${String(i + 1).padStart(4, '0')}`,
    name: `Sampled Customer ${i + 1}`,
    // Numbers ending 2000-3052: none of the sandbox's failure endings.
    mobile: `0171${String(3002000 + i).padStart(7, '0')}`,
    status: 'active',
    zone: i < walked ? 'Gulshan' : 'Uttara-Far',
  }));
  // The import takes up to 1,000 rows a request.
  for (let start = 0; start < customers.length; start += 1000) {
    expect((await api.post('/v1/customers/import', { customers: customers.slice(start, start + 1000) })).status).toBe(200);
  }
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('a broadcast estimate', () => {
  it('finds a zone whose customers come after more than a page of others', async () => {
    const reply = await api.post('/v1/broadcasts', { filter: { zone: ['Uttara-Far'], status: ['active'] }, channel: 'sms', text: 'Outage tonight in your area.', dryRun: true });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ recipients: 3, segments: 3 });
    expect(reply.body.samples.map((s: { customerId: string }) => s.customerId).sort()).toEqual(['z-1051', 'z-1052', 'z-1053']);
  });

  it('walks on from the plan step it had reached when a restart lost the next one', async () => {
    const tasks: Array<{ queue: string; task: any }> = [];
    const queue: TaskQueue = { enqueue: async (name, list) => void tasks.push(...list.map((task) => ({ queue: name, task }))) };
    const d = { ...deps(), queue };
    const operator = (await d.operators.get('demo'))!;
    const { body } = await createBroadcast(d, operator, { kind: 'broadcast', filter: { zone: ['Gulshan'], status: ['active'] }, channel: 'sms', text: 'Walked on', category: 'transactional', dryRun: false });
    const first = tasks.find((t) => t.task.type === 'plan')!.task as Extract<BroadcastTask, { type: 'plan' }>;
    expect(await runBroadcastTask(d, first)).toBe('planned');
    // One Query, ten pages of recipients, each its own expand task numbered after the step.
    const pages = tasks.filter((t) => t.task.type === 'expand').map((t) => t.task as Extract<BroadcastTask, { type: 'expand' }>);
    expect(pages.map((p) => [p.page, p.rows.length])).toEqual(Array.from({ length: PAGES_PER_PLAN_STEP }, (_, i) => [i, PAGE_SIZE]));
    const second = tasks.find((t) => t.task.type === 'plan' && t.task.step === 1)!.task as Extract<BroadcastTask, { type: 'plan' }>;

    // Far ahead of the senders (more than PLAN_AHEAD_MAX written and not sent): the step waits and reads nothing.
    tasks.length = 0;
    const ahead = { ...d, broadcasts: { ...d.broadcasts, counts: async () => ({ queued: PLAN_AHEAD_MAX + 1, sent: 0, delivered: 0, read: 0, failed: 0, cancelled: 0, spent: 0, recentSent: 0 }) } };
    expect(await runBroadcastTask(ahead, second)).toBe('ahead');
    expect(tasks).toEqual([{ queue: 'broadcasts', task: second }]);
    expect((await d.broadcasts.get('demo', String(body.id)))!.planStep).toBe(1);

    // The local queue restarted: the next plan step is gone; the broadcast kept where it starts.
    tasks.length = 0;
    const broadcast = (await d.broadcasts.get('demo', String(body.id)))!;
    expect(broadcast).toMatchObject({ planStep: 1, planCursor: second.cursor });
    expect((await recoverBroadcastTasks(d, broadcast)).plans).toBe(1);
    const again = tasks.find((t) => t.task.type === 'plan')!.task as Extract<BroadcastTask, { type: 'plan' }>;
    expect(again).toEqual(second);
    expect(await runBroadcastTask(d, again)).toBe('planned-last');
    expect(await runBroadcastTask(d, again)).toBe('duplicate');
    const walked = (await d.broadcasts.get('demo', String(body.id)))!;
    expect(walked.planDone).toBe(true);
    expect(walked.planned).toBeGreaterThanOrEqual(PAGE_SIZE * PAGES_PER_PLAN_STEP + 50);
    expect(walked.pages).toBe(PAGES_PER_PLAN_STEP + 1);
    // Done walking: nothing to put back for the walk.
    tasks.length = 0;
    expect((await recoverBroadcastTasks(d, walked)).plans).toBe(0);
    await api.post(`/v1/broadcasts/${body.id}/cancel`);
  });
});
