/**
 * The ISP's bills to its customers (`/v1/bills`): the billing system keeps them current, so that
 * reminders and payment links know what is owed. "Overdue by N days" and "due on D" are Queries on
 * the status-and-due-date index, never a Scan.
 */
import { z } from 'zod';
import { invalid, notFound } from '../domain/errors.js';
import { parseRows, type RowFailure } from './import-rows.js';
import { addDays } from '../domain/days.js';
import { localDay } from '../domain/rate-limit.js';
import type { CustomerBill, Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import type { CustomerBillFilter, Page } from '../ports.js';

type D = Pick<Deps, 'customers' | 'customerBills' | 'clock'>;

const isoDate = z.iso.date({ error: 'must be a date, YYYY-MM-DD' });

export const CustomerBillInput = z
  .strictObject({
    customerId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'must be a customer id'),
    amount: z.number({ error: 'must be a number' }).int('must be whole minor units (poisha, cents)').min(0, 'must be at least 0').max(1_000_000_000_000),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code such as BDT'),
    dueDate: isoDate,
    status: z.enum(['unpaid', 'paid', 'void']).default('unpaid'),
    paidAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
    reference: z.string().trim().min(1).max(100).optional().describe('The billing system\'s own number for the bill (shown in reminders).'),
  })
  .superRefine((bill, ctx) => {
    if (bill.paidAt !== undefined && bill.status !== 'paid') ctx.addIssue({ code: 'custom', path: ['paidAt'], message: 'is for paid bills only' });
  })
  .meta({ id: 'CustomerBillInput' });
export type CustomerBillInputT = z.infer<typeof CustomerBillInput>;

export const CustomerBillImportRow = CustomerBillInput.safeExtend({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'must be 1-64 letters, digits, "_", "-", "." or ":"') });

export const CustomerBillQuery = z.strictObject({
  customerId: z.string().min(1).max(64).optional(),
  status: z.enum(['unpaid', 'paid', 'void']).optional(),
  dueBefore: isoDate.optional(),
  dueAfter: isoDate.optional(),
  overdueDays: z.coerce.number().int().min(0).max(3650).optional().describe('Unpaid and due at least this many days ago (in the operator\'s time zone).'),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(2048).optional(),
});

async function assertCustomer(d: Pick<D, 'customers'>, operator: Operator, customerId: string, field: string): Promise<void> {
  if (!(await d.customers.get(operator.id, customerId))) throw invalid(`Customer "${customerId}" was not found.`, [{ field, message: `no customer with id "${customerId}"` }]);
}

export async function putCustomerBill(d: D, operator: Operator, id: string, input: CustomerBillInputT): Promise<{ bill: CustomerBill; created: boolean }> {
  await assertCustomer(d, operator, input.customerId, 'customerId');
  const existing = await d.customerBills.get(operator.id, id);
  const now = d.clock.now().toISOString();
  const bill: CustomerBill = { id, ...input, createdAt: existing?.createdAt ?? now, updatedAt: now };
  await d.customerBills.put(operator.id, bill);
  return { bill, created: !existing };
}

export async function getCustomerBill(d: Pick<D, 'customerBills'>, operator: Operator, id: string): Promise<CustomerBill> {
  const bill = await d.customerBills.get(operator.id, id);
  if (!bill) throw notFound(`Bill "${id}"`);
  return bill;
}

/** The operator's today, YYYY-MM-DD, minus `days`. */
export const daysAgo = (now: Date, timeZone: string, days: number): string => addDays(localDay(now, timeZone), -days);

export function listCustomerBills(d: D, operator: Operator, query: z.infer<typeof CustomerBillQuery>): Promise<Page<CustomerBill>> {
  const { limit, cursor, overdueDays, ...rest } = query;
  const filter: CustomerBillFilter = { ...rest };
  if (overdueDays !== undefined) {
    if (rest.status && rest.status !== 'unpaid') throw invalid('Only unpaid bills are overdue.', [{ field: 'status', message: 'must be unpaid (or left out) with overdueDays' }]);
    const latest = daysAgo(d.clock.now(), operator.timezone, overdueDays);
    filter.status = 'unpaid';
    filter.dueBefore = rest.dueBefore && rest.dueBefore < latest ? rest.dueBefore : latest;
  }
  if (filter.dueAfter && filter.dueBefore && filter.dueAfter > filter.dueBefore) {
    throw invalid('"dueAfter" must not be after "dueBefore".', [{ field: 'dueAfter', message: 'must be before or equal to dueBefore' }]);
  }
  return d.customerBills.list(operator.id, filter, limit, cursor);
}

export interface BillImportResult {
  received: number;
  imported: number;
  failed: RowFailure[];
}

/** Keeps every valid row (its customer must exist), reports every invalid one; written with BatchWriteItem. */
export async function importCustomerBills(d: D, operator: Operator, rows: unknown[]): Promise<BillImportResult> {
  const now = d.clock.now().toISOString();
  const { accepted: rowsOk, failed } = parseRows(rows, CustomerBillImportRow);
  const parsed = rowsOk.map(({ index, row: { id, ...input } }) => ({ index, bill: { id, ...input, createdAt: now, updatedAt: now } as CustomerBill }));
  const customers = await d.customers.getMany(operator.id, [...new Set(parsed.map((p) => p.bill.customerId))]);
  const accepted = parsed.filter(({ index, bill }) => {
    if (customers.has(bill.customerId)) return true;
    failed.push({ index, id: bill.id, errors: [{ field: 'customerId', message: `no customer with id "${bill.customerId}"` }] });
    return false;
  });
  await d.customerBills.putMany(operator.id, accepted.map((a) => a.bill));
  failed.sort((a, b) => a.index - b.index);
  return { received: rows.length, imported: accepted.length, failed };
}
