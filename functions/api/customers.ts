import { CustomerImport, CustomerInput, CustomerQuery, ResourceId } from '../../shared/domain/schemas.js';
import { invalid } from '../../shared/domain/errors.js';
import { deps } from '../../shared/deps.js';
import { getCustomer, importCustomers, listCustomers, putCustomer } from '../../shared/services/customers.js';
import { eraseCustomer } from '../../shared/services/erase-customer.js';
import { api, json, parse } from './_middleware.js';
import { assertOwnCustomer, resellerOf } from './reseller-scope.js';

const idParam = (params: Record<string, string>) => parse(ResourceId, params.id, 'customer id in the path', { field: 'id' });

export const handler = api({
  'PUT /v1/customers/{id}': async ({ operator, principal, params, body }) => {
    const id = idParam(params);
    const input = parse(CustomerInput, body);
    const reseller = resellerOf(principal);
    if (reseller !== undefined) {
      // A reseller writes its own customers only, and they stay its own.
      const existing = await deps().customers.get(operator.id, id);
      if (existing) assertOwnCustomer(principal, existing);
      input.resellerId = reseller;
    }
    const { customer, created } = await putCustomer(deps(), operator, id, input);
    return json(created ? 201 : 200, customer);
  },
  'GET /v1/customers/{id}': async ({ operator, principal, params }) => {
    const customer = await getCustomer(deps(), operator, idParam(params));
    assertOwnCustomer(principal, customer);
    return json(200, customer);
  },
  // Erases the customer's personal data (and masks its messages); a repeat answers 204 too.
  'DELETE /v1/customers/{id}': async ({ operator, params }) => {
    await eraseCustomer(deps(), operator, idParam(params));
    return { statusCode: 204 };
  },
  'GET /v1/customers': async ({ operator, principal, query }) => {
    const { limit, cursor, ...filter } = parse(CustomerQuery, query, 'query string');
    const reseller = resellerOf(principal);
    return json(200, await listCustomers(deps(), operator, reseller !== undefined ? { ...filter, resellerId: reseller } : filter, limit, cursor));
  },
  'POST /v1/customers/import': async ({ operator, body }) => {
    const { customers } = parse(CustomerImport, body);
    const result = await importCustomers(deps(), operator, customers);
    if (result.imported === 0) {
      const errors = result.failed.flatMap((row) => row.errors.map((e) => ({ field: `customers[${row.index}]${e.field ? `.${e.field}` : ''}`, message: e.message })));
      throw invalid('No row could be imported; fix the rows listed in "errors".', errors);
    }
    return json(200, result);
  },
});
