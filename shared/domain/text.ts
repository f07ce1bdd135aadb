/**
 * What a person may write into a text that ends up in an SMS or on a screen: the one rule for
 * message texts, template names and bodies, customer and gateway names, zones, packages and template
 * variable values.
 *
 * Refused: C0 control characters except newline and tab (so CR, NUL, ESC, BEL…), DEL, the C1
 * controls U+0080–U+009F, and lone UTF-16 surrogates (a half of an emoji, not a character; stored
 * or sent, it turns into U+FFFD or breaks the provider's encoder). Newline and tab are the only
 * layout characters an SMS keeps; a CR would count as a character of its own.
 */
import type { z } from 'zod';
import { invalid } from './errors.js';

/** Controls that are refused. Newline (U+000A) and tab (U+0009) are allowed. */
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

const hex = (codePoint: number) => `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;

/** `String.prototype.isWellFormed` (Node 20; the project's TypeScript lib is ES2023, which does not declare it). */
const isWellFormed = (value: string) => (value as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * What is wrong with `value`, as a field message ("contains a control character U+0000 at position
 * 5; only newline and tab are allowed"), or undefined when it is fine. Positions count characters
 * (code points) from 1, so an emoji before the problem counts once. Only the first problem is named.
 */
export function textProblem(value: string): string | undefined {
  if (isWellFormed(value) && !CONTROL.test(value)) return undefined;
  let position = 1;
  for (let i = 0; i < value.length; position++) {
    const codePoint = value.codePointAt(i)!;
    // codePointAt returns the unit itself for a surrogate that is not half of a pair.
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
      return `contains a lone surrogate ${hex(codePoint)} at position ${position}, which is not a character; send well-formed Unicode (UTF-8)`;
    }
    if (codePoint <= 0xffff && CONTROL.test(String.fromCharCode(codePoint))) {
      return `contains a control character ${hex(codePoint)} at position ${position}; only newline and tab are allowed`;
    }
    i += codePoint > 0xffff ? 2 : 1;
  }
  return undefined;
}

/** `schema` (a zod string, with its own checks and trim) plus the text rule; the issue lands on the field. */
export function safeText<S extends z.ZodString>(schema: S): S {
  return schema.superRefine((value, ctx) => {
    const message = textProblem(value);
    if (message) ctx.addIssue({ code: 'custom', message, input: value });
  });
}

/** Nothing to send: empty, or only whitespace (Unicode whitespace, as String.prototype.trim sees it). */
export const isBlank = (text: string) => text.trim() === '';

/**
 * A message text as it will be sent (given, or rendered from a template): not blank and within the
 * text rule. `field` is the request field it came from: `text`, or `templateId` when a template
 * rendered it (its variables, or a customer's stored fields, may be what is wrong).
 */
export function assertSendableText(text: string, field: 'text' | 'templateId'): void {
  const fromTemplate = field === 'templateId';
  if (isBlank(text)) {
    const message = fromTemplate ? 'renders to an empty text (only whitespace) with these variables' : 'must not be empty or only whitespace';
    const detail = fromTemplate
      ? 'The template renders to an empty text (only whitespace) with these variables; there would be nothing to send.'
      : 'The text is empty or only whitespace; there would be nothing to send.';
    throw invalid(detail, [{ field, message }]);
  }
  const problem = textProblem(text);
  if (problem) {
    const message = fromTemplate ? `renders a text that ${problem}` : problem;
    throw invalid(`The ${fromTemplate ? 'rendered template' : 'text'} ${problem}.`, [{ field, message }]);
  }
}
