import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { type IQueue, Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue.js';
import { queues as queueCatalog, type QueueName } from '../../shared/catalog.js';

export interface AppSchedulesProps {
  queues: Record<QueueName, IQueue>;
}

/**
 * The schedules the app itself makes at run time (a broadcast's sendAt, the notifiers' daily runs,
 * through shared/adapters/scheduler/eventbridge-scheduler.ts): their group, the role EventBridge
 * Scheduler puts messages on our queues with, and the dead-letter queue for what it could not deliver.
 */
export class AppSchedules extends Construct {
  readonly group: ScheduleGroup;
  readonly role: Role;
  readonly deadLetterQueue: Queue;
  /** The catalog queues a schedule may target (those with an arnEnv). */
  private readonly targets: Array<{ arnEnv: string; queue: IQueue }>;

  constructor(scope: Construct, id: string, props: AppSchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.group = new ScheduleGroup(this, 'Group', { scheduleGroupName: `${stack.stackName}-app` });

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', `${stack.stackName}-app-schedules-dlq`, "the dead-letter queue of the app's EventBridge Scheduler targets");

    this.role = new Role(this, 'Role', {
      description: "ispnotify: EventBridge Scheduler puts the app's scheduled tasks on its queues with this role",
      // Only schedules of this account may use it (confused-deputy protection).
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    this.targets = Object.values(queueCatalog).flatMap((definition) => (definition.arnEnv ? [{ arnEnv: definition.arnEnv, queue: props.queues[definition.name] }] : []));
    // SendMessage only (plus the queue's KMS key, should it have one: the grant adds that).
    for (const { queue } of this.targets) queue.grantSendMessages(this.role);
    // Scheduler writes undeliverable events to the DLQ with the target's role.
    this.deadLetterQueue.grantSendMessages(this.role);
  }

  /**
   * A catalog function with needsScheduler: it may create, update, read and delete the group's
   * schedules and pass the role to EventBridge Scheduler (to nothing else), and learns where they go.
   */
  grantManage(fn: LambdaFunction): void {
    const schedules = Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.group.scheduleGroupName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'],
        resources: [schedules],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    fn.addEnvironment('SCHEDULE_GROUP', this.group.scheduleGroupName);
    fn.addEnvironment('SCHEDULER_ROLE_ARN', this.role.roleArn);
    fn.addEnvironment('SCHEDULER_DLQ_ARN', this.deadLetterQueue.queueArn);
    for (const { arnEnv, queue } of this.targets) fn.addEnvironment(arnEnv, queue.queueArn);
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${Stack.of(this).resolve(schedules)['Fn::Join'][1].map(nagPart).join('')}]`,
      reason: "Schedule names are chosen at run time (one per broadcast or notifier): the wildcard covers the schedules of the app's own group only.",
    });
  }
}

/** How cdk-nag prints one part of a resolved ARN: a pseudo parameter as <AWS::Region>, a Ref as <LogicalId>. */
function nagPart(part: unknown): string {
  if (typeof part === 'string') return part;
  const ref = (part as { Ref?: string }).Ref;
  if (ref) return `<${ref}>`;
  throw new Error(`Unexpected part in a schedule ARN: ${JSON.stringify(part)}`);
}
