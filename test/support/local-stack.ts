/**
 * The local runtime for one test file, on the run's shared DynamoDB Local and SQS server
 * (test/support/global-setup.ts) with a table and queues of its own, so test files never share data.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../shared/local/runtime.js';
import type {} from './global-setup.js'; // the ProvidedContext keys

export async function startTestStack(name: string, opts: Partial<LocalRuntimeOptions> = {}): Promise<LocalRuntime> {
  const id = `${name.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
  return startLocalRuntime({
    port: 0,
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    sqsEndpoint: inject('sqsEndpoint'),
    tableName: `test-${id}`,
    queuePrefix: `${id}-`,
    retryDelaySeconds: 1,
    quiet: true,
    ...opts,
  });
}
