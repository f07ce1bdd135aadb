/** The first step of every bulk import: each row checked alone, so one bad row never blocks the rest. */
import type { z } from 'zod';
import type { FieldProblem } from '../domain/errors.js';
import { zodFields } from '../domain/zod-fields.js';

export interface RowFailure {
  index: number;
  id?: string;
  errors: FieldProblem[];
}

/** Parses each row with `schema`; a row that fails, or repeats an id of an earlier row, is reported with its fields. */
export function parseRows<T extends { id: string }>(rows: unknown[], schema: z.ZodType<T>): { accepted: Array<{ index: number; row: T }>; failed: RowFailure[] } {
  const seen = new Set<string>();
  const accepted: Array<{ index: number; row: T }> = [];
  const failed: RowFailure[] = [];
  rows.forEach((row, index) => {
    const rowId = typeof (row as { id?: unknown })?.id === 'string' ? (row as { id: string }).id : undefined;
    const parsed = schema.safeParse(row);
    if (!parsed.success) {
      failed.push({ index, ...(rowId !== undefined ? { id: rowId } : {}), errors: zodFields(parsed.error) });
      return;
    }
    if (seen.has(parsed.data.id)) {
      failed.push({ index, id: parsed.data.id, errors: [{ field: 'id', message: 'appears more than once in this import; each id once' }] });
      return;
    }
    seen.add(parsed.data.id);
    accepted.push({ index, row: parsed.data });
  });
  return { accepted, failed };
}
