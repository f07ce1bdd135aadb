import { storedMessage } from '../support/stored-message.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoMessageStore as store } from '../../shared/adapters/dynamodb/messages.js';
import type { Message } from '../../shared/domain/records.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack('message-store');
});
afterAll(async () => {
  await stack?.stop();
});

function queued(): Message {
  return storedMessage({ operatorId: 'op-store', at: new Date().toISOString() });
}

const at = () => new Date().toISOString();

describe('message status in DynamoDB', () => {
  it('never moves a delivered message back to sent, and never un-fails a failed one', async () => {
    const message = queued();
    await store.create(message);
    expect(await store.transition('op-store', message.id, { status: 'sent', at: at() }, { providerMessageId: 'p-1', gatewayId: 'gw-1' })).toBe(true);
    expect(await store.transition('op-store', message.id, { status: 'delivered', at: at() })).toBe(true);
    expect(await store.transition('op-store', message.id, { status: 'sent', at: at() })).toBe(false);
    expect(await store.transition('op-store', message.id, { status: 'failed', at: at(), reason: 'late' })).toBe(false);
    expect(await store.transition('op-store', message.id, { status: 'delivered', at: at() })).toBe(false);
    const stored = await store.get('op-store', message.id);
    expect(stored?.status).toBe('delivered');
    expect(stored?.history.map((h) => h.status)).toEqual(['queued', 'sent', 'delivered']);
    expect(await store.findByProviderId('gw-1', 'p-1')).toEqual({ operatorId: 'op-store', messageId: message.id });
    expect(await store.findByProviderId('gw-2', 'p-1')).toBeUndefined();

    const failed = queued();
    await store.create(failed);
    expect(await store.transition('op-store', failed.id, { status: 'failed', at: at(), reason: 'x' })).toBe(true);
    expect(await store.transition('op-store', failed.id, { status: 'delivered', at: at() })).toBe(false);
    expect(await store.transition('op-store', failed.id, { status: 'sent', at: at() })).toBe(false);
  });

  it('records a delivery receipt that overtakes the sent record (queued → delivered)', async () => {
    const message = queued();
    await store.create(message);
    expect(await store.transition('op-store', message.id, { status: 'delivered', at: at() })).toBe(true);
    expect(await store.transition('op-store', message.id, { status: 'sent', at: at() })).toBe(false);
  });

  it('lets one worker at a time claim a queued message, and reports a claim left by a dead worker', async () => {
    const message = queued();
    await store.create(message);
    const now = new Date();
    const later = new Date(now.getTime() + 30_000).toISOString();
    const first = await store.claim('op-store', message.id, later, now.toISOString());
    expect(first.ok).toBe(true);
    const second = await store.claim('op-store', message.id, later, now.toISOString());
    expect(second).toMatchObject({ ok: false, reason: 'claimed' });
    const afterExpiry = await store.claim('op-store', message.id, later, new Date(now.getTime() + 60_000).toISOString());
    expect(afterExpiry).toMatchObject({ ok: false, reason: 'claim-expired' });

    await store.release('op-store', message.id, 'timeout', at());
    const again = await store.claim('op-store', message.id, later, now.toISOString());
    expect(again.ok && again.message.attempts).toBe(2);
    expect(await store.claim('op-store', 'missing', later, now.toISOString())).toEqual({ ok: false, reason: 'not-found' });
  });

  it('creates once per idempotency key, and tells a repeat from a different request', async () => {
    const a = queued();
    const b = queued();
    const c = queued();
    expect(await store.create(a, { key: 'key-1', fingerprint: 'f1' })).toMatchObject({ created: true });
    expect(await store.create(b, { key: 'key-1', fingerprint: 'f1' })).toEqual({ created: false, existingMessageId: a.id, sameRequest: true });
    expect(await store.create(c, { key: 'key-1', fingerprint: 'f2' })).toEqual({ created: false, existingMessageId: a.id, sameRequest: false });
    expect(await store.get('op-store', b.id)).toBeUndefined();
    expect(await store.get('op-store', c.id)).toBeUndefined();
  });
});
