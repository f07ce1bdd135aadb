import type { z } from 'zod';
import type { FieldProblem } from './errors.js';
// The API's wording for zod issues ("must be a string", "is required"), set before any parse.
import './zod-errors.js';

/**
 * zod issues as the API's `errors` list: a dotted field path and a message a person can act on.
 * The messages themselves come from the schemas and, where a schema does not word one, from the
 * error map in zod-errors.ts (which is why "is required" means absent and nothing else).
 */
export function zodFields(error: z.ZodError, prefix = ''): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.join(', ');
      return { field: path || keys, message: `unknown field(s): ${keys}` };
    }
    return { field: path, message: issue.message };
  });
}
