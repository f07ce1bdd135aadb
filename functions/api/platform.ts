import { z } from 'zod';
import { deps } from '../../shared/deps.js';
import { conflict, notFound } from '../../shared/domain/errors.js';
import { ResourceId } from '../../shared/domain/schemas.js';
import { isCountryCode } from '../../shared/domain/phone.js';
import { creditBalance, PLATFORM_PRICES, pricesFor } from '../../shared/services/billing.js';
import { billOwner, getBill, payBill } from '../../shared/services/bills.js';
import { createKey } from '../../shared/services/keys.js';
import { api, json, parse } from './_middleware.js';

const Currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code such as BDT');
const Money = z.number().int('must be whole minor units (poisha, cents)');
const PriceMap = z.record(z.string().regex(/^(default|[A-Z]{2})$/, 'keys are "default" or ISO country codes'), Money.min(0)).refine((m) => 'default' in m, 'needs a "default" price');
const Prices = z.strictObject({ currency: Currency, sms: PriceMap, whatsapp: PriceMap, email: PriceMap });
const NewOperator = z.strictObject({
  id: ResourceId,
  name: z.string().trim().min(1).max(200),
  country: z.string().toUpperCase().refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code'),
  timezone: z.string().default('Asia/Dhaka'),
  billing: z.enum(['prepaid', 'postpaid']),
  billingEmail: z.email().optional(),
  lowBalanceThreshold: Money.min(0).optional(),
  creditLimit: Money.min(0).optional(),
});
const Credit = z.strictObject({ amount: Money.min(1), currency: Currency, reference: z.string().trim().min(1).max(200) });
const OperatorBilling = z.strictObject({
  billing: z.enum(['prepaid', 'postpaid']).optional(),
  creditLimit: Money.min(0).optional().describe('How far below zero a prepaid balance may go.'),
  lowBalanceThreshold: Money.min(0).nullable().optional(),
  billingEmail: z.email().nullable().optional(),
});
const Adjustment = z.strictObject({
  type: z.enum(['adjustment', 'refund']),
  amount: Money.refine((n) => n !== 0, 'must not be 0'),
  currency: Currency,
  reason: z.string().trim().min(1).max(300),
  reference: z.string().trim().min(1).max(200),
});
const opParam = (params: Record<string, string>) => parse(ResourceId, params.id, 'operator id in the path', { field: 'id' });

async function ownOperator(id: string) {
  const operator = await deps().operators.get(id);
  if (!operator) throw notFound(`Operator "${id}"`);
  return operator;
}

