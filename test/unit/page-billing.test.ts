/**
 * A broadcast page's billing (services/page-billing.ts): what a page holds when a prepaid balance
 * cannot cover all of it, and what its settlement charges (only the messages that left us).
 */
import { describe, expect, it } from 'vitest';
import type { Message, Operator } from '../../shared/domain/records.js';
import type { BillingStore, Hold } from '../../shared/ports.js';
import { addCharges, holdPage, leftUs, pageCharges } from '../../shared/services/page-billing.js';

const operator = { id: 'op', billing: 'prepaid' } as Operator;
const clock = { now: () => new Date('2026-11-28T10:00:00Z') };

const message = (id: string, amount: number, fields: Partial<Message> = {}) =>
  ({ id, channel: 'sms', segments: 1, status: 'queued', cost: { amount, currency: 'BDT' }, ...fields }) as Message;

/** A balance with `available` to hold from, that records the holds it takes and the ones it already has. */
function billingWith(available: number, existing?: Hold) {
  const holds: Hold[] = existing ? [existing] : [];
  const billing = {
    async hold(_operatorId: string, hold: Hold) {
      if (holds.some((h) => h.messageId === hold.messageId)) return { outcome: 'exists' as const };
      if (hold.amount > available) return { outcome: 'short' as const, shortfall: hold.amount - available };
      available -= hold.amount;
      holds.push(hold);
      return { outcome: 'held' as const };
    },
    async getHold(_operatorId: string, holdId: string) {
      const hold = holds.find((h) => h.messageId === holdId);
      return hold ? { ...hold, status: 'open' as const } : undefined;
    },
  } as unknown as BillingStore;
  return { billing, holds };
}

describe('a page hold', () => {
  it('holds the whole page at once, keyed by the page, with how many messages it covers', async () => {
    const { billing, holds } = billingWith(10_000);
    const page = [message('a', 35), message('b', 70), message('c', 35)];
    expect(await holdPage({ billing, clock }, operator, 'B1', 4, page)).toEqual({ holdId: 'page.B1.4', held: 3 });
    expect(holds).toEqual([expect.objectContaining({ messageId: 'page.B1.4', amount: 140, messages: 3, broadcastId: 'B1', prepaid: true })]);
  });

  it('holds the longest prefix a prepaid balance covers, never more than it has', async () => {
    const { billing, holds } = billingWith(100);
    const page = [message('a', 35), message('b', 35), message('c', 35), message('d', 35)];
    expect(await holdPage({ billing, clock }, operator, 'B1', 0, page)).toEqual({ holdId: 'page.B1.0', held: 2 });
    expect(holds.map((h) => h.amount)).toEqual([70]);
  });

  it('holds nothing when not even the first message fits', async () => {
    const { billing, holds } = billingWith(10);
    expect((await holdPage({ billing, clock }, operator, 'B1', 0, [message('a', 35)])).held).toBe(0);
    expect(holds).toEqual([]);
  });

  it('a page held before (a redelivery, a worker that died) is not held again: the first hold says how many it covers', async () => {
    const { billing, holds } = billingWith(10_000, { messageId: 'page.B1.2', amount: 70, currency: 'BDT', prepaid: true, channel: 'broadcast', messages: 2 });
    const page = [message('a', 35), message('b', 35), message('c', 35)];
    expect(await holdPage({ billing, clock }, operator, 'B1', 2, page)).toEqual({ holdId: 'page.B1.2', held: 2 });
    expect(holds).toHaveLength(1);
  });
});

describe("a page's charges", () => {
  it('charge only the messages that left us, per channel, with their segments', () => {
    const charges = pageCharges([
      message('a', 70, { status: 'delivered', segments: 2, providerMessageId: 'p1' }),
      message('b', 35, { status: 'sent', providerMessageId: 'p2' }),
      // Accepted by the provider, then a failure receipt: it left us, it is charged.
      message('c', 35, { status: 'failed', providerMessageId: 'p3' }),
      message('d', 35, { status: 'failed' }),
      message('e', 35, { status: 'cancelled' }),
      message('f', 0, { status: 'read', channel: 'whatsapp', segments: undefined, providerMessageId: 'w1' }),
    ]);
    expect(charges).toEqual([
      { channel: 'sms', amount: 140, messages: 3, segments: 4 },
      { channel: 'whatsapp', amount: 0, messages: 1, segments: 0 },
    ]);
  });

  it('add up across the settle step\'s reads, channel by channel', () => {
    expect(addCharges([{ channel: 'sms', amount: 70, messages: 2, segments: 2 }], [{ channel: 'sms', amount: 35, messages: 1, segments: 1 }, { channel: 'email', amount: 0, messages: 1, segments: 0 }])).toEqual([
      { channel: 'sms', amount: 105, messages: 3, segments: 3 },
      { channel: 'email', amount: 0, messages: 1, segments: 0 },
    ]);
  });

  it('a queued message has not left us', () => {
    expect(leftUs({ status: 'queued' })).toBe(false);
    expect(leftUs({ status: 'queued', providerMessageId: 'x' })).toBe(true);
  });
});
