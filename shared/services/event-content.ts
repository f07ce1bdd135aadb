/**
 * A rule's template rendered for one event: the event's variables (event.*, its data, a formatted
 * amount) plus the built-in customer.* and operator.*, through the same rendering as every message.
 */
import type { EventInputT } from '../domain/event-schemas.js';
import type { Customer, Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import { currencyDigits } from '../domain/money.js';
import { builtInVariables, renderTemplateContent, type RenderedContent } from './messages.js';
import { getTemplate } from './templates.js';

/** Minor units as a person reads them: 150000 BDT → "1,500.00". */
export function formatAmount(amount: number, currency: string): string {
  const digits = currencyDigits(currency);
  return (amount / 10 ** digits).toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** What a template may use for this event (see eventVariables for the names). */
export function eventTemplateVariables(operator: Operator, event: EventInputT, customer: Customer): Record<string, unknown> {
  const data: Record<string, unknown> = { ...event.data };
  if ('amount' in event.data && 'currency' in event.data) data.amountFormatted = formatAmount(event.data.amount, event.data.currency);
  return {
    ...data,
    event: { id: event.id, type: event.type, occurredAt: event.occurredAt, customerId: event.customerId },
    // The same built-ins every template gets, from the customer as the event left it.
    ...builtInVariables(operator, customer),
  };
}

export async function renderEventContent(d: Pick<Deps, 'templates' | 'clock'>, operator: Operator, templateId: string, variables: Record<string, unknown>): Promise<RenderedContent> {
  return renderTemplateContent(await getTemplate(d, operator, templateId, 'templateId'), variables);
}
