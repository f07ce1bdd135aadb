import { DomainError, PaymentRequired, TooManyRequests } from '../../../shared/domain/errors.js';
import { classifyAwsError } from '../../../shared/adapters/aws-errors.js';
import { logger } from '../../../shared/logger.js';
import type { ApiMiddleware, ApiResult } from './types.js';

const statusOf: Record<DomainError['kind'], number> = {
  Invalid: 400,
  Unauthorized: 401,
  PaymentRequired: 402,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  TooManyRequests: 429,
  Unavailable: 503,
};

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(
  status: number,
  detail: string,
  errors?: { field: string; message: string }[],
  /** Extra headers, and extension members for the body (RFC 9457 §3.2). */
  extra: { headers?: Record<string, string>; members?: Record<string, unknown> } = {},
): ApiResult {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', ...extra.headers };
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  return {
    statusCode: status,
    headers,
    body: JSON.stringify({
      type: 'about:blank',
      title: titles[status] ?? 'Error',
      status,
      detail,
      ...(errors?.length ? { errors } : {}),
      ...extra.members,
    }),
  };
}

/** Maps every error to RFC 9457 problem+json, once, for every API route. */
export const problemDetails = (): ApiMiddleware => ({
  onError: async (request) => {
    const error = request.error;
    if (error instanceof TooManyRequests) {
      // Retry-After in seconds; `limit` says which limit was reached and its value.
      request.response = problem(429, error.message, undefined, {
        headers: { 'retry-after': String(error.retryAfterSeconds) },
        members: { limit: error.limit, retryAfterSeconds: error.retryAfterSeconds },
      });
      return;
    }
    if (error instanceof PaymentRequired) {
      request.response = problem(402, error.message, undefined, { members: { shortfall: error.shortfall } });
      return;
    }
    if (error instanceof DomainError) {
      request.response = problem(statusOf[error.kind], error.message, error.fields);
      return;
    }
    logger.error('Unhandled error in API route', { error, routeKey: request.event.routeKey });
    const requestId = request.context.awsRequestId;
    // Only throttling, service faults and the network are temporary (503, retry). Storage refusing a
    // request as invalid is bad input that got past validation: the client's to fix (400), not an outage.
    switch (classifyAwsError(error)) {
      case 'temporary':
        request.response = problem(503, `A storage or queue service is unavailable right now; retry shortly. Request id: ${requestId}.`, undefined, {
          headers: { 'retry-after': '1' },
        });
        return;
      case 'validation':
        request.response = problem(400, `The request could not be stored as given (a value is too long or malformed); check the fields and try again. Request id: ${requestId}.`);
        return;
      default:
        request.response = problem(500, `Something went wrong on our side; it has been logged. Request id: ${requestId}.`);
    }
  },
});
