import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { QueueName } from '../../catalog.js';
import { config, onConfigReset } from '../../config.js';
import type { TaskQueue } from '../../ports.js';
import { chunksBySize } from '../../domain/chunks.js';

let client: SQSClient | undefined;
const hooks = new Set<(client: SQSClient) => void>();
const sqs = () => {
  if (!client) {
    client = new SQSClient({});
    for (const hook of hooks) hook(client);
  }
  return client;
};

/** Runs `hook` on the client now and on each one made later (e.g. SDK middleware that counts requests in a bench). */
export function onSqsClient(hook: (client: SQSClient) => void): () => void {
  hooks.add(hook);
  if (client) hook(client);
  return () => hooks.delete(hook);
}

onConfigReset(() => {
  client = undefined;
});

const BATCH_SIZE = 10;
/** SendMessageBatch's limit on the bodies of a batch together (256 KiB; queues allowing more still take this). */
const BATCH_BYTES = 262_144;

export const sqsTaskQueue: TaskQueue = {
  async enqueue(queue: QueueName, tasks: object[], options = {}) {
    // SQS delays stop at 15 minutes.
    const DelaySeconds = options.delaySeconds === undefined ? undefined : Math.min(Math.max(Math.ceil(options.delaySeconds), 0), 900);
    const QueueUrl = config().queueUrl(queue);
    const bodies = tasks.map((task) => JSON.stringify(task));
    // A broadcast's plan step queues ten pages of recipients at once: their bodies can outgrow one batch.
    for (const batch of chunksBySize(bodies, BATCH_SIZE, BATCH_BYTES, (body) => Buffer.byteLength(body, 'utf8'))) {
      const reply = await sqs().send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: batch.map((MessageBody, i) => ({ Id: String(i), MessageBody, DelaySeconds })),
        }),
      );
      const failed = reply.Failed ?? [];
      if (failed.length > 0) {
        // The messages are stored as queued; the caller reports the failure and nothing is lost.
        throw new Error(`SQS refused ${failed.length} of ${batch.length} send tasks: ${failed[0]?.Message ?? failed[0]?.Code}`);
      }
    }
  },
};
