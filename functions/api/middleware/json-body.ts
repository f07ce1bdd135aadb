import { invalid, unsupportedMediaType } from '../../../shared/domain/errors.js';
import type { ApiMiddleware } from './types.js';

/**
 * JSON media types: `application/json` and structured-syntax `application/<anything>+json`
 * (RFC 6839), any case, with or without parameters (`; charset=utf-8`). Not `application/json-seq`
 * or `application/jsonx`, which are other formats.
 */
export function isJsonMediaType(contentType: string): boolean {
  const essence = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return essence === 'application/json' || /^application\/[a-z0-9][a-z0-9!#$&^_.+-]*\+json$/.test(essence);
}

/**
 * Parses a JSON body once; malformed JSON (400, field `body`) or another media type (415) is the
 * caller's 4xx, not our 500. A body without a Content-Type is read as JSON. Whether the JSON is an
 * object is the route's schema's business (see `parse`). Webhooks read their raw body and skip this.
 */
export const jsonBody = (): ApiMiddleware => ({
  before: async ({ event }) => {
    if (event.body === undefined || event.body === '') return;
    const contentType = event.headers['content-type'] ?? '';
    if (contentType && !isJsonMediaType(contentType)) {
      throw unsupportedMediaType(`Send the body as JSON with "Content-Type: application/json" (got "${contentType.slice(0, 100)}").`);
    }
    const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    try {
      event.jsonBody = JSON.parse(text);
    } catch (error) {
      throw invalid(`The request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, [
        { field: 'body', message: 'must be valid JSON' },
      ]);
    }
  },
});
