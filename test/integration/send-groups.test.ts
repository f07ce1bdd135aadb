/**
 * A broadcast's messages are sent ten under one claim, their send group's (deliver-group.ts): each
 * is sent once whatever the task's deliveries, a worker that died holding the group leaves its
 * messages to be reconciled one by one (never a second provider call), and a message that must
 * retry leaves the group for a single send task.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps } from '../../shared/deps.js';
import { newId } from '../../shared/domain/ids.js';
import type { Message } from '../../shared/domain/records.js';
import { seedDemo } from '../../shared/local/seed.js';
import type { TaskQueue } from '../../shared/ports.js';
import { deliverGroup } from '../../shared/services/deliver-group.js';
import { deliverMessage, RetryLater } from '../../shared/services/deliver-message.js';
import { openGateway, providerContext } from '../../shared/services/gateways.js';
import { sendMessage } from '../../shared/services/messages.js';
import { sendThrough } from '../../shared/services/provider-send.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>> | undefined;
let template: Message;
beforeAll(async () => {
  // No workers: each delivery is played here, one at a time.
  stack = await startTestStack('send-groups', { workers: false });
  await seedDemo({});
  const operator = (await deps().operators.get('demo'))!;
  template = await sendMessage(deps(), operator, { mobile: '01711330001', text: 'Your bill is due', variables: {} });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const attempt = { receiveCount: 1, maxReceiveCount: 5, maxAttempts: 5, claimMs: 30_000 };
const minuteAgo = () => new Date(Date.now() - 60_000).toISOString();

function capturing() {
  const tasks: Array<{ queue: string; task: any; delaySeconds?: number }> = [];
  const queue: TaskQueue = { enqueue: async (name, list, options) => void tasks.push(...list.map((task) => ({ queue: name, task, delaySeconds: options?.delaySeconds }))) };
  return { d: { ...deps(), queue }, tasks };
}

/** Broadcast-like messages (held with a page, in one send group) to numbers ending as given. */
async function groupOf(endings: string[]): Promise<{ group: string; messages: Message[] }> {
  const group = randomBytes(9).toString('base64url');
  const messages = endings.map((ending) => ({
    ...template,
    id: newId(),
    to: `+880171133${ending}`,
    holdId: `page.test.0`,
    lane: 'bulk' as const,
    sendGroup: group,
    attempts: 0,
    history: [{ status: 'queued' as const, at: new Date().toISOString() }],
  }));
  await deps().messages.createMany(messages);
  return { group, messages };
}

const task = (group: string, messages: Message[]) => ({ operatorId: 'demo', group, messageIds: messages.map((m) => m.id) });
const stored = (id: string) => deps().messages.get('demo', id) as Promise<Message>;
const accepted = (m: Message) => (m.tries ?? []).filter((t) => t.outcome === 'accepted').length;

