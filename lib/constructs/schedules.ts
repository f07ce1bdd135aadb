import { Duration, Stack } from 'aws-cdk-lib';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ScheduledFunction } from '../../shared/catalog.js';
import { rateToMs } from '../../shared/local/schedule-runner.js';
import { AppFunction, type FunctionWiring } from './lambda-function.js';

export interface SchedulesProps {
  schedules: readonly ScheduledFunction[];
  wiring: FunctionWiring;
}

/** One EventBridge Scheduler schedule per catalog entry, invoking its Lambda, with retries and a DLQ. */
export class Schedules extends Construct {
  /** Invocations the scheduler gave up on, by schedule id (alarmed by Monitoring). */
  readonly deadLetterQueues: Record<string, Queue> = {};

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    for (const spec of props.schedules) {
      const { fn } = new AppFunction(this, spec.id, { ...spec, wiring: props.wiring });
      const dlq = new Queue(this, `${spec.id}-dlq`, {
        queueName: `${Stack.of(this).stackName}-schedule-${spec.id}-dlq`,
        retentionPeriod: Duration.days(14),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      this.deadLetterQueues[`schedule-${spec.id}`] = dlq;
      new Schedule(this, `${spec.id}Schedule`, {
        description: `ispnotify: runs ${spec.id} (${spec.schedule})`,
        // The same expression the local runtime's runner parses (shared/local/schedule-runner.ts).
        schedule: ScheduleExpression.rate(Duration.millis(rateToMs(spec.schedule))),
        target: new LambdaInvoke(fn, {
          retryAttempts: 2,
          // A run older than its own period is superseded by the next one.
          maxEventAge: Duration.millis(Math.max(rateToMs(spec.schedule), 60_000)),
          deadLetterQueue: dlq,
        }),
      });
    }
  }
}
