/**
 * The small pieces of the generic HTTP gateway (provider `http`): Mustache templates that insert
 * values as they are (no HTML escaping; encoding is the request builder's job), the template
 * variables a gateway may use, a tiny JSON path ($.a.b[0].c only) and the number formats.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import Mustache from 'mustache';

/** The variables every template may use; credentials are `credentials.<field>`. */
export const TEMPLATE_VARIABLES = ['to', 'text', 'sender', 'messageId'] as const;
export const CREDENTIAL_FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

export interface TemplateView {
  to: string;
  text: string;
  sender: string;
  messageId: string;
  credentials: Record<string, string>;
}

type Token = [string, string, number, number, ...unknown[]];

/**
 * The variables a template uses, or a problem: only plain `{{name}}` / `{{{name}}}` / `{{& name}}`
 * tags of the known variables (no sections, partials, comments or delimiter changes).
 */
export function templateVariables(template: string): { variables: string[] } | { problem: string } {
  let tokens: Token[];
  try {
    tokens = Mustache.parse(template) as unknown as Token[];
  } catch (error) {
    return { problem: `is not a valid template: ${error instanceof Error ? error.message : String(error)}` };
  }
  const variables: string[] = [];
  for (const token of tokens) {
    const [type, value] = token;
    if (type === 'text') continue;
    if (type !== 'name' && type !== '&') return { problem: `may only use plain tags such as {{to}}; "${type}" tags are not allowed` };
    const known = (TEMPLATE_VARIABLES as readonly string[]).includes(value);
    const credential = value.startsWith('credentials.') && CREDENTIAL_FIELD.test(value.slice('credentials.'.length));
    if (!known && !credential) {
      return { problem: `uses {{${value}}}, which is not one of {{to}}, {{text}}, {{sender}}, {{messageId}} or {{credentials.<field>}}` };
    }
    variables.push(value);
  }
  return { variables };
}

/** A view without a prototype, so {{constructor}} and the like resolve to nothing. */
function bare(view: TemplateView, encode: (value: string) => string): Record<string, unknown> {
  const credentials = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(view.credentials)) credentials[name] = encode(value);
  return Object.assign(Object.create(null) as Record<string, unknown>, {
    to: encode(view.to),
    text: encode(view.text),
    sender: encode(view.sender),
    messageId: encode(view.messageId),
    credentials,
  });
}

const asIs = (value: string) => value;

/**
 * Renders a template with the values inserted as they are; `encode` is applied to every value
 * (encodeURIComponent for a URL path), never to the template's own text.
 */
export function renderTemplate(template: string, view: TemplateView, encode: (value: string) => string = asIs): string {
  return Mustache.render(template, bare(view, encode), {}, { escape: asIs });
}

/** Renders every string leaf of a JSON value; other leaves stay as they are. */
export function renderJson(value: unknown, view: TemplateView): unknown {
  if (typeof value === 'string') return renderTemplate(value, view);
  if (Array.isArray(value)) return value.map((item) => renderJson(item, view));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = renderJson(item, view);
    return out;
  }
  return value;
}

/** Every string leaf of a JSON value, with its path (for validation messages). */
export function jsonStrings(value: unknown, path: string): Array<{ path: string; value: string }> {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((item, i) => jsonStrings(item, `${path}.${i}`));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => jsonStrings(item, `${path}.${key}`));
  return [];
}

const JSON_PATH = /^\$((?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d{1,4}\])*)$/;
const JSON_PATH_STEP = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d{1,4})\]/g;

/** True for the paths this tiny JSON path understands: `$`, `$.a.b[0].c`. */
export function isJsonPath(path: string): boolean {
  return JSON_PATH.test(path);
}

/** The value at `path` ($.a.b[0].c) in `value`, or undefined. Own properties only. */
export function readJsonPath(value: unknown, path: string): unknown {
  const match = JSON_PATH.exec(path);
  if (!match) return undefined;
  let current: unknown = value;
  for (const step of match[1]!.matchAll(JSON_PATH_STEP)) {
    if (step[1] !== undefined) {
      if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, step[1])) return undefined;
      current = (current as Record<string, unknown>)[step[1]];
    } else {
      const index = Number(step[2]);
      if (!Array.isArray(current) || index >= current.length) return undefined;
      current = current[index];
    }
  }
  return current;
}

/** A scalar as text (strings, finite numbers, booleans); anything else undefined. */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

export type NumberFormat = 'e164' | 'digits' | 'national';

/**
 * An E.164 number in the gateway's format: `e164` (+8801711223344), `digits` (8801711223344) or
 * `national` (01711223344: libphonenumber's NATIONAL format without spaces or punctuation).
 */
export function formatNumber(e164: string, format: NumberFormat): string | undefined {
  if (format === 'e164') return e164;
  if (format === 'digits') return e164.replace(/^\+/, '');
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return undefined;
  return parsed.format('NATIONAL').replace(/\D/g, '');
}
