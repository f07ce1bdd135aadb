/**
 * The Scheduler port on EventBridge Scheduler: each schedule puts its body as one message on one of
 * our queues (a universal SQS target), with a retry policy and a dead-letter queue.
 */
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
  type FlexibleTimeWindow,
} from '@aws-sdk/client-scheduler';
import type { QueueName } from '../../catalog.js';
import { onConfigReset } from '../../config.js';
import { parseCron } from '../../domain/cron.js';
import { assertTimeZone } from '../../domain/zoned-time.js';
import type { Scheduler, ScheduleTarget } from '../../ports.js';
import { flexibleWindowMinutes, MAX_EVENT_AGE_SECONDS, MAX_RETRY_ATTEMPTS, onceInstant, scheduleName, targetInput } from './schedule-rules.js';

export interface EventBridgeSchedulerSettings {
  /** SCHEDULE_GROUP */
  group: string;
  /** SCHEDULER_ROLE_ARN: the role the scheduler sends to the queue (and the DLQ) with. */
  roleArn: string;
  /** SCHEDULER_DLQ_ARN */
  deadLetterArn: string;
  /** The target queue's ARN (its catalog arnEnv). */
  queueArn(queue: QueueName): string;
}

let client: SchedulerClient | undefined;
const scheduler = () => (client ??= new SchedulerClient({}));

onConfigReset(() => {
  client = undefined;
});

export function eventBridgeScheduler(settings: EventBridgeSchedulerSettings): Scheduler {
  const target = (spec: ScheduleTarget): CreateScheduleCommandInput['Target'] => ({
    Arn: settings.queueArn(spec.queue),
    RoleArn: settings.roleArn,
    Input: targetInput(spec),
    RetryPolicy: { MaximumEventAgeInSeconds: MAX_EVENT_AGE_SECONDS, MaximumRetryAttempts: MAX_RETRY_ATTEMPTS },
    DeadLetterConfig: { Arn: settings.deadLetterArn },
  });

  // The same name replaces: create, and update when it exists (UpdateSchedule takes the whole definition).
  const put = async (input: CreateScheduleCommandInput) => {
    try {
      await scheduler().send(new CreateScheduleCommand(input));
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      await scheduler().send(new UpdateScheduleCommand(input));
    }
  };

  return {
    async once(name, at, spec) {
      await put({
        Name: scheduleName(name),
        GroupName: settings.group,
        ScheduleExpression: `at(${onceInstant(at).toISOString().slice(0, 19)})`,
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        State: 'ENABLED',
        Target: target(spec),
      });
    },

    async recurring(name, cron, timezone, spec, options = {}) {
      // Refused here as the local scheduler refuses it, before AWS sees it.
      const { expression } = parseCron(cron);
      assertTimeZone(timezone);
      const window = flexibleWindowMinutes(options.flexibleWindowMinutes);
      const FlexibleTimeWindow: FlexibleTimeWindow = window > 0 ? { Mode: 'FLEXIBLE', MaximumWindowInMinutes: window } : { Mode: 'OFF' };
      await put({
        Name: scheduleName(name),
        GroupName: settings.group,
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: timezone,
        FlexibleTimeWindow,
        State: 'ENABLED',
        Target: target(spec),
      });
    },

    async delete(name) {
      try {
        await scheduler().send(new DeleteScheduleCommand({ Name: scheduleName(name), GroupName: settings.group }));
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    },
  };
}
