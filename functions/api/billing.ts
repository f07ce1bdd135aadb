import { z } from 'zod';
import { deps } from '../../shared/deps.js';
import { Limit } from '../../shared/domain/schemas.js';
import { pricesFor } from '../../shared/services/billing.js';
import { billPdf, checkout, getBill } from '../../shared/services/bills.js';
import { ledgerCsv, usage } from '../../shared/services/billing-views.js';
import { api, json, parse } from './_middleware.js';

const isoTime = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });
const LedgerQuery = z.strictObject({
  from: isoTime.optional(),
  to: isoTime.optional(),
  type: z.enum(['topup', 'payment', 'debit', 'refund', 'adjustment', 'bill']).optional(),
  limit: Limit,
  cursor: z.string().max(2048).optional(),
});
const UsageQuery = z.strictObject({ from: isoTime, to: isoTime, groupBy: z.enum(['day', 'channel']).default('day') });
const Checkout = z.strictObject({ provider: z.enum(['stripe', 'sslcommerz']).optional() });
const TopupCheckout = z.strictObject({ amount: z.number().int().min(1).max(10_000_000_000), provider: z.enum(['stripe', 'sslcommerz']).optional() });
const billParam = (params: Record<string, string>) => parse(z.string().regex(/^BL-\d{6}-.+$/, 'must be a bill id such as BL-202611-demo'), params.id, 'bill id in the path', { field: 'id' });

export const handler = api({
  'GET /v1/billing/balance': async ({ operator }) => {
    const d = deps();
    const prices = await pricesFor(d, operator.id);
    const state = await d.billing.balance(operator.id, prices.currency);
    return json(200, {
      billing: operator.billing ?? 'postpaid',
      currency: state.currency,
      balance: state.balance,
      reserved: state.reserved,
      available: state.balance + state.creditLimit - state.reserved,
      creditLimit: state.creditLimit,
      lowBalanceThreshold: operator.lowBalanceThreshold ?? null,
      prices,
    });
  },
  'GET /v1/billing/ledger': async ({ operator, query, header }) => {
    const { limit, cursor, ...filter } = parse(LedgerQuery, query, 'query string');
    if ((header('accept') ?? '').includes('text/csv')) {
      return { statusCode: 200, headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="ledger-${operator.id}.csv"` }, body: await ledgerCsv(deps(), operator.id, filter) };
    }
    const page = await deps().billing.ledger(operator.id, filter, limit, cursor);
    return json(200, { items: page.items, cursor: page.cursor });
  },
  'GET /v1/billing/usage': async ({ operator, query }) => json(200, await usage(deps(), operator, parse(UsageQuery, query, 'query string'))),
  'GET /v1/billing/bills': async ({ operator, query }) => {
    const { limit, cursor } = parse(z.strictObject({ limit: Limit, cursor: z.string().max(2048).optional() }), query, 'query string');
    const page = await deps().bills.list(operator.id, limit, cursor);
    return json(200, { items: page.items, cursor: page.cursor });
  },
  'GET /v1/billing/bills/{id}': async ({ operator, params, header }) => {
    const id = billParam(params);
    if ((header('accept') ?? '').includes('application/pdf')) {
      const pdf = await billPdf(deps(), operator, id);
      return { statusCode: 200, headers: { 'content-type': 'application/pdf', 'content-disposition': `inline; filename="${id}.pdf"` }, body: pdf.toString('base64'), isBase64Encoded: true };
    }
    return json(200, await getBill(deps(), operator.id, id));
  },
  'POST /v1/billing/bills/{id}/checkout': async ({ operator, params, body }) =>
    json(201, await checkout(deps(), operator, { billId: billParam(params), ...parse(Checkout, body ?? {}) })),
  'POST /v1/billing/topups/checkout': async ({ operator, body }) => json(201, await checkout(deps(), operator, parse(TopupCheckout, body))),
});
