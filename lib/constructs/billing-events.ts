import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue.js';
import type { EventFunction } from '../../shared/catalog.js';
import { AppFunction, type FunctionWiring } from './lambda-function.js';

export interface BillingEventsProps {
  functions: readonly EventFunction[];
  wiring: FunctionWiring;
}

/**
 * A dedicated bus for billing systems on AWS (`<stack>-billing`, not the account's default bus, so
 * who may put billing events is this bus's policy alone and other services' events never reach the
 * handler), and one rule per catalog entry invoking its Lambda. Both ways an event can be lost end
 * in the entry's DLQ: EventBridge failing to invoke (the target's retry policy), and the handler
 * failing (Lambda's asynchronous retries, then its on-failure destination).
 */
export class BillingEvents extends Construct {
  readonly bus: EventBus;
  /** Events given up on, by function id (alarmed by Monitoring). */
  readonly deadLetterQueues: Record<string, Queue> = {};

  constructor(scope: Construct, id: string, props: BillingEventsProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    this.bus = new EventBus(this, 'Bus', { eventBusName: `${stackName}-billing` });

    for (const spec of props.functions) {
      const { fn } = new AppFunction(this, spec.id, { ...spec, wiring: props.wiring });
      const dlq = deadLetterQueue(this, `${spec.id}-dlq`, `${stackName}-events-${spec.id}-dlq`, "the dead-letter queue of the billing-event rule and of its function's asynchronous invocations");
      this.deadLetterQueues[`events-${spec.id}`] = dlq;
      // The handler's failures: two more tries (an event it refuses was written nowhere, so retrying is harmless), then the DLQ with the event in it.
      fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: new SqsDestination(dlq) });
      new Rule(this, `${spec.id}Rule`, {
        description: `ispnotify: ${spec.source} events to ${spec.id}`,
        eventBus: this.bus,
        eventPattern: { source: [spec.source] },
        targets: [new LambdaFunction(fn, { retryAttempts: 8, maxEventAge: Duration.hours(24), deadLetterQueue: dlq })],
      });
    }

    new CfnOutput(Stack.of(this), 'BillingEventBusName', { value: this.bus.eventBusName, description: 'Put billing events here: source ispnotify.billing, detail-type = the event type' });
  }
}
