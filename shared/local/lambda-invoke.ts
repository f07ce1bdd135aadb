/**
 * Invoking a Lambda handler locally as the Node.js runtime would: the Context it receives, promise or
 * callback style, and the function's timeout.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** What a Lambda handler may look like: async, or Node's older callback style. */
export type LambdaHandler<E = unknown, R = unknown> = (
  event: E,
  context: Context,
  callback: (error?: Error | string | null, result?: R) => void,
) => Promise<R> | R | void;

export const LOCAL_ACCOUNT_ID = '123456789012';
const MEMORY_MB = 512; // as lib/constructs/lambda-function.ts deploys

export interface LambdaContextOptions {
  functionName: string;
  timeoutSeconds: number;
  region?: string;
  accountId?: string;
  memoryLimitInMB?: number;
}

/** A Context as the Node.js Lambda runtime passes it; the deadline starts now. */
export function createLambdaContext(opts: LambdaContextOptions): Context {
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const accountId = opts.accountId ?? LOCAL_ACCOUNT_ID;
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const legacy = () => {
    throw new Error('context.done/succeed/fail are not supported locally: return a value or a promise instead.');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: opts.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${opts.functionName}`,
    memoryLimitInMB: String(opts.memoryLimitInMB ?? MEMORY_MB),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${opts.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: legacy,
    fail: legacy,
    succeed: legacy,
  };
}

/**
 * Calls a handler as the Lambda runtime does (promise or callback) and fails with Lambda's
 * "Task timed out" error once the function's timeout has passed.
 */
export function invokeHandler<R>(handler: LambdaHandler<never, R>, event: unknown, context: Context, timeoutSeconds: number): Promise<R> {
  const around = localInvocations.around;
  return around ? around(context.functionName, () => invokeNow(handler, event, context, timeoutSeconds)) : invokeNow(handler, event, context, timeoutSeconds);
}

/**
 * Wraps every local invocation when set: the benchmark runs them one at a time to time each as
 * Lambda would (each invocation in its own environment), not sharing one event loop with the rest.
 */
export const localInvocations: { around?: <R>(functionName: string, invoke: () => Promise<R>) => Promise<R> } = {};

function invokeNow<R>(handler: LambdaHandler<never, R>, event: unknown, context: Context, timeoutSeconds: number): Promise<R> {
  return new Promise<R>((resolveResult, reject) => {
    let settled = false;
    const finish = (error: unknown, result?: R) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== undefined && error !== null) reject(error instanceof Error ? error : new Error(String(error)));
      else resolveResult(result as R);
    };
    const timer = setTimeout(() => finish(new Error(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`)), timeoutSeconds * 1000);
    try {
      const returned = (handler as LambdaHandler<unknown, R>)(event, context, (error, result) => finish(error, result));
      if (returned && typeof (returned as Promise<R>).then === 'function') {
        (returned as Promise<R>).then(
          (result) => finish(undefined, result),
          (error: unknown) => finish(error ?? new Error('The handler rejected without a reason.')),
        );
      } else if (handler.length < 3) {
        finish(undefined, returned as R);
      }
    } catch (error) {
      finish(error);
    }
  });
}