describe('a send group', () => {
  it('sends each of its messages once: a second delivery of its task does nothing, and a single task for one of them is refused', async () => {
    const { d } = capturing();
    const { group, messages } = await groupOf(['0101', '0102', '0103']);
    expect((await deliverGroup(d, task(group, messages), attempt, 'send-sms')).map((o) => o.outcome)).toEqual(['sent', 'sent', 'sent']);
    expect(await deliverGroup(d, task(group, messages), attempt, 'send-sms')).toEqual([{ outcome: 'duplicate' }]);
    const again = { ...messages[0]!, id: newId(), sendGroup: group };
    await d.messages.createMany([again]);
    // A message still in a group is never claimed by a single task, even when its group is done.
    expect(await deliverMessage(d, { operatorId: 'demo', messageId: again.id }, attempt)).toBe('duplicate');
    expect((await stored(again.id)).status).toBe('queued');
    for (const m of messages) {
      const now = await stored(m.id);
      expect(now.status).toBe('sent');
      expect(accepted(now)).toBe(1);
      // The group's claim stood for the message's own: no attempt was counted on the message by a claim write.
      expect(now.attempts).toBe(0);
    }
  });

  it("is closed by a cancel only while no worker has claimed it: a worker that comes later sends nothing from it", async () => {
    const { d } = capturing();
    const now = () => new Date().toISOString();
    const idle = await groupOf(['0131', '0132']);
    expect(await d.sendGroups.close('demo', idle.group, now())).toBe('closed');
    expect(await d.sendGroups.close('demo', idle.group, now())).toBe('done');
    expect(await deliverGroup(d, task(idle.group, idle.messages), attempt, 'send-sms')).toEqual([{ outcome: 'duplicate' }]);
    for (const m of idle.messages) expect((await stored(m.id)).status).toBe('queued');

    // Claimed by a worker (sending now, or died doing so): the cancel leaves it to that worker or its reconciliation.
    const held = await groupOf(['0133']);
    await d.sendGroups.claim('demo', held.group, new Date(Date.now() + 30_000).toISOString(), now());
    expect(await d.sendGroups.close('demo', held.group, now())).toBe('held');
    const lost = await groupOf(['0134']);
    await d.sendGroups.claim('demo', lost.group, minuteAgo(), new Date(Date.now() - 90_000).toISOString());
    expect(await d.sendGroups.close('demo', lost.group, now())).toBe('held');
  });

  it('is put back until its claim ends while another worker holds it', async () => {
    const { d, tasks } = capturing();
    const { group, messages } = await groupOf(['0111']);
    await d.sendGroups.claim('demo', group, new Date(Date.now() + 30_000).toISOString(), new Date().toISOString());
    expect(await deliverGroup(d, task(group, messages), attempt, 'send-sms')).toEqual([{ outcome: 'deferred' }]);
    expect(tasks).toEqual([{ queue: 'send-sms', task: task(group, messages), delaySeconds: expect.any(Number) }]);
    expect(tasks[0]!.delaySeconds).toBeGreaterThanOrEqual(30);
    expect((await stored(messages[0]!.id)).status).toBe('queued');
  });

  it('after its worker died holding it, hands each queued message to a single task that asks the provider first: none is sent twice', async () => {
    const { d, tasks } = capturing();
    const { group, messages } = await groupOf(['0121', '0122']);
    const [acceptedBeforeCrash, neverCalled] = messages as [Message, Message];
    // The worker claimed the group, the sandbox accepted the first message, and the worker died.
    await d.sendGroups.claim('demo', group, minuteAgo(), new Date(Date.now() - 90_000).toISOString());
    const opened = (await openGateway(d, acceptedBeforeCrash.gatewayId))!;
    await sendThrough(opened, { messageId: acceptedBeforeCrash.id, to: acceptedBeforeCrash.to, text: acceptedBeforeCrash.text, statusCallbackUrl: '' }, providerContext(d, opened.gateway.id));

    const outcomes = await deliverGroup(d, task(group, messages), attempt, 'send-sms');
    expect(outcomes.map((o) => o.outcome)).toEqual(['lost-in-group', 'lost-in-group']);
    expect(tasks.filter((t) => t.queue === 'send-sms').map((t) => t.task.messageId).sort()).toEqual(messages.map((m) => m.id).sort());
    for (const m of messages) {
      const now = await stored(m.id);
      expect(now.sendGroup).toBeUndefined();
      expect(now.claimedUntil! < new Date().toISOString()).toBe(true);
    }
    // The group is done: its task again does nothing.
    expect(await deliverGroup(d, task(group, messages), attempt, 'send-sms')).toEqual([{ outcome: 'duplicate' }]);

    // Each single task finds an expired claim and asks the sandbox: the first was accepted (recorded,
    // not sent again), the second never reached it (sent now, for the first time).
    expect(await deliverMessage(d, { operatorId: 'demo', messageId: acceptedBeforeCrash.id }, attempt)).toBe('reconciled');
    expect(await deliverMessage(d, { operatorId: 'demo', messageId: neverCalled.id }, attempt)).toBe('sent');
    for (const m of messages) {
      const now = await stored(m.id);
      expect(['sent', 'delivered']).toContain(now.status);
    }
    expect(accepted(await stored(neverCalled.id))).toBe(1);
  });

  it('lets a message that must retry leave the group for a single send task, and fails a rejected one in place', async () => {
    const { d, tasks } = capturing();
    const { group, messages } = await groupOf(['0131', '9999', '1111']);
    const [fine, unavailable, rejected] = messages as [Message, Message, Message];
    const outcomes = await deliverGroup(d, task(group, messages), attempt, 'send-sms');
    expect(outcomes.map((o) => o.outcome)).toEqual(['sent', 'retried', 'rejected']);
    expect((await stored(fine.id)).status).toBe('sent');
    expect((await stored(rejected.id)).status).toBe('failed');

    const left = await stored(unavailable.id);
    expect(left).toMatchObject({ status: 'queued', attempts: 1 });
    expect(left.sendGroup).toBeUndefined();
    expect(left.claimedUntil).toBeUndefined();
    expect(left.tries?.map((t) => t.outcome)).toEqual(['unavailable']);
    expect(tasks.filter((t) => t.queue !== 'provider-callbacks')).toEqual([{ queue: 'send-sms', task: { operatorId: 'demo', messageId: unavailable.id }, delaySeconds: 60 }]);

    // Its single task claims it (the second attempt) and retries as any single send.
    await expect(deliverMessage(d, { operatorId: 'demo', messageId: unavailable.id }, attempt)).rejects.toBeInstanceOf(RetryLater);
    expect(await stored(unavailable.id)).toMatchObject({ status: 'queued', attempts: 2 });
  });
});
