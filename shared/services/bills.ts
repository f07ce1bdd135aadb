/**
 * Monthly bills (postpaid) and statements (prepaid), made from the ledger's debits of the
 * operator's month in its time zone, once per period (the bill's id is its period: making it again
 * makes nothing); payments through the platform's payment provider, credited once per payment.
 */
import { renderBillPdf, type BillDocument } from '../adapters/pdf/bill-pdf.js';
import { paymentProvider } from '../adapters/payments/registry.js';
import { conflict, invalid, notFound, unauthorized } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import { logger } from '../logger.js';
import type { ConfirmedPayment, LedgerEntry, WebhookRequest } from '../ports.js';
import { creditBalance, DEFAULT_PRICES, pricesFor } from './billing.js';

type D = Pick<Deps, 'billing' | 'clock' | 'operators' | 'bills' | 'fetch' | 'publicBaseUrl' | 'webhookBaseUrl'>;

export interface Bill {
  id: string;
  operatorId: string;
  kind: 'bill' | 'statement';
  period: { month: string; from: string; to: string };
  currency: string;
  byChannel: Array<{ channel: string; messages: number; segments: number; amount: number }>;
  byDay: Array<{ day: string; messages: number; amount: number }>;
  total: number;
  status: 'open' | 'paid' | 'void';
  issuedAt: string;
  dueDate: string;
  paid: number;
  payments: Array<{ at: string; amount: number; reference: string }>;
}

/** Postpaid bills are due this many days after they are made. */
const DUE_AFTER_DAYS = 15;

export const billId = (operatorId: string, month: string) => `BL-${month.replace('-', '')}-${operatorId}`;

/** The operator a bill id belongs to ("BL-202611-<operator>"). */
export function billOwner(id: string): { operatorId: string; month: string } | undefined {
  const match = /^BL-(\d{4})(\d{2})-(.+)$/.exec(id);
  return match ? { operatorId: match[3]!, month: `${match[1]}-${match[2]}` } : undefined;
}

/** The instant local midnight starts on `date` (YYYY-MM-DD) in `timeZone` (daylight saving included). */
export function zonedMidnight(date: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  let guess = Date.UTC(y, m - 1, d);
  for (let i = 0; i < 3; i++) {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
        .formatToParts(new Date(guess))
        .map((p) => [p.type, p.value]),
    );
    const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
    guess -= asUtc - Date.UTC(y, m - 1, d);
  }
  return new Date(guess);
}

const nextMonth = (month: string) => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
};

/** The operator's month that ended most recently at `now`. */
export function lastClosedMonth(now: Date, timeZone: string): string {
  const local = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).format(now); // "2026-11"
  const [y, m] = local.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** Makes the bill (or statement) of `month` for the operator, once: a second call answers the first bill. */
