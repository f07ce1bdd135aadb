/**
 * Canonical JSON: one text for one value, whatever order its keys were written in. Object keys are
 * sorted by UTF-16 code units at every depth (as RFC 8785, JCS, sorts them), arrays keep their
 * order, and everything else is written as JSON.stringify writes it (strings, numbers, null,
 * toJSON, undefined object values dropped, undefined array items written as null).
 *
 * Used where two requests must compare equal by meaning, not by bytes: the idempotency fingerprint.
 */
export function canonicalJson(value: unknown): string | undefined {
  return write(value, '');
}

function write(value: unknown, key: string): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf();
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    return `[${value.map((item, index) => write(item, String(index)) ?? 'null').join(',')}]`;
  }
  const members: string[] = [];
  // Object.keys: own enumerable keys only (an own "__proto__" from JSON.parse included), sorted by code units.
  for (const name of Object.keys(value).sort()) {
    const text = write((value as Record<string, unknown>)[name], name);
    if (text !== undefined) members.push(`${JSON.stringify(name)}:${text}`);
  }
  return `{${members.join(',')}}`;
}
