import { z } from 'zod';
import { queues, type QueueName } from './catalog.js';

/** The environment, parsed once. The same variables are set by CDK on AWS and by shared/local on a laptop. */
const Env = z
  .object({
    TABLE_NAME: z.string().min(1),
    PUBLIC_BASE_URL: z.url(),
    /**
     * AWS: the webhooks' Lambda function URL (no API Gateway request charge), the base of the callback URLs
     * given to providers; default PUBLIC_BASE_URL (local: the one server serves both).
     */
    WEBHOOK_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** The base of payment links (`<base>/p/<token>`), e.g. a short custom domain; default PUBLIC_BASE_URL. */
    PAYMENT_LINK_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** AWS: the KMS key that seals gateway credentials. */
    CREDENTIALS_KMS_KEY_ID: z.string().min(1).optional(),
    /** Local: a base64 AES-256 key that seals gateway credentials (generated under .data/). */
    CREDENTIALS_LOCAL_KEY: z.string().min(1).optional(),
    /** AWS: the KMS HMAC key whose MAC of a fixed message signs list cursors (shared/adapters/crypto/cursor-key.ts). */
    CURSOR_MAC_KEY_ID: z.string().min(1).optional(),
    /** AWS, functions with needsScheduler: the role EventBridge Scheduler sends to our queues with; unset = the local scheduler. */
    SCHEDULER_ROLE_ARN: z.string().min(1).optional(),
    /** AWS: the schedule group the app's own schedules live in. */
    SCHEDULE_GROUP: z.string().min(1).optional(),
    /** AWS: the SQS queue where EventBridge Scheduler puts what it could not deliver. */
    SCHEDULER_DLQ_ARN: z.string().min(1).optional(),
  })
  .refine((env) => !env.SCHEDULER_ROLE_ARN || (env.SCHEDULE_GROUP && env.SCHEDULER_DLQ_ARN), {
    message: 'SCHEDULER_ROLE_ARN needs SCHEDULE_GROUP and SCHEDULER_DLQ_ARN as well.',
  })
  .refine((env) => env.CREDENTIALS_KMS_KEY_ID || env.CREDENTIALS_LOCAL_KEY, {
    message: 'Set CREDENTIALS_KMS_KEY_ID (AWS) or CREDENTIALS_LOCAL_KEY (local) to seal gateway credentials.',
  })
  .refine((env) => env.CURSOR_MAC_KEY_ID || env.CREDENTIALS_LOCAL_KEY, {
    message: 'Set CURSOR_MAC_KEY_ID (AWS) or CREDENTIALS_LOCAL_KEY (local) to sign list cursors.',
  });

export type Config = z.infer<typeof Env> & { queueUrl(queue: QueueName): string; queueArn(queue: QueueName): string };

let cached: Config | undefined;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`).join('; ')}`);
  }
  const values = parsed.data;
  return {
    ...values,
    queueUrl(queue) {
      const url = env[queues[queue].urlEnv];
      if (!url) throw new Error(`${queues[queue].urlEnv} is not set; the ${queue} queue is not wired to this function.`);
      return url;
    },
    queueArn(queue) {
      const name = queues[queue].arnEnv;
      if (!name) throw new Error(`The ${queue} queue has no arnEnv in shared/catalog.ts: schedules cannot target it.`);
      const arn = env[name];
      if (!arn) throw new Error(`${name} is not set; this function has no needsScheduler in shared/catalog.ts.`);
      return arn;
    },
  };
}

/** The process-wide config; tests and the local runtime call resetConfig() after changing env. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}

const resetHooks: Array<() => void> = [];

/** Clients built from the environment register here, so a reset rebuilds them too. */
export function onConfigReset(hook: () => void): void {
  resetHooks.push(hook);
}

export function resetConfig(): void {
  cached = undefined;
  for (const hook of resetHooks) hook();
}
