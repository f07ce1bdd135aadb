/**
 * What each role may call: the API's own rule (shared/domain/route-roles.ts), so the console never
 * shows a button that would answer 403. test/e2e/roles.test.ts compares the two for every route of the catalog.
 */
import { rolesForRoute, type OperatorRole } from '../../../shared/domain/route-roles.js';

export type Role = OperatorRole;

/** `routeKey` as the catalog writes it, e.g. "POST /v1/messages". */
export function allows(role: Role, routeKey: string): boolean {
  return rolesForRoute(routeKey).includes(role);
}
