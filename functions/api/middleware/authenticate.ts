import { deps } from '../../../shared/deps.js';
import { authenticatePrincipal, authorize } from '../../../shared/services/auth.js';
import type { ApiMiddleware } from './types.js';

/** Every /v1 route: the bearer key decides who calls (an operator's role, or the platform) and what it may do. */
export const authenticate = (): ApiMiddleware => ({
  before: async ({ event }) => {
    const principal = await authenticatePrincipal(deps(), event.headers.authorization);
    authorize(principal, event.routeKey);
    event.principal = principal;
    if (principal.kind === 'operator') event.operator = principal.operator;
  },
});
