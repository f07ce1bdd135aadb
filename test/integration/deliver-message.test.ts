import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps, type Deps } from '../../shared/deps.js';
import type { Operator } from '../../shared/domain/records.js';
import { seedDemo } from '../../shared/local/seed.js';
import { deliverMessage, RetryLater } from '../../shared/services/deliver-message.js';
import { openGateway, saveGateway } from '../../shared/services/gateways.js';
import { sendMessage } from '../../shared/services/messages.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let d: Deps;
let operator: Operator;

beforeAll(async () => {
  // No pollers here: this file drives the sender itself, to play the races SQS can create.
  stack = await startTestStack('deliver-message', { workers: false });
  await seedDemo({});
  // Receipts from the sandbox go nowhere in this file: only the sender's own writes are under test.
  d = { ...deps(), publicBaseUrl: 'http://127.0.0.1:9' };
  operator = (await d.operators.get('demo'))!;
});

afterAll(async () => {
  await stack?.stop();
});

const attempt = { receiveCount: 1, maxReceiveCount: 5, claimMs: 30_000 };
const queue = async (mobile = '01711223344') => sendMessage(d, operator, { mobile, text: 'hello', variables: {} });

describe('the sender sends each message at most once', () => {
  it('does nothing for a duplicate delivery of a message already sent', async () => {
    const message = await queue();
    expect(await deliverMessage(d, { operatorId: 'demo', messageId: message.id }, attempt)).toBe('sent');
    const once = await d.messages.get('demo', message.id);
    expect(await deliverMessage(d, { operatorId: 'demo', messageId: message.id }, { ...attempt, receiveCount: 2 })).toBe('duplicate');
    const twice = await d.messages.get('demo', message.id);
    expect(once?.status).toBe('sent');
    expect(twice).toEqual(once);
  });

  it('lets only one of two concurrent deliveries call the provider', async () => {
    const message = await queue();
    const task = { operatorId: 'demo', messageId: message.id };
    const outcomes = await Promise.allSettled([deliverMessage(d, task, attempt), deliverMessage(d, task, attempt)]);
    const stored = await d.messages.get('demo', message.id);
    expect(stored?.history.filter((h) => h.status === 'sent')).toHaveLength(1);
    expect(stored?.attempts).toBe(1);
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    // The loser either saw the claim (and asks SQS to retry later) or saw the message already sent.
    for (const r of rejected) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(RetryLater);
  });

  it('fails, without calling the provider, a message whose sender died during the provider call', async () => {
    const message = await queue();
    const past = new Date(Date.now() - 60_000);
    // A worker claimed it a minute ago for 30 s and never came back.
    await d.messages.claim('demo', message.id, new Date(past.getTime() + 30_000).toISOString(), past.toISOString());
    expect(await deliverMessage(d, { operatorId: 'demo', messageId: message.id }, { ...attempt, receiveCount: 2 })).toBe('outcome-unknown');
    const stored = await d.messages.get('demo', message.id);
    expect(stored?.status).toBe('failed');
    expect(stored?.providerMessageId).toBeUndefined();
    expect(stored?.history.at(-1)?.reason).toMatch(/outcome is unknown/);
  });

  it('releases the message for a retry after a temporary provider error, noting the error', async () => {
    const message = await queue('01711229999');
    await expect(deliverMessage(d, { operatorId: 'demo', messageId: message.id }, attempt)).rejects.toMatchObject({ name: 'RetryLater', gaveUp: false });
    const stored = await d.messages.get('demo', message.id);
    expect(stored).toMatchObject({ status: 'queued', attempts: 1, lastError: expect.stringMatching(/unavailable/) });
    expect(stored?.claimedUntil).toBeUndefined();
  });
});

describe('a message the queue refuses', () => {
  it('is marked failed with the reason and the caller is told to resend it (503), so nothing is silently lost', async () => {
    const broken = { ...d, queue: { enqueue: async () => Promise.reject(new Error('SQS refused 1 of 1 send tasks: throttled')) } };
    const error = await sendMessage(broken, operator, { mobile: '01711223344', text: 'lost?', variables: {} }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'Unavailable' });
    const id = /Message (\w+) was stored/.exec((error as Error).message)?.[1];
    const stored = await d.messages.get('demo', id!);
    expect(stored?.status).toBe('failed');
    expect(stored?.history.at(-1)?.reason).toMatch(/Could not be queued.*throttled/);
  });
});

describe('gateway credentials', () => {
  it('are opened once per gateway version, not once per message', async () => {
    let opened = 0;
    const counting = { ...d, cipher: { seal: d.cipher.seal, open: (sealed: string, context: Record<string, string>) => (opened++, d.cipher.open(sealed, context)) } };
    const input = { name: 'Counted', channel: 'sms' as const, provider: 'sandbox', credentials: { webhookSecret: 'counted-secret-0123456789' }, settings: {}, default: false };
    const { view } = await saveGateway(counting, operator, input);
    await openGateway(counting, view.id);
    await openGateway(counting, view.id);
    expect(opened).toBe(1);
    await saveGateway(counting, operator, { ...input, credentials: { webhookSecret: 'rotated-secret-0123456789' } }, view.id);
    const rotated = await openGateway(counting, view.id);
    expect(opened).toBe(2);
    expect(rotated?.credentials).toEqual({ webhookSecret: 'rotated-secret-0123456789' });
  });
});
