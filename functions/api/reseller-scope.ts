/**
 * A reseller key sees and messages its reseller's customers only. These checks run in the
 * handlers of the routes a reseller may call (shared/services/auth.ts requiredRoles).
 */
import { forbidden, notFound } from '../../shared/domain/errors.js';
import type { Customer, Message } from '../../shared/domain/records.js';
import type { Deps } from '../../shared/deps.js';
import type { Principal } from '../../shared/services/auth.js';

/** The reseller a key is scoped to; undefined for every other role. */
export const resellerOf = (principal: Principal) => (principal.kind === 'operator' && principal.role === 'reseller' ? principal.resellerId : undefined);

/** Another reseller's (or the ISP's own) customer is "not found" to a reseller key, as another operator's is. */
export function assertOwnCustomer(principal: Principal, customer: Pick<Customer, 'id' | 'resellerId'>): void {
  const reseller = resellerOf(principal);
  if (reseller !== undefined && customer.resellerId !== reseller) throw notFound(`Customer "${customer.id}"`);
}

export async function assertOwnCustomerId(d: Pick<Deps, 'customers'>, principal: Principal, operatorId: string, customerId: string | undefined, what: string): Promise<void> {
  const reseller = resellerOf(principal);
  if (reseller === undefined) return;
  if (customerId === undefined) throw forbidden(`A reseller key ${what} its own customers only: give a customerId.`);
  const customer = await d.customers.get(operatorId, customerId);
  if (!customer || customer.resellerId !== reseller) throw notFound(`Customer "${customerId}"`);
}

export function assertOwnMessage(principal: Principal, message: Pick<Message, 'id' | 'resellerId'>): void {
  const reseller = resellerOf(principal);
  if (reseller !== undefined && message.resellerId !== reseller) throw notFound(`Message "${message.id}"`);
}
