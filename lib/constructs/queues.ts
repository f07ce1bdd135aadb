import { Duration, Stack } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue.js';
import { dlqName, type QueueDefinition, type QueueName, type WorkerFunction } from '../../shared/catalog.js';

export interface QueuesProps {
  definitions: Record<QueueName, QueueDefinition>;
  /** The workers consuming the queues, to check each visibility timeout against its consumer's timeout. */
  consumers: readonly WorkerFunction[];
}

/** One SQS queue per catalog entry, each with its own dead-letter queue. */
export class Queues extends Construct {
  readonly queues: Record<QueueName, Queue>;
  readonly deadLetterQueues: Record<QueueName, Queue>;

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);
    // Physical names keep the catalog's name readable in the console; the stack name prefix lets
    // several stages (e.g. staging and production) share one account and region.
    const prefix = Stack.of(this).stackName;
    const queues: Partial<Record<QueueName, Queue>> = {};
    const dlqs: Partial<Record<QueueName, Queue>> = {};

    for (const definition of Object.values(props.definitions)) {
      assertVisibilityCoversConsumers(definition, props.consumers);
      const dlq = deadLetterQueue(this, dlqName(definition.name), `${prefix}-${dlqName(definition.name)}`);
      queues[definition.name] = new Queue(this, definition.name, {
        queueName: `${prefix}-${definition.name}`,
        visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
        deadLetterQueue: { queue: dlq, maxReceiveCount: definition.maxReceiveCount },
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      dlqs[definition.name] = dlq;
    }
    this.queues = queues as Record<QueueName, Queue>;
    this.deadLetterQueues = dlqs as Record<QueueName, Queue>;
  }
}

/**
 * AWS guidance for Lambda consumers: visibility timeout >= 6 x the function timeout, otherwise a
 * message can reappear (and be sent twice) while a throttled or retried batch is still running.
 */
export function assertVisibilityCoversConsumers(definition: QueueDefinition, consumers: readonly WorkerFunction[]): void {
  for (const worker of consumers.filter((w) => w.queue === definition.name)) {
    const required = 6 * worker.timeoutSeconds;
    if (definition.visibilityTimeoutSeconds < required) {
      throw new Error(
        `Queue ${definition.name}: visibilityTimeoutSeconds ${definition.visibilityTimeoutSeconds} is below 6 x ` +
          `${worker.id}'s timeout (${worker.timeoutSeconds} s) = ${required} s.`,
      );
    }
  }
}
