/**
 * Who a broadcast goes to, as a Query the audience reader can run: customers by status (each
 * status its own index partition; zone, package and reseller as filters), or, for payment links
 * and overdue or due-date reminders, unpaid bills by due date (their customers filtered the same way).
 */
import type { Broadcast, BroadcastFilter, Customer, CustomerStatus, Operator } from '../domain/records.js';
import type { AudienceQuery } from '../ports.js';
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
