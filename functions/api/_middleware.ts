import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { invalid } from '../../shared/domain/errors.js';
import type { Operator } from '../../shared/domain/records.js';
import { logger } from '../../shared/logger.js';
import { zodFields } from '../../shared/domain/zod-fields.js';
import { authenticate } from './middleware/authenticate.js';
import { jsonBody } from './middleware/json-body.js';
import { problem, problemDetails } from './middleware/problem-details.js';
import type { ApiEvent, ApiResult } from './middleware/types.js';

export interface RouteRequest {
  event: ApiEvent;
  operator: Operator;
  body: unknown;
  params: Record<string, string>;
  query: Record<string, string>;
  header(name: string): string | undefined;
}

export type Route = (request: RouteRequest) => Promise<ApiResult>;

/**
 * One Lambda serves one resource: its routes, keyed by API Gateway route key. Cross-cutting
 * concerns (logging context, problem+json errors, JSON body, bearer auth) are composed here once.
 */
export function api(routes: Record<string, Route>, options: { public?: boolean; rawBody?: boolean } = {}) {
  const handler = middy<ApiEvent, ApiResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(problemDetails());
  // Webhooks read their raw body: signatures are computed over the bytes as sent.
  if (!options.rawBody) handler.use(jsonBody());
  if (!options.public) handler.use(authenticate());
  return handler.handler(async (event) => {
    const route = routes[event.routeKey];
    if (!route) return problem(404, `No route for ${event.routeKey}.`);
    return route({
      event,
      operator: event.operator!,
      body: event.jsonBody,
      params: (event.pathParameters ?? {}) as Record<string, string>,
      query: (event.queryStringParameters ?? {}) as Record<string, string>,
      header: (name) => event.headers[name.toLowerCase()],
    });
  });
}

/** Parses with a zod schema; failures become a 400 naming each field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.output<S> {
  if (value === undefined && what === 'request body') {
    throw invalid('The request needs a JSON body.', [{ field: 'body', message: 'is required' }]);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid(`The ${what} has invalid fields.`, zodFields(parsed.error));
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
