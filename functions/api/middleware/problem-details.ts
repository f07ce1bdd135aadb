import { DomainError } from '../../../shared/domain/errors.js';
import { logger } from '../../../shared/logger.js';
import type { ApiMiddleware, ApiResult } from './types.js';

const statusOf: Record<DomainError['kind'], number> = {
  Invalid: 400,
  Unauthorized: 401,
  NotFound: 404,
  Conflict: 409,
  PayloadTooLarge: 413,
  Unavailable: 503,
};

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, detail: string, errors?: { field: string; message: string }[]): ApiResult {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  return {
    statusCode: status,
    headers,
    body: JSON.stringify({ type: 'about:blank', title: titles[status] ?? 'Error', status, detail, ...(errors?.length ? { errors } : {}) }),
  };
}

/** Maps every error to RFC 9457 problem+json, once, for every API route. */
export const problemDetails = (): ApiMiddleware => ({
  onError: async (request) => {
    const error = request.error;
    if (error instanceof DomainError) {
      request.response = problem(statusOf[error.kind], error.message, error.fields);
      return;
    }
    logger.error('Unhandled error in API route', { error, routeKey: request.event.routeKey });
    // An AWS service that failed or throttled us is temporary (503, retry); anything else is our bug (500).
    request.response = isAwsServiceError(error)
      ? problem(503, `A storage or queue service is unavailable right now; retry shortly. Request id: ${request.context.awsRequestId}.`)
      : problem(500, `Something went wrong on our side; it has been logged. Request id: ${request.context.awsRequestId}.`);
  },
});

const isAwsServiceError = (error: unknown) => typeof error === 'object' && error !== null && '$metadata' in error;
