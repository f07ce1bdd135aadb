import { hashApiKey, looksLikeApiKey } from '../domain/api-keys.js';
import { forbidden, unauthorized } from '../domain/errors.js';
import { rolesForRoute } from '../domain/route-roles.js';
import type { Operator } from '../domain/records.js';
import type { Deps } from '../deps.js';
import { PLATFORM_OWNER, type Role } from '../ports.js';

/** Who is calling: an operator's key with its role, or the platform's. */
export type Principal =
  | { kind: 'operator'; operator: Operator; role: Exclude<Role, 'platform'>; resellerId?: string; keyId: string }
  | { kind: 'platform'; keyId: string };

/** Resolves `Authorization: Bearer <key>` to its owner and role. */
export async function authenticatePrincipal(d: Pick<Deps, 'operators'>, authorization: string | undefined): Promise<Principal> {
  if (!authorization) throw unauthorized('Missing Authorization header; send "Authorization: Bearer <api key>".');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthorized('The Authorization header must be "Bearer <api key>".');
  const apiKey = match[1]!;
  const record = looksLikeApiKey(apiKey) ? await d.operators.keyFor(hashApiKey(apiKey)) : undefined;
  if (!record) throw unauthorized('The API key is not valid.');
  if (record.ownerId === PLATFORM_OWNER) return { kind: 'platform', keyId: record.id };
  const operator = await d.operators.get(record.ownerId);
  if (!operator) throw unauthorized('The API key is not valid.');
  const role = record.role === 'platform' ? 'admin' : record.role;
  return { kind: 'operator', operator, role, ...(record.resellerId ? { resellerId: record.resellerId } : {}), keyId: record.id };
}

/** Resolves `Authorization: Bearer <key>` to the one operator the key belongs to (any role). */
export async function authenticate(d: Pick<Deps, 'operators'>, authorization: string | undefined): Promise<Operator> {
  const principal = await authenticatePrincipal(d, authorization);
  if (principal.kind !== 'operator') throw forbidden('This is a platform key; operator routes need a key of an operator.');
  return principal.operator;
}

/** What each role may do, by route (shared/domain/route-roles.ts, which the console reads too). */
export function requiredRoles(routeKey: string): Array<Exclude<Role, 'platform'>> {
  return rolesForRoute(routeKey);
}

/** Throws 403 naming the roles a route needs when the principal's role is not one of them. */
export function authorize(principal: Principal, routeKey: string): void {
  const isPlatformRoute = routeKey.split(' ')[1]?.startsWith('/v1/platform/') ?? false;
  if (principal.kind === 'platform') {
    if (!isPlatformRoute) throw forbidden(`${routeKey} needs an operator's key (role admin); this is a platform key.`);
    return;
  }
  if (isPlatformRoute) throw forbidden(`${routeKey} needs the platform's key (role platform); this key has role ${principal.role}.`);
  const roles = requiredRoles(routeKey);
  if (!roles.includes(principal.role)) {
    throw forbidden(`${routeKey} needs role ${roles.join(' or ')}; this key has role ${principal.role}.`);
  }
}
