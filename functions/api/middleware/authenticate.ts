import { deps } from '../../../shared/deps.js';
import { authenticate as resolveOperator } from '../../../shared/services/auth.js';
import type { ApiMiddleware } from './types.js';

/** Every /v1 route: the bearer key decides the one operator whose data the request may touch. */
export const authenticate = (): ApiMiddleware => ({
  before: async ({ event }) => {
    event.operator = await resolveOperator(deps(), event.headers.authorization);
  },
});
