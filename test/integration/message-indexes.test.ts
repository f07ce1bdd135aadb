import { storedMessage } from '../support/stored-message.js';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dynamoBroadcastStore as broadcasts } from '../../shared/adapters/dynamodb/broadcasts.js';
import { documentClient } from '../../shared/adapters/dynamodb/client.js';
import { dynamoMessageStore as store } from '../../shared/adapters/dynamodb/messages.js';
import { key } from '../../shared/adapters/dynamodb/table.js';
import { config } from '../../shared/config.js';
import { broadcastMessageId, messagePrefixAt, pageHoldId } from '../../shared/domain/broadcast-ids.js';
import { newId } from '../../shared/domain/ids.js';
import type { Broadcast, Channel, Message, MessageStatus } from '../../shared/domain/records.js';
import type { MessageFilter } from '../../shared/ports.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack('message-indexes');
});
afterAll(async () => {
  await stack?.stop();
});

const OP = 'op-idx';
let clock = Date.parse('2034-01-01T00:00:00.000Z');

/** A message made one millisecond after the last, so ids (and "newest first") follow creation order. */
function message(fields: { status?: MessageStatus; customerId?: string; channel?: Channel; direction?: 'in' } = {}): Message {
  return storedMessage({ operatorId: OP, at: new Date(clock++).toISOString(), ...fields });
}

/** Every page of a list, checking the page promises on the way. */
async function pages(filter: MessageFilter, limit: number): Promise<{ ids: string[]; pageCount: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pageCount = 0;
  do {
    const page = await store.list(OP, filter, limit, cursor);
    pageCount++;
    expect(page.items.length).toBeLessThanOrEqual(limit);
    if (page.cursor) expect(page.items.length).toBeGreaterThan(0);
    ids.push(...page.items.map((m) => m.id));
    cursor = page.cursor;
  } while (cursor);
  return { ids, pageCount };
}

const newestFirst = (messages: Message[]) => messages.map((m) => m.id).sort().reverse();

describe('a customer\'s history (gsi4, keys only)', () => {
  const customerId = 'c-idx';
  const mine: Message[] = [];

  beforeAll(async () => {
    const kinds: Parameters<typeof message>[0][] = [
      { status: 'queued' }, { status: 'failed' }, { status: 'delivered', channel: 'whatsapp' }, { status: 'sent' },
      { status: 'delivered' }, { status: 'cancelled' }, { status: 'read', channel: 'whatsapp' }, { status: 'queued', direction: 'in' },
    ];
    for (let i = 0; i < 3; i++) {
      for (const kind of kinds) {
        const m = message({ ...kind, customerId });
        mine.push(m);
        await store.create(m);
        // Another customer's and a bare number's messages in between are never listed.
        await store.create(message({ ...kind, customerId: 'c-other' }));
        await store.create(message(kind));
      }
    }
  });

  it('pages through every message, newest first, none skipped or repeated, with a small limit', async () => {
    const { ids, pageCount } = await pages({ customerId }, 5);
    expect(ids).toEqual(newestFirst(mine));
    expect(pageCount).toBeGreaterThanOrEqual(Math.ceil(mine.length / 5));
  });

  it('applies the status, channel and direction filters to the items, page after page', async () => {
    const cases: [MessageFilter, (m: Message) => boolean][] = [
      [{ status: 'delivered' }, (m) => m.status === 'delivered'],
      [{ status: 'failed' }, (m) => m.status === 'failed'],
      [{ channel: 'whatsapp' }, (m) => m.channel === 'whatsapp'],
      [{ status: 'delivered', channel: 'sms' }, (m) => m.status === 'delivered' && m.channel === 'sms'],
      [{ direction: 'in' }, (m) => m.direction === 'in'],
      [{ direction: 'out' }, (m) => m.direction !== 'in'],
      [{ status: 'queued', direction: 'out' }, (m) => m.status === 'queued' && m.direction !== 'in'],
    ];
    for (const [filter, wanted] of cases) {
      for (const limit of [1, 3]) {
        const { ids } = await pages({ customerId, ...filter }, limit);
        expect(ids, JSON.stringify({ filter, limit })).toEqual(newestFirst(mine.filter(wanted)));
      }
    }
  });

  it('ends a page that found little after a bounded number of reads, with a cursor to the rest', async () => {
    const older = message({ status: 'failed', customerId: 'c-sparse' });
    const between = Array.from({ length: 120 }, () => message({ status: 'delivered', customerId: 'c-sparse' }));
    const newer = message({ status: 'failed', customerId: 'c-sparse' });
    await store.createMany([older, ...between, newer]);
    const first = await store.list(OP, { customerId: 'c-sparse', status: 'failed' }, 2);
    expect(first.items.map((m) => m.id)).toEqual([newer.id]);
    expect(first.cursor).toEqual(expect.any(String));
    const second = await store.list(OP, { customerId: 'c-sparse', status: 'failed' }, 2, first.cursor);
    expect(second).toEqual({ items: [expect.objectContaining({ id: older.id })] });
  });

  it('keeps to the time range, and refuses a cursor of another filter', async () => {
    const from = mine[3]!.createdAt;
    const to = mine[10]!.createdAt;
    const { ids } = await pages({ customerId, from, to }, 3);
    expect(ids).toEqual(newestFirst(mine.slice(3, 11)));
    const first = await store.list(OP, { customerId, status: 'delivered' }, 1);
    expect(first.cursor).toEqual(expect.any(String));
    await expect(store.list(OP, { customerId, status: 'sent' }, 1, first.cursor)).rejects.toMatchObject({ kind: 'Invalid' });
    await expect(store.list(OP, { customerId: 'c-other', status: 'delivered' }, 1, first.cursor)).rejects.toMatchObject({ kind: 'Invalid' });
  });
});

