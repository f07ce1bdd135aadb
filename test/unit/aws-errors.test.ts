import { describe, expect, it } from 'vitest';
import { classifyAwsError } from '../../shared/adapters/aws-errors.js';

const serviceError = (name: string, fault: 'client' | 'server', status: number) =>
  Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });

describe('AWS errors', () => {
  it('call throttling, service faults and network failures temporary (a 503 to retry)', () => {
    for (const error of [
      serviceError('ThrottlingException', 'client', 400),
      serviceError('ProvisionedThroughputExceededException', 'client', 400),
      serviceError('RequestLimitExceeded', 'client', 400),
      serviceError('InternalServerError', 'server', 500),
      serviceError('ServiceUnavailable', 'server', 503),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }),
      Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
    ]) {
      expect(classifyAwsError(error), error.name).toBe('temporary');
    }
  });

  it('never call a validation error temporary: storage refusing a request is not an outage', () => {
    expect(classifyAwsError(serviceError('ValidationException', 'client', 400))).toBe('validation');
  });

  it('leave other client errors and plain bugs as ours (500)', () => {
    expect(classifyAwsError(serviceError('ConditionalCheckFailedException', 'client', 400))).toBe('other');
    expect(classifyAwsError(serviceError('ResourceNotFoundException', 'client', 400))).toBe('other');
    expect(classifyAwsError(new TypeError('x is undefined'))).toBe('other');
    expect(classifyAwsError('a string')).toBe('other');
  });
});
