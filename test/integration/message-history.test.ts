import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deps, type Deps } from '../../shared/deps.js';
import { idTime } from '../../shared/domain/ids.js';
import type { Operator } from '../../shared/domain/records.js';
import { listMessages, sendMessage } from '../../shared/services/messages.js';
import { apiClient } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let d: Deps;
let operator: Operator;

beforeAll(async () => {
  // No workers: the history's filters are under test, not delivery. Listings come in quick succession.
  ({ stack, api } = await startDemoStack('message-history', { workers: false, liftRateLimit: true }));
  d = deps();
  operator = (await d.operators.get('demo'))!;
});

afterAll(async () => {
  await stack?.stop();
});

/** Sends a message as if the clock read `at` (a controlled clock, not the host's). */
async function sendAt(at: string, customerId?: string) {
  const clocked = { ...d, clock: { now: () => new Date(at) } };
  const input = customerId ? { customerId, text: `sent at ${at}`, variables: {} } : { mobile: '01711223344', text: `sent at ${at}`, variables: {} };
  return sendMessage(clocked, operator, input);
}

describe('message ids', () => {
  it('never take their time from a query bound: an id made after ?to=9999-… is of now', async () => {
    for (const to of ['9999-12-31T23:59:59Z', '2026-12-31T23:59:59Z', '2099-01-01T00:00:00Z']) {
      expect((await api.get(`/v1/messages?to=${to}`)).status).toBe(200);
      expect((await api.get(`/v1/messages?from=${to}`)).status).toBe(200);
      const before = Date.now();
      const sent = await api.post('/v1/messages', { mobile: '01711223344', text: 'after a far-future query' });
      expect(sent.status).toBe(202);
      const time = idTime(sent.body.id).getTime();
      expect(time).toBeGreaterThanOrEqual(before - 1);
      expect(time).toBeLessThanOrEqual(Date.now() + 1);
    }
  });

  it('carry the time they were made for, even when the clock goes back', async () => {
    const late = await sendAt('2031-05-05T05:05:05.000Z');
    const early = await sendAt('2030-01-01T00:00:00.000Z');
    expect(idTime(late.id).toISOString()).toBe('2031-05-05T05:05:05.000Z');
    expect(idTime(early.id).toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });
});

describe('the history\'s date filters', () => {
  const customerId = 'c-history';
  const times = ['2030-03-01T09:00:00.000Z', '2030-03-01T10:00:00.000Z', '2030-03-01T10:00:00.001Z', '2030-03-02T00:00:00.000Z'];
  let ids: string[] = [];

  beforeAll(async () => {
    await d.customers.put('demo', {
      id: customerId, name: 'History Tester', mobile: '+8801711223355', status: 'active', createdAt: times[0]!, updatedAt: times[0]!,
    });
    ids = [];
    for (const at of times) ids.push((await sendAt(at, customerId)).id);
  });

  /** The ids the API lists for a query on the test customer, in the order returned. */
  async function listed(query: string): Promise<string[]> {
    const reply = await api.get(`/v1/messages?customerId=${customerId}&limit=100${query}`);
    expect(reply.status).toBe(200);
    return reply.body.items.map((m: { id: string }) => m.id);
  }

  it('select by creation time, inclusive on both bounds, newest first', async () => {
    const [a, b, c, e] = ids;
    expect(await listed('')).toEqual([e, c, b, a]);
    expect(await listed('&from=2020-01-01T00:00:00Z')).toEqual([e, c, b, a]); // before everything
    expect(await listed('&to=2020-01-01T00:00:00Z')).toEqual([]);
    expect(await listed('&from=2031-01-01T00:00:00Z')).toEqual([]); // after everything
    expect(await listed('&to=2031-01-01T00:00:00Z')).toEqual([e, c, b, a]);
    expect(await listed('&from=2030-03-01T10:00:00Z&to=2030-03-01T10:00:00Z')).toEqual([b]); // on the bound, to the millisecond
    expect(await listed('&from=2030-03-01T10:00:00.000Z&to=2030-03-01T10:00:00.001Z')).toEqual([c, b]);
    expect(await listed('&from=2030-03-01T09:30:00Z&to=2030-03-01T23:00:00Z')).toEqual([c, b]); // between
    expect(await listed('&to=2030-03-01T09:00:00Z')).toEqual([a]);
    expect(await listed('&from=2030-03-02T00:00:00Z')).toEqual([e]);
    // Offsets are honoured: 15:30 in Dhaka is 09:30 UTC.
    expect(await listed('&from=2030-03-01T15:30:00%2B06:00&to=2030-03-01T16:00:00%2B06:00')).toEqual([b]);
  });

  it('stay correct in a warm process after any sequence of queries, and across the operator\'s whole history', async () => {
    for (const query of ['&to=9999-12-31T23:59:59Z', '&from=9999-12-31T23:59:59Z', '&from=1970-01-01T00:00:00Z', '&to=2000-01-01T00:00:00Z']) await listed(query);
    const fresh = await sendAt('2030-03-01T09:59:59.999Z', customerId);
    expect(await listed('&from=2030-03-01T09:00:00Z&to=2030-03-01T10:00:00Z')).toEqual([ids[1], fresh.id, ids[0]]);
    const all = await listMessages(d, operator, { from: '2030-03-01T09:00:00Z', to: '2030-03-02T00:00:00Z' }, 100);
    expect(all.items.map((m) => m.id)).toEqual(expect.arrayContaining([...ids, fresh.id]));
    const created = all.items.map((m) => m.createdAt);
    expect(created).toEqual([...created].sort().reverse());
  });
});

describe('the status filter', () => {
  it('finds a rare status with a key: one request, no empty page with a cursor', async () => {
    for (let i = 0; i < 30; i++) await sendAt(`2032-01-01T00:00:${String(i).padStart(2, '0')}.000Z`);
    const failed = await sendAt('2032-01-01T00:01:00.000Z');
    await d.messages.transition('demo', failed.id, { status: 'failed', at: '2032-01-01T00:01:01.000Z', reason: 'test' });

    const none = await api.get('/v1/messages?status=delivered&limit=5');
    expect(none.body).toEqual({ items: [] });
    const onlyFailed = await api.get('/v1/messages?status=failed&limit=1');
    expect(onlyFailed.body.items.map((m: { id: string }) => m.id)).toEqual([failed.id]);
    expect(onlyFailed.body.items[0].status).toBe('failed');

    // Paging through queued messages: every page with a cursor holds items, and the pages never overlap.
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await api.get(`/v1/messages?status=queued&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      if (page.body.cursor) expect(page.body.items.length).toBeGreaterThan(0);
      for (const m of page.body.items) {
        expect(m.status).toBe('queued');
        expect(seen.has(m.id)).toBe(false);
        seen.add(m.id);
      }
      cursor = page.body.cursor;
    } while (cursor);
    expect(seen.size).toBeGreaterThanOrEqual(30);
    expect(seen.has(failed.id)).toBe(false);
  });

  it('moves a message between statuses in the index as its status moves', async () => {
    const message = await sendAt('2033-01-01T00:00:00.000Z');
    const queuedIds = async (status: string) =>
      (await listMessages(d, operator, { status: status as 'queued', from: '2033-01-01T00:00:00Z', to: '2033-01-01T00:00:00Z' }, 10)).items.map((m) => m.id);
    expect(await queuedIds('queued')).toEqual([message.id]);
    await d.messages.transition('demo', message.id, { status: 'sent', at: '2033-01-01T00:00:01.000Z' }, { providerMessageId: 'p-idx', gatewayId: message.gatewayId });
    expect(await queuedIds('queued')).toEqual([]);
    expect(await queuedIds('sent')).toEqual([message.id]);
  });
});

describe('cursors', () => {
  it('continue a list, and a crafted, truncated or foreign cursor is a 400 naming cursor, never a 5xx', async () => {
    const first = await api.get('/v1/messages?limit=2');
    expect(first.body.cursor).toEqual(expect.any(String));
    const second = await api.get(`/v1/messages?limit=2&cursor=${encodeURIComponent(first.body.cursor)}`);
    expect(second.status).toBe(200);
    expect(second.body.items[0].id < first.body.items[1].id).toBe(true);

    const customersCursor = (await api.get('/v1/customers?limit=1')).body.cursor as string;
    const forged = (key: Record<string, string>) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const [version, payload, mac] = (first.body.cursor as string).split('.');
    const tampered = `${version}.${forged({ pk: 'OP#demo', sk: 'MSG#ZZZZZZZZZZZZZZZZZZZZZZZZZZ' })}.${mac}`;
    const bad = [
      first.body.cursor.slice(0, -3),
      `${version}.${payload}`,
      tampered,
      forged({ pk: 'OP#demo', sk: 'MSG#01' }),
      forged({ pk: 'OP#other', sk: 'MSG#01' }),
      forged({ pk: 'OP#demo', sk: 'x'.repeat(2000) }),
      customersCursor,
      'not-a-cursor',
      '%%%',
      'v1..',
      'a'.repeat(2048),
      `${version}.${Buffer.from('[1,2]').toString('base64url')}.${mac}`,
    ];
    for (const cursor of bad) {
      const reply = await api.get(`/v1/messages?cursor=${encodeURIComponent(cursor)}`);
      expect(reply.status, cursor.slice(0, 60)).toBe(400);
      expect(reply.body.errors.map((e: { field: string }) => e.field)).toEqual(['cursor']);
    }
    const onCustomers = await api.get(`/v1/customers?cursor=${encodeURIComponent(first.body.cursor)}`);
    expect(onCustomers.status).toBe(400);
  });
});

describe('storage refusals', () => {
  it('answer a webhook for a gateway id longer than any of ours with 404, before storage is asked', async () => {
    const reply = await apiClient(stack.baseUrl).post(`/webhooks/sms/sandbox/${'A'.repeat(3000)}`, '{}', { 'content-type': 'application/json' });
    expect(reply.status).toBe(404);
  });

  it('report a storage validation error as the client\'s (400), never as unavailable (503)', async () => {
    // A provider message id too long for a key, signed correctly: refused before storage.
    const gateway = (await d.gateways.list('demo'))[0]!;
    const { signSandboxReceipt } = await import('../../shared/adapters/providers/sms/sandbox.js');
    const { openGateway } = await import('../../shared/services/gateways.js');
    const opened = (await openGateway(d, gateway.id))!;
    const body = JSON.stringify({ id: 'x'.repeat(3000), status: 'DELIVERED' });
    const reply = await apiClient(stack.baseUrl).post(`/webhooks/sms/sandbox/${gateway.id}`, body, {
      'content-type': 'application/json',
      'x-sandbox-signature': signSandboxReceipt(String(opened.credentials.webhookSecret), body),
    });
    expect(reply.status).toBe(400);
  });
});

describe('resending a failed message', () => {
  it('makes one resend however many times it is clicked, whatever Idempotency-Key each click sends', async () => {
    const message = await sendAt(new Date().toISOString());
    await d.messages.transition('demo', message.id, { status: 'failed', at: new Date().toISOString(), reason: 'handset off' });
    const clicks = await Promise.all(
      Array.from({ length: 10 }, (_, i) => api.post(`/v1/messages/${message.id}/resend`, undefined, { 'idempotency-key': `click-${i}-${Date.now()}` })),
    );
    const ids = new Set(clicks.map((reply) => reply.body.id));
    expect(ids.size).toBe(1);
    expect(clicks.filter((reply) => reply.status === 202)).toHaveLength(1);
    expect(clicks.filter((reply) => reply.status === 200)).toHaveLength(9);
    const [resendId] = [...ids];
    expect(clicks[0]!.body).toMatchObject({ resendOf: message.id, status: 'queued' });
    expect((await api.get(`/v1/messages/${message.id}`)).body.resentAs).toBe(resendId);
    const later = await api.post(`/v1/messages/${message.id}/resend`);
    expect(later).toMatchObject({ status: 200, body: { id: resendId } });
    const resends = (await listMessages(d, operator, { status: 'queued' }, 100)).items.filter((m) => m.resendOf === message.id);
    expect(resends).toHaveLength(1);
  });
});

describe('the start-up requeue', () => {
  it('reads the pending index, never scans the table, so start-up does not grow with history', async () => {
    const { documentClient } = await import('../../shared/adapters/dynamodb/client.js');
    const { requeueStrandedMessages } = await import('../../shared/local/requeue-stranded.js');
    const { PENDING_SHARDS } = await import('../../shared/adapters/dynamodb/table.js');
    const client = documentClient();
    const sent: string[] = [];
    const original = client.send.bind(client);
    const spy = vi.spyOn(client, 'send').mockImplementation(((command: { constructor: { name: string }; input: { IndexName?: string } }) => {
      sent.push(`${command.constructor.name}${command.input.IndexName ? `:${command.input.IndexName}` : ''}`);
      return original(command as never);
    }) as never);
    try {
      // Messages made with a future test clock are not stranded yet; the ones made before now are.
      const queuedNow = (await listMessages(d, operator, { status: 'queued' }, 100)).items.filter((m) => m.updatedAt < new Date().toISOString()).length;
      expect(queuedNow).toBeGreaterThan(0);
      sent.length = 0;
      const requeued = await requeueStrandedMessages({ ...d, queue: { enqueue: async () => {} } });
      expect(requeued).toBe(queuedNow);
      expect(sent.filter((c) => c.startsWith('ScanCommand'))).toEqual([]);
      expect(sent.filter((c) => c === 'QueryCommand:gsi3').length).toBeGreaterThanOrEqual(PENDING_SHARDS);
    } finally {
      spy.mockRestore();
    }
  });
});