describe('the history by status', () => {
  const range = { from: '2035-01-01T00:00:00.000Z', to: '2035-12-31T23:59:59.999Z' };
  const made: Message[] = [];

  beforeAll(async () => {
    clock = Date.parse('2035-01-01T00:00:00.000Z');
    for (let i = 0; i < 12; i++) {
      const m = message({ customerId: i % 2 ? 'c-status' : undefined, channel: i % 3 ? 'sms' : 'whatsapp' });
      made.push(m);
      await store.create(m);
    }
    // Moved by the store, as the pipeline moves them: failed and cancelled enter gsi5 then.
    const at = () => new Date(clock++).toISOString();
    for (const i of [1, 4, 9]) await store.transition(OP, made[i]!.id, { status: 'failed', at: at(), reason: 'test' });
    for (const i of [2, 5]) await store.transition(OP, made[i]!.id, { status: 'cancelled', at: at() });
    for (const i of [0, 3, 6, 7]) await store.transition(OP, made[i]!.id, { status: 'delivered', at: at() });
    // Made failed: written into gsi5 at creation.
    const createdFailed = message({ status: 'failed' });
    clock = Date.parse('2035-06-01T00:00:00.000Z');
    made.push(createdFailed);
    await store.create(createdFailed);
  });

  const expected = (status: MessageStatus) => made.filter((m, i) => (i === 12 ? status === 'failed' : statusOf(i) === status)).map((m) => m.id).sort().reverse();
  const statusOf = (i: number): MessageStatus =>
    [1, 4, 9].includes(i) ? 'failed' : [2, 5].includes(i) ? 'cancelled' : [0, 3, 6, 7].includes(i) ? 'delivered' : 'queued';

  it('lists failed and cancelled messages from the sparse status index, a page at a time', async () => {
    for (const limit of [1, 2, 10]) {
      expect((await pages({ status: 'failed', ...range }, limit)).ids).toEqual(expected('failed'));
      expect((await pages({ status: 'cancelled', ...range }, limit)).ids).toEqual(expected('cancelled'));
    }
    const failedWhatsapp = made.filter((m, i) => (i === 12 || statusOf(i) === 'failed') && m.channel === 'whatsapp').map((m) => m.id).sort().reverse();
    expect((await pages({ status: 'failed', channel: 'whatsapp', ...range }, 1)).ids).toEqual(failedWhatsapp);
    const stored = await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.message(OP, made[1]!.id) }));
    expect(stored.Item).toMatchObject({ gsi5pk: key.messageStatusIndex(OP, 'failed'), gsi5sk: `MSG#${made[1]!.id}` });
  });

  it('lists delivered and queued messages by filtering the operator\'s messages, with no empty page holding a cursor', async () => {
    for (const limit of [1, 3, 50]) {
      expect((await pages({ status: 'delivered', ...range }, limit)).ids).toEqual(expected('delivered'));
      expect((await pages({ status: 'queued', ...range }, limit)).ids).toEqual(expected('queued'));
    }
  });
});

