/**
 * The API's wording for zod issues, set once for the process with `z.config({ customError })`:
 * short field messages a person can act on ("must be a string", "is required", "must be one of:
 * active, suspended"), instead of zod's "Invalid input: expected string, received number".
 *
 * Why an error map and not a rewrite in zodFields: zod 4 drops an issue's `input` when it
 * finalizes the issue (unless every parse asks for `reportInput`), so afterwards "absent" and "a
 * value of the wrong type" look the same. The error map sees the raw issue, input included.
 *
 * Precedence (zod 4): a message written on the schema or check (`.min(1, 'must not be empty')`,
 * `{ error: '...' }`) wins over this map, which wins over zod's locale; codes this map does not
 * word (returns undefined) keep zod's English.
 *
 * Imported for its effect by schemas.ts and zod-fields.ts, so any module that parses with the
 * API's schemas, or turns zod errors into fields, has it set before its first parse.
 */
import { z } from 'zod';

type RawIssue = z.core.$ZodRawIssue;

/** invalid_type's `expected`, as the end of "must be …". */
const KINDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  record: 'an object',
  map: 'an object',
  array: 'an array',
  tuple: 'an array',
  set: 'an array',
  date: 'a date',
  null: 'null',
};

/** invalid_format's `format`, as the end of "must be …". */
const FORMATS: Record<string, string> = {
  email: 'an e-mail address',
  url: 'a URL',
  datetime: 'an ISO 8601 date-time',
  date: 'an ISO 8601 date',
  time: 'an ISO 8601 time',
  duration: 'an ISO 8601 duration',
  uuid: 'a UUID',
  e164: 'a phone number in E.164 format (+ and digits)',
};

/** "a, b or c" */
const either = (items: string[]) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`);

const valueText = (value: unknown) => (typeof value === 'string' ? value : String(value));

/** "must be a string" for a union of plain types that all failed on type; undefined otherwise. */
function unionOfKinds(errors: readonly (readonly { code: string; expected?: string; path?: readonly PropertyKey[] }[])[]): string | undefined {
  const kinds: string[] = [];
  for (const branch of errors) {
    const [only] = branch;
    if (branch.length !== 1 || !only || only.code !== 'invalid_type' || (only.path?.length ?? 0) > 0) return undefined;
    const kind = KINDS[only.expected ?? ''];
    if (!kind) return undefined;
    if (!kinds.includes(kind)) kinds.push(kind);
  }
  return kinds.length ? `must be ${either(kinds)}` : undefined;
}

function sizeMessage(issue: Extract<RawIssue, { code: 'too_small' | 'too_big' }>): string | undefined {
  const small = issue.code === 'too_small';
  const bound = String(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'string':
      if (issue.exact) return `must be exactly ${bound} characters`;
      if (small && bound === '1' && inclusive) return 'must not be empty';
      return `must be ${small ? 'at least' : 'at most'} ${bound} characters`;
    case 'array':
    case 'set':
      if (issue.exact) return `must hold exactly ${bound} items`;
      if (small && bound === '1' && inclusive) return 'must not be empty';
      return `must hold ${small ? 'at least' : 'at most'} ${bound} items`;
    case 'number':
    case 'int':
    case 'bigint':
      if (inclusive) return `must be ${small ? 'at least' : 'at most'} ${bound}`;
      return `must be ${small ? 'greater' : 'less'} than ${bound}`;
    default:
      return undefined;
  }
}

/** The API's message for a raw zod issue, or undefined to keep zod's own. */
export function apiIssueMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      if (issue.expected === 'number' && typeof issue.input === 'number') return 'must be a finite number';
      // z.int() and friends report a string as expected "number"; their format says whole.
      const format: unknown = issue.inst?._zod.def && 'format' in issue.inst._zod.def ? issue.inst._zod.def.format : undefined;
      const kind = issue.expected === 'number' && typeof format === 'string' && format.includes('int') ? KINDS.int : KINDS[issue.expected];
      return kind ? `must be ${kind}` : undefined;
    }
    case 'invalid_union':
      if (issue.input === undefined) return 'is required';
      return issue.errors.length ? unionOfKinds(issue.errors) : undefined;
    case 'invalid_value':
      if (issue.values.length === 1) return `must be ${JSON.stringify(issue.values[0])}`;
      return `must be one of: ${issue.values.map(valueText).join(', ')}`;
    case 'too_small':
    case 'too_big':
      return sizeMessage(issue);
    case 'invalid_format': {
      if (issue.format === 'regex') return `must match the pattern ${String(issue.pattern)}`;
      const format = FORMATS[issue.format];
      return format ? `must be ${format}` : undefined;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return `unknown field(s): ${issue.keys.join(', ')}`;
    case 'invalid_key': {
      // The key's own issues (already worded) say what is wrong with the name.
      const messages = issue.issues.map((inner) => inner.message).filter(Boolean);
      return messages.length ? messages.join('; ') : 'is not an allowed name';
    }
    default:
      return undefined;
  }
}

z.config({ customError: apiIssueMessage });
