/**
 * What a broadcast's template can say about its recipient: the built-in customer and operator
 * variables, the bill (`{{bill.amount}}`, `{{bill.dueDate}}`, `{{bill.reference}}`) and the
 * personal `{{paymentLink}}`. The seed's single-brace names map onto these by the one rule in
 * single-brace.ts; `amount`, `dueDate` and `paymentLink` are also given at the top level, which is
 * where `{amount}`, `{due_date}` and `{payment_link}` land.
 */
import type { CustomerBill } from './records.js';
import { majorUnits } from './money.js';

export const BROADCAST_VARIABLES = [
  'customer.id',
  'customer.name',
  'customer.mobile',
  'customer.package',
  'customer.zone',
  'customer.expiresAt',
  'bill.amount',
  'bill.currency',
  'bill.dueDate',
  'bill.reference',
  'paymentLink',
  'operator.name',
  'operator.phone',
] as const;

export function billVariables(bill: CustomerBill | undefined, paymentLink: string | undefined): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  if (bill) {
    const amount = majorUnits(bill.amount, bill.currency);
    variables.bill = { id: bill.id, amount, currency: bill.currency, dueDate: bill.dueDate, reference: bill.reference ?? bill.id };
    variables.amount = amount;
    variables.dueDate = bill.dueDate;
  }
  if (paymentLink !== undefined) {
    variables.paymentLink = paymentLink;
    // The seed's reminder template names it payLink.
    variables.payLink = paymentLink;
  }
  return variables;
}
