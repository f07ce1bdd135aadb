import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { queues, workerFunctions } from '../../shared/catalog.js';
import { deps } from '../../shared/deps.js';
import { deliverMessage } from '../../shared/services/deliver-message.js';

const SendTask = z.object({ operatorId: z.string().min(1), messageId: z.string().min(1) });
const worker = workerFunctions.find((w) => w.entry === 'functions/workers/send-sms.ts')!;
const processor = new BatchProcessor(EventType.SQS);

/** One record per message; only failed records return to the queue (ReportBatchItemFailures). */
async function sendOne(record: SQSRecord): Promise<void> {
  // A malformed task throws here and ends in the DLQ, where it can be inspected: never silently dropped.
  const task = SendTask.parse(JSON.parse(record.body));
  await deliverMessage(deps(), task, {
    receiveCount: Number(record.attributes.ApproximateReceiveCount),
    maxReceiveCount: queues[worker.queue].maxReceiveCount,
    claimMs: worker.timeoutSeconds * 1000,
  });
}

export const handler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, sendOne, processor, { context, throwOnFullBatchFailure: false });