/** The platform's routes (a platform key): operators, prices, top-ups and every operator's bills. */
export const handler = api({
  'POST /v1/platform/operators': async ({ body }) => {
    const d = deps();
    const input = parse(NewOperator, body);
    if (await d.operators.get(input.id)) throw conflict(`Operator "${input.id}" already exists.`);
    await d.operators.put({
      id: input.id,
      name: input.name,
      defaultCountry: input.country,
      timezone: input.timezone,
      billing: input.billing,
      ...(input.billingEmail ? { billingEmail: input.billingEmail } : {}),
      ...(input.lowBalanceThreshold !== undefined ? { lowBalanceThreshold: input.lowBalanceThreshold } : {}),
      createdAt: d.clock.now().toISOString(),
    });
    const prices = await pricesFor(d, input.id);
    await d.billing.balance(input.id, prices.currency);
    await d.billing.setLimits(input.id, { creditLimit: input.creditLimit, lowBalanceThreshold: input.lowBalanceThreshold });
    // Its first admin key, shown once.
    const { apiKey } = await createKey(d, input.id, { role: 'admin', label: 'first admin key' });
    return json(201, { id: input.id, name: input.name, country: input.country, timezone: input.timezone, billing: input.billing, apiKey });
  },
  'GET /v1/platform/operators': async ({ query }) => {
    const { limit, cursor } = parse(z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(25), cursor: z.string().max(2048).optional() }), query, 'query string');
    const page = await deps().operators.list(limit, cursor);
    return json(200, { items: page.items.map((o) => ({ id: o.id, name: o.name, country: o.defaultCountry, timezone: o.timezone, billing: o.billing ?? 'postpaid', createdAt: o.createdAt })), cursor: page.cursor });
  },
  'PUT /v1/platform/prices': async ({ body }) => {
    const prices = parse(Prices, body);
    await deps().billing.putPrices(PLATFORM_PRICES, { ...prices, updatedAt: deps().clock.now().toISOString() });
    return json(200, prices);
  },
  'PUT /v1/platform/operators/{id}/prices': async ({ params, body }) => {
    const operator = await ownOperator(opParam(params));
    const prices = parse(Prices, body);
    await deps().billing.putPrices(operator.id, { ...prices, updatedAt: deps().clock.now().toISOString() });
    return json(200, await pricesFor(deps(), operator.id));
  },
  // An advance payment recorded by the platform; its reference makes it happen once.
  'POST /v1/platform/operators/{id}/topups': async ({ params, body }) => {
    const operator = await ownOperator(opParam(params));
    const input = parse(Credit, body);
    const { entry, created } = await creditBalance(deps(), operator, { type: 'topup', ...input, reference: `topup:${input.reference}`, reason: `Top-up (${input.reference})` });
    return json(created ? 201 : 200, entry);
  },
  // Billing terms of an operator: prepaid or postpaid, its credit limit, its low-balance threshold and billing contact.
  'PATCH /v1/platform/operators/{id}': async ({ params, body }) => {
    const d = deps();
    const operator = await ownOperator(opParam(params));
    const input = parse(OperatorBilling, body);
    const changes = Object.fromEntries(
      Object.entries({ billing: input.billing, lowBalanceThreshold: input.lowBalanceThreshold, billingEmail: input.billingEmail }).filter(([, v]) => v !== undefined),
    );
    const updated = Object.keys(changes).length > 0 ? await d.operators.update(operator.id, { ...changes, updatedAt: d.clock.now().toISOString() }) : operator;
    const prices = await pricesFor(d, operator.id);
    await d.billing.balance(operator.id, prices.currency);
    await d.billing.setLimits(operator.id, { creditLimit: input.creditLimit, lowBalanceThreshold: input.lowBalanceThreshold });
    const state = await d.billing.balance(operator.id, prices.currency);
    return json(200, {
      id: operator.id,
      billing: updated?.billing ?? 'postpaid',
      creditLimit: state.creditLimit,
      lowBalanceThreshold: updated?.lowBalanceThreshold ?? null,
      billingEmail: updated?.billingEmail ?? null,
    });
  },
  // A correction in either direction, or a refund: a ledger entry with its reason, once per reference.
  'POST /v1/platform/operators/{id}/adjustments': async ({ params, body }) => {
    const operator = await ownOperator(opParam(params));
    const input = parse(Adjustment, body);
    if (input.type === 'refund' && input.amount < 0) throw conflict('A refund gives money back: its amount is positive.');
    const { entry, created } = await creditBalance(deps(), operator, { ...input, reference: `${input.type}:${input.reference}` });
    return json(created ? 201 : 200, entry);
  },
  'POST /v1/platform/bills/{id}/payments': async ({ params, body }) => {
    const id = parse(z.string().regex(/^BL-\d{6}-.+$/), params.id, 'bill id in the path', { field: 'id' });
    const owner = billOwner(id);
    if (!owner) throw notFound(`Bill "${id}"`);
    await getBill(deps(), owner.operatorId, id);
    const input = parse(Credit, body);
    const { bill, created } = await payBill(deps(), owner.operatorId, id, { ...input, reference: `manual:${input.reference}` });
    return json(created ? 201 : 200, bill);
  },
});