export async function makeBill(d: D, operator: Operator, month: string): Promise<{ bill: Bill; created: boolean }> {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw invalid('A period is a month, YYYY-MM.', [{ field: 'month', message: 'must be YYYY-MM' }]);
  const id = billId(operator.id, month);
  const existing = await d.bills.get(operator.id, id);
  if (existing) return { bill: existing, created: false };
  const from = zonedMidnight(`${month}-01`, operator.timezone);
  const to = zonedMidnight(`${nextMonth(month)}-01`, operator.timezone);
  if (to.getTime() > d.clock.now().getTime()) throw conflict(`The month ${month} has not ended yet in ${operator.timezone}.`);
  const currency = (await pricesFor(d, operator.id)).currency;
  const byChannel = new Map<string, { channel: string; messages: number; segments: number; amount: number }>();
  const byDay = new Map<string, { day: string; messages: number; amount: number }>();
  const dayOf = (at: string) => new Intl.DateTimeFormat('en-CA', { timeZone: operator.timezone }).format(new Date(at));
  let total = 0;
  for await (const entry of d.billing.entries(operator.id, { from: from.toISOString(), to: new Date(to.getTime() - 1).toISOString() })) {
    if (entry.type !== 'debit') continue;
    const amount = -entry.amount;
    total += amount;
    const channel = byChannel.get(entry.channel ?? 'sms') ?? { channel: entry.channel ?? 'sms', messages: 0, segments: 0, amount: 0 };
    channel.messages += entry.messages ?? 1;
    channel.segments += entry.segments ?? 0;
    channel.amount += amount;
    byChannel.set(channel.channel, channel);
    const day = dayOf(entry.at);
    const daily = byDay.get(day) ?? { day, messages: 0, amount: 0 };
    daily.messages += entry.messages ?? 1;
    daily.amount += amount;
    byDay.set(day, daily);
  }
  const issuedAt = d.clock.now().toISOString();
  const prepaid = operator.billing === 'prepaid';
  const bill: Bill = {
    id,
    operatorId: operator.id,
    kind: prepaid ? 'statement' : 'bill',
    period: { month, from: `${month}-01`, to: new Date(to.getTime() - 86_400_000).toISOString().slice(0, 10) },
    currency,
    byChannel: [...byChannel.values()],
    byDay: [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day)),
    total,
    // A statement's messages were paid from the balance as they went; a bill of nothing owes nothing.
    status: prepaid || total === 0 ? 'paid' : 'open',
    issuedAt,
    dueDate: new Date(Date.parse(issuedAt) + DUE_AFTER_DAYS * 86_400_000).toISOString().slice(0, 10),
    paid: 0,
    payments: [],
  };
  if (!(await d.bills.create(bill))) return { bill: (await d.bills.get(operator.id, id))!, created: false };
  // The ledger notes the bill (amount 0: a postpaid balance already carries each message's debit).
  await d.billing.credit(operator.id, { type: 'bill', amount: 0, currency, reason: `${prepaid ? 'Statement' : 'Bill'} ${id} for ${month}: ${total} ${currency}`, billId: id, reference: id }, issuedAt);
  return { bill, created: true };
}

/** The schedule's run: every operator whose month has ended gets that month's bill, once. */
export async function runBilling(d: D): Promise<{ made: number }> {
  let made = 0;
  let cursor: string | undefined;
  do {
    const page = await d.operators.list(100, cursor);
    for (const operator of page.items) {
      const month = lastClosedMonth(d.clock.now(), operator.timezone);
      // No bill for a month that ended before the operator existed.
      if (zonedMidnight(`${nextMonth(month)}-01`, operator.timezone).toISOString() <= operator.createdAt) continue;
      try {
        if ((await makeBill(d, operator, month)).created) made++;
      } catch (error) {
        logger.warn('Could not make a bill', { error, operatorId: operator.id });
      }
    }
    cursor = page.cursor;
  } while (cursor);
  return { made };
}

export async function getBill(d: Pick<D, 'bills'>, operatorId: string, id: string): Promise<Bill> {
  const bill = await d.bills.get(operatorId, id);
  if (!bill) throw notFound(`Bill "${id}"`);
  return bill;
}

export async function billPdf(d: Pick<D, 'bills'>, operator: Operator, id: string): Promise<Buffer> {
  const bill = await getBill(d, operator.id, id);
  const document: BillDocument = {
    billId: bill.id,
    operator: { id: operator.id, name: operator.name, country: operator.defaultCountry },
    platformName: 'ispnotify',
    period: { from: bill.period.from, to: bill.period.to },
    issuedAt: bill.issuedAt,
    dueDate: bill.dueDate,
    status: bill.status,
    currency: bill.currency,
    kind: bill.kind,
    byChannel: bill.byChannel,
    byDay: bill.byDay,
    total: bill.total,
    payments: bill.payments,
  };
  return renderBillPdf(document);
}

/** A payment of a bill (the platform's manual entry, or a payment provider's): credited once per reference; the bill is paid when covered. */
export async function payBill(d: D, operatorId: string, id: string, payment: { amount: number; currency: string; reference: string; paymentId?: string }): Promise<{ bill: Bill; entry: LedgerEntry; created: boolean }> {
  const operator = await d.operators.get(operatorId);
  const bill = await getBill(d, operatorId, id);
  if (!operator) throw notFound(`Operator "${operatorId}"`);
  if (bill.status === 'void') throw conflict(`Bill ${id} is void.`);
  if (payment.currency !== bill.currency) throw invalid(`Bill ${id} is in ${bill.currency}.`, [{ field: 'currency', message: `must be ${bill.currency}` }]);
  const { entry, created } = await creditBalance(d, operator, {
    type: 'payment',
    amount: payment.amount,
    currency: payment.currency,
    reference: payment.reference,
    reason: `Payment of bill ${id} (${payment.reference})`,
    billId: id,
    ...(payment.paymentId ? { paymentId: payment.paymentId } : {}),
  });
  const updated = created ? await d.bills.addPayment(operatorId, id, { at: entry.at, amount: payment.amount, reference: payment.reference }) : bill;
  return { bill: updated ?? bill, entry, created };
}

