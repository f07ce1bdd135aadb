/**
 * What messages cost and who pays: prices (the platform's table, an operator's overrides), the
 * hold at acceptance (402 when a prepaid balance cannot cover it), the debit when a provider accepts
 * the message, the release when it fails before leaving us, credits (top-ups, payments), and the
 * low-balance warning. Money is integer minor units with an ISO currency, never floating point.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { InsufficientBalance, invalid, PaymentRequired } from '../domain/errors.js';
import type { Channel, Message, Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import { logger } from '../logger.js';
import type { Hold, LedgerEntry, PriceTable, Settled } from '../ports.js';

type D = Pick<Deps, 'billing' | 'clock'>;

/** Where the platform's own table is kept (an owner id no operator can have). */
export const PLATFORM_PRICES = 'PLATFORM';

/** Until the platform sets prices: SMS at BDT 0.35 a segment, the rest free (the local demo's currency). */
export const DEFAULT_PRICES: PriceTable = { currency: 'BDT', sms: { default: 35 }, whatsapp: { default: 0 }, email: { default: 0 } };

/** The operator's prices: its own table over the platform's, channel by channel, country by country. */
export async function pricesFor(d: Pick<D, 'billing'>, operatorId: string): Promise<PriceTable> {
  const [platform, own] = await Promise.all([d.billing.prices(PLATFORM_PRICES), d.billing.prices(operatorId)]);
  const base = platform ?? DEFAULT_PRICES;
  if (!own) return base;
  if (own.currency !== base.currency) return own;
  return {
    currency: base.currency,
    sms: { ...base.sms, ...own.sms },
    whatsapp: { ...base.whatsapp, ...own.whatsapp },
    email: { ...base.email, ...own.email },
  };
}

/** The country a number is in (ISO alpha-2), for its price. */
function countryOf(to: string): string | undefined {
  return parsePhoneNumberFromString(to)?.country;
}

/** What one message costs: SMS per segment, WhatsApp and email per message, by destination country; Telegram is free. */
export function costOf(prices: PriceTable, message: Pick<Message, 'channel' | 'to' | 'segments'>): number {
  const channel: Channel = message.channel;
  if (channel === 'telegram') return 0;
  const table = prices[channel];
  const country = channel === 'email' ? undefined : countryOf(message.to);
  const unit = (country !== undefined && Object.hasOwn(table, country) ? table[country] : table.default) ?? 0;
  return channel === 'sms' ? unit * (message.segments ?? 1) : unit;
}

/** What holding a message's cost writes: prepaid operators' holds count against the balance. */
export function holdOf(operator: Operator, message: Pick<Message, 'id' | 'channel' | 'segments'>, cost: { amount: number; currency: string }, resellerId?: string): Hold {
  return {
    messageId: message.id,
    amount: cost.amount,
    currency: cost.currency,
    prepaid: operator.billing === 'prepaid',
    channel: message.channel,
    ...(message.segments !== undefined ? { segments: message.segments } : {}),
    ...(resellerId ? { resellerId } : {}),
  };
}

/**
 * Holds a new message's cost before it is stored (prepaid: refused with 402 and the shortfall when
 * the available balance cannot cover it). Keyed by the message id: a hold is made once.
 */
export async function holdCost(d: D, operator: Operator, message: Message, resellerId?: string): Promise<{ amount: number; currency: string }> {
  const prices = await pricesFor(d, operator.id);
  const amount = costOf(prices, message);
  const outcome = await d.billing.hold(operator.id, holdOf(operator, message, { amount, currency: prices.currency }, resellerId), d.clock.now().toISOString());
  if (outcome.outcome === 'short') {
    throw new PaymentRequired(
      `The prepaid balance cannot cover this message: it costs ${amount} and ${outcome.shortfall} more is needed (minor units of ${prices.currency}). Top up, then send again.`,
      { amount: outcome.shortfall, currency: prices.currency },
    );
  }
  return { amount, currency: prices.currency };
}

/**
 * Debits of one operator made by this process, one at a time. Each debit is a transaction on the
 * operator's one balance item, conditioned on its version (which orders the ledger): concurrent
 * debits from one process (a batch's records are sent in parallel) would only lose that race to
 * each other and retry with backoff. Across processes the condition still decides.
 */
const debitsInFlight = new Map<string, Promise<void>>();

function oneDebitAtATime(operatorId: string, debit: () => Promise<void>): Promise<void> {
  const previous = debitsInFlight.get(operatorId) ?? Promise.resolve();
  const next = previous.then(debit, debit);
  debitsInFlight.set(operatorId, next);
  // The chain is dropped once it is idle, so the map holds only operators with a debit in flight.
  void next
    .finally(() => {
      if (debitsInFlight.get(operatorId) === next) debitsInFlight.delete(operatorId);
    })
    .catch(() => {});
  return next;
}

/** A provider accepted the message: its hold becomes a debit, once. Best effort: the reconciler settles what this misses. */
export async function settleCost(d: D & LowBalanceDeps, operatorId: string, messageId: string): Promise<void> {
  return oneDebitAtATime(operatorId, () => settleNow(d, operatorId, messageId));
}

