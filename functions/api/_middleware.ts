import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { invalid } from '../../shared/domain/errors.js';
import type { Operator } from '../../shared/domain/records.js';
import type { Principal } from '../../shared/services/auth.js';
import { logger } from '../../shared/logger.js';
import { zodFields } from '../../shared/domain/zod-fields.js';
import { compareSpecificity, compileRoutes, matchRoute } from '../../shared/local/route-matching.js';
import { authenticate } from './middleware/authenticate.js';
import { jsonBody } from './middleware/json-body.js';
import { problem, problemDetails } from './middleware/problem-details.js';
import { rateLimit } from './middleware/rate-limit.js';
import type { ApiEvent, ApiResult } from './middleware/types.js';

export interface RouteRequest {
  event: ApiEvent;
  operator: Operator;
  /** Who calls: the key's role (and a reseller key's resellerId), or the platform. */
  principal: Principal;
  body: unknown;
  params: Record<string, string>;
  query: Record<string, string>;
  header(name: string): string | undefined;
  /** Came through the function's Lambda function URL (routed by rawPath), not through API Gateway. */
  viaFunctionUrl: boolean;
}

export type Route = (request: RouteRequest) => Promise<ApiResult>;

/**
 * One Lambda serves one resource: its routes, keyed by API Gateway route key. Cross-cutting
 * concerns (logging context, problem+json errors, JSON body, bearer auth, the operator's request
 * rate) are composed here once.
 */
export function api(routes: Record<string, Route>, options: { public?: boolean; rawBody?: boolean; functionUrl?: boolean } = {}) {
  const byPath = options.functionUrl ? pathRouter(Object.keys(routes)) : undefined;
  const handler = middy<ApiEvent, ApiResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(problemDetails());
  // Webhooks read their raw body: signatures are computed over the bytes as sent.
  if (!options.rawBody) handler.use(jsonBody());
  // The rate is per authenticated operator, so it comes after authentication.
  if (!options.public) handler.use(authenticate()).use(rateLimit());
  return handler.handler(async (event) => {
    // A function URL's event is payload format 2.0 with routeKey "$default" (or none) and no pathParameters.
    const viaFunctionUrl = byPath !== undefined && (event.routeKey === undefined || event.routeKey === '$default');
    const matched = viaFunctionUrl ? byPath(event.requestContext.http.method, event.rawPath) : undefined;
    const routeKey = viaFunctionUrl ? matched?.routeKey : event.routeKey;
    const route = routeKey === undefined ? undefined : routes[routeKey];
    if (!route) return problem(404, `No route for ${viaFunctionUrl ? `${event.requestContext.http.method} ${event.rawPath}` : event.routeKey}.`);
    return route({
      event,
      operator: event.operator!,
      principal: event.principal!,
      body: event.jsonBody,
      params: (matched?.params ?? event.pathParameters ?? {}) as Record<string, string>,
      query: (event.queryStringParameters ?? {}) as Record<string, string>,
      header: (name) => event.headers[name.toLowerCase()],
      viaFunctionUrl,
    });
  });
}

/** Picks the route key for a method and raw path as API Gateway would, with the local runtime's matcher. */
function pathRouter(routeKeys: string[]) {
  const compiled = compileRoutes([{ id: 'function-url', entry: '', routes: routeKeys, timeoutSeconds: 0 }]).sort(compareSpecificity);
  return (method: string, rawPath: string): { routeKey: string; params: Record<string, string> } | undefined => {
    const found = matchRoute(compiled, method.toUpperCase(), rawPath);
    return found && { routeKey: found.route.routeKey, params: found.params ?? {} };
  };
}

export interface ParseOptions {
  /**
   * The field to name for a problem with the value as a whole, such as `id` for a path parameter.
   * The request body's is `body`; fields inside a value are named by their path (`text`, `variables.amount`).
   */
  field?: string;
}

/**
 * Parses with a zod schema; failures become a 400 naming each field. The request body (the default
 * `what`) must be a JSON object: an array, string, number, boolean or null body is a 400 on `body`.
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what = 'request body', options: ParseOptions = {}): z.output<S> {
  const isBody = what === 'request body';
  if (isBody && value === undefined) {
    throw invalid('The request needs a JSON body.', [{ field: 'body', message: 'is required' }]);
  }
  if (isBody && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw invalid(`The request body must be a JSON object ({...}), not ${got}.`, [{ field: 'body', message: 'must be a JSON object' }]);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const whole = options.field ?? (isBody ? 'body' : '');
    const fields = zodFields(parsed.error).map((problem) => (problem.field === '' ? { ...problem, field: whole } : problem));
    throw invalid(`The ${what} has invalid fields.`, fields);
  }
  return parsed.data;
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** The Idempotency-Key header, checked: POSTs that create work may carry one. */
export function idempotencyKey(request: RouteRequest): string | undefined {
  const value = request.header('idempotency-key');
  if (value === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(value)) {
    throw invalid('The Idempotency-Key header must be 1-255 visible ASCII characters.', [{ field: 'Idempotency-Key', message: 'invalid' }]);
  }
  return value;
}
