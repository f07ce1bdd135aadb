/**
 * A customer's history with broadcast messages, which have no customer-index (gsi4) entry: found by
 * their ids derived from (broadcast, customer) and merged with the customer's other messages.
 * Broadcasts and their messages are written by the stores as the expand step writes them.
 */
import { storedMessage } from '../support/stored-message.js';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoBroadcastStore as broadcasts } from '../../shared/adapters/dynamodb/broadcasts.js';
import { documentClient } from '../../shared/adapters/dynamodb/client.js';
import { dynamoMessageStore as store } from '../../shared/adapters/dynamodb/messages.js';
import { key } from '../../shared/adapters/dynamodb/table.js';
import { config } from '../../shared/config.js';
import { broadcastMessageId, messagePrefixAt, pageHoldId } from '../../shared/domain/broadcast-ids.js';
import { idRange, idTime, newId } from '../../shared/domain/ids.js';
import type { Broadcast, Channel, Message, MessageStatus } from '../../shared/domain/records.js';
import type { MessageFilter } from '../../shared/ports.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack('customer-broadcast-history');
});
afterAll(async () => {
  await stack?.stop();
});

const OP = 'op-bch';
const ME = 'c-me';
const NEIGHBOUR = 'c-neighbour';
/** In the three broadcasts started in the same millisecond only. */
const GROUPED = 'c-grouped';
let clock = Date.parse('2036-01-01T00:00:00.000Z');
const next = () => new Date(clock++);

type Kind = { status?: MessageStatus; channel?: Channel; direction?: 'in' };

function message(customerId: string, kind: Kind = {}, id?: string): Message {
  return storedMessage({ operatorId: OP, at: next().toISOString(), customerId, ...kind, ...(id ? { id } : {}) });
}

/** A broadcast that took its message prefix at `startedAt`; its id is made at `madeAt` (a scheduled one: earlier). */
function broadcastRecord(startedAt: Date, madeAt = startedAt): Broadcast {
  return {
    id: newId(madeAt), operatorId: OP, kind: 'broadcast', filter: {}, channel: 'sms', category: 'transactional', state: 'sending',
    estimate: { recipients: 0, segments: 0, cost: { amount: 0, currency: 'BDT' }, byChannel: {} },
    planStep: 1, planned: 0, pages: 1, pagesDone: 1, skipped: {},
    messagePrefix: messagePrefixAt(startedAt), startedAt: startedAt.toISOString(), createdAt: madeAt.toISOString(), updatedAt: madeAt.toISOString(),
  };
}

/** A broadcast's message to a customer, as the expand step makes it. */
function broadcastMessage(b: Broadcast, customerId: string, kind: Kind = {}): Message {
  const id = broadcastMessageId(b.messagePrefix!, b.id, customerId);
  return { ...message(customerId, kind, id), broadcastId: b.id, holdId: pageHoldId(b.id, 0), lane: 'bulk' };
}

async function pages(filter: MessageFilter, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(OP, filter, limit, cursor);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    if (page.cursor) expect(page.items.length).toBeGreaterThan(0);
    ids.push(...page.items.map((m) => m.id));
    cursor = page.cursor;
  } while (cursor);
  return ids;
}

const newestFirst = (messages: Message[]) => messages.map((m) => m.id).sort().reverse();