async function settleNow(d: D & LowBalanceDeps, operatorId: string, messageId: string): Promise<void> {
  try {
    const settled = await d.billing.settle(operatorId, messageId, d.clock.now().toISOString());
    if (typeof settled === 'object') await warnIfLow(d, operatorId, settled);
  } catch (error) {
    logger.warn('Could not settle a message\'s cost now; the reconciler will', { error, messageId });
  }
}

/** The message failed before leaving us (or was cancelled): its hold is given back, once. */
export async function releaseCost(d: D, operatorId: string, messageId: string): Promise<void> {
  try {
    await d.billing.release(operatorId, messageId, d.clock.now().toISOString());
  } catch (error) {
    logger.warn('Could not release a message\'s hold now; the reconciler will', { error, messageId });
  }
}

/** What the low-balance warning sends with (it creates messages). */
export type LowBalanceDeps = Pick<Deps, 'operators' | 'alertRoutes' | 'customers' | 'templates' | 'gateways' | 'messages' | 'counters' | 'queue' | 'cipher' | 'suppressions'>;

/**
 * One warning when the available prepaid balance falls below the operator's threshold, not one per
 * message: a flag on the balance, set by the first one to see it, cleared by a credit above it. The
 * threshold and the flag come with the debit's own read, so a debit above the threshold reads nothing more.
 */
export async function warnIfLow(d: D & LowBalanceDeps, operatorId: string, settled: Settled): Promise<void> {
  if (settled.lowBalanceThreshold === undefined || settled.lowBalanceAlerted || settled.available >= settled.lowBalanceThreshold) return;
  const operator = await d.operators.get(operatorId);
  if (!operator || operator.billing !== 'prepaid') return;
  if (!(await d.billing.markLowBalance(operatorId, true))) return;
  // Imported here: the warning sends messages, and messages hold their cost through this module.
  const { warnLowBalance } = await import('./low-balance.js');
  await warnLowBalance({ ...d, billing: d.billing, clock: d.clock }, operator, settled.available, settled.currency);
}

/** A top-up or payment, credited once per reference; above the threshold again, the warning may fire again later. */
export async function creditBalance(
  d: D & Pick<Deps, 'operators'>,
  operator: Operator,
  credit: { type: 'topup' | 'payment' | 'adjustment' | 'refund'; amount: number; currency: string; reference: string; reason: string; billId?: string; paymentId?: string },
): Promise<{ entry: LedgerEntry; created: boolean }> {
  const prices = await pricesFor(d, operator.id);
  const state = await d.billing.balance(operator.id, prices.currency);
  if (credit.currency !== state.currency) {
    throw invalid(`This operator's balance is in ${state.currency}; a credit in ${credit.currency} cannot be added to it.`, [{ field: 'currency', message: `must be ${state.currency}` }]);
  }
  let result: { entry: LedgerEntry; created: boolean };
  try {
    result = await d.billing.credit(operator.id, credit, d.clock.now().toISOString());
  } catch (error) {
    if (error instanceof InsufficientBalance) {
      throw new PaymentRequired(`A correction of ${credit.amount} would take the balance past what is available; ${error.shortfall} more is needed.`, { amount: error.shortfall, currency: state.currency });
    }
    throw error;
  }
  if (result.created && operator.lowBalanceThreshold !== undefined) {
    const after = await d.billing.balance(operator.id, state.currency);
    if (after.balance + after.creditLimit - after.reserved >= operator.lowBalanceThreshold) await d.billing.markLowBalance(operator.id, false);
  }
  return result;
}

/** balance = sum(ledger), each entry's balanceAfter = the previous one's + its amount, and the balance is never below the credit limit. */
export async function verifyLedger(d: Pick<D, 'billing'>, operatorId: string, currency = DEFAULT_PRICES.currency) {
  const state = await d.billing.balance(operatorId, currency);
  let sum = 0;
  let entries = 0;
  const problems: string[] = [];
  const all: LedgerEntry[] = [];
  for await (const entry of d.billing.entries(operatorId)) all.push(entry);
  // In the order they changed the balance (their seq), each one's balanceAfter is the sum up to it.
  all.sort((a, b) => a.seq - b.seq);
  for (const [i, entry] of all.entries()) {
    sum += entry.amount;
    entries++;
    if (entry.seq !== i + 1) problems.push(`entry ${entry.id}: seq ${entry.seq} where ${i + 1} was expected (a gap or a repeat in the balance's versions)`);
    if (entry.balanceAfter !== sum) problems.push(`entry ${entry.id}: balanceAfter ${entry.balanceAfter}, but the entries up to it sum to ${sum}`);
  }
  if (sum !== state.balance) problems.push(`the balance is ${state.balance}, but the ledger sums to ${sum}`);
  if (state.balance + state.creditLimit < 0) problems.push(`the balance ${state.balance} is below the credit limit ${-state.creditLimit}`);
  if (state.reserved < 0) problems.push(`reserved is negative (${state.reserved})`);
  return { operatorId, balance: state.balance, reserved: state.reserved, ledgerSum: sum, entries, ok: problems.length === 0, problems };
}
