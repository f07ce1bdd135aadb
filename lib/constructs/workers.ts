import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import type { WorkerFunction } from '../../shared/catalog.js';
import { AppFunction, type FunctionWiring } from './lambda-function.js';

export interface WorkersProps {
  workers: readonly WorkerFunction[];
  wiring: FunctionWiring;
}

/** One queue-triggered Lambda per catalog worker. */
export class Workers extends Construct {
  constructor(scope: Construct, id: string, props: WorkersProps) {
    super(scope, id);
    for (const spec of props.workers) {
      const { fn } = new AppFunction(this, spec.id, { ...spec, wiring: props.wiring });
      fn.addEventSource(
        new SqsEventSource(props.wiring.queues[spec.queue], {
          batchSize: spec.batchSize,
          // Handlers report failed records, so one bad message does not redeliver the whole batch.
          reportBatchItemFailures: true,
          maxBatchingWindow: Duration.seconds(spec.batchingWindowSeconds ?? 1),
          maxConcurrency: spec.maxConcurrency,
        }),
      );
    }
  }
}
