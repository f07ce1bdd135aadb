/**
 * A broadcast page is billed as one: its messages' cost is held at once when the page is expanded
 * (one transaction instead of one per message), and settled at once when every message of the page
 * has left us or failed: one debit per channel for what left, the rest of the hold given back. Each
 * message names the page's hold (`holdId`), so sending and failing it touch no balance.
 *
 * Exactly once: the hold is keyed by the page (a redelivered or taken-over page finds it, and how
 * many of the page's messages it covers), the settlement is conditional on the hold being open.
 */
import { pageHoldId } from '../domain/broadcast-ids.js';
import type { Message, Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import type { GroupCharge } from '../ports.js';
import { warnIfLow, type LowBalanceDeps } from './billing.js';

type D = Pick<Deps, 'billing' | 'clock'>;

/** Tries at a smaller prefix when a prepaid balance cannot cover the whole page (others spend at the same time). */
const SHORT_TRIES = 3;

/**
 * Holds the cost of the page's messages (in order) at once; with a prepaid balance that cannot
 * cover them all, the longest prefix it covers. Answers how many of `messages` are held.
 */
export async function holdPage(d: D, operator: Operator, broadcastId: string, page: number, messages: Message[], resellerId?: string): Promise<{ holdId: string; held: number }> {
  const holdId = pageHoldId(broadcastId, page);
  if (messages.length === 0) return { holdId, held: 0 };
  const currency = messages[0]!.cost?.currency ?? 'BDT';
  const costs = messages.map((m) => m.cost?.amount ?? 0);
  const at = d.clock.now().toISOString();
  let count = messages.length;
  for (let tries = 0; count > 0; tries++) {
    const amount = costs.slice(0, count).reduce((sum, c) => sum + c, 0);
    const outcome = await d.billing.hold(
      operator.id,
      {
        messageId: holdId,
        amount,
        currency,
        prepaid: operator.billing === 'prepaid',
        channel: 'broadcast',
        messages: count,
        broadcastId,
        ...(resellerId ? { resellerId } : {}),
      },
      at,
    );
    if (outcome.outcome === 'held') return { holdId, held: count };
    if (outcome.outcome !== 'short') {
      // Held before (a redelivery, a worker that died on the page): it covers the first `messages` of the same order.
      const existing = await d.billing.getHold(operator.id, holdId);
      return { holdId, held: Math.min(existing?.messages ?? 0, messages.length) };
    }
    if (tries === SHORT_TRIES) break;
    // What the balance could cover at that moment: the prefix that fits.
    const available = amount - outcome.shortfall;
    let fits = 0;
    for (let sum = 0; fits < count && sum + costs[fits]! <= available; fits++) sum += costs[fits]!;
    count = Math.min(fits, count - 1);
  }
  return { holdId, held: 0 };
}

/** A message that left us (a provider accepted it) is charged, whatever happened to it after. */
export const leftUs = (message: Pick<Message, 'status' | 'providerMessageId'>): boolean =>
  message.providerMessageId !== undefined || message.status === 'sent' || message.status === 'delivered' || message.status === 'read';

/** What the page's messages that left us cost, per channel. */
export function pageCharges(messages: Array<Pick<Message, 'status' | 'providerMessageId' | 'channel' | 'segments' | 'cost'>>): GroupCharge[] {
  const byChannel = new Map<string, GroupCharge>();
  for (const message of messages) {
    if (!leftUs(message)) continue;
    const charge = byChannel.get(message.channel) ?? { channel: message.channel, amount: 0, messages: 0, segments: 0 };
    charge.amount += message.cost?.amount ?? 0;
    charge.messages += 1;
    charge.segments += message.channel === 'sms' ? (message.segments ?? 1) : 0;
    byChannel.set(message.channel, charge);
  }
  return [...byChannel.values()];
}

/** Charges of two reads of a page, added channel by channel. */
export function addCharges(a: GroupCharge[], b: GroupCharge[]): GroupCharge[] {
  const byChannel = new Map<string, GroupCharge>();
  for (const charge of [...a, ...b]) {
    const sum = byChannel.get(charge.channel) ?? { channel: charge.channel, amount: 0, messages: 0, segments: 0 };
    sum.amount += charge.amount;
    sum.messages += charge.messages;
    sum.segments += charge.segments;
    byChannel.set(charge.channel, sum);
  }
  return [...byChannel.values()];
}

/**
 * Settles the page's hold with what its messages that left cost (every message of the page final
 * or sent by now); then the low-balance warning, once, if this debit took the balance under the threshold.
 */
export async function settlePage(d: D & LowBalanceDeps, operatorId: string, holdId: string, charges: GroupCharge[], reason: string): Promise<'settled' | 'already' | 'none'> {
  const outcome = await d.billing.settleGroup(operatorId, holdId, charges, reason, d.clock.now().toISOString());
  if (typeof outcome !== 'object') return outcome;
  await warnIfLow(d, operatorId, outcome);
  return 'settled';
}
