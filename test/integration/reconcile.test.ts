import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps, type Deps } from '../../shared/deps.js';
import type { Operator } from '../../shared/domain/records.js';
import { saveGateway } from '../../shared/services/gateways.js';
import { sendMessage } from '../../shared/services/messages.js';
import { reconcileMessages, STRANDED_AFTER_MS } from '../../shared/services/reconcile.js';
import { startDemoStack, type DemoStack } from '../support/demo-stack.js';

let demo: DemoStack;
let d: Deps;
let operator: Operator;

beforeAll(async () => {
  // No workers and no schedule: this file runs the reconciler itself, with its own clock.
  demo = await startDemoStack('reconcile', { workers: false });
  d = deps();
  operator = (await d.operators.get('demo'))!;
});

afterAll(async () => {
  await demo?.stack.stop();
});

const at = (ms: number) => ({ now: () => new Date(Date.now() + ms) });
const noQueue = (tasks: object[] = []) => ({ enqueue: async (_q: string, more: object[]) => void tasks.push(...more) });

describe('the scheduled reconciler', () => {
  it('keeps a sent message whose receipt never came and the provider cannot account for: counted overdue, asked again a window later', async () => {
    const message = await sendMessage(d, operator, { mobile: '01711224455', text: 'overdue?', variables: {} });
    const past = new Date(Date.now() - 120_000).toISOString();
    // Sent through the sandbox under an id its journal never gave out: the sandbox cannot say what became of it.
    await d.messages.transition('demo', message.id, { status: 'sent', at: past }, { providerMessageId: 'sbx_unknown', gatewayId: message.gatewayId, receiptDueAt: past });

    const first = await reconcileMessages({ ...d, queue: noQueue() });
    expect(first).toMatchObject({ resolved: 0, overdue: 1 });
    expect((await d.messages.get('demo', message.id))?.status).toBe('sent');
    // Not asked again on every run...
    expect(await reconcileMessages({ ...d, queue: noQueue() })).toMatchObject({ overdue: 0 });
    // ...but again once its provider's window has passed.
    expect(await reconcileMessages({ ...d, queue: noQueue(), clock: at(61_000) })).toMatchObject({ overdue: 1 });
  });

  it('never counts overdue a message sent through a gateway that sends no receipts (sent is final there)', async () => {
    const { view } = await saveGateway(d, operator, {
      name: 'BulkSMSBD',
      channel: 'sms',
      provider: 'bulksmsbd',
      credentials: { apiKey: 'abcdef0123456789', webhookSecret: 'a-webhook-secret-0123' },
      settings: { senderId: '8809617611058' },
      default: false,
    });
    const message = await sendMessage(d, operator, { mobile: '01711224488', text: 'no receipts', variables: {} });
    const past = new Date(Date.now() - 3_600_000).toISOString();
    // Another id beside the message's (its last character changed: one in 32 ids already ends in X).
    const viaBulk = `${message.id.slice(0, 25)}${message.id.endsWith('X') ? 'Y' : 'X'}`;
    await d.messages.create({ ...message, id: viaBulk, gatewayId: view.id, provider: 'bulksmsbd' });
    await d.messages.transition('demo', viaBulk, { status: 'sent', at: past }, { providerMessageId: 'bsb-1', gatewayId: view.id, receiptDueAt: past });
    const report = await reconcileMessages({ ...d, queue: noQueue() });
    expect(report.overdue).toBe(0);
    const stillPending: string[] = [];
    for await (const page of d.messages.pending('sent', new Date(Date.now() + 86_400_000).toISOString())) stillPending.push(...page.map((p) => p.messageId));
    expect(stillPending).not.toContain(viaBulk);
    expect((await d.messages.get('demo', viaBulk))?.status).toBe('sent');
  });

  it('puts back on the send queue a queued message left without a task, and only once it is stranded', async () => {
    const message = await sendMessage(d, operator, { mobile: '01711224466', text: 'stranded?', variables: {} });
    const early: object[] = [];
    await reconcileMessages({ ...d, queue: noQueue(early) });
    expect(early).not.toContainEqual(expect.objectContaining({ messageId: message.id }));
    const late: object[] = [];
    await reconcileMessages({ ...d, queue: noQueue(late), clock: at(STRANDED_AFTER_MS + 1_000) });
    expect(late).toContainEqual({ operatorId: 'demo', messageId: message.id });
  });

  it('reads only the messages in flight: delivered and failed ones leave the pending index', async () => {
    const delivered = await sendMessage(d, operator, { mobile: '01711224477', text: 'done', variables: {} });
    const now = new Date().toISOString();
    await d.messages.transition('demo', delivered.id, { status: 'sent', at: now }, { providerMessageId: 'sbx_done', gatewayId: delivered.gatewayId, receiptDueAt: now });
    await d.messages.transition('demo', delivered.id, { status: 'delivered', at: now });
    const seen: string[] = [];
    for (const status of ['queued', 'sent'] as const) {
      for await (const page of d.messages.pending(status, new Date(Date.now() + 86_400_000).toISOString())) seen.push(...page.map((p) => p.messageId));
    }
    expect(seen).not.toContain(delivered.id);
  });
});
