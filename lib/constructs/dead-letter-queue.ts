import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * A dead-letter queue as the stack keeps them: 14 days (the maximum, so a failure noticed after a long
 * weekend can still be inspected and redriven), SQS-managed encryption, TLS only. `catches` says what
 * it is the destination of, for cdk-nag's SQS3 (a DLQ has no DLQ of its own); a queue named as another
 * queue's redrive target needs none (cdk-nag sees that link itself).
 */
export function deadLetterQueue(scope: Construct, id: string, queueName: string, catches?: string): Queue {
  const queue = new Queue(scope, id, { queueName, retentionPeriod: Duration.days(14), encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true });
  if (catches) {
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: `This queue is itself ${catches} (a DLQ has no DLQ); Monitoring alarms on its depth.` });
  }
  return queue;
}
