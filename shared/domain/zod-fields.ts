import type { z } from 'zod';
import type { FieldProblem } from './errors.js';

/** zod issues as the API's `errors` list: a dotted field path and a message a person can act on. */
export function zodFields(error: z.ZodError, prefix = ''): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.join(', ');
      return { field: path || keys, message: `unknown field(s): ${keys}` };
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) return { field: path, message: 'is required' };
    return { field: path, message: issue.message };
  });
}
