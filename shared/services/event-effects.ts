/**
 * What an event changes in what we know: a payment marks its bill paid and moves the service's
 * expiry forward; suspension and activation set the customer's status; a registration creates the
 * customer if it is new. Each change is a no-op when it is already so, so a retried event finishes
 * what a crashed attempt left undone and repeats nothing.
 */
import { DomainError, invalid } from '../domain/errors.js';
import type { EventInputT } from '../domain/event-schemas.js';
import type { Customer, CustomerBill, Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import { toCustomer } from './customers.js';

type D = Pick<Deps, 'customers' | 'customerBills' | 'clock'>;

export interface Effect {
  kind: string;
  /** false: it was so already (a repeat, or nothing to change). */
  applied: boolean;
  detail: string;
}

/** What the event refers to, checked before anything is written. */
export interface EventTarget {
  /** The customer as it is now; absent for a registration of a new customer. */
  customer?: Customer;
  /** A registration's customer, built (numbers normalised) but not yet written. */
  newCustomer?: Customer;
  bill?: CustomerBill;
}

/** Reads and checks what the event names; a 400 here means nothing was written. */
export async function resolveTarget(d: D, operator: Operator, event: EventInputT): Promise<EventTarget> {
  const customer = await d.customers.get(operator.id, event.customerId);
  if (event.type === 'customer.registered') {
    if (customer) return { customer };
    try {
      return { newCustomer: toCustomer(operator, event.customerId, event.data, undefined, d.clock.now().toISOString()) };
    } catch (error) {
      // The customer's fields are under `data` in an event.
      if (error instanceof DomainError) throw invalid(error.message, error.fields.map((f) => ({ ...f, field: `data.${f.field}` })));
      throw error;
    }
  }
  if (!customer) throw invalid(`Customer "${event.customerId}" was not found; register it first (PUT /v1/customers/${event.customerId} or a customer.registered event).`, [{ field: 'customerId', message: `no customer with id "${event.customerId}"` }]);
  if (event.type !== 'payment.received' || event.data.billId === undefined) return { customer };
  const bill = await d.customerBills.get(operator.id, event.data.billId);
  if (!bill) throw invalid(`Bill "${event.data.billId}" was not found.`, [{ field: 'data.billId', message: `no bill with id "${event.data.billId}"` }]);
  if (bill.customerId !== customer.id) throw invalid(`Bill "${bill.id}" is not customer "${customer.id}"'s.`, [{ field: 'data.billId', message: `belongs to customer "${bill.customerId}"` }]);
  if (bill.currency !== event.data.currency) throw invalid(`The payment is in ${event.data.currency} but bill "${bill.id}" is in ${bill.currency}.`, [{ field: 'data.currency', message: `must be the bill's currency, ${bill.currency}` }]);
  return { customer, bill };
}

/** Optimistic: a concurrent write to the customer (another event, a PUT) makes this read again, never undoes it. */
async function changeCustomer(d: D, operator: Operator, id: string, change: (current: Customer) => Partial<Pick<Customer, 'status' | 'expiresAt'>> | undefined) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await d.customers.get(operator.id, id);
    if (!current) throw new DomainError('Conflict', `Customer "${id}" was deleted while the event was being handled.`);
    const changes = change(current);
    if (!changes) return { customer: current, applied: false };
    const after = await d.customers.update(operator.id, id, { ...changes, updatedAt: d.clock.now().toISOString() }, current.updatedAt);
    if (after) return { customer: after, applied: true };
  }
  throw new DomainError('Unavailable', `Customer "${id}" kept changing while the event was being handled; send the event again.`);
}

const later = (next: string, current: string | undefined) => current === undefined || Date.parse(next) > Date.parse(current);

/** Applies the event's changes; answers them and the customer as they left it (what the messages are rendered with). */
export async function applyEffects(d: D, operator: Operator, event: EventInputT, target: EventTarget): Promise<{ customer: Customer; effects: Effect[] }> {
  const effects: Effect[] = [];
  let customer = target.customer ?? target.newCustomer!;
  if (event.type === 'customer.registered') {
    const created = target.newCustomer ? await d.customers.create(operator.id, target.newCustomer) : false;
    if (!created) customer = (await d.customers.get(operator.id, event.customerId)) ?? customer;
    effects.push({ kind: 'customer.created', applied: created, detail: created ? `customer ${customer.id} created` : `customer ${customer.id} existed already; left as it was` });
  }
  if (event.type === 'customer.suspended' || event.type === 'customer.activated') {
    const status = event.type === 'customer.suspended' ? 'suspended' : 'active';
    const result = await changeCustomer(d, operator, customer.id, (current) => (current.status === status ? undefined : { status }));
    customer = result.customer;
    effects.push({ kind: 'customer.status', applied: result.applied, detail: `status ${status}` });
  }
  if (event.type === 'payment.received') {
    if (target.bill) effects.push(await markBillPaid(d, operator, target.bill.id, event.occurredAt));
    const expiresAt = event.data.newExpiresAt;
    if (expiresAt !== undefined) {
      // Forward only: a late or repeated payment never shortens the service.
      const result = await changeCustomer(d, operator, customer.id, (current) => (later(expiresAt, current.expiresAt) ? { expiresAt } : undefined));
      customer = result.customer;
      // Already this event's value: set by this event (a concurrent or earlier delivery of it), so the answer says so either way.
      const ours = result.applied || result.customer.expiresAt === expiresAt;
      effects.push({ kind: 'customer.expiresAt', applied: ours, detail: ours ? `expiresAt ${expiresAt}` : `expiresAt already ${result.customer.expiresAt}` });
    }
  }
  return { customer, effects };
}

/** PUT semantics, as the billing system's own PUT /v1/bills would; a bill paid already keeps its first paidAt. */
async function markBillPaid(d: D, operator: Operator, billId: string, paidAt: string): Promise<Effect> {
  const bill = await d.customerBills.get(operator.id, billId);
  if (!bill) return { kind: 'bill.paid', applied: false, detail: `bill ${billId} no longer exists` };
  // Paid at this event's time: paid by this event (a concurrent or earlier delivery of it).
  if (bill.status === 'paid' && bill.paidAt === paidAt) return { kind: 'bill.paid', applied: true, detail: `bill ${bill.id} paid at ${paidAt}` };
  if (bill.status === 'paid') return { kind: 'bill.paid', applied: false, detail: `bill ${bill.id} paid already (at ${bill.paidAt ?? 'an unknown time'})` };
  await d.customerBills.put(operator.id, { ...bill, status: 'paid', paidAt, updatedAt: d.clock.now().toISOString() });
  return { kind: 'bill.paid', applied: true, detail: `bill ${bill.id} paid at ${paidAt}` };
}
