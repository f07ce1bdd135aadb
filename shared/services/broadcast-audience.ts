/**
 * Who a broadcast goes to, as a Query the audience reader can run: customers by status (each
 * status its own index partition; zone, package and reseller as filters), or, for payment links
 * and overdue or due-date reminders, unpaid bills by due date (their customers filtered the same way).
 */
import type { Broadcast, BroadcastFilter, Customer, CustomerBill, CustomerStatus, Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import type { AudienceQuery, AudienceRow } from '../ports.js';
import { daysAgo } from './customer-bills.js';

export const ALL_CUSTOMER_STATUSES: CustomerStatus[] = ['active', 'suspended', 'billed', 'expired'];

/** Bills drive the audience: payment links, "overdue by N days", "due on D". */
export const isBillAudience = (broadcast: Pick<Broadcast, 'kind' | 'filter'>): boolean =>
  broadcast.kind === 'payment_link' || broadcast.filter.overdueDays !== undefined || broadcast.filter.dueOn !== undefined;

export function audienceQuery(broadcast: Pick<Broadcast, 'kind' | 'filter' | 'resellerId'>, operator: Operator, now: Date): AudienceQuery {
  const filter = broadcast.filter;
  if (filter.expiresOn !== undefined) return { source: 'expiring', on: filter.expiresOn };
  if (isBillAudience(broadcast)) {
    if (filter.dueOn !== undefined) return { source: 'bills', dueFrom: filter.dueOn, dueTo: filter.dueOn };
    return { source: 'bills', ...(filter.overdueDays !== undefined ? { dueTo: daysAgo(now, operator.timezone, filter.overdueDays) } : {}) };
  }
  return {
    source: 'customers',
    statuses: filter.status?.length ? filter.status : ALL_CUSTOMER_STATUSES,
    ...(filter.zone?.length ? { zone: filter.zone } : {}),
    ...(filter.package?.length ? { package: filter.package } : {}),
    // A reseller's broadcast reaches its own customers only, whatever the filter says.
    ...(broadcast.resellerId ? { resellerId: [broadcast.resellerId] } : filter.resellerId?.length ? { resellerId: filter.resellerId } : {}),
  };
}

/** The customer filter applied to a bill's customer (bill audiences read bills, not customers), and an expiry reminder's expiry date. */
export function matchesCustomerFilter(customer: Customer, filter: BroadcastFilter, resellerId?: string): boolean {
  // The expiry index keeps an old date after a renewal: the customer's own expiresAt decides.
  if (filter.expiresOn !== undefined && customer.expiresAt?.slice(0, 10) !== filter.expiresOn) return false;
  if (resellerId !== undefined && customer.resellerId !== resellerId) return false;
  if (filter.status?.length && !filter.status.includes(customer.status)) return false;
  if (filter.zone?.length && (customer.zone === undefined || !filter.zone.includes(customer.zone))) return false;
  if (filter.package?.length && (customer.package === undefined || !filter.package.includes(customer.package))) return false;
  if (filter.resellerId?.length && (customer.resellerId === undefined || !filter.resellerId.includes(customer.resellerId))) return false;
  return true;
}

/**
 * The customers of a page of audience rows, in order: as read (customer rows), or, for bills and the
 * expiry index, read now (eventually consistent: half the read units; what matters, a bill paid or a
 * renewal, is checked again at send time) and filtered like customers. `gone`: rows whose customer no longer exists.
 */
export async function customersOfRows(
  d: Pick<Deps, 'customers'>,
  operatorId: string,
  broadcast: Pick<Broadcast, 'filter' | 'resellerId'>,
  rows: AudienceRow[],
): Promise<{ recipients: Array<{ customer: Customer; bill?: CustomerBill }>; gone: number }> {
  const named = [...new Set(rows.flatMap((row) => (row.customer ? [] : (row.bill?.customerId ?? row.customerId ?? []))))];
  const customers = named.length > 0 ? await d.customers.getMany(operatorId, named, { consistent: false }) : new Map<string, Customer>();
  let gone = 0;
  const recipients = rows.flatMap((row) => {
    if (row.customer) return [{ customer: row.customer }];
    const customer = customers.get(row.bill?.customerId ?? row.customerId ?? '');
    if (!customer) {
      gone++;
      return [];
    }
    if (!matchesCustomerFilter(customer, broadcast.filter, broadcast.resellerId)) return [];
    return [{ customer, ...(row.bill ? { bill: row.bill } : {}) }];
  });
  return { recipients, gone };
}
