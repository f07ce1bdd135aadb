/**
 * Message templates are Mustache, rendered as plain text (SMS and chat have no HTML, so
 * nothing is escaped). Every variable the template uses must be given, and must be text: a
 * string, number or boolean. Objects are for dotted names and sections only.
 */
import Mustache from 'mustache';
import { invalid, type FieldProblem } from './errors.js';
import { escapeHtml } from './html.js';
import { normalizeSingleBraces } from './single-brace.js';

type Spans = Mustache.TemplateSpans;

/** Plain text: values are written as they are. Passed per render; the global Mustache.escape is left alone. */
const RENDER_OPTIONS: Mustache.RenderOptions = { escape: (value: unknown) => String(value) };
/** HTML (an email's HTML part): values are escaped in {{name}}; {{{name}}} writes them as they are. */
const HTML_RENDER_OPTIONS: Mustache.RenderOptions = { escape: (value: unknown) => escapeHtml(String(value)) };

/**
 * A Mustache context that resolves names on the data's own properties only.
 *
 * Mustache's own Context.lookup tests `name in view`, which walks the prototype chain: with it
 * `{{constructor}}` is Object, which Mustache then calls, writing "[object Object]" into the SMS,
 * and `{{__defineGetter__}}` throws (a 500). It also calls any function it finds (a lambda).
 *
 * Why a Context subclass rather than rendering a deep copy of the data on null-prototype objects:
 * - one lookup serves both the check (missing or non-text names, with the right field) and the
 *   render, so what is checked is what is written;
 * - Mustache's Context keeps a per-context name cache in an ordinary object and calls
 *   `cache.hasOwnProperty(name)`; with null-prototype data, a lookup of a missing
 *   `{{hasOwnProperty}}` stores `cache.hasOwnProperty = undefined` and the next lookup throws;
 * - no copy, and no data function is ever called (lookup returns it as it is; the check refuses it).
 *
 * Text values (strings, numbers, booleans) have no properties here: `{{customer.name.length}}` is
 * an unknown variable, not the length of the name. Dotted names are resolved as Mustache does: the
 * whole path on each context from the innermost out, the first context that has it wins.
 */
class OwnPropertyContext extends Mustache.Context {
  override push(view: unknown): Mustache.Context {
    return new OwnPropertyContext(view, this);
  }

  override lookup(name: string): unknown {
    if (name === '.') return this.view;
    const path = name.split('.');
    for (let context: Mustache.Context | undefined = this; context; context = context.parent) {
      const found = ownPath(context.view, path);
      if (found) return found.value;
    }
    return undefined;
  }
}

function ownPath(view: unknown, path: string[]): { value: unknown } | undefined {
  let value = view;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return { value };
}

function parse(template: string): Spans {
  let spans: Spans;
  try {
    spans = Mustache.parse(normalizeSingleBraces(template));
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

interface Problems {
  /** Names with no value (unknown, undefined or null). */
  missing: Set<string>;
  /** Names whose value cannot be written as text, with why. */
  notText: Map<string, string>;
}

/** A field of `value` to suggest: `name` when there is one, else its first field that is text. */
function exampleField(value: object): string | undefined {
  const keys = Object.keys(value);
  const isText = (key: string) => ['string', 'number', 'boolean'].includes(typeof (value as Record<string, unknown>)[key]);
  return ['name', ...keys].find((key) => Object.hasOwn(value, key) && isText(key));
}

/** Why `value` cannot stand in a plain {{name}} tag, or undefined when it is text. */
function notTextReason(name: string, value: unknown): string | undefined {
  if (typeof value === 'function') return 'is a function, which a template cannot use';
  if (Array.isArray(value)) return `is a list; write its items with a section, {{#${name}}}…{{/${name}}}`;
  if (typeof value === 'object' && value !== null) {
    const field = exampleField(value);
    if (name === '.') return `{{.}} is an object here; use one of its fields${field ? `, such as {{${field}}}` : ''}`;
    return `is an object; use one of its fields${field ? `, such as ${name}.${field}` : ''}`;
  }
  return undefined;
}

/**
 * Walks the template as Mustache renders it, so a name inside a section may be given by the
 * section's value (`{{#plan}}{{name}}{{/plan}}` with `plan: { name }`). A section whose value is
 * false, 0, '' or an empty list is skipped, as it does not render; undefined or null is missing.
 */
function check(spans: Spans, context: Mustache.Context, problems: Problems): void {
  for (const [type, name, , , children] of spans) {
    if (type !== 'name' && type !== '&' && type !== '#' && type !== '^') continue;
    const value: unknown = context.lookup(name);
    if (value === undefined || value === null) {
      problems.missing.add(name);
      continue;
    }
    if (type === 'name' || type === '&' || typeof value === 'function') {
      const reason = notTextReason(name, value);
      if (reason) problems.notText.set(name, reason);
      continue;
    }
    if (!Array.isArray(children)) continue;
    const empty = !value || (Array.isArray(value) && value.length === 0);
    if (type === '^') {
      if (empty) check(children, context, problems);
    } else if (!empty) {
      if (Array.isArray(value)) {
        for (const item of value) check(children, context.push(item), problems);
      } else if (typeof value === 'object' || typeof value === 'string' || typeof value === 'number') {
        // Mustache pushes objects, strings and numbers as the section's context ({{.}} is the value).
        check(children, context.push(value), problems);
      } else {
        check(children, context, problems);
      }
    }
  }
}

/**
 * Renders `template` with `variables` as plain text. Throws Invalid when the template is
 * unreadable, a variable is missing, or a plain tag names an object, list or function.
 */
export function renderTemplate(template: string, variables: Record<string, unknown>, options: { html?: boolean } = {}): string {
  const spans = parse(template);
  const context = new OwnPropertyContext(variables);
  const problems: Problems = { missing: new Set(), notText: new Map() };
  check(spans, context, problems);
  if (problems.missing.size > 0 || problems.notText.size > 0) {
    const missing = [...problems.missing];
    const notText = [...problems.notText];
    const fields: FieldProblem[] = [
      ...missing.map((name) => ({ field: `variables.${name}`, message: 'is required by the template' })),
      ...notText.map(([name, message]) => ({ field: name === '.' ? 'template' : `variables.${name}`, message })),
    ];
    const parts = [
      ...(missing.length ? [`Template variables missing: ${missing.join(', ')}`] : []),
      ...(notText.length ? [`Template variables that are not text: ${notText.map(([name]) => name).join(', ')}`] : []),
    ];
    throw invalid(parts.join('. '), fields);
  }
  return Mustache.render(normalizeSingleBraces(template), context, undefined, options.html ? HTML_RENDER_OPTIONS : RENDER_OPTIONS);
}
