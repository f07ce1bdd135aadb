/**
 * Event rules (`/v1/event-rules/{type}`): which messages an event type makes, on which channels,
 * with which templates, and whether the team is alerted. Everything a rule names is checked when it
 * is saved, so an event never finds out that its template is missing.
 */
import { invalid, notFound, type FieldProblem } from '../domain/errors.js';
import { eventVariables, type EventRuleInputT, type EventType } from '../domain/event-schemas.js';
import type { Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import type { EventRule } from '../ports.js';
import { BUILT_IN_VARIABLES } from './templates.js';

type D = Pick<Deps, 'eventRules' | 'templates' | 'alertRoutes' | 'clock'>;

async function ruleProblems(d: D, operator: Operator, type: EventType, input: EventRuleInputT): Promise<FieldProblem[]> {
  const known = new Set([...BUILT_IN_VARIABLES, ...eventVariables(type)]);
  const problems: FieldProblem[] = [];
  const templates = await Promise.all(input.channels.map((entry) => d.templates.get(operator.id, entry.templateId)));
  input.channels.forEach((entry, i) => {
    const field = `channels.${i}.templateId`;
    const template = templates[i];
    if (!template) return problems.push({ field, message: `no template with id "${entry.templateId}"` });
    if (entry.channel === 'email' && !template.email) problems.push({ field, message: `template "${template.id}" has no email part (subject and HTML)` });
    const unknown = template.variables.filter((name) => !known.has(name));
    if (unknown.length > 0) problems.push({ field, message: `template "${template.id}" uses ${unknown.map((n) => `{{${n}}}`).join(', ')}, which ${type} events do not give (they give ${[...known].join(', ')})` });
    return undefined;
  });
  if (input.alert && !(await d.alertRoutes.get(operator.id, input.alert.purpose))) {
    problems.push({ field: 'alert.purpose', message: `no alert route for "${input.alert.purpose}"; set one with PUT /v1/alert-routes/${input.alert.purpose}` });
  }
  return problems;
}

export async function putEventRule(d: D, operator: Operator, type: EventType, input: EventRuleInputT): Promise<{ rule: EventRule; created: boolean }> {
  const problems = await ruleProblems(d, operator, type, input);
  if (problems.length > 0) throw invalid(`The rule for ${type} names what cannot be used.`, problems);
  const existed = (await d.eventRules.get(operator.id, type)) !== undefined;
  const rule: EventRule = { type, ...input, updatedAt: d.clock.now().toISOString() };
  await d.eventRules.put(operator.id, rule);
  return { rule, created: !existed };
}

export async function getEventRule(d: Pick<D, 'eventRules'>, operator: Operator, type: EventType): Promise<EventRule> {
  const rule = await d.eventRules.get(operator.id, type);
  if (!rule) {
    const error = notFound(`The rule for ${type}`);
    error.fields.push({ field: 'type', message: `none set; set one with PUT /v1/event-rules/${type}` });
    throw error;
  }
  return rule;
}

export const listEventRules = (d: Pick<D, 'eventRules'>, operator: Operator) => d.eventRules.list(operator.id);
