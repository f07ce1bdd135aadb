import { config } from '../../shared/config.js';
import { openApiDocument } from '../../shared/openapi.js';
import { api, json } from './_middleware.js';

let document: unknown;

export const handler = api(
  {
    'GET /health': async () => json(200, { status: 'ok' }),
    'GET /openapi.json': async () => json(200, (document ??= openApiDocument(config().PUBLIC_BASE_URL))),
  },
  { public: true },
);