describe('the write cost of a status change', () => {
  /** The capacity each write to the table reports, asked for per index. */
  async function measured<T>(run: () => Promise<T>): Promise<{ result: T; writes: { command: string; capacity?: ConsumedCapacity }[] }> {
    const client = documentClient();
    const original = client.send.bind(client);
    const writes: { command: string; capacity?: ConsumedCapacity }[] = [];
    const spy = vi.spyOn(client, 'send').mockImplementation((async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      const isWrite = name === 'UpdateCommand' || name === 'PutCommand';
      if (isWrite) command.input.ReturnConsumedCapacity = 'INDEXES';
      try {
        const reply = (await original(command as never)) as { ConsumedCapacity?: ConsumedCapacity };
        if (isWrite) writes.push({ command: name, capacity: reply.ConsumedCapacity });
        return reply;
      } catch (error) {
        if (isWrite) writes.push({ command: name, capacity: (error as { $response?: unknown; ConsumedCapacity?: ConsumedCapacity }).ConsumedCapacity });
        throw error;
      }
    }) as never);
    try {
      return { result: await run(), writes };
    } finally {
      spy.mockRestore();
    }
  }

  it('claims, sends and delivers a customer\'s message writing no customer or status index', async () => {
    const m = message({ customerId: 'c-cost' });
    const created = await measured(() => store.create(m));
    const now = new Date(clock++).toISOString();
    const claim = await measured(() => store.claim(OP, m.id, new Date(clock + 30_000).toISOString(), now));
    expect(claim.result.ok).toBe(true);
    const sent = await measured(() => store.transition(OP, m.id, { status: 'sent', at: new Date(clock++).toISOString() }, { providerMessageId: 'p-cost', gatewayId: 'gw-1' }));
    expect(sent.result).toBe(true);
    const delivered = await measured(() => store.transition(OP, m.id, { status: 'delivered', at: new Date(clock++).toISOString() }));
    expect(delivered.result).toBe(true);

    // Each write is one unit on the table: the item is under 1 KB.
    const table = (w: { capacity?: ConsumedCapacity }) => w.capacity?.Table?.CapacityUnits;
    const indexes = (w: { capacity?: ConsumedCapacity }) => Object.keys(w.capacity?.GlobalSecondaryIndexes ?? {}).sort();
    expect(created.writes.map(indexes)).toEqual([['gsi3', 'gsi4']]);
    expect(claim.writes.map(table)).toEqual([1]);
    expect(claim.writes.map((w) => w.capacity?.CapacityUnits)).toEqual([1]);
    // The provider-id pointer (a Put of its own item), then the status. The pending index (gsi3)
    // follows a message while it is queued or sent; no customer or status index moves.
    const statusUpdate = (writes: typeof sent.writes) => writes.filter((w) => w.command === 'UpdateCommand');
    expect(statusUpdate(sent.writes).map(table)).toEqual([1]);
    expect(statusUpdate(sent.writes).map(indexes)).toEqual([['gsi3']]);
    expect(statusUpdate(delivered.writes).map(table)).toEqual([1]);
    expect(statusUpdate(delivered.writes).map(indexes)).toEqual([['gsi3']]);

    const stored = (await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.message(OP, m.id) }))).Item!;
    for (const attribute of ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi5pk', 'gsi5sk']) expect(stored[attribute], attribute).toBeUndefined();
    expect(stored.gsi4pk).toBe(key.customerMessagesIndex(OP, 'c-cost'));
  });

  it('writes a keys-only status entry when a message fails, and nothing more', async () => {
    const m = message({ customerId: 'c-cost' });
    await store.create(m);
    const failed = await measured(() => store.transition(OP, m.id, { status: 'failed', at: new Date(clock++).toISOString(), reason: 'test' }));
    expect(failed.result).toBe(true);
    const update = failed.writes.find((w) => w.command === 'UpdateCommand')!;
    expect(update.capacity?.Table?.CapacityUnits).toBe(1);
    // Into gsi5; out of the pending index (gsi3).
    expect(update.capacity?.GlobalSecondaryIndexes).toEqual({ gsi3: { CapacityUnits: 1 }, gsi5: { CapacityUnits: 1 } });
  });

  it('creates a broadcast message with one write unit: no customer-index entry, its broadcast indexed once', async () => {
    const at = new Date(clock++);
    const broadcast: Broadcast = {
      id: newId(at), operatorId: OP, kind: 'broadcast', filter: {}, channel: 'sms', category: 'transactional', state: 'sending',
      estimate: { recipients: 1, segments: 1, cost: { amount: 35, currency: 'BDT' }, byChannel: {} },
      planStep: 1, planned: 1, pages: 1, pagesDone: 0, skipped: {}, messagePrefix: messagePrefixAt(at), startedAt: at.toISOString(), createdAt: at.toISOString(), updatedAt: at.toISOString(),
    };
    const indexes = (w: { capacity?: ConsumedCapacity }) => Object.keys(w.capacity?.GlobalSecondaryIndexes ?? {}).sort();
    // The broadcast enters the started-broadcasts entries of gsi4 once, when it starts; its updates write no index.
    expect((await measured(() => broadcasts.create(broadcast))).writes.map(indexes)).toEqual([['gsi4']]);
    const page = await measured(() => broadcasts.update(OP, broadcast.id, { updatedAt: new Date(clock++).toISOString() }, {}, { pagesDone: 1 }));
    expect(page.writes.map(indexes)).toEqual([[]]);

    // As the expand step makes it: held with its page (so not in the pending index either).
    const m: Message = { ...message({ customerId: 'c-cost' }), id: broadcastMessageId(broadcast.messagePrefix!, broadcast.id, 'c-cost'), broadcastId: broadcast.id, holdId: pageHoldId(broadcast.id, 0), lane: 'bulk' };
    const created = await measured(() => store.create(m));
    expect(created.writes.map((w) => w.capacity?.CapacityUnits)).toEqual([1]);
    expect(created.writes.map(indexes)).toEqual([[]]);
    const stored = (await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.message(OP, m.id) }))).Item!;
    expect(stored.gsi4pk).toBeUndefined();
    expect(stored.gsi4sk).toBeUndefined();
    // Still the customer's: found by its derived id.
    expect((await store.list(OP, { customerId: 'c-cost' }, 100)).items.map((x) => x.id)).toContain(m.id);
  });
});
