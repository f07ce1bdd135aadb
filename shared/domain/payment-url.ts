/**
 * The operator's payment page for one bill, from `settings.paymentUrlTemplate` (Mustache), e.g.
 * `https://portal.example/pay?customer={{customer.id}}&bill={{bill.reference}}`. Every value is
 * URL-encoded before it is written, so a customer's name can add a query value but never a path,
 * a host or another parameter.
 */
import type { Customer, CustomerBill } from './records.js';
import { renderTemplate, templateVariables } from './template.js';

export const PAYMENT_URL_VARIABLES = ['customer.id', 'customer.name', 'bill.id', 'bill.reference', 'bill.amount', 'bill.currency', 'bill.dueDate'] as const;

const MAX_URL_LENGTH = 2048;
/** Plain http only to this machine (a local payment portal while developing). */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);

type PaymentUrlCustomer = Pick<Customer, 'id' | 'name'>;
type PaymentUrlBill = Pick<CustomerBill, 'id' | 'reference' | 'amount' | 'currency' | 'dueDate'>;

/** What a template is checked with when it is saved. */
const SAMPLE = {
  customer: { id: 'c-0001', name: 'Rahim Uddin' },
  bill: { id: 'b-0001', reference: 'INV-2026-0001', amount: 150_000, currency: 'BDT', dueDate: '2026-12-05' },
};

/** A URL the redirect may send a customer to: https (http only for localhost), with no user:password part. */
export function isPaymentPageUrl(text: string): boolean {
  if (text.length > MAX_URL_LENGTH || !URL.canParse(text)) return false;
  const url = new URL(text);
  if (url.username || url.password || !url.hostname) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname));
}

/**
 * The payment page of `bill`, or undefined when the template does not render to one. A bill
 * without a reference uses its id for {{bill.reference}}.
 */
export function renderPaymentUrl(template: string, customer: PaymentUrlCustomer, bill: PaymentUrlBill): string | undefined {
  const values = {
    customer: { id: enc(customer.id), name: enc(customer.name) },
    bill: { id: enc(bill.id), reference: enc(bill.reference ?? bill.id), amount: enc(String(bill.amount)), currency: enc(bill.currency), dueDate: enc(bill.dueDate) },
  };
  let url: string;
  try {
    url = renderTemplate(template, values);
  } catch {
    return undefined;
  }
  // The parsed form: a tab or line break in the template goes, and the Location header stays one line.
  return isPaymentPageUrl(url) ? new URL(url).href : undefined;
}

/** Why `template` cannot be the operator's payment URL template, or undefined when it can. */
export function paymentUrlTemplateProblem(template: string): string | undefined {
  let names: string[];
  try {
    names = templateVariables(template);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const allowed: readonly string[] = PAYMENT_URL_VARIABLES;
  const unknown = names.filter((name) => !allowed.includes(name));
  if (unknown.length > 0) return `uses ${unknown.map((name) => `{{${name}}}`).join(', ')}; the variables are ${PAYMENT_URL_VARIABLES.map((name) => `{{${name}}}`).join(', ')}`;
  if (!renderPaymentUrl(template, SAMPLE.customer, SAMPLE.bill)) return 'must render to an https URL, e.g. https://portal.example/pay?customer={{customer.id}}&bill={{bill.reference}}';
  return undefined;
}

const enc = (value: string) => encodeURIComponent(value);