describe('a customer\'s history with broadcast messages', () => {
  const made = new Map<string, Message[]>();
  const of = (customerId: string) => made.get(customerId) ?? [];
  const mine: Message[] = [];
  let scheduledMessage: Message;
  let kindAt = 0;
  const kinds: Kind[] = [{ status: 'queued' }, { status: 'delivered' }, { status: 'failed', channel: 'whatsapp' }, { status: 'sent' }, { status: 'read', channel: 'whatsapp' }];
  const nextKind = () => kinds[kindAt++ % kinds.length]!;

  async function broadcastTo(b: Broadcast, members: string[]): Promise<void> {
    await broadcasts.create(b);
    const written = members.map((c) => broadcastMessage(b, c, nextKind()));
    await store.createMany(written);
    for (const m of written) made.set(m.customerId!, [...of(m.customerId!), m]);
  }
  async function single(customerId: string, kind: Kind): Promise<void> {
    const m = message(customerId, kind);
    await store.create(m);
    made.set(customerId, [...of(customerId), m]);
  }
  /** Broadcasts one a millisecond: I am in every third, the neighbour in all; my own messages in between. */
  async function run(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      await broadcastTo(broadcastRecord(next()), i % 3 === 0 ? [ME, NEIGHBOUR] : [NEIGHBOUR]);
      if (i % 4 === 0) await single(ME, i % 8 === 0 ? { direction: 'in' } : nextKind());
    }
  }

  beforeAll(async () => {
    // Made before all the others, started after them (scheduled): it sorts by when it started.
    const early = new Date(clock - 86_400_000);
    await run(29);
    // Three started in the same millisecond (a reminder run's steps), where the first index Query
    // (100 entries, newest first) ends: 98 broadcasts start after them.
    const together = next();
    for (const members of [[ME, NEIGHBOUR, GROUPED], [NEIGHBOUR, GROUPED], [ME, GROUPED]]) await broadcastTo(broadcastRecord(together), members);
    await run(48);
    // A reminder run's id is its day's: made "later" than it started.
    await broadcastTo(broadcastRecord(next(), new Date(clock + 30 * 86_400_000)), [ME]);
    await run(48);
    await single('c-loner', { status: 'delivered' });
    await single('c-loner', { status: 'queued' });
    const scheduled = broadcastRecord(next(), early);
    await broadcastTo(scheduled, [ME, NEIGHBOUR]);
    mine.push(...of(ME));
    scheduledMessage = mine.at(-1)!;
  });

  it('writes no customer-index keys on a broadcast message', async () => {
    const item = (await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: key.message(OP, scheduledMessage.id) }))).Item!;
    expect(item).toMatchObject({ customerId: ME, broadcastId: scheduledMessage.broadcastId });
    expect(item.gsi4pk).toBeUndefined();
  });

  it('pages through my messages and my broadcast messages together, newest first by id, none skipped or repeated', async () => {
    expect(mine.filter((m) => m.broadcastId).length).toBeGreaterThan(40);
    for (const limit of [1, 7, 100]) {
      const ids = await pages({ customerId: ME }, limit);
      expect(ids, `limit ${limit}`).toEqual(newestFirst(mine));
      // The scheduled broadcast's message sorts by when it started, not by its broadcast's id.
      expect(ids[0]).toBe(scheduledMessage.id);
    }
    expect(await pages({ customerId: NEIGHBOUR }, 10)).toEqual(newestFirst(of(NEIGHBOUR)));
    // A page that ends where an index Query split broadcasts of one prefix still gets all of them.
    for (const limit of [1, 2]) expect(await pages({ customerId: GROUPED }, limit)).toEqual(newestFirst(of(GROUPED)));
  });

  it('gives a customer nothing from a broadcast whose audience they were not in', async () => {
    expect(await pages({ customerId: 'c-loner' }, 1)).toEqual(newestFirst(of('c-loner')));
    expect(await pages({ customerId: 'c-nobody' }, 5)).toEqual([]);
  });

  it('applies the status, channel and direction filters to both, page after page', async () => {
    const cases: [MessageFilter, (m: Message) => boolean][] = [
      [{ status: 'delivered' }, (m) => m.status === 'delivered'],
      [{ status: 'failed', channel: 'whatsapp' }, (m) => m.status === 'failed' && m.channel === 'whatsapp'],
      [{ channel: 'sms' }, (m) => m.channel === 'sms'],
      [{ direction: 'in' }, (m) => m.direction === 'in'],
      [{ direction: 'out', status: 'queued' }, (m) => m.direction !== 'in' && m.status === 'queued'],
    ];
    for (const [filter, wanted] of cases) {
      for (const limit of [2, 5]) {
        expect(await pages({ customerId: ME, ...filter }, limit), JSON.stringify({ filter, limit })).toEqual(newestFirst(mine.filter(wanted)));
      }
    }
  });

  it('keeps to the time range, and refuses a cursor of another list', async () => {
    const sorted = [...mine].sort((a, b) => (a.id < b.id ? -1 : 1));
    const from = idTime(sorted[10]!.id).toISOString();
    const to = idTime(sorted[40]!.id).toISOString();
    const { min, max } = idRange(new Date(from), new Date(to));
    const inRange = mine.filter((m) => m.id >= min && m.id <= max);
    expect(inRange.length).toBeGreaterThanOrEqual(31);
    expect(await pages({ customerId: ME, from, to }, 3)).toEqual(newestFirst(inRange));

    const first = await store.list(OP, { customerId: ME, status: 'delivered' }, 1);
    expect(first.cursor).toEqual(expect.any(String));
    await expect(store.list(OP, { customerId: ME, status: 'sent' }, 1, first.cursor)).rejects.toMatchObject({ kind: 'Invalid' });
    await expect(store.list(OP, { customerId: NEIGHBOUR, status: 'delivered' }, 1, first.cursor)).rejects.toMatchObject({ kind: 'Invalid' });
  });

  it('enters a scheduled broadcast in the index when it starts, so its messages are found', async () => {
    const { messagePrefix: _prefix, startedAt: _started, ...scheduled } = broadcastRecord(next());
    await broadcasts.create({ ...scheduled, state: 'scheduled', sendAt: new Date(clock + 3_600_000).toISOString() });
    const at = next();
    // As the schedule's start step does.
    const started = await broadcasts.update(OP, scheduled.id, { state: 'planning', startedAt: at.toISOString(), messagePrefix: messagePrefixAt(at), updatedAt: at.toISOString() }, { states: ['scheduled'] });
    const m = broadcastMessage(started!, 'c-scheduled');
    await store.create(m);
    expect(await pages({ customerId: 'c-scheduled' }, 1)).toEqual([m.id]);
  });

  it('lists the broadcast messages written before they left the customer index once each, and those of a broadcast started before its entry', async () => {
    const customer = 'c-upgrade';
    // Before the upgrade: the broadcast has no entry of its own, its messages have gsi4 keys.
    const old = broadcastRecord(next());
    await documentClient().send(new PutCommand({ TableName: config().TABLE_NAME, Item: { pk: `OP#${OP}`, sk: `BCAST#${old.id}`, entity: 'broadcast', ...old } }));
    const oldMessage = broadcastMessage(old, customer);
    await documentClient().send(new PutCommand({
      TableName: config().TABLE_NAME,
      Item: { ...key.message(OP, oldMessage.id), gsi4pk: key.customerMessagesIndex(OP, customer), gsi4sk: `MSG#${oldMessage.id}`, entity: 'message', ...oldMessage },
    }));
    expect(await pages({ customerId: customer }, 1)).toEqual([oldMessage.id]);

    // Still being written at the upgrade: its next pages' messages have no gsi4 keys; its next update indexes it.
    const newMessage = broadcastMessage(old, 'c-upgrade-2');
    await store.create(newMessage);
    expect(await pages({ customerId: 'c-upgrade-2' }, 1)).toEqual([]);
    await broadcasts.update(OP, old.id, { updatedAt: next().toISOString() }, {}, { pagesDone: 1 });
    expect(await pages({ customerId: 'c-upgrade-2' }, 1)).toEqual([newMessage.id]);
    // Now found both ways, the old message is still listed once.
    expect(await pages({ customerId: customer }, 1)).toEqual([oldMessage.id]);
    expect(await broadcasts.get(OP, old.id)).not.toHaveProperty('gsi4pk');
  });
});

