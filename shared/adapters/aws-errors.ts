/**
 * Which AWS SDK errors mean "try again later". Only throttling, the service's own faults and the
 * network are temporary (503). A validation error is a request we should never have sent (our bug
 * or bad input that slipped through): never reported as "unavailable".
 */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
  'TransactionConflictException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

type AwsLike = { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number }; code?: string; cause?: unknown };

export type AwsErrorClass = 'temporary' | 'validation' | 'other';

export function classifyAwsError(error: unknown): AwsErrorClass {
  if (typeof error !== 'object' || error === null) return 'other';
  const e = error as AwsLike;
  if (e.name === 'ValidationException') return 'validation';
  if (e.name && THROTTLING.has(e.name)) return 'temporary';
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'temporary';
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return 'temporary';
  const cause = e.cause as AwsLike | undefined;
  if (typeof cause?.code === 'string' && NETWORK_CODES.has(cause.code)) return 'temporary';
  if ('$metadata' in e && (e.$fault === 'server' || (e.$metadata?.httpStatusCode ?? 0) >= 500)) return 'temporary';
  return 'other';
}
