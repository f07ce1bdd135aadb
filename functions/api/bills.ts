import { z } from 'zod';
import { deps } from '../../shared/deps.js';
import { invalid } from '../../shared/domain/errors.js';
import { ResourceId } from '../../shared/domain/schemas.js';
import { CustomerBillInput, CustomerBillQuery, getCustomerBill, importCustomerBills, listCustomerBills, putCustomerBill } from '../../shared/services/customer-bills.js';
import { api, json, parse } from './_middleware.js';

const idParam = (params: Record<string, string>) => parse(ResourceId, params.id, 'bill id in the path', { field: 'id' });
const Import = z.strictObject({ bills: z.array(z.unknown()).min(1, 'must hold at least one bill').max(1000, 'must hold at most 1000 bills per request') });

/** The ISP's bills to its customers, kept current by its billing system. */
export const handler = api({
  'PUT /v1/bills/{id}': async ({ operator, params, body }) => {
    const { bill, created } = await putCustomerBill(deps(), operator, idParam(params), parse(CustomerBillInput, body));
    return json(created ? 201 : 200, bill);
  },
  'GET /v1/bills/{id}': async ({ operator, params }) => json(200, await getCustomerBill(deps(), operator, idParam(params))),
  'GET /v1/bills': async ({ operator, query }) => {
    const page = await listCustomerBills(deps(), operator, parse(CustomerBillQuery, query, 'query string'));
    return json(200, { items: page.items, cursor: page.cursor });
  },
  'POST /v1/bills/import': async ({ operator, body }) => {
    const { bills } = parse(Import, body);
    const result = await importCustomerBills(deps(), operator, bills);
    if (result.imported === 0) {
      throw invalid('No row could be imported; fix the rows listed in "errors".', result.failed.flatMap((row) => row.errors.map((e) => ({ field: `bills[${row.index}]${e.field ? `.${e.field}` : ''}`, message: e.message }))));
    }
    return json(200, result);
  },
});
