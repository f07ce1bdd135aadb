import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { eventBridgeScheduler } from '../../shared/adapters/scheduler/eventbridge-scheduler.js';
import { scheduleName } from '../../shared/adapters/scheduler/schedule-rules.js';
import { schedulerFor } from '../../shared/adapters/scheduler/scheduler-for.js';
import { loadConfig } from '../../shared/config.js';

const aws = mockClient(SchedulerClient);
afterAll(() => aws.restore());
beforeEach(() => aws.reset());

const QUEUE_ARN = 'arn:aws:sqs:ap-south-1:111122223333:ispnotify-broadcasts';
const scheduler = eventBridgeScheduler({
  group: 'ispnotify-app',
  roleArn: 'arn:aws:iam::111122223333:role/scheduler',
  deadLetterArn: 'arn:aws:sqs:ap-south-1:111122223333:ispnotify-schedules-dlq',
  queueArn: (queue) => (queue === 'broadcasts' ? QUEUE_ARN : 'unexpected'),
});

const target = {
  Arn: QUEUE_ARN,
  RoleArn: 'arn:aws:iam::111122223333:role/scheduler',
  RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
  DeadLetterConfig: { Arn: 'arn:aws:sqs:ap-south-1:111122223333:ispnotify-schedules-dlq' },
};

const conflict = () => new ConflictException({ message: 'Schedule already exists.', Message: 'Schedule already exists.', $metadata: {} });

