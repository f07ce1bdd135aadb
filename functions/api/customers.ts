import { CustomerImport, CustomerInput, CustomerQuery, ResourceId } from '../../shared/domain/schemas.js';
import { invalid } from '../../shared/domain/errors.js';
import { deps } from '../../shared/deps.js';
import { getCustomer, importCustomers, listCustomers, putCustomer } from '../../shared/services/customers.js';
import { eraseCustomer } from '../../shared/services/erase-customer.js';
import { api, json, parse } from './_middleware.js';

const idParam = (params: Record<string, string>) => parse(ResourceId, params.id, 'customer id in the path', { field: 'id' });

export const handler = api({
  'PUT /v1/customers/{id}': async ({ operator, params, body }) => {
    const { customer, created } = await putCustomer(deps(), operator, idParam(params), parse(CustomerInput, body));
    return json(created ? 201 : 200, customer);
  },
  'GET /v1/customers/{id}': async ({ operator, params }) => json(200, await getCustomer(deps(), operator, idParam(params))),
  // Erases the customer's personal data (and masks its messages); a repeat answers 204 too.
  'DELETE /v1/customers/{id}': async ({ operator, params }) => {
    await eraseCustomer(deps(), operator, idParam(params));
    return { statusCode: 204 };
  },
  'GET /v1/customers': async ({ operator, query }) => {
    const { limit, cursor, ...filter } = parse(CustomerQuery, query, 'query string');
    return json(200, await listCustomers(deps(), operator, filter, limit, cursor));
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
