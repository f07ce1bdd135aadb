import type { CfnResource } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventFunctions, httpFunctions, queues, scheduledFunctions, workerFunctions } from '../../shared/catalog.js';
import { synthesize, type Synthesized } from './synth.js';

// The assertions are about resources and policies, not code: the functions are not bundled (as `cdk synth --exclusively` would skip them).
let synth: Synthesized;
beforeAll(() => {
  synth = synthesize({ 'aws:cdk:bundling-stacks': [] });
}, 300_000);

function logicalId(path: string[]): string {
  let construct: IConstruct = synth.stack;
  for (const id of path) construct = construct.node.findChild(id);
  return synth.stack.resolve(((construct.node.defaultChild ?? construct) as CfnResource).logicalId) as string;
}

const all = [
  ...httpFunctions.map((spec) => ({ spec, path: ['Api', spec.id] })),
  ...workerFunctions.map((spec) => ({ spec, path: ['Workers', spec.id] })),
  ...scheduledFunctions.map((spec) => ({ spec, path: ['Schedules', spec.id] })),
  ...eventFunctions.map((spec) => ({ spec, path: ['BillingEvents', spec.id] })),
];
const managers = all.filter(({ spec }) => 'needsScheduler' in spec && spec.needsScheduler);
const targets = Object.values(queues).filter((definition) => definition.arnEnv);

/** The statements of the policies attached to a role. */
function statementsOfRole(roleLogicalId: string): Array<Record<string, any>> {
  return Object.values(synth.template.findResources('AWS::IAM::Policy'))
    .filter((policy) => policy.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleLogicalId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

const statementsOf = (path: string[]) => statementsOfRole(synth.template.toJSON().Resources[logicalId([...path, 'Function'])].Properties.Role['Fn::GetAtt'][0]);

describe("the app's own schedules", () => {
  it('have a schedule group of their own', () => {
    synth.template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'IspNotifyStack-app' });
  });

  it('are delivered with a role only EventBridge Scheduler of this account may assume, that may only send to the target queues and the DLQ', () => {
    const role = synth.template.toJSON().Resources[logicalId(['AppSchedules', 'Role'])];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = statementsOfRole(logicalId(['AppSchedules', 'Role']));
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Action).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    expect(statements[0]!.Resource).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [logicalId(['AppSchedules', 'DeadLetterQueue']), 'Arn'] },
        ...targets.map((definition) => ({ 'Fn::GetAtt': [logicalId(['Queues', definition.name]), 'Arn'] })),
      ]),
    );
    expect(statements[0]!.Resource).toHaveLength(targets.length + 1);
    expect(targets.map((definition) => definition.name)).toContain('broadcasts');
  });

  it('dead-letter to an encrypted, TLS-only queue that keeps messages 14 days, with an alarm', () => {
    const dlq = logicalId(['AppSchedules', 'DeadLetterQueue']);
    synth.template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'IspNotifyStack-app-schedules-dlq', MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
    synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlq }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
    });
  });

  it('may be managed by the functions with needsScheduler: on their group only, passing the role to the scheduler only', () => {
    expect(managers.length).toBeGreaterThan(0);
    for (const { spec, path } of managers) {
      const statements = statementsOf(path);
      const manage = statements.find((s) => JSON.stringify(s.Action).includes('scheduler:'));
      expect(manage, spec.id).toEqual({
        Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule', 'scheduler:UpdateSchedule'],
        Effect: 'Allow',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':schedule/IspNotifyStack-app/*']],
        },
      });
      expect(statements.find((s) => s.Action === 'iam:PassRole'), spec.id).toEqual({
        Action: 'iam:PassRole',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logicalId(['AppSchedules', 'Role']), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      });
      const env = synth.template.toJSON().Resources[logicalId([...path, 'Function'])].Properties.Environment.Variables;
      expect(env, spec.id).toMatchObject({
        SCHEDULE_GROUP: 'IspNotifyStack-app',
        SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': [logicalId(['AppSchedules', 'Role']), 'Arn'] },
        SCHEDULER_DLQ_ARN: { 'Fn::GetAtt': [logicalId(['AppSchedules', 'DeadLetterQueue']), 'Arn'] },
        ...Object.fromEntries(targets.map((definition) => [definition.arnEnv, { 'Fn::GetAtt': [logicalId(['Queues', definition.name]), 'Arn'] }])),
      });
    }
  });

  it('may not be touched by any other function', () => {
    for (const { spec, path } of all.filter(({ spec }) => !('needsScheduler' in spec && spec.needsScheduler))) {
      const actions = JSON.stringify(statementsOf(path).map((s) => s.Action));
      expect(actions, spec.id).not.toMatch(/scheduler:|iam:PassRole/);
      const env = synth.template.toJSON().Resources[logicalId([...path, 'Function'])].Properties.Environment.Variables;
      expect(env.SCHEDULER_ROLE_ARN, spec.id).toBeUndefined();
    }
  });

  it('leave cdk-nag (AwsSolutions) with nothing to report', () => {
    expect(synth.validationReport.pluginReports.flatMap((report) => report.violations.map((v) => v.ruleName))).toEqual([]);
  });
});
