import { DomainError, invalid } from '../../../shared/domain/errors.js';
import type { ApiMiddleware } from './types.js';

/** Parses a JSON body once; malformed JSON or another media type is the caller's 4xx, not our 500. */
export const jsonBody = (): ApiMiddleware => ({
  before: async ({ event }) => {
    if (event.body === undefined || event.body === '') return;
    const contentType = event.headers['content-type'] ?? '';
    if (contentType && !/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
      throw new DomainError('Invalid', `Send the body as JSON with "Content-Type: application/json" (got "${contentType}").`);
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
