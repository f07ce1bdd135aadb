/**
 * What each role may call, by route: the API's check (services/auth.ts) and the admin console (which
 * shows no button that would answer 403) read this one rule. admin: every operator route; billing:
 * its billing routes and reading settings; read-only: every GET; reseller: its own customers,
 * messages and broadcasts (the services scope them to its resellerId). Platform keys only reach
 * /v1/platform routes. No imports: the console's bundle includes it.
 */
export type OperatorRole = 'admin' | 'billing' | 'read-only' | 'reseller';

const RESELLER_PATHS = [
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

/** The roles that may call `routeKey` as the catalog writes it, e.g. "POST /v1/messages". */
export function rolesForRoute(routeKey: string): OperatorRole[] {
  const [method, path = ''] = routeKey.split(' ');
  const roles: OperatorRole[] = ['admin'];
  if (method === 'GET') roles.push('read-only');
  if (path.startsWith('/v1/billing/') || (method === 'GET' && path === '/v1/settings')) roles.push('billing');
  if (RESELLER_PATHS.includes(path) && method !== 'DELETE') roles.push('reseller');
  return roles;
}
