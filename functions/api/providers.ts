import { listProviders } from '../../shared/services/providers.js';
import { api, json } from './_middleware.js';

/** Every provider of every channel, with JSON Schemas of their credentials and settings for setup forms. */
export const handler = api({
  'GET /v1/providers': async () => json(200, { items: listProviders() }),
});
