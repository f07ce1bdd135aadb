/**
 * A crash at any line leaves every message final or retrying, never in limbo: the local stack is
 * stopped in the middle of sending (its in-memory queues, with the sandbox's scheduled receipts and
 * the send tasks, are lost, as with SIGKILL), started again on the same table, and every message
 * must end delivered or failed, each accepted by the provider exactly once.
 */
import { sendThrough } from '../../shared/services/provider-send.js';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { deps } from '../../shared/deps.js';
import type { Message } from '../../shared/domain/records.js';
import { requeueStrandedMessages } from '../../shared/local/requeue-stranded.js';
import { seedDemo } from '../../shared/local/seed.js';
import { deliverMessage } from '../../shared/services/deliver-message.js';
import { openGateway, providerContext } from '../../shared/services/gateways.js';
import { sendMessage } from '../../shared/services/messages.js';
import { reconcileMessages } from '../../shared/services/reconcile.js';
import { waitFor } from '../support/api-client.js';
import { startTestStack } from '../support/local-stack.js';

const tableName = `test-crash-${randomBytes(4).toString('hex')}`;
let stack: Awaited<ReturnType<typeof startTestStack>> | undefined;
afterAll(async () => {
  await stack?.stop();
});

const attempt = { receiveCount: 1, maxReceiveCount: 5, maxAttempts: 5, claimMs: 30_000 };
const minuteAgo = () => new Date(Date.now() - 60_000).toISOString();

describe('after the local stack is killed while sending', () => {
  it('ends every message delivered or failed, none stuck sent or queued, none sent twice', { timeout: 90_000 }, async () => {
    // First life: no workers, so this test plays the moment of the crash exactly.
    stack = await startTestStack('crash-1', { tableName, workers: false });
    await seedDemo({});
    const d = deps();
    const operator = (await d.operators.get('demo'))!;
    const send = (mobile: string) => sendMessage(d, operator, { mobile, text: `crash test ${mobile}`, variables: {} });

    // Sent, with their receipts still waiting in the (in-memory) callback queue when the process dies.
    const sentBeforeCrash = [await send('01711220001'), await send('01711220002'), await send('01711220000')];
    for (const m of sentBeforeCrash) expect(await deliverMessage(d, { operatorId: 'demo', messageId: m.id }, attempt)).toBe('sent');
    // Died during the provider call, after the sandbox accepted it.
    const diedAfterAccept = await send('01711220003');
    await d.messages.claim('demo', diedAfterAccept.id, minuteAgo(), new Date(Date.now() - 90_000).toISOString());
    const opened = (await openGateway(d, diedAfterAccept.gatewayId))!;
    await sendThrough(
      opened,
      { messageId: diedAfterAccept.id, to: diedAfterAccept.to, text: diedAfterAccept.text, statusCallbackUrl: '' },
      providerContext(d, opened.gateway.id),
    );
    // Died during the call to a number the sandbox never accepts, and to one it rejects.
    const diedUnaccepted = [await send('01711229999'), await send('01711221111')];
    for (const m of diedUnaccepted) await d.messages.claim('demo', m.id, minuteAgo(), new Date(Date.now() - 90_000).toISOString());
    // Never picked up at all.
    const neverPicked = [await send('01711220004')];

    await stack.stop(); // the queues (send tasks, scheduled receipts) are gone with the process
    stack = undefined;

    // Second life on the same table, with fresh (empty) queues and its workers running.
    stack = await startTestStack('crash-2', { tableName });
    const d2 = deps();
    expect(await requeueStrandedMessages(d2)).toBe(diedUnaccepted.length + 1 + neverPicked.length);
    // The scheduled reconciler, run as if its period had passed (the sandbox's receipt window is a minute).
    const report = await reconcileMessages({ ...d2, clock: { now: () => new Date(Date.now() + 2 * 60_000) } });
    // The three whose receipts were lost (and perhaps the reconciled one, if the worker recorded it sent just before).
    expect(report.resolved).toBeGreaterThanOrEqual(sentBeforeCrash.length);
    expect(report.overdue).toBe(0);

    const all = [...sentBeforeCrash, diedAfterAccept, ...diedUnaccepted, ...neverPicked];
    const final = await waitFor(
      async () => Promise.all(all.map((m) => d2.messages.get('demo', m.id) as Promise<Message>)),
      (messages) => messages.every((m) => m.status === 'delivered' || m.status === 'failed'),
      60_000,
    );
    const byNumber = Object.fromEntries(final.map((m) => [m.to.slice(-4), m]));
    expect(byNumber['0001']?.status).toBe('delivered');
    expect(byNumber['0002']?.status).toBe('delivered');
    expect(byNumber['0003']?.status).toBe('delivered');
    expect(byNumber['0004']?.status).toBe('delivered');
    expect(byNumber['0000']).toMatchObject({ status: 'failed', history: expect.arrayContaining([expect.objectContaining({ reason: expect.stringMatching(/0000 never deliver/) })]) });
    expect(byNumber['1111']?.history.at(-1)?.reason).toMatch(/rejected the number/);
    expect(byNumber['9999']?.history.at(-1)?.reason).toMatch(/Gave up after 5 attempts/);
    // Not one "outcome unknown": the sandbox could be asked about every lost send.
    for (const m of final) expect(m.history.some((h) => /outcome is unknown/.test(h.reason ?? ''))).toBe(false);
    // Each accepted message went to the provider once: one sent, with the provider id the sandbox kept.
    for (const m of final.filter((x) => x.status === 'delivered')) {
      expect(m.history.filter((h) => h.status === 'sent')).toHaveLength(1);
      const kept = await d2.journal(m.gatewayId).get(`msg#${m.id}`);
      expect(kept?.providerMessageId).toBe(m.providerMessageId);
    }
  });
});
