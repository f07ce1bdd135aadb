/**
 * What each role may call: the same rule as requiredRoles in shared/services/auth.ts (the API's own
 * check), kept here so the console never shows a button that would answer 403.
 * test/e2e/roles.test.ts compares the two for every route of the catalog.
 */
export type Role = 'admin' | 'billing' | 'read-only' | 'reseller';

const resellerPaths = [
  '/v1/customers',
  '/v1/customers/{id}',
  '/v1/messages',
  '/v1/messages/{id}',
  '/v1/messages/preview',
  '/v1/broadcasts',
  '/v1/broadcasts/{id}',
  '/v1/broadcasts/{id}/cancel',
  '/v1/broadcasts/{id}/report',
];

/** `routeKey` as the catalog writes it, e.g. "POST /v1/messages". */
export function allows(role: Role, routeKey: string): boolean {
  const [method, path = ''] = routeKey.split(' ');
  if (role === 'admin') return true;
  if (role === 'read-only') return method === 'GET';
  if (role === 'billing') return path.startsWith('/v1/billing/') || (method === 'GET' && path === '/v1/settings');
  return resellerPaths.includes(path) && method !== 'DELETE';
}
