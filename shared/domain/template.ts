/**
 * Message templates are Mustache, rendered as plain text (SMS and chat have no HTML, so
 * nothing is escaped). Every variable the template uses must be given.
 */
import Mustache from 'mustache';
import { invalid, type FieldProblem } from './errors.js';

type Spans = Mustache.TemplateSpans;

/** Plain text: values are written as they are. Passed per render; the global Mustache.escape is left alone. */
const RENDER_OPTIONS: Mustache.RenderOptions = { escape: (value: unknown) => String(value) };

function parse(template: string): Spans {
  let spans: Spans;
  try {
    spans = Mustache.parse(template);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message = `The template cannot be read: ${reason}. Check that every {{ has a matching }} and every {{#section}} a {{/section}}.`;
    throw invalid(message, [{ field: 'template', message }]);
  }
  if (containsPartial(spans)) {
    const message = 'The template uses a partial ({{> name}}), which is not supported.';
    throw invalid(message, [{ field: 'template', message }]);
  }
  return spans;
}

function containsPartial(spans: Spans): boolean {
  return spans.some(([type, , , , children]) => type === '>' || (Array.isArray(children) && containsPartial(children)));
}

function collectNames(spans: Spans, into: Set<string>): void {
  for (const [type, name, , , children] of spans) {
    if (type === 'name' || type === '&' || type === '#' || type === '^') {
      if (name !== '.') into.add(name);
    }
    if (Array.isArray(children)) collectNames(children, into);
  }
}

/** The distinct variable names the template uses, in order of first use (dotted names and section names included). */
export function templateVariables(template: string): string[] {
  const names = new Set<string>();
  collectNames(parse(template), names);
  return [...names];
}

/**
 * Walks the template as Mustache renders it, so a name inside a section may be given by the
 * section's value (`{{#plan}}{{name}}{{/plan}}` with `plan: { name }`). A section whose value is
 * false, 0 or '' is skipped, as it does not render; undefined or null is missing.
 */
function collectMissing(spans: Spans, context: Mustache.Context, into: Set<string>): void {
  for (const [type, name, , , children] of spans) {
    if (type !== 'name' && type !== '&' && type !== '#' && type !== '^') continue;
    const value: unknown = context.lookup(name);
    if (value === undefined || value === null) {
      into.add(name);
      continue;
    }
    if (!Array.isArray(children)) continue;
    if (type === '#') {
      if (typeof value === 'function' || !value) continue;
      if (Array.isArray(value)) {
        for (const item of value) collectMissing(children, context.push(item), into);
      } else if (typeof value === 'object') {
        collectMissing(children, context.push(value), into);
      } else {
        collectMissing(children, context, into);
      }
    } else if (type === '^' && (!value || (Array.isArray(value) && value.length === 0))) {
      collectMissing(children, context, into);
    }
  }
}

/** Renders `template` with `variables` as plain text. Throws Invalid when the template is unreadable or a variable is missing. */
export function renderTemplate(template: string, variables: Record<string, unknown>): string {
  const spans = parse(template);
  const missing = new Set<string>();
  collectMissing(spans, new Mustache.Context(variables), missing);
  if (missing.size > 0) {
    const names = [...missing];
    const fields: FieldProblem[] = names.map((name) => ({ field: `variables.${name}`, message: 'is required by the template' }));
    throw invalid(`Template variables missing: ${names.join(', ')}`, fields);
  }
  return Mustache.render(template, variables, undefined, RENDER_OPTIONS);
}
