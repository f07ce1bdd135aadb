import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { httpFunctions, queues, scheduledFunctions, workerFunctions } from '../shared/catalog.js';
import { DataStore } from './constructs/data-store.js';
import { Egress, FIXED_EGRESS_IP_CONTEXT, fixedEgressIpEnabled } from './constructs/egress.js';
import { HttpApi } from './constructs/http-api.js';
import { Monitoring } from './constructs/monitoring.js';
import { Queues } from './constructs/queues.js';
import { Schedules } from './constructs/schedules.js';
import { Workers } from './constructs/workers.js';

/** ispnotify on AWS: HTTP API -> DynamoDB + SQS -> workers, with DLQ alarms. Everything comes from shared/catalog.ts. */
export class IspNotifyStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const data = new DataStore(this, 'Data');
    const messaging = new Queues(this, 'Queues', { definitions: queues, consumers: workerFunctions });
    // Off by default; `-c fixedEgressIp=true`: the functions that call providers leave from one whitelistable address.
    const egress = fixedEgressIpEnabled(this.node.tryGetContext(FIXED_EGRESS_IP_CONTEXT)) ? new Egress(this, 'Egress') : undefined;
    const wiring = { table: data.table, credentialsKey: data.credentialsKey, cursorKey: data.cursorKey, queues: messaging.queues, egress: egress?.placement };

    const api = new HttpApi(this, 'Api', { functions: httpFunctions, wiring });
    new Workers(this, 'Workers', { workers: workerFunctions, wiring: { ...wiring, publicBaseUrl: api.publicBaseUrl } });
    const schedules = new Schedules(this, 'Schedules', { schedules: scheduledFunctions, wiring: { ...wiring, publicBaseUrl: api.publicBaseUrl } });
    new Monitoring(this, 'Monitoring', { deadLetterQueues: { ...messaging.deadLetterQueues, ...schedules.deadLetterQueues } });
  }
}
