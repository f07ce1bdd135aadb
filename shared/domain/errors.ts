/**
 * Errors are values with a kind. They are mapped to HTTP once (functions/api/_middleware)
 * and to retry-or-fail once (shared/services/deliver-message).
 */
export type FieldProblem = { field: string; message: string };

export class DomainError extends Error {
  constructor(
    readonly kind: 'NotFound' | 'Invalid' | 'Conflict' | 'Unauthorized' | 'Forbidden' | 'PaymentRequired' | 'PayloadTooLarge' | 'UnsupportedMediaType' | 'TooManyRequests' | 'Unavailable',
    message: string,
    readonly fields: FieldProblem[] = [],
  ) {
    super(message);
    this.name = kind;
  }
}

export const notFound = (what: string) => new DomainError('NotFound', `${what} was not found.`);
export const invalid = (message: string, fields: FieldProblem[] = []) => new DomainError('Invalid', message, fields);
export const conflict = (message: string) => new DomainError('Conflict', message);
export const unauthorized = (message: string) => new DomainError('Unauthorized', message);
export const forbidden = (message: string) => new DomainError('Forbidden', message);

/** The prepaid balance cannot cover a message (402): how much is missing, in minor units of the currency. */
export class PaymentRequired extends DomainError {
  constructor(
    message: string,
    readonly shortfall: { amount: number; currency: string },
  ) {
    super('PaymentRequired', message);
  }
}
/** The body is not in a media type the route reads (415). */
export const unsupportedMediaType = (message: string) => new DomainError('UnsupportedMediaType', message);

/** Over one of the operator's limits (429): when to try again, and which limit with its value. */
export class TooManyRequests extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    readonly limit: { name: string; value: number },
  ) {
    super('TooManyRequests', message);
  }
}

/** The provider refused this message for good (bad number, bad credentials): retrying cannot help. */
export class ProviderRejected extends Error {
  override name = 'ProviderRejected';
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

/** The provider could not take the message now (timeout, 5xx, rate limit): retry later. */
export class ProviderUnavailable extends Error {
  override name = 'ProviderUnavailable';
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

/**
 * The gateway itself cannot send (expired token, suspended account, blocked sender): nothing about
 * this message is wrong. The message may go through the operator's next gateway, and the operator
 * is alarmed.
 */
export class GatewayFault extends Error {
  override name = 'GatewayFault';
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

/**
 * The provider is throttling us (HTTP 429 or its own rate-limit code): not the message's fault nor
 * the gateway's. The send waits and goes again without spending one of the message's attempts.
 */
export class ProviderThrottled extends ProviderUnavailable {
  override name = 'ProviderThrottled';
  constructor(message: string, code?: string, readonly retryAfterSeconds?: number) {
    super(message, code);
  }
}

/** A debit or negative correction that would take a balance past what is available (holds and the credit limit included). */
export class InsufficientBalance extends Error {
  override name = 'InsufficientBalance';
  constructor(readonly shortfall: number) {
    super(`The balance cannot cover it: ${shortfall} more is needed.`);
  }
}
