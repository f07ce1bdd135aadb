/**
 * The seed data's single-brace placeholders ({customer_name}, {amount}, {due_date}...) work in every
 * template, on every channel: before Mustache reads a template, each `{name}` that is not part of a
 * `{{...}}` tag becomes `{{mapped name}}` by the table below; names not in it keep their own name
 * (`{plan}` → `{{plan}}`). The one rule, documented in the README.
 */
export const SINGLE_BRACE_NAMES: Readonly<Record<string, string>> = {
  customer_name: 'customer.name',
  customer_id: 'customer.id',
  customer_mobile: 'customer.mobile',
  mobile: 'customer.mobile',
  package: 'customer.package',
  package_name: 'customer.package',
  zone: 'customer.zone',
  expiry_date: 'customer.expiresAt',
  isp_name: 'operator.name',
  operator_name: 'operator.name',
  company_name: 'operator.name',
  due_date: 'dueDate',
  payment_link: 'paymentLink',
  bill_amount: 'amount',
};

/** `{name}` alone: not preceded or followed by another brace (so `{{name}}` and `{{{name}}}` are left as they are). */
const SINGLE_BRACE = /(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})/g;

export function normalizeSingleBraces(template: string): string {
  return template.replace(SINGLE_BRACE, (_match, name: string) => `{{${Object.hasOwn(SINGLE_BRACE_NAMES, name) ? SINGLE_BRACE_NAMES[name] : name}}}`);
}
