import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps, type Deps } from '../../shared/deps.js';
import type { Operator } from '../../shared/domain/records.js';
import { seedDemo } from '../../shared/local/seed.js';
import { deliverMessage, RetryLater } from '../../shared/services/deliver-message.js';
import { sendThrough } from '../../shared/services/provider-send.js';
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
  d = { ...deps(), publicBaseUrl: 'http://127.0.0.1:9', webhookBaseUrl: 'http://127.0.0.1:9' };
  operator = (await d.operators.get('demo'))!;
});

afterAll(async () => {
  await stack?.stop();
});

const attempt = { receiveCount: 1, maxReceiveCount: 5, maxAttempts: 5, claimMs: 30_000 };
const queue = async (mobile = '01711223344') => sendMessage(d, operator, { mobile, text: 'hello', variables: {} });

describe('the sender sends each message at most once', () => {
  it('does nothing for a duplicate delivery of a message already sent', async () => {
    const message = await queue();
    expect(await deliverMessage(d, { operatorId: 'demo', messageId: message.id }, attempt)).toBe('sent');
    const once = await d.messages.get('demo', message.id);
    expect(once?.tries).toEqual([{ gatewayId: message.gatewayId, provider: 'sandbox', outcome: 'accepted', at: expect.any(String), detail: once?.providerMessageId }]);
    expect(await deliverMessage(d, { operatorId: 'demo', messageId: message.id }, { ...attempt, receiveCount: 2 })).toBe('duplicate');
    const twice = await d.messages.get('demo', message.id);
    expect(once?.status).toBe('sent');
    expect(twice).toEqual(once);
    expect(await debitsOf(message.id)).toBe(1);
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

  it('asks the provider about a message whose sender died, and records what it has instead of sending again', async () => {
    const message = await queue();
    // The first worker's call reached the sandbox, then the worker died before recording anything.
    const first = await d.messages.claim('demo', message.id, new Date(Date.now() - 30_000).toISOString(), new Date(Date.now() - 60_000).toISOString());
    expect(first.ok).toBe(true);
    const gatewayId = (await d.messages.get('demo', message.id))!.gatewayId;
    const opened = (await openGateway(d, gatewayId))!;
    const { providerMessageId } = await sendThrough(
      opened,
      { messageId: message.id, to: message.to, text: message.text, statusCallbackUrl: '' },
      { fetch, clock: d.clock, journal: d.journal(gatewayId), later: async () => {} },
    );
    const calls = countSends();
    expect(await deliverMessage(calls.d, { operatorId: 'demo', messageId: message.id }, { ...attempt, receiveCount: 2 })).toBe('reconciled');
    expect(calls.count()).toBe(0);
    const stored = await d.messages.get('demo', message.id);
    expect(stored).toMatchObject({ status: 'delivered', providerMessageId });
    expect(stored?.history.map((h) => h.status)).toEqual(['queued', 'sent', 'delivered']);
  });

  it('sends, once, a message whose sender died before the provider got it (the provider says it never had it)', async () => {
    const message = await queue();
    await d.messages.claim('demo', message.id, new Date(Date.now() - 30_000).toISOString(), new Date(Date.now() - 60_000).toISOString());
    const calls = countSends();
    expect(await deliverMessage(calls.d, { operatorId: 'demo', messageId: message.id }, { ...attempt, receiveCount: 2 })).toBe('sent');
    expect(calls.count()).toBe(1);
    expect((await d.messages.get('demo', message.id))?.status).toBe('sent');
  });

  it('retries, rather than failing as unknown, a lost send to a number the provider never accepts', async () => {
    const message = await queue('01711229999');
    await d.messages.claim('demo', message.id, new Date(Date.now() - 30_000).toISOString(), new Date(Date.now() - 60_000).toISOString());
    await expect(deliverMessage(d, { operatorId: 'demo', messageId: message.id }, { ...attempt, receiveCount: 2 })).rejects.toMatchObject({ name: 'RetryLater', gaveUp: false });
    const stored = await d.messages.get('demo', message.id);
    expect(stored).toMatchObject({ status: 'queued', lastError: expect.stringMatching(/unavailable/) });
  });

  it('counts attempts on the message, so a restart that resets the queue\'s receive count cannot retry for ever', async () => {
    const message = await queue('01711229999');
    const task = { operatorId: 'demo', messageId: message.id };
    // Every delivery looks like a first receive, as after a restart of the local queue.
    for (let i = 0; i < 2; i++) await expect(deliverMessage(d, task, { ...attempt, maxAttempts: 3 })).rejects.toMatchObject({ gaveUp: false });
    await expect(deliverMessage(d, task, { ...attempt, maxAttempts: 3 })).rejects.toMatchObject({ gaveUp: true });
    const stored = await d.messages.get('demo', message.id);
    expect(stored).toMatchObject({ status: 'failed', attempts: 3 });
    expect(stored?.history.at(-1)?.reason).toMatch(/Gave up after 3 attempts/);
    // Each provider call is on the message, with its gateway and what came of it.
    expect(stored?.tries?.map((t) => t.outcome)).toEqual(['unavailable', 'unavailable', 'unavailable']);
    expect(stored?.tries?.[0]).toMatchObject({ gatewayId: message.gatewayId, provider: 'sandbox', detail: expect.stringMatching(/9999/) });
  });

  it('defers a duplicate delivery of a claimed message with a fresh task that waits for the claim, spending no receives', async () => {
    const message = await queue();
    const claimedUntil = new Date(Date.now() + 20_000).toISOString();
    await d.messages.claim('demo', message.id, claimedUntil, new Date().toISOString());
    const queued: { tasks: object[]; delaySeconds?: number }[] = [];
    const spy = { ...d, queue: { enqueue: async (_q: string, tasks: object[], options?: { delaySeconds?: number }) => void queued.push({ tasks, ...options }) } };
    expect(await deliverMessage(spy, { operatorId: 'demo', messageId: message.id }, attempt)).toBe('deferred');
    expect(queued).toEqual([{ tasks: [{ operatorId: 'demo', messageId: message.id }], delaySeconds: expect.any(Number) }]);
    expect(queued[0]!.delaySeconds).toBeGreaterThanOrEqual(20);
  });

  it('releases the message for a retry after a temporary provider error, noting the error', async () => {
    const message = await queue('01711229999');
    await expect(deliverMessage(d, { operatorId: 'demo', messageId: message.id }, attempt)).rejects.toMatchObject({ name: 'RetryLater', gaveUp: false });
    const stored = await d.messages.get('demo', message.id);
    expect(stored).toMatchObject({ status: 'queued', attempts: 1, lastError: expect.stringMatching(/unavailable/) });
    expect(stored?.claimedUntil).toBeUndefined();
  });
});

/** Deps whose sandbox journal counts the messages the provider accepted (one journal write per accepted send). */
function countSends(base: Deps = d) {
  let accepted = 0;
  const journal = (gatewayId: string) => {
    const inner = base.journal(gatewayId);
    return { get: inner.get, put: async (k: string, v: Record<string, unknown>) => (v.outcome !== 'REJECTED' && accepted++, inner.put(k, v)) };
  };
  return { d: { ...base, journal }, count: () => accepted };
}

/** A message store whose chosen writes fail `times` times (Infinity: always) with a throttling error. */
function failing(write: 'sent' | 'failed' | 'release', times: number): { d: Deps; failures: () => number } {
  let failures = 0;
  const boom = () => {
    failures++;
    return Promise.reject(Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException', $metadata: {} }));
  };
  const messages = {
    ...d.messages,
    transition: (...args: Parameters<Deps['messages']['transition']>) =>
      args[2].status === write && failures < times ? boom() : d.messages.transition(...args),
    release: (...args: Parameters<Deps['messages']['release']>) => (write === 'release' && failures < times ? boom() : d.messages.release(...args)),
  };
  return { d: { ...d, messages }, failures: () => failures };
}

/** How many debits the ledger holds for a message (it must be charged once at most). */
async function debitsOf(messageId: string): Promise<number> {
  let count = 0;
  for await (const entry of d.billing.entries('demo')) if (entry.type === 'debit' && entry.messageId === messageId) count++;
  return count;
}

describe('a storage failure after the provider call never causes a second provider call', () => {
  /** Delivers the task until the message is final, as SQS would, with the clock moving past each claim. */
  async function deliverUntilFinal(deps: Deps, messageId: string) {
    let clockShift = 0;
    const pending: object[] = [{ operatorId: 'demo', messageId }];
    const queueSpy = { enqueue: async (_q: string, tasks: object[]) => void pending.push(...tasks) };
    for (let round = 0; round < 12 && pending.length > 0; round++) {
      const task = pending.shift() as { operatorId: string; messageId: string };
      const shifted = { ...deps, queue: queueSpy, clock: { now: () => new Date(Date.now() + clockShift) } };
      await deliverMessage(shifted, task, { ...attempt, receiveCount: 1 }).catch(() => pending.push({ operatorId: 'demo', messageId }));
      clockShift += 61_000; // the next delivery comes after the claim expired
    }
    return d.messages.get('demo', messageId);
  }

  it.each([
    ['the sent write fails twice (retried in place)', 'sent', 2],
    ['the sent write keeps failing (the outcome is queued for recording)', 'sent', 6],
  ] as const)('when %s', async (_name, write, times) => {
    const message = await queue();
    const broken = failing(write, times);
    const calls = countSends(broken.d);
    const final = await deliverUntilFinal(calls.d, message.id);
    expect(broken.failures()).toBe(times);
    expect(calls.count()).toBe(1);
    expect(final?.status).toBe('sent');
    expect(final?.history.filter((h) => h.status === 'sent')).toHaveLength(1);
    // The demo operator is prepaid: the message is debited once, whatever path recorded its outcome.
    expect(await debitsOf(message.id)).toBe(1);
  });

  it('when neither storage nor the queue can take the outcome, the next delivery asks the provider and records it', async () => {
    const message = await queue();
    const broken = failing('sent', 5);
    const calls = countSends(broken.d);
    const refusing = { ...calls.d, queue: { enqueue: async () => Promise.reject(new Error('SQS is unavailable')) } };
    await expect(deliverMessage(refusing, { operatorId: 'demo', messageId: message.id }, attempt)).rejects.toThrow(/throughput/);
    const held = await d.messages.get('demo', message.id);
    expect(held).toMatchObject({ status: 'queued', claimedUntil: expect.any(String) });
    const later = { ...calls.d, clock: { now: () => new Date(Date.now() + 61_000) } };
    expect(await deliverMessage(later, { operatorId: 'demo', messageId: message.id }, attempt)).toBe('reconciled');
    expect(calls.count()).toBe(1);
    expect((await d.messages.get('demo', message.id))?.status).toBe('delivered');
    expect(await debitsOf(message.id)).toBe(1);
  });

  it('when the failed write after a rejection fails, it is retried and the provider is not called again', async () => {
    const message = await queue('01711221111');
    const broken = failing('failed', 3);
    const final = await deliverUntilFinal(broken.d, message.id);
    expect(final?.status).toBe('failed');
    expect(final?.attempts).toBe(1);
  });

  it('when the release after a temporary error fails, the claim is reconciled and the message retried', async () => {
    const message = await queue('01711229999');
    const broken = failing('release', 5);
    const final = await deliverUntilFinal(broken.d, message.id);
    expect(final?.status).toBe('failed');
    expect(final?.history.at(-1)?.reason).toMatch(/Gave up/);
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
