import { invalid } from '../../domain/errors.js';

type Key = Record<string, string>;

/** Cursors are the opaque LastEvaluatedKey; decoding checks they belong to the same query. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

export function decodeCursor(cursor: string | undefined, expected: { attribute: string; value: string }): Key | undefined {
  if (cursor === undefined) return undefined;
  const bad = invalid('cursor is not valid for this list; start again without it.', [
    { field: 'cursor', message: 'must be a cursor returned by the previous page of the same list' },
  ]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad;
  const entries = Object.entries(parsed);
  if (entries.length === 0 || entries.length > 4 || !entries.every(([, v]) => typeof v === 'string' && v.length < 1024)) throw bad;
  const key = parsed as Key;
  if (key[expected.attribute] !== expected.value) throw bad;
  return key;
}
