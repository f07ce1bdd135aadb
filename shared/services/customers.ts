import { DomainError, notFound, type FieldProblem } from '../domain/errors.js';
import { normalizeMobile } from '../domain/phone.js';
import type { Customer, Operator } from '../domain/records.js';
import { CustomerImportRow, type CustomerInputT } from '../domain/schemas.js';
import type { Deps } from '../deps.js';
import type { CustomerFilter, Page } from '../ports.js';
import { parseRows } from './import-rows.js';

type D = Pick<Deps, 'customers' | 'clock'>;

/** Normalises the numbers of a valid input; throws Invalid naming the field otherwise. */
export function toCustomer(operator: Operator, id: string, input: CustomerInputT, existing: Customer | undefined, now: string): Customer {
  return {
    id,
    ...input,
    mobile: normalizeMobile(input.mobile, operator.defaultCountry, 'mobile'),
    whatsapp: input.whatsapp === undefined ? undefined : normalizeMobile(input.whatsapp, operator.defaultCountry, 'whatsapp'),
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
}

export async function putCustomer(d: D, operator: Operator, id: string, input: CustomerInputT): Promise<{ customer: Customer; created: boolean }> {
  const existing = await d.customers.get(operator.id, id);
  const customer = toCustomer(operator, id, input, existing, d.clock.now().toISOString());
  await d.customers.put(operator.id, customer);
  return { customer, created: !existing };
}

/** `field` names the request field that referred to the customer, for the error's field list. */
export async function getCustomer(d: Pick<D, 'customers'>, operator: Operator, id: string, field?: string): Promise<Customer> {
  const customer = await d.customers.get(operator.id, id);
  if (!customer) {
    const error = notFound(`Customer "${id}"`);
    if (field) error.fields.push({ field, message: `no customer with id "${id}"` });
    throw error;
  }
  return customer;
}

export function listCustomers(d: D, operator: Operator, filter: CustomerFilter, limit: number, cursor?: string): Promise<Page<Customer>> {
  return d.customers.list(operator.id, filter, limit, cursor);
}

export interface ImportResult {
  received: number;
  imported: number;
  failed: { index: number; id?: string; errors: FieldProblem[] }[];
}

/** Keeps every valid row, reports every invalid one with its fields; a bad row never blocks the rest. */
export async function importCustomers(d: D, operator: Operator, rows: unknown[]): Promise<ImportResult> {
  const now = d.clock.now().toISOString();
  const parsed = parseRows(rows, CustomerImportRow);
  const failed: ImportResult['failed'] = parsed.failed;
  const accepted = parsed.accepted.map(({ index, row: { id, ...input } }) => ({ index, id, input }));
  // Re-importing a customer replaces it but keeps when it was first created.
  const existing = await d.customers.getMany(operator.id, accepted.map((row) => row.id));
  const valid: Customer[] = [];
  for (const { index, id, input } of accepted) {
    try {
      valid.push(toCustomer(operator, id, input, existing.get(id), now));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      failed.push({ index, id, errors: error.fields });
    }
  }
  failed.sort((a, b) => a.index - b.index);
  await d.customers.putMany(operator.id, valid);
  return { received: rows.length, imported: valid.length, failed };
}
