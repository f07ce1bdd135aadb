import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { queues, workerFunctions, type WorkerFunction } from '../../shared/catalog.js';
import { deps } from '../../shared/deps.js';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '../../shared/metrics.js';
import { deliverMessage, RetryLater, type DeliveryOutcome } from '../../shared/services/deliver-message.js';
import { deliverGroup } from '../../shared/services/deliver-group.js';

/**
 * The handler of every send queue (send-sms, send-whatsapp, send-priority): a message is sent the
 * same way whichever queue it waited on; the queues only keep bulk traffic from delaying single sends.
 */
const SendTask = z.object({
  operatorId: z.string().min(1),
  messageId: z.string().min(1),
  accepted: z.object({ providerMessageId: z.string().min(1), gatewayId: z.string().min(1), at: z.string().min(1), receiptDueAt: z.string().optional() }).optional(),
  fallbackCheck: z.object({ dueAt: z.string().min(1) }).optional(),
});

/** A broadcast's messages, up to ten under one claim (shared/services/deliver-group.ts). */
const GroupSendTask = z.object({
  operatorId: z.string().min(1),
  group: z.string().min(1),
  messageIds: z.array(z.string().min(1)).min(1).max(10),
});

/** One record per message, or per send group; only failed records return to the queue (ReportBatchItemFailures). */
async function sendOne(worker: WorkerFunction, record: SQSRecord): Promise<void> {
  const body: unknown = JSON.parse(record.body);
  const attempt = {
    receiveCount: Number(record.attributes.ApproximateReceiveCount),
    maxReceiveCount: queues[worker.queue].maxReceiveCount,
    maxAttempts: queues[worker.queue].maxReceiveCount,
    claimMs: worker.timeoutSeconds * 1000,
  };
  if (typeof body === 'object' && body !== null && 'group' in body) {
    const outcomes = await deliverGroup(deps(), GroupSendTask.parse(body), attempt, worker.queue);
    for (const { outcome, gatewayFault } of outcomes) {
      metrics.addMetric(outcomeMetric[outcome], MetricUnit.Count, 1);
      if (gatewayFault) metrics.addMetric('SmsGatewayFault', MetricUnit.Count, 1);
    }
    return;
  }
  // A malformed task throws here and ends in the DLQ, where it can be inspected: never silently dropped.
  const task = SendTask.parse(body);
  try {
    const outcome = await deliverMessage(deps(), task, attempt);
    metrics.addMetric(outcomeMetric[outcome], MetricUnit.Count, 1);
  } catch (error) {
    metrics.addMetric(error instanceof RetryLater && error.gaveUp ? 'SmsGaveUp' : 'SmsSendRetried', MetricUnit.Count, 1);
    if (error instanceof RetryLater && error.gatewayFault) metrics.addMetric('SmsGatewayFault', MetricUnit.Count, 1);
    throw error;
  }
}

const outcomeMetric: Record<DeliveryOutcome, string> = {
  sent: 'SmsSent',
  rejected: 'SmsRejected',
  duplicate: 'SmsDuplicateDelivery',
  'outcome-unknown': 'SmsOutcomeUnknown',
  reconciled: 'SmsReconciled',
  deferred: 'SmsSendDeferred',
  throttled: 'SmsSendThrottled',
  'outcome-queued': 'SmsOutcomeQueued',
  'fallback-checked': 'WhatsAppFallbackChecked',
  'not-needed': 'ReminderNotNeeded',
  retried: 'SmsSendRetried',
  'gave-up': 'SmsGaveUp',
  'lost-in-group': 'SmsSendGroupLost',
};

/** The Lambda handler of the catalog worker whose entry is `entry`. */
export function sendWorkerHandler(entry: string) {
  const worker = workerFunctions.find((w) => w.entry === entry);
  if (!worker) throw new Error(`No worker in the catalog has entry ${entry}.`);
  const processor = new BatchProcessor(EventType.SQS);
  return async (event: SQSEvent, context: Context) => {
    try {
      return await processPartialResponse(event, (record: SQSRecord) => sendOne(worker, record), processor, { context, throwOnFullBatchFailure: false });
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
