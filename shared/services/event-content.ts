/**
 * A rule's template rendered for one event: the event's variables (event.*, its data, a formatted
 * amount) plus the built-in customer.* and operator.name. Mirrors what sendMessage's rendering does
 * for a template (SMS text, WhatsApp parameters, email parts), whose function is private to it.
 */
import { invalid } from '../domain/errors.js';
import type { EventInputT } from '../domain/event-schemas.js';
import { htmlToText } from '../domain/html.js';
import type { Customer, Operator } from '../domain/records.js';
import { renderTemplate } from '../domain/template.js';
import { assertSendableText } from '../domain/text.js';
import type { Deps } from '../deps.js';
import type { RenderedContent } from './messages.js';
import { getTemplate } from './templates.js';

/** Minor units as a person reads them: 150000 BDT → "1,500.00". */
export function formatAmount(amount: number, currency: string): string {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return (amount / 10 ** digits).toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** What a template may use for this event (see eventVariables for the names). */
export function eventTemplateVariables(operator: Operator, event: EventInputT, customer: Customer): Record<string, unknown> {
  const data: Record<string, unknown> = { ...event.data };
  if ('amount' in event.data && 'currency' in event.data) data.amountFormatted = formatAmount(event.data.amount, event.data.currency);
  return {
    ...data,
    event: { id: event.id, type: event.type, occurredAt: event.occurredAt, customerId: event.customerId },
    // The same built-ins every template gets (messages.ts), from the customer as the event left it.
    operator: { name: operator.name },
    customer: { id: customer.id, name: customer.name, mobile: customer.mobile, zone: customer.zone, package: customer.package, expiresAt: customer.expiresAt },
  };
}

export async function renderEventContent(d: Pick<Deps, 'templates' | 'clock'>, operator: Operator, templateId: string, variables: Record<string, unknown>): Promise<RenderedContent> {
  const template = await getTemplate(d, operator, templateId, 'templateId');
  const text = renderTemplate(template.body, variables);
  assertSendableText(text, 'templateId');
  const content: RenderedContent = { text };
  if (template.whatsapp) {
    const parameters = template.whatsapp.parameters.map((parameter, i) => {
      const value = renderTemplate(parameter, variables);
      // WhatsApp refuses an empty parameter: say so now, not after the provider call.
      if (value.trim() === '') throw invalid(`WhatsApp parameter ${i + 1} of template "${template.id}" renders empty.`, [{ field: 'templateId', message: `parameter ${i + 1} ("${parameter}") is empty` }]);
      assertSendableText(value, 'templateId');
      return value;
    });
    content.whatsappTemplate = { name: template.whatsapp.name, language: template.whatsapp.language, parameters };
  }
  if (template.email) {
    const html = renderTemplate(template.email.html, variables, { html: true });
    const subject = renderTemplate(template.email.subject, variables).replace(/[\r\n]+/g, ' ').trim();
    content.email = { subject, html, text: template.email.text !== undefined ? renderTemplate(template.email.text, variables) : htmlToText(html) };
  }
  return content;
}
