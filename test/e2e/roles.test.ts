/**
 * The console hides what a key's role may not do with its own copy of the API's rule
 * (console/src/api/roles.ts); this keeps the copy equal to shared/services/auth.ts for every route.
 */
import { describe, expect, it } from 'vitest';
import { allows, type Role } from '../../console/src/api/roles.js';
import { httpFunctions } from '../../shared/catalog.js';
import { requiredRoles } from '../../shared/services/auth.js';

const roles: Role[] = ['admin', 'billing', 'read-only', 'reseller'];
const routeKeys = httpFunctions.flatMap((fn) => fn.routes).filter((key) => key.split(' ')[1]!.startsWith('/v1/') && !key.includes('/v1/platform/'));

describe('the console\'s role rule', () => {
  it.each(routeKeys)('agrees with the API on %s', (routeKey) => {
    for (const role of roles) expect(allows(role, routeKey), `${role} on ${routeKey}`).toBe(requiredRoles(routeKey).includes(role));
  });
});