describe('EventBridge scheduler', () => {
  it('creates a one-time schedule in UTC that puts the body on the queue and deletes itself', async () => {
    aws.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    await scheduler.once('broadcast-01J0', new Date('2026-03-08T07:00:00.750Z'), { queue: 'broadcasts', body: { kind: 'start', broadcastId: '01J0' } });
    expect(aws.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input)).toEqual([
      {
        Name: 'broadcast-01J0',
        GroupName: 'ispnotify-app',
        ScheduleExpression: 'at(2026-03-08T07:00:00)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        State: 'ENABLED',
        Target: { ...target, Input: '{"kind":"start","broadcastId":"01J0"}' },
      },
    ]);
    expect(aws.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });

  it('creates a recurring cron in the operator time zone with a flexible window, 15 minutes unless told', async () => {
    aws.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    await scheduler.recurring('notifier-due-date-op1', 'cron(30 9 * * ? *)', 'Asia/Dhaka', { queue: 'broadcasts', body: { notifier: 'due-date' } });
    await scheduler.recurring('notifier-expiry-op1', '30 9 * * ? *', 'America/New_York', { queue: 'broadcasts', body: { notifier: 'expiration' } }, { flexibleWindowMinutes: 5 });
    await scheduler.recurring('exact', 'cron(0 8 ? * MON-FRI *)', 'Europe/London', { queue: 'broadcasts', body: {} }, { flexibleWindowMinutes: 0 });
    expect(aws.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input)).toEqual([
      {
        Name: 'notifier-due-date-op1',
        GroupName: 'ispnotify-app',
        ScheduleExpression: 'cron(30 9 * * ? *)',
        ScheduleExpressionTimezone: 'Asia/Dhaka',
        FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
        State: 'ENABLED',
        Target: { ...target, Input: '{"notifier":"due-date"}' },
      },
      {
        Name: 'notifier-expiry-op1',
        GroupName: 'ispnotify-app',
        ScheduleExpression: 'cron(30 9 * * ? *)',
        ScheduleExpressionTimezone: 'America/New_York',
        FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 5 },
        State: 'ENABLED',
        Target: { ...target, Input: '{"notifier":"expiration"}' },
      },
      {
        Name: 'exact',
        GroupName: 'ispnotify-app',
        ScheduleExpression: 'cron(0 8 ? * MON-FRI *)',
        ScheduleExpressionTimezone: 'Europe/London',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: { ...target, Input: '{}' },
      },
    ]);
  });

  it('replaces a schedule of the same name: on ConflictException it updates with the same definition', async () => {
    aws.on(CreateScheduleCommand).rejects(conflict());
    aws.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    await scheduler.recurring('notifier-due-date-op1', 'cron(0 10 * * ? *)', 'Asia/Dhaka', { queue: 'broadcasts', body: { notifier: 'due-date' } });
    const created = aws.commandCalls(CreateScheduleCommand)[0]!.args[0].input;
    expect(aws.commandCalls(UpdateScheduleCommand).map((call) => call.args[0].input)).toEqual([created]);
    expect(created.ScheduleExpression).toBe('cron(0 10 * * ? *)');
  });

  it('passes other errors on without updating', async () => {
    aws.on(CreateScheduleCommand).rejects(new Error('AccessDenied'));
    await expect(scheduler.once('x', new Date('2026-03-08T07:00:00Z'), { queue: 'broadcasts', body: {} })).rejects.toThrow(/AccessDenied/);
    expect(aws.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });

  it('deletes by name in the group, and a schedule already gone is fine', async () => {
    aws.on(DeleteScheduleCommand).resolvesOnce({}).rejectsOnce(new ResourceNotFoundException({ message: 'Schedule not found.', Message: 'Schedule not found.', $metadata: {} }));
    await scheduler.delete('broadcast-01J0');
    await scheduler.delete('broadcast-01J0');
    expect(aws.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual([
      { Name: 'broadcast-01J0', GroupName: 'ispnotify-app' },
      { Name: 'broadcast-01J0', GroupName: 'ispnotify-app' },
    ]);
    aws.on(DeleteScheduleCommand).rejects(new Error('Throttled'));
    await expect(scheduler.delete('broadcast-01J0')).rejects.toThrow(/Throttled/);
  });

  it('refuses, before calling AWS, what the local scheduler refuses too', async () => {
    await expect(scheduler.recurring('n', 'cron(0 9 L * ? *)', 'Asia/Dhaka', { queue: 'broadcasts', body: {} })).rejects.toThrow(/L, W and # are not supported/);
    await expect(scheduler.recurring('n', 'cron(30 9 * * ? *)', 'Asia/Dacca_Nowhere', { queue: 'broadcasts', body: {} })).rejects.toThrow(/Unknown time zone/);
    await expect(scheduler.recurring('n', 'cron(30 9 * * ? *)', 'UTC', { queue: 'broadcasts', body: {} }, { flexibleWindowMinutes: 1441 })).rejects.toThrow(/0 to 1440/);
    await expect(scheduler.once('n', new Date('nope'), { queue: 'broadcasts', body: {} })).rejects.toThrow(/valid date/);
    await expect(scheduler.once('n', new Date(), { queue: 'send-sms', body: {} })).rejects.toThrow(/send-sms queue is not a schedule target/);
    await expect(scheduler.once('n', new Date(), { queue: 'broadcasts', body: { text: 'x'.repeat(9000) } })).rejects.toThrow(/at most 8192/);
    expect(aws.calls()).toHaveLength(0);
  });

  it('sends names Scheduler would refuse as valid, distinct names', async () => {
    aws.on(CreateScheduleCommand).resolves({});
    await scheduler.once('broadcast:op#1/01J0', new Date('2026-03-08T07:00:00Z'), { queue: 'broadcasts', body: {} });
    const name = aws.commandCalls(CreateScheduleCommand)[0]!.args[0].input.Name!;
    expect(name).toMatch(/^[0-9a-zA-Z\-_.]{1,64}$/);
    expect(name.startsWith('broadcast-op-1-01J0-')).toBe(true);
  });
});

describe('scheduleName', () => {
  it('keeps a valid name and maps every other one to a valid name, never two to one', () => {
    expect(scheduleName('notifier.due-date_op1')).toBe('notifier.due-date_op1');
    const long = scheduleName('n'.repeat(100));
    expect(long).toMatch(/^[0-9a-zA-Z\-_.]{64}$/);
    expect(scheduleName('op:1')).not.toBe(scheduleName('op-1'));
    expect(scheduleName('op:1')).not.toBe(scheduleName('op;1'));
    expect(scheduleName('n'.repeat(100))).not.toBe(scheduleName('n'.repeat(101)));
    expect(() => scheduleName('')).toThrow(/needs a name/);
  });
});

describe('config', () => {
  const base = { TABLE_NAME: 't', PUBLIC_BASE_URL: 'https://x.example', CREDENTIALS_KMS_KEY_ID: 'k', CURSOR_MAC_KEY_ID: 'm' };

  it('needs the group and the DLQ with the scheduler role', () => {
    expect(() => loadConfig({ ...base, SCHEDULER_ROLE_ARN: 'arn:role' })).toThrow(/SCHEDULER_ROLE_ARN needs SCHEDULE_GROUP and SCHEDULER_DLQ_ARN/);
    expect(loadConfig({ ...base, SCHEDULER_ROLE_ARN: 'arn:role', SCHEDULE_GROUP: 'g', SCHEDULER_DLQ_ARN: 'arn:dlq' }).SCHEDULE_GROUP).toBe('g');
  });

  it("reads a target queue's ARN from its catalog arnEnv, and names what is missing", () => {
    expect(loadConfig({ ...base, BROADCASTS_QUEUE_ARN: QUEUE_ARN }).queueArn('broadcasts')).toBe(QUEUE_ARN);
    expect(() => loadConfig(base).queueArn('broadcasts')).toThrow(/BROADCASTS_QUEUE_ARN is not set/);
    expect(() => loadConfig(base).queueArn('send-sms')).toThrow(/no arnEnv/);
  });

  it('gives a function CDK wired EventBridge Scheduler, and one it did not wire on AWS an error naming the fix', async () => {
    const clock = { now: () => new Date('2026-03-07T12:00:00Z') };
    aws.on(CreateScheduleCommand).resolves({});
    const wired = schedulerFor(
      loadConfig({ ...base, SCHEDULER_ROLE_ARN: 'arn:role', SCHEDULE_GROUP: 'g', SCHEDULER_DLQ_ARN: 'arn:dlq', BROADCASTS_QUEUE_ARN: QUEUE_ARN }),
      clock,
    );
    await wired.once('b', new Date('2026-03-08T00:00:00Z'), { queue: 'broadcasts', body: {} });
    expect(aws.commandCalls(CreateScheduleCommand)[0]!.args[0].input).toMatchObject({ GroupName: 'g', Target: { Arn: QUEUE_ARN, RoleArn: 'arn:role', DeadLetterConfig: { Arn: 'arn:dlq' } } });
    const unwired = schedulerFor(loadConfig(base), clock);
    await expect(unwired.delete('b')).rejects.toThrow(/needsScheduler: true/);
  });
});
