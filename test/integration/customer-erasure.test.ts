import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../shared/adapters/dynamodb/client.js';
import { config } from '../../shared/config.js';
import { deps, type Deps } from '../../shared/deps.js';
import { broadcastMessageId, messagePrefixAt } from '../../shared/domain/broadcast-ids.js';
import { newId } from '../../shared/domain/ids.js';
import type { Broadcast, Message, Operator } from '../../shared/domain/records.js';
import { runBroadcastTask, type BroadcastTask, type FanoutDeps } from '../../shared/services/broadcast-fanout.js';
import { createBroadcast } from '../../shared/services/broadcasts.js';
import { sendMessage } from '../../shared/services/messages.js';
import { apiClient } from '../support/api-client.js';
import { addOperator, startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let other: ReturnType<typeof apiClient>;
let d: Deps;
let operator: Operator;

const del = (client: ReturnType<typeof apiClient>, path: string) => client.request('DELETE', path);

async function allMessages(customerId: string): Promise<Message[]> {
  const items: Message[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get(`/v1/messages?customerId=${customerId}&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    cursor = page.body.cursor;
  } while (cursor);
  return items;
}

beforeAll(async () => {
  // No sender: messages stay queued unless a test moves them, so every status is chosen here.
  ({ stack, api } = await startDemoStack('customer-erasure', { workers: false, liftRateLimit: true }));
  d = deps();
  operator = (await d.operators.get('demo'))!;
  other = await addOperator(stack.baseUrl, 'other-isp', 'BD', 'Asia/Dhaka');
});

afterAll(async () => {
  await stack?.stop();
});

describe('DELETE /v1/customers/{id}', () => {
  it('deletes the customer and masks every message of theirs, keeping statuses, counts and history', async () => {
    expect((await api.put('/v1/customers/erase-1', { name: 'Erase Me', mobile: '01711223344', zone: 'Mirpur' })).status).toBe(201);
    // More than one index page (100) of messages.
    const sent: Message[] = [];
    for (let i = 0; i < 105; i++) {
      sent.push(await sendMessage(d, operator, { customerId: 'erase-1', text: `Dear Erase Me, bill ${i} is due. ৳`, variables: {} }));
    }
    const delivered = sent[0]!;
    const at = () => new Date().toISOString();
    await d.messages.transition('demo', delivered.id, { status: 'sent', at: at() }, { providerMessageId: 'sbx_erase_1', gatewayId: delivered.gatewayId });
    await d.messages.transition('demo', delivered.id, { status: 'delivered', at: at(), providerStatus: 'DELIVERED' });
    const failed = sent[1]!;
    await d.messages.transition('demo', failed.id, { status: 'failed', at: at(), reason: 'Handset unreachable', providerStatus: 'FAILED' });
    // Another customer's message and one sent to the bare number are not this customer's.
    await api.put('/v1/customers/keep-1', { name: 'Keep Me', mobile: '01711223355' });
    const kept = await sendMessage(d, operator, { customerId: 'keep-1', text: 'Dear Keep Me', variables: {} });

    const reply = await del(api, '/v1/customers/erase-1');
    expect(reply.status).toBe(204);
    expect(reply.body).toBeUndefined();

    expect((await api.get('/v1/customers/erase-1')).status).toBe(404);
    expect((await api.get('/v1/customers?q=erase')).body.items).toEqual([]);

    const after = await allMessages('erase-1');
    expect(after).toHaveLength(105);
    for (const message of after) {
      const before = sent.find((m) => m.id === message.id)!;
      expect(message).toMatchObject({
        to: '+88017******44',
        text: '[erased]',
        encoding: before.encoding,
        characters: before.characters,
        segments: before.segments,
        customerId: 'erase-1',
        createdAt: before.createdAt,
      });
      expect(Date.parse(message.erasedAt!)).not.toBeNaN();
      expect(JSON.stringify(message)).not.toMatch(/Erase Me|1711223344/);
    }
    const byId = new Map(after.map((m) => [m.id, m]));
    expect(byId.get(delivered.id)!.history.map((h) => h.status)).toEqual(['queued', 'sent', 'delivered']);
    expect(byId.get(delivered.id)!.providerMessageId).toBe('sbx_erase_1');
    expect(byId.get(failed.id)!.history.at(-1)).toMatchObject({ status: 'failed', reason: 'Handset unreachable' });
    // A message still queued is failed first, so it is never sent to the masked number.
    const wasQueued = byId.get(sent[2]!.id)!;
    expect(wasQueued.status).toBe('failed');
    expect(wasQueued.history.map((h) => h.status)).toEqual(['queued', 'failed']);
    expect(wasQueued.history.at(-1)!.reason).toMatch(/erased/);

    const untouched = (await api.get(`/v1/messages/${kept.id}`)).body;
    expect(untouched).toMatchObject({ to: '+8801711223355', text: 'Dear Keep Me' });
    expect(untouched.erasedAt).toBeUndefined();

    // An erased message cannot be resent (its number is gone).
    const resend = await api.post(`/v1/messages/${failed.id}/resend`);
    expect(resend.status).toBe(409);
    expect(resend.body.detail).toMatch(/erased/);

    // The erasure is recorded, without personal data.
    const record = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: { pk: 'OP#demo', sk: 'ERASED#CUST#erase-1' } }));
    expect(record.Item).toMatchObject({ customerId: 'erase-1' });
    expect(JSON.stringify(record.Item)).not.toMatch(/Erase Me|1711223344/);
  });

  it('is idempotent: a repeat answers 204 and erases any message left behind', async () => {
    await api.put('/v1/customers/erase-2', { name: 'Twice', mobile: '01811223366' });
    await sendMessage(d, operator, { customerId: 'erase-2', text: 'first', variables: {} });
    expect((await del(api, '/v1/customers/erase-2')).status).toBe(204);

    // A message written for the customer while the erasure ran (its send had read the customer just before).
    const now = new Date().toISOString();
    const late: Message = {
      id: newId(),
      operatorId: 'demo',
      channel: 'sms',
      customerId: 'erase-2',
      to: '+8801811223366',
      text: 'late',
      encoding: 'GSM-7',
      characters: 4,
      segments: 1,
      gatewayId: operator.smsGatewayId!,
      provider: 'sandbox',
      status: 'queued',
      history: [{ status: 'queued', at: now }],
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    };
    await d.messages.create(late);

    const again = await del(api, '/v1/customers/erase-2');
    expect(again.status).toBe(204);
    const messages = await allMessages('erase-2');
    expect(messages.map((m) => [m.to, m.text])).toEqual([
      ['+88018******66', '[erased]'],
      ['+88018******66', '[erased]'],
    ]);
    expect((await del(api, '/v1/customers/erase-2')).status).toBe(204);
  });

  it('answers 404 for an id that never was a customer, and for another operator\'s customer', async () => {
    const unknown = await del(api, '/v1/customers/never-was');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');

    await api.put('/v1/customers/mine-1', { name: 'Mine', mobile: '01711223377' });
    expect((await del(other, '/v1/customers/mine-1')).status).toBe(404);
    expect((await api.get('/v1/customers/mine-1')).status).toBe(200);
    expect((await del(api, `/v1/customers/${encodeURIComponent('a b')}`)).status).toBe(400);
  });

  it('erases the customer\'s broadcast messages too, from every broadcast however old, and no one else\'s', async () => {
    await api.put('/v1/customers/erase-b', { name: 'Broadcast Eraser', mobile: '01711224400', zone: 'Erase Zone' });
    await api.put('/v1/customers/keep-b', { name: 'Broadcast Keeper', mobile: '01711224411', zone: 'Erase Zone' });
    // A broadcast through the pipeline, its plan and expand steps run here (this stack has no workers; nothing is sent).
    const tasks: BroadcastTask[] = [];
    const run: FanoutDeps & Deps = { ...d, queue: { enqueue: async (queue, list) => void (queue === 'broadcasts' && tasks.push(...(list as BroadcastTask[]))) } };
    const { body } = await createBroadcast(run, operator, { kind: 'broadcast', filter: { zone: ['Erase Zone'] }, channel: 'sms', text: 'Dear {{customer.name}}, maintenance tonight.', category: 'transactional', dryRun: false });
    // The settle step waits for sends that never happen here.
    for (let task = tasks.shift(); task; task = tasks.shift()) if (task.type !== 'settle') await runBroadcastTask(run, task);
    const recent = (await d.broadcasts.get('demo', String(body.id)))!;
    const recentId = (customerId: string) => broadcastMessageId(recent.messagePrefix!, recent.id, customerId);

    // A broadcast of years ago, its message as the expand step writes it.
    const longAgo = new Date('2021-03-01T10:00:00.000Z');
    const old: Broadcast = {
      id: newId(longAgo), operatorId: 'demo', kind: 'broadcast', filter: { zone: ['Erase Zone'] }, channel: 'sms', category: 'transactional', state: 'completed',
      estimate: { recipients: 1, segments: 1, cost: { amount: 35, currency: 'BDT' }, byChannel: {} },
      planStep: 1, planned: 1, pages: 1, pagesDone: 1, skipped: {}, messagePrefix: messagePrefixAt(longAgo), createdAt: longAgo.toISOString(), updatedAt: longAgo.toISOString(),
    };
    await d.broadcasts.create(old);
    const oldMessage: Message = {
      id: broadcastMessageId(old.messagePrefix!, old.id, 'erase-b'), operatorId: 'demo', channel: 'sms', direction: 'out', customerId: 'erase-b', broadcastId: old.id,
      to: '+8801711224400', text: 'Dear Broadcast Eraser, years ago.', encoding: 'GSM-7', characters: 33, segments: 1, gatewayId: operator.smsGatewayId!, provider: 'sandbox',
      status: 'delivered', history: [{ status: 'queued', at: longAgo.toISOString() }, { status: 'delivered', at: longAgo.toISOString() }], attempts: 1, createdAt: longAgo.toISOString(), updatedAt: longAgo.toISOString(),
    };
    await d.messages.create(oldMessage);

    const stored = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: { pk: 'OP#demo', sk: `MSG#${recentId('erase-b')}` } }));
    expect(stored.Item).toMatchObject({ customerId: 'erase-b', broadcastId: recent.id, text: 'Dear Broadcast Eraser, maintenance tonight.' });
    // Not in the customer index: found from the operator's broadcasts.
    expect(stored.Item!.gsi4pk).toBeUndefined();
    expect((await allMessages('erase-b')).map((m) => m.id)).toEqual([recentId('erase-b'), oldMessage.id]);

    expect((await del(api, '/v1/customers/erase-b')).status).toBe(204);
    const after = await allMessages('erase-b');
    expect(after.map((m) => m.id)).toEqual([recentId('erase-b'), oldMessage.id]);
    for (const message of after) {
      expect(message).toMatchObject({ to: '+88017******00', text: '[erased]', broadcastId: expect.any(String) });
      expect(JSON.stringify(message)).not.toMatch(/Broadcast Eraser|1711224400/);
    }
    // Still queued when erased: failed first, so it is never sent.
    expect(after[0]!.status).toBe('failed');
    expect(after[1]!.history.map((h) => h.status)).toEqual(['queued', 'delivered']);
    const neighbour = (await api.get(`/v1/messages/${recentId('keep-b')}`)).body;
    expect(neighbour).toMatchObject({ customerId: 'keep-b', to: '+8801711224411', text: 'Dear Broadcast Keeper, maintenance tonight.' });
    expect(neighbour.erasedAt).toBeUndefined();
  });

  it('lets the id be used again for a new customer', async () => {
    const created = await api.put('/v1/customers/erase-1', { name: 'New Subscriber', mobile: '01911223388' });
    expect(created.status).toBe(201);
    expect((await api.get('/v1/customers/erase-1')).body.name).toBe('New Subscriber');
  });
});
