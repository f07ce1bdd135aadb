import { Duration, Stack } from 'aws-cdk-lib';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue.js';
import type { StreamFunction } from '../../shared/catalog.js';
import { AppFunction, type FunctionWiring } from './lambda-function.js';

export interface StreamConsumersProps {
  functions: readonly StreamFunction[];
  /** The table must have a stream (DataStore's has NEW_AND_OLD_IMAGES). */
  wiring: FunctionWiring;
}

/**
 * The catalog's stream functions, each on the table's stream. Lambda reads a stream without a read
 * charge; records the filter drops never invoke the function. A batch that still fails after its
 * retries (each bisecting it) is described in the function's DLQ (shard and sequence numbers, not the
 * records), which Monitoring alarms on.
 */
export class StreamConsumers extends Construct {
  /** By catalog id, for Monitoring. */
  readonly deadLetterQueues: Record<string, Queue> = {};

  constructor(scope: Construct, id: string, props: StreamConsumersProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    for (const spec of props.functions) {
      const { fn } = new AppFunction(this, spec.id, { ...spec, wiring: props.wiring });
      const dlq = deadLetterQueue(this, `${spec.id}-dlq`, `${stackName}-streams-${spec.id}-dlq`, "the on-failure destination of the function's stream event source");
      this.deadLetterQueues[`streams-${spec.id}`] = dlq;
      fn.addEventSource(
        new DynamoEventSource(props.wiring.table, {
          // From the oldest record the stream keeps (24 hours): a mapping made by a deploy while a
          // broadcast runs (a new one, or one that replaces another) counts the moves made before it
          // too, and what a replaced mapping had counted is skipped by the counters' sequence numbers.
          startingPosition: StartingPosition.TRIM_HORIZON,
          batchSize: spec.batchSize,
          maxBatchingWindow: Duration.seconds(spec.batchingWindowSeconds),
          bisectBatchOnError: true,
          retryAttempts: spec.retryAttempts,
          onFailure: new SqsDlq(dlq),
          // The only way an event names its shard (`shardId`), which the handler's idempotency is keyed on;
          // the longest window, so its closing invocation (no records) comes once per shard per 15 minutes.
          tumblingWindow: Duration.minutes(15),
          filters: [
            FilterCriteria.filter({
              dynamodb: { NewImage: { entity: { S: FilterRule.isEqual(spec.newImage.entity) }, [spec.newImage.withAttribute]: { S: FilterRule.exists() } } },
            }),
          ],
        }),
      );
    }
  }
}
