/**
 * A local stand-in for Lambda's SQS event source mapping with ReportBatchItemFailures: it long-polls
 * a queue, hands each batch to the handler as an SQSEvent, deletes what succeeded and leaves the
 * failures on the queue. After maxReceiveCount receives, the queue's RedrivePolicy moves a message to
 * its DLQ (local-aws-sqs does it when the message's visibility timeout runs out with the receive count
 * at the limit: the same number of deliveries as on AWS, where it happens on the next receive).
 *
 * Local differences:
 *  - A failed record's visibility is set to `retryDelaySeconds` (ChangeMessageVisibility), so local
 *    retries come within seconds. On AWS nothing is changed: a failed record comes back after the
 *    queue's visibility timeout (180 s for send-sms).
 *  - `concurrency` batches at a time per worker (default 1; Lambda scales out to the event source's maxConcurrency).
 *  - A handler that times out fails its whole batch, but its promise keeps running.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { createLambdaContext, invokeHandler, type LambdaHandler } from './lambda-invoke.js';
import { chunks } from '../domain/chunks.js';

export type SqsWorkerHandler = LambdaHandler<SQSEvent, SQSBatchResponse | void>;

/** Between short polls of an empty queue. */
const SHORT_POLL_IDLE_MS = 10;

export interface SqsPollerOptions {
  client: SQSClient;
  queueUrl: string;
  queueArn: string;
  /** Lambda's batch size; at most 10 records arrive per receive. */
  batchSize: number;
  /**
   * 0: short polls, a few ms apart when the queue is empty (a worker with no batching window: it
   * starts on a message at once). local-aws-sqs answers a long poll only when it has the whole batch
   * or the wait ends, so a long poll would hold a lone OTP for up to its wait. Default 1 s long polls.
   */
  waitTimeSeconds?: 0 | 1;
  handler: SqsWorkerHandler;
  functionTimeoutSeconds: number;
  /** Seconds until a failed record is visible again (AWS: the queue's visibility timeout). */
  retryDelaySeconds: number;
  /** Context.functionName; default `ispnotify-local-worker`. */
  functionName?: string;
  /** Batches handled at once (each its own receive loop), as Lambda runs several; default 1. */
  concurrency?: number;
}

export interface SqsPoller {
  /** Ends the loop after the batch in flight has been handled and acknowledged. */
  stop(): Promise<void>;
}

/** SQS's limit for ReceiveMessage, DeleteMessageBatch and ChangeMessageVisibilityBatch. */
const SQS_BATCH_LIMIT = 10;

/** Message attributes in the shape Lambda delivers them (camelCase, list fields, binary as base64). */
function lambdaMessageAttributes(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    out[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return out;
}

export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const awsRegion = queueArn.split(':')[3] || process.env.AWS_REGION || 'us-east-1';
  const attributes = message.Attributes ?? {};
  const body = message.Body ?? '';
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body,
    attributes: {
      ...attributes,
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: lambdaMessageAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? createHash('md5').update(body, 'utf8').digest('hex'),
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion,
  };
}

/**
 * The message ids the handler reported as failed, or 'all' when the batch failed as a whole. As in
 * Lambda, a response naming an id that is not in the batch (or no id) fails the whole batch.
 */
function failedIds(response: unknown, batch: SQSRecord[]): Set<string> | 'all' {
  if (response === undefined || response === null) return new Set();
  const failures = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return 'all';
  const inBatch = new Set(batch.map((record) => record.messageId));
  const ids = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !inBatch.has(id)) return 'all';
    ids.add(id);
  }
  return ids;
}

export function startSqsPoller(opts: SqsPollerOptions): SqsPoller {
  const { client, queueUrl, queueArn } = opts;
  const batchSize = Math.max(1, Math.min(SQS_BATCH_LIMIT, opts.batchSize));
  const waitTimeSeconds = opts.waitTimeSeconds ?? 1;
  const functionName = opts.functionName ?? 'ispnotify-local-worker';
  const label = `[${functionName}]`;
  let running = true;

  async function handleBatch(messages: Message[]): Promise<void> {
    const records = messages.map((message) => toSqsRecord(message, queueArn));
    let failed: Set<string> | 'all';
    try {
      const context = createLambdaContext({ functionName, timeoutSeconds: opts.functionTimeoutSeconds });
      const response = await invokeHandler(opts.handler, { Records: records } satisfies SQSEvent, context, opts.functionTimeoutSeconds);
      failed = failedIds(response, records);
      if (failed === 'all') console.error(`${label} invalid batchItemFailures in the response; the whole batch will be retried:`, response);
    } catch (error) {
      console.error(`${label} the handler failed; the whole batch of ${records.length} will be retried:`, error);
      failed = 'all';
    }

    const failedSet = failed;
    const succeeded = failedSet === 'all' ? [] : records.filter((record) => !failedSet.has(record.messageId));
    const retried = failedSet === 'all' ? records : records.filter((record) => failedSet.has(record.messageId));
    for (const part of chunks(succeeded, SQS_BATCH_LIMIT)) {
      const reply = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: part.map((record, i) => ({ Id: String(i), ReceiptHandle: record.receiptHandle })),
        }),
      );
      if (reply.Failed?.length) console.error(`${label} could not delete ${reply.Failed.length} processed message(s):`, reply.Failed);
    }
    // Local difference (see the top of this file): retry soon instead of after the visibility timeout.
    for (const part of chunks(retried, SQS_BATCH_LIMIT)) {
      const reply = await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: part.map((record, i) => ({ Id: String(i), ReceiptHandle: record.receiptHandle, VisibilityTimeout: opts.retryDelaySeconds })),
        }),
      );
      if (reply.Failed?.length) console.error(`${label} could not reset the visibility of ${reply.Failed.length} message(s):`, reply.Failed);
    }
  }

  async function loop(): Promise<void> {
    let backoffMs = 500;
    while (running) {
      try {
        const { Messages } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            // The deprecated spelling too: local-aws-sqs only reads AttributeNames.
            AttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        backoffMs = 500;
        if (Messages && Messages.length > 0) await handleBatch(Messages);
        else if (waitTimeSeconds === 0) await sleep(SHORT_POLL_IDLE_MS);
      } catch (error) {
        if (!running) break;
        console.error(`${label} receiving from or acknowledging to ${queueUrl} failed; retrying in ${backoffMs} ms:`, (error as Error).message ?? error);
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 10_000);
      }
    }
  }

  const done = Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 1) }, () => loop()));
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}
