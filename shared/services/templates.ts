import { notFound } from '../domain/errors.js';
import type { Operator, Template } from '../domain/records.js';
import type { TemplateInput } from '../domain/schemas.js';
import { templateVariables } from '../domain/template.js';
import type { Deps } from '../deps.js';
import type { z } from 'zod';

type D = Pick<Deps, 'templates' | 'clock'>;

export async function putTemplate(d: D, operator: Operator, id: string, input: z.infer<typeof TemplateInput>) {
  // templateVariables throws Invalid (field "template") on a syntax error, before anything is written.
  const variables = templateVariables(input.body);
  const existing = await d.templates.get(operator.id, id);
  const now = d.clock.now().toISOString();
  const template: Template = { id, ...input, variables, createdAt: existing?.createdAt ?? now, updatedAt: now };
  await d.templates.put(operator.id, template);
  return { template, created: !existing };
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
