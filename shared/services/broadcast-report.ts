/**
 * The collection report of a payment-link broadcast (`GET /v1/broadcasts/{id}/report`): of the
 * customers messaged, how many got it, opened their link, and paid after the message (their bill
 * marked paid, by PUT /v1/bills or a payment.received event, after the message left us), the amount
 * collected, the conversion rate (paid / sent) and the median time from message to payment, in all,
 * per zone and per channel.
 *
 * Computed when asked from the broadcast's messages (a Query on its id prefix), their links and
 * their bills (BatchGet): always current, with no write on the payment path.
 */
import { conflict } from '../domain/errors.js';
import type { Broadcast, Channel, Message, Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';

type D = Pick<Deps, 'messages' | 'paymentLinks' | 'customerBills' | 'customers'>;

const PAGE = 100;

interface Tally {
  recipients: number;
  sent: number;
  delivered: number;
  clicked: number;
  paid: number;
  collected: number;
  minutesToPay: number[];
}

const emptyTally = (): Tally => ({ recipients: 0, sent: 0, delivered: 0, clicked: 0, paid: 0, collected: 0, minutesToPay: [] });

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function summary(tally: Tally, currency: string) {
  const { minutesToPay, collected, ...counts } = tally;
  const medianMinutes = median(minutesToPay);
  return {
    ...counts,
    collected: { amount: collected, currency },
    conversionRate: tally.sent === 0 ? 0 : Math.round((tally.paid / tally.sent) * 10_000) / 10_000,
    medianMinutesToPay: medianMinutes === null ? null : Math.round(medianMinutes * 10) / 10,
  };
}

/** When the message left us: its `sent` entry, else (a receipt came first) its first later status. */
function sentAt(message: Message): string | undefined {
  return message.history.find((change) => change.status === 'sent' || change.status === 'delivered' || change.status === 'read')?.at;
}

export async function broadcastReport(d: D, operator: Operator, broadcast: Broadcast) {
  if (broadcast.kind !== 'payment_link') throw conflict(`Broadcast ${broadcast.id} is a ${broadcast.kind}; the collection report is for payment-link broadcasts.`);
  const total = emptyTally();
  const byZone = new Map<string, Tally>();
  const byChannel = new Map<Channel, Tally>();
  let currency = broadcast.estimate.cost.currency;
  if (broadcast.messagePrefix) {
    let cursor: string | undefined;
    do {
      const page = await d.messages.list(operator.id, { broadcast: { id: broadcast.id, messagePrefix: broadcast.messagePrefix } }, PAGE, cursor);
      cursor = page.cursor;
      const messages = page.items;
      const [links, bills, customers] = await Promise.all([
        d.paymentLinks.getMany(messages.flatMap((m) => (m.paymentLinkId ? [m.paymentLinkId] : []))),
        d.customerBills.getMany(operator.id, messages.flatMap((m) => (m.billId ? [m.billId] : []))),
        d.customers.getMany(operator.id, messages.flatMap((m) => (m.customerId ? [m.customerId] : []))),
      ]);
      for (const message of messages) {
        const zone = (message.customerId && customers.get(message.customerId)?.zone) || 'none';
        const tallies = [total, byZone.get(zone) ?? byZone.set(zone, emptyTally()).get(zone)!, byChannel.get(message.channel) ?? byChannel.set(message.channel, emptyTally()).get(message.channel)!];
        const left = sentAt(message);
        const link = message.paymentLinkId ? links.get(message.paymentLinkId) : undefined;
        const bill = message.billId ? bills.get(message.billId) : undefined;
        const paidAfter = left !== undefined && bill?.status === 'paid' && bill.paidAt !== undefined && Date.parse(bill.paidAt) >= Date.parse(left);
        if (bill) currency = bill.currency;
        for (const tally of tallies) {
          tally.recipients++;
          if (left) tally.sent++;
          if (message.status === 'delivered' || message.status === 'read') tally.delivered++;
          if (link?.firstClickAt) tally.clicked++;
          if (paidAfter) {
            tally.paid++;
            tally.collected += bill.amount;
            tally.minutesToPay.push((Date.parse(bill.paidAt!) - Date.parse(left)) / 60_000);
          }
        }
      }
    } while (cursor);
  }
  return {
    broadcastId: broadcast.id,
    ...summary(total, currency),
    byZone: [...byZone.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([zone, tally]) => ({ zone, ...summary(tally, currency) })),
    byChannel: [...byChannel.entries()].map(([channel, tally]) => ({ channel, ...summary(tally, currency) })),
  };
}
