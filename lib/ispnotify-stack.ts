import { Stack, type StackProps } from 'aws-cdk-lib';
import { join } from 'node:path';
import type { Construct } from 'constructs';
import { eventFunctions, httpFunctions, queues, scheduledFunctions, streamFunctions, workerFunctions } from '../shared/catalog.js';
import { AppSchedules } from './constructs/app-schedules.js';
import { AdminConsole } from './constructs/admin-console.js';
import { BillingEvents } from './constructs/billing-events.js';
import { DataStore } from './constructs/data-store.js';
import { Egress, FIXED_EGRESS_IP_CONTEXT, fixedEgressIpEnabled } from './constructs/egress.js';
import { HttpApi } from './constructs/http-api.js';
import { projectRoot } from './constructs/lambda-function.js';
import { Monitoring } from './constructs/monitoring.js';
import { PAYMENT_LINK_DOMAIN_CONTEXT, paymentLinkBaseUrl } from './payment-link-domain.js';
import { Queues } from './constructs/queues.js';
import { Schedules } from './constructs/schedules.js';
import { StreamConsumers } from './constructs/stream-consumers.js';
import { Workers } from './constructs/workers.js';

/** ispnotify on AWS: HTTP API -> DynamoDB + SQS -> workers, with DLQ alarms. Everything comes from shared/catalog.ts. */
export class IspNotifyStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const data = new DataStore(this, 'Data');
    const messaging = new Queues(this, 'Queues', { definitions: queues, consumers: workerFunctions });
    // Off by default; `-c fixedEgressIp=true`: the functions that call providers leave from one whitelistable address.
    // The schedules the app makes at run time (sendAt, notifiers), apart from the catalog's fixed ones.
    const appSchedules = new AppSchedules(this, 'AppSchedules', { queues: messaging.queues });
    const egress = fixedEgressIpEnabled(this.node.tryGetContext(FIXED_EGRESS_IP_CONTEXT)) ? new Egress(this, 'Egress') : undefined;
    const wiring = {
      table: data.table,
      credentialsKey: data.credentialsKey,
      cursorKey: data.cursorKey,
      queues: messaging.queues,
      egress: egress?.placement,
      appSchedules,
      // `-c paymentLinkDomain=pay.example.net`; absent: payment links use the API's endpoint.
      paymentLinkBaseUrl: paymentLinkBaseUrl(this.node.tryGetContext(PAYMENT_LINK_DOMAIN_CONTEXT)),
    };

    // The admin console (CloudFront + private S3); the API's CORS allows its origin only.
    const adminConsole = new AdminConsole(this, 'Console', { distDir: join(projectRoot, 'console', 'dist') });
    const api = new HttpApi(this, 'Api', { functions: httpFunctions, wiring, corsOrigins: [adminConsole.origin] });
    adminConsole.deploy(api.publicBaseUrl);
    // Callback URLs given to providers (receipts, payment notifications) use the webhooks' function URL.
    const urls = { publicBaseUrl: api.publicBaseUrl, webhookBaseUrl: api.webhookBaseUrl };
    new Workers(this, 'Workers', { workers: workerFunctions, wiring: { ...wiring, ...urls } });
    // The table's stream: broadcast counters.
    const streams = new StreamConsumers(this, 'Streams', { functions: streamFunctions, wiring: { ...wiring, ...urls } });
    const schedules = new Schedules(this, 'Schedules', { schedules: scheduledFunctions, wiring: { ...wiring, ...urls } });
    const billingEvents = new BillingEvents(this, 'BillingEvents', { functions: eventFunctions, wiring: { ...wiring, ...urls } });
    new Monitoring(this, 'Monitoring', { deadLetterQueues: { ...messaging.deadLetterQueues, 'app-schedules': appSchedules.deadLetterQueue, ...schedules.deadLetterQueues, ...billingEvents.deadLetterQueues, ...streams.deadLetterQueues } });
  }
}
