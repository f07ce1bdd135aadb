/** Which Scheduler a process gets, from its environment. */
import type { Config } from '../../config.js';
import type { Clock, Scheduler } from '../../ports.js';
import { eventBridgeScheduler } from './eventbridge-scheduler.js';
import { localScheduler } from './local-scheduler.js';

/**
 * EventBridge Scheduler where CDK wired it (a catalog function with needsScheduler), the DynamoDB
 * stand-in on the local stack. On AWS without the wiring (CREDENTIALS_KMS_KEY_ID set) a call fails
 * loudly: a schedule written to the local table there would never fire.
 */
export function schedulerFor(env: Config, clock: Clock): Scheduler {
  if (env.SCHEDULER_ROLE_ARN) {
    return eventBridgeScheduler({
      group: env.SCHEDULE_GROUP!,
      roleArn: env.SCHEDULER_ROLE_ARN,
      deadLetterArn: env.SCHEDULER_DLQ_ARN!,
      queueArn: (queue) => env.queueArn(queue),
    });
  }
  if (env.CREDENTIALS_KMS_KEY_ID) {
    const unwired = async () => {
      throw new Error('This function may not manage schedules: give it needsScheduler: true in shared/catalog.ts.');
    };
    return { once: unwired, recurring: unwired, delete: unwired };
  }
  return localScheduler(clock);
}
