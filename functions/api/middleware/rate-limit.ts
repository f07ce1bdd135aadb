import { performance } from 'node:perf_hooks';
import { TooManyRequests } from '../../../shared/domain/errors.js';
import { operatorLimits, TokenBuckets } from '../../../shared/domain/rate-limit.js';
import type { ApiMiddleware } from './types.js';

/**
 * One bucket per operator in this process (a Lambda instance, or the local server). Keyed only by
 * the operator the API key resolved to, never by anything else in the request, so no request can
 * touch another operator's bucket; at most this many are kept (see TokenBuckets).
 */
const MAX_BUCKETS = 10_000;
const buckets = new TokenBuckets(MAX_BUCKETS);

/** Requests per second per operator; composed after authentication. Over it: 429 with Retry-After. */
export const rateLimit = (): ApiMiddleware => ({
  before: async ({ event }) => {
    const operator = event.operator;
    if (!operator) return;
    const { requestsPerSecond } = operatorLimits(operator);
    const result = buckets.take(operator.id, requestsPerSecond, performance.now());
    if (result.allowed) return;
    throw new TooManyRequests(
      `Too many requests: this operator may make at most ${requestsPerSecond.toLocaleString('en')} API requests per second ` +
        `(limits.requestsPerSecond); retry after ${result.retryAfterSeconds} s, or raise the limit with PATCH /v1/settings.`,
      result.retryAfterSeconds,
      { name: 'requestsPerSecond', value: requestsPerSecond },
    );
  },
});