/** Which provider takes payments here: the one asked for, else the first the deployment configured. */
function configuredProvider(requested?: string) {
  const ids = requested ? [requested] : ['stripe', 'sslcommerz'];
  for (const id of ids) {
    const provider = paymentProvider(id);
    if (provider) return provider;
  }
  throw conflict(requested ? `The payment provider "${requested}" is not configured on this deployment.` : 'No payment provider is configured on this deployment (STRIPE_SECRET_KEY, or SSLCOMMERZ_STORE_ID and SSLCOMMERZ_STORE_PASSWORD).');
}

/** A payment page for a bill, or for a top-up of `amount`. */
export async function checkout(d: D, operator: Operator, target: { billId?: string; amount?: number; provider?: string }) {
  const provider = configuredProvider(target.provider);
  let reference: string;
  let amount: number;
  let currency: string;
  let description: string;
  if (target.billId) {
    const bill = await getBill(d, operator.id, target.billId);
    if (bill.status !== 'open') throw conflict(`Bill ${bill.id} is ${bill.status}; there is nothing to pay.`);
    reference = `bill:${bill.id}`;
    amount = bill.total - bill.paid;
    currency = bill.currency;
    description = `Bill ${bill.id}`;
  } else {
    if (!target.amount || target.amount < 1) throw invalid('A top-up needs an amount.', [{ field: 'amount', message: 'must be a positive whole number of minor units' }]);
    reference = `topup:${operator.id}:${newId(d.clock.now())}`;
    amount = target.amount;
    currency = (await pricesFor(d, operator.id)).currency ?? DEFAULT_PRICES.currency;
    description = `Top-up for ${operator.name}`;
  }
  const back = `${d.publicBaseUrl}/console/billing`;
  const session = await provider.createCheckout(
    {
      reference,
      amount,
      currency,
      description,
      successUrl: `${back}?paid=1`,
      cancelUrl: `${back}?cancelled=1`,
      notifyUrl: `${d.webhookBaseUrl}/webhooks/payments/${provider.id}`,
      ...(operator.billingEmail ? { customerEmail: operator.billingEmail } : {}),
    },
    { fetch: d.fetch, clock: d.clock },
  );
  return { provider: provider.id, url: session.url, sessionId: session.sessionId, reference, amount, currency };
}

/** A payment provider's webhook: verified by the provider, then credited once per payment id. */
export async function receivePayment(d: D, providerId: string, request: WebhookRequest): Promise<{ credited: boolean; reference?: string }> {
  const provider = paymentProvider(providerId);
  if (!provider) throw notFound(`Payment provider "${providerId}"`);
  const payment: ConfirmedPayment | undefined = await provider.confirm(request, { fetch: d.fetch, clock: d.clock });
  if (!payment) return { credited: false };
  const bill = /^bill:(.+)$/.exec(payment.reference)?.[1];
  if (bill) {
    const owner = billOwner(bill);
    if (!owner) throw unauthorized('The payment names no bill of ours.');
    const { created } = await payBill(d, owner.operatorId, bill, { amount: payment.amount, currency: payment.currency, reference: `${providerId}:${payment.paymentId}`, paymentId: payment.paymentId });
    return { credited: created, reference: payment.reference };
  }
  const topup = /^topup:(.+):([0-9A-Z]{26})$/.exec(payment.reference);
  if (!topup) throw unauthorized('The payment names nothing of ours.');
  const operator = await d.operators.get(topup[1]!);
  if (!operator) throw unauthorized('The payment names no operator of ours.');
  const { created } = await creditBalance(d, operator, {
    type: 'topup',
    amount: payment.amount,
    currency: payment.currency,
    reference: `${providerId}:${payment.paymentId}`,
    reason: `Top-up paid with ${providerId} (${payment.paymentId})`,
    paymentId: payment.paymentId,
  });
  return { credited: created, reference: payment.reference };
}
