import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { queues, workerFunctions, type WorkerFunction } from '../../shared/catalog.js';
import { deps } from '../../shared/deps.js';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '../../shared/metrics.js';
import { deliverMessage, RetryLater, type DeliveryOutcome } from '../../shared/services/deliver-message.js';

import { withBatchedCounts } from '../../shared/adapters/dynamodb/broadcast-count-buffer.js';
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

/** One record per message; only failed records return to the queue (ReportBatchItemFailures). */
async function sendOne(worker: WorkerFunction, record: SQSRecord): Promise<void> {
  // A malformed task throws here and ends in the DLQ, where it can be inspected: never silently dropped.
  const task = SendTask.parse(JSON.parse(record.body));
  try {
    const outcome = await deliverMessage(deps(), task, {
      receiveCount: Number(record.attributes.ApproximateReceiveCount),
      maxReceiveCount: queues[worker.queue].maxReceiveCount,
      maxAttempts: queues[worker.queue].maxReceiveCount,
      claimMs: worker.timeoutSeconds * 1000,
    });
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
};

/** The Lambda handler of the catalog worker whose entry is `entry`. */
export function sendWorkerHandler(entry: string) {
  const worker = workerFunctions.find((w) => w.entry === entry);
  if (!worker) throw new Error(`No worker in the catalog has entry ${entry}.`);
  const processor = new BatchProcessor(EventType.SQS);
  return async (event: SQSEvent, context: Context) => {
    try {
      // A batch of one broadcast's messages moves its counters with one write, not ten.
      return await withBatchedCounts(() => processPartialResponse(event, (record: SQSRecord) => sendOne(worker, record), processor, { context, throwOnFullBatchFailure: false }));
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
