/**
 * A broadcast's messages whose receipt does not come are asked about: its last page's settle step
 * queues a look for when the gateway's receipt window has passed, and the look asks the provider
 * about each message still sent and records its answer (the sandbox keeps what it accepted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps } from '../../shared/deps.js';
import type { TaskQueue } from '../../shared/ports.js';
import { runBroadcastTask, type BroadcastTask } from '../../shared/services/broadcast-fanout.js';
import { apiClient, waitFor } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let broadcastId: string;

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('broadcast-receipts', { liftRateLimit: true }));
  // The sandbox's receipts come a minute after each send: long after this file has asked about them.
  const gateway = ((await api.get('/v1/gateways')).body.items as any[]).find((g) => g.channel === 'sms' && g.provider === 'sandbox');
  const put = await api.put(`/v1/gateways/${gateway.id}`, { name: gateway.name, channel: 'sms', provider: 'sandbox', settings: { ...gateway.settings, deliveryDelayMs: 60_000 }, default: true });
  expect(put.status).toBe(200);
  const customers = ['01711340301', '01711340302', '01711340000'].map((mobile, i) => ({ id: `rc-${i + 1}`, name: `Receipt Customer ${i + 1}`, mobile, status: 'active', zone: 'Receipt-Zone' }));
  expect((await api.post('/v1/customers/import', { customers })).status).toBe(200);
  const posted = await api.post('/v1/broadcasts', { filter: { zone: ['Receipt-Zone'] }, channel: 'sms', text: 'Your line is back.' });
  expect(posted.status).toBe(202);
  broadcastId = String(posted.body.id);
  await waitFor(
    () => api.get(`/v1/broadcasts/${broadcastId}`),
    (r) => r.body.counts.sent === 3,
    30_000,
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

function capturing() {
  const tasks: Array<{ queue: string; task: any; delaySeconds?: number }> = [];
  const queue: TaskQueue = { enqueue: async (name, list, options) => void tasks.push(...list.map((task) => ({ queue: name, task, delaySeconds: options?.delaySeconds }))) };
  return { tasks, queue };
}
const later = (ms: number) => ({ now: () => new Date(Date.now() + ms) });
const messages = async () => ((await api.get(`/v1/messages?broadcastId=${broadcastId}&limit=10`)).body.items as any[]).map((m) => [m.to, m.status]).sort();

describe("a broadcast's receipts that do not come", () => {
  it("are looked for once the last page is settled, after the gateway's receipt window", async () => {
    const { tasks, queue } = capturing();
    const ids = ((await api.get(`/v1/messages?broadcastId=${broadcastId}&limit=10`)).body.items as any[]).map((m) => String(m.id));
    // The page's own settle step (queued 10 s after the page) may have run already: the first to settle queues the look.
    const settle: BroadcastTask = { type: 'settle', operatorId: 'demo', broadcastId, page: 0, messageIds: ids };
    const outcome = await runBroadcastTask({ ...deps(), queue }, settle);
    if (outcome === 'settled') {
      // The sandbox's window is 60 s.
      expect(tasks).toEqual([{ queue: 'broadcasts', task: { type: 'receipts', operatorId: 'demo', broadcastId, round: 0 }, delaySeconds: 61 }]);
    } else {
      expect(outcome).toBe('duplicate');
    }
  });

  it('waits while they are not overdue yet, then asks the provider and records what it says', async () => {
    const { tasks, queue } = capturing();
    const look: BroadcastTask = { type: 'receipts', operatorId: 'demo', broadcastId, round: 0 };
    expect(await runBroadcastTask({ ...deps(), queue }, look)).toBe('again-later');
    expect(tasks).toEqual([{ queue: 'broadcasts', task: { type: 'receipts', operatorId: 'demo', broadcastId, round: 1 }, delaySeconds: expect.any(Number) }]);
    expect(tasks[0]!.delaySeconds).toBeGreaterThanOrEqual(55);
    expect(tasks[0]!.delaySeconds).toBeLessThanOrEqual(62);
    expect(await messages()).toEqual([['+8801711340000', 'sent'], ['+8801711340301', 'sent'], ['+8801711340302', 'sent']]);

    // Two minutes on: overdue. The sandbox says two were delivered and one (ending 0000) failed.
    tasks.length = 0;
    expect(await runBroadcastTask({ ...deps(), queue, clock: later(120_000) }, { ...look, round: 1 })).toBe('all-answered');
    expect(tasks).toEqual([]);
    expect(await messages()).toEqual([['+8801711340000', 'failed'], ['+8801711340301', 'delivered'], ['+8801711340302', 'delivered']]);
    // Once the counters have caught up, a further look reads nothing but them.
    await waitFor(
      () => api.get(`/v1/broadcasts/${broadcastId}`),
      (r) => r.body.counts.sent === 0,
      20_000,
    );
    expect(await runBroadcastTask({ ...deps(), queue, clock: later(120_000) }, { ...look, round: 2 })).toBe('all-answered');
  });
});
