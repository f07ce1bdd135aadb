import { createHmac } from 'node:crypto';
import { invalid } from '../../domain/errors.js';
import { timingSafeEqualStrings } from '../providers/http.js';
import { cursorKey } from '../crypto/cursor-key.js';

type Key = Record<string, string>;

/**
 * Cursors are the LastEvaluatedKey, signed (HMAC-SHA256) together with the list they belong to
 * (`binding`: index and partition), so a crafted, truncated or foreign cursor is refused before
 * DynamoDB sees it. Format: v1.<key as base64url JSON>.<mac base64url>.
 */
const VERSION = 'v1';
const MAX_CURSOR_LENGTH = 2048;

const mac = (key: Buffer, binding: string, payload: string) =>
  createHmac('sha256', key).update(`${VERSION}\n${binding}\n${payload}`).digest('base64url');

export async function encodeCursor(lastKey: Record<string, unknown> | undefined, binding: string): Promise<string | undefined> {
  if (!lastKey) return undefined;
  const payload = Buffer.from(JSON.stringify(lastKey)).toString('base64url');
  return `${VERSION}.${payload}.${mac(await cursorKey(), binding, payload)}`;
}

export async function decodeCursor(cursor: string | undefined, binding: string, keyAttributes: readonly string[]): Promise<Key | undefined> {
  if (cursor === undefined) return undefined;
  const bad = invalid('cursor is not valid for this list; start again without it.', [
    { field: 'cursor', message: 'must be a cursor returned by the previous page of the same list, unchanged' },
  ]);
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH) throw bad;
  const [version, payload, signature, ...rest] = cursor.split('.');
  if (version !== VERSION || !payload || !signature || rest.length > 0) throw bad;
  if (!timingSafeEqualStrings(mac(await cursorKey(), binding, payload), signature)) throw bad;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw bad;
  }
  // Signed by us, so this holds; checked anyway so a key change can never reach DynamoDB malformed.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad;
  const entries = Object.entries(parsed);
  if (entries.length !== keyAttributes.length || !entries.every(([k, v]) => keyAttributes.includes(k) && typeof v === 'string' && v.length < 1024)) throw bad;
  return parsed as Key;
}
