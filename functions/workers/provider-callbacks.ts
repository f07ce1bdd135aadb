import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { deps } from '../../shared/deps.js';
import { runProviderCallback } from '../../shared/services/provider-callbacks.js';

const DeferredTask = z.object({
  kind: z.literal('post'),
  url: z.url(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
});
const processor = new BatchProcessor(EventType.SQS);

/** A callback a provider owes (the sandbox's receipts): a failure returns it to the queue, then the DLQ. */
async function runOne(record: SQSRecord): Promise<void> {
  await runProviderCallback(deps(), DeferredTask.parse(JSON.parse(record.body)));
}

export const handler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, runOne, processor, { context, throwOnFullBatchFailure: false });
