import { invalid, notFound } from '../domain/errors.js';
import type { Operator, Template } from '../domain/records.js';
import type { TemplateInput } from '../domain/schemas.js';
import { templateVariables } from '../domain/template.js';
import type { Deps } from '../deps.js';
import type { z } from 'zod';

type D = Pick<Deps, 'templates' | 'clock'>;

export async function putTemplate(d: D, operator: Operator, id: string, input: z.infer<typeof TemplateInput>) {
  // templateVariables throws Invalid (field "template") on a syntax error, before anything is written.
  const variables = templateVariables(input.body);
  if (input.whatsapp) checkWhatsAppParameters(input.whatsapp.parameters, variables);
  // The email part's syntax, now: each part read like the body (templateVariables throws Invalid on an error).
  const emailVariables = input.email ? [input.email.subject, input.email.html, input.email.text ?? ''].flatMap((part) => templateVariables(part)) : [];
  for (const name of emailVariables) if (!variables.includes(name)) variables.push(name);
  const existing = await d.templates.get(operator.id, id);
  const now = d.clock.now().toISOString();
  const template: Template = { id, ...input, variables, createdAt: existing?.createdAt ?? now, updatedAt: now };
  await d.templates.put(operator.id, template);
  return { template, created: !existing };
}

/** The variables every message gets (messages.ts builtInVariables). */
export const BUILT_IN_VARIABLES = ['customer.id', 'customer.name', 'customer.mobile', 'customer.zone', 'customer.package', 'customer.expiresAt', 'operator.name'];

/**
 * A WhatsApp parameter may use the built-in variables and those the body uses: one template serves
 * both channels, so a send that fills the body fills the parameters. Anything else is a 400 now,
 * not a rejected message later.
 */
function checkWhatsAppParameters(parameters: string[], bodyVariables: string[]): void {
  const known = new Set([...BUILT_IN_VARIABLES, ...bodyVariables]);
  const problems = parameters.flatMap((parameter, i) => {
    let names: string[];
    try {
      names = templateVariables(parameter);
    } catch (error) {
      return [{ field: `whatsapp.parameters.${i}`, message: error instanceof Error ? error.message : String(error) }];
    }
    return names
      .filter((name) => !known.has(name))
      .map((name) => ({ field: `whatsapp.parameters.${i}`, message: `uses {{${name}}}, which is neither built in (${BUILT_IN_VARIABLES.join(', ')}) nor used by the body` }));
  });
  if (problems.length > 0) throw invalid('The WhatsApp parameters use unknown variables.', problems);
}

export async function getTemplate(d: D, operator: Operator, id: string, field?: string): Promise<Template> {
  const template = await d.templates.get(operator.id, id);
  if (!template) {
    const error = notFound(`Template "${id}"`);
    if (field) error.fields.push({ field, message: `no template with id "${id}"` });
    throw error;
  }
  return template;
}

export const listTemplates = (d: D, operator: Operator, limit: number, cursor?: string) => d.templates.list(operator.id, limit, cursor);
