import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface MonitoringProps {
  /** Keyed by the source queue's catalog name. */
  deadLetterQueues: Record<string, IQueue>;
}

export const applicationAlarms: Record<string, string> = {
  SmsOutcomeUnknown: 'A sender stopped during a provider call; the message was failed rather than risk a double send. Check it and resend if needed.',
  SmsReceiptsForged: 'A delivery receipt arrived with a signature that does not match its gateway secret (a forged call, or a rotated secret not updated).',
  SmsGatewayFault: 'A gateway cannot send at all (bad credentials, no balance, blocked sender or IP): its messages are being retried; fix the gateway or switch the default.',
  SmsReceiptOverdue: 'Messages stayed sent past their provider\'s receipt window and the provider could not tell us what became of them; they stay sent until it does.',
};

/** Alarms on anything that lands in a DLQ: each one is a message an operator's customer never got. */
export class Monitoring extends Construct {
  readonly alarmTopic: Topic;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    // A customer managed key, because CloudWatch cannot publish to a topic encrypted with aws/sns.
    const topicKey = new Key(this, 'AlarmTopicKey', {
      description: 'ispnotify: encrypts the alarm SNS topic',
      enableKeyRotation: true,
    });
    topicKey.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.alarmTopic = new Topic(this, 'AlarmTopic', { masterKey: topicKey, enforceSSL: true });
    const action = new SnsAction(this.alarmTopic);

    for (const [queueName, dlq] of Object.entries(props.deadLetterQueues)) {
      const alarm = new Alarm(this, `${queueName}-dlq-not-empty`, {
        alarmDescription: `Messages from the ${queueName} queue failed every retry and are waiting in its DLQ.`,
        metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      // Also notify when the DLQ has been drained, so whoever was paged knows it is handled.
      alarm.addOkAction(action);
    }

    // Application metrics (EMF, shared/metrics.ts) that need a person even when nothing is dead-lettered.
    for (const [metricName, description] of Object.entries(applicationAlarms)) {
      const alarm = new Alarm(this, `${metricName}-alarm`, {
        alarmDescription: description,
        metric: new Metric({ namespace: 'ispnotify', metricName, dimensionsMap: { service: 'ispnotify' }, statistic: 'Sum', period: Duration.minutes(5) }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
    }

    new CfnOutput(Stack.of(this), 'AlarmTopicArn', {
      value: this.alarmTopic.topicArn,
      description: 'Subscribe to this SNS topic to be told about dead-lettered messages',
    });
  }
}
