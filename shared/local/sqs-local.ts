/**
 * A local SQS endpoint (local-aws-sqs, in this process, SQS JSON protocol) and the catalog's queues
 * with their dead-letter queues, configured as the CDK stack configures them.
 */
import { createServer } from 'node:http';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import { dlqName, queues, type QueueName } from '../catalog.js';

export interface SqsLocal {
  /** e.g. http://127.0.0.1:9324 */
  endpoint: string;
  stop(): Promise<void>;
}

export interface SqsLocalOptions {
  /** 0 picks a free port. */
  port: number;
  /** Where to listen, also the host in queue URLs. Default 127.0.0.1. */
  hostname?: string;
  /** Region in queue ARNs. Default AWS_REGION, else us-east-1. */
  region?: string;
}

export interface EnsuredQueue {
  url: string;
  dlqUrl: string;
  arn: string;
  dlqArn: string;
}

/** Same as AWS's maximum, and what the CDK stack gives the dead-letter queues. */
const DLQ_RETENTION_SECONDS = 14 * 24 * 60 * 60;

export async function startSqsLocal(opts: SqsLocalOptions): Promise<SqsLocal> {
  const hostname = opts.hostname ?? '127.0.0.1';
  const { service, requestHandler } = createRequestHandler({
    port: opts.port,
    hostname,
    region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1',
    // Locally a deleted queue may be created again at once (AWS makes you wait 60 s).
    emulateQueueCreationLifecycle: false,
  });
  const server = createServer((req, res) => {
    for (const queue of service.Queues) keepReceiveCountOnVisibilityChange(queue);
    requestHandler(req, res).catch((error: unknown) => {
      console.error('local SQS: request failed:', error);
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`Port ${opts.port} for the local SQS server is already in use.`) : error),
    );
    server.listen(opts.port, hostname, () => resolveListen());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  service.PORT = port; // queue URLs carry the real port when 0 was asked for
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://${hostname}:${port}`,
    stop: () =>
      (stopping ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections(); // SDK clients keep connections alive
        service.resetAll(); // drops messages and their timers
      })),
  };
}

/**
 * local-aws-sqs 2.0.2 adds one to a message's ApproximateReceiveCount on every
 * ChangeMessageVisibility, not only on ReceiveMessage. The poller resets the visibility of each failed
 * record, so without this a worker would see receive counts 1, 3, 5 and the message would reach the
 * DLQ after half the catalog's maxReceiveCount. This wraps the queue object so a visibility change
 * leaves the count as it was, as SQS does. It reaches into the library's queue objects: if their
 * shape ever changes the wrap is skipped (test/integration/local-runtime.test.ts checks the counts).
 */
interface QueueRecordEntry {
  record: { MessageId: string; attributes: Record<string, string | undefined> };
}
interface LibraryQueue {
  newRecord: (...args: unknown[]) => QueueRecordEntry;
  changeVisibility: (receiptHandle: string, visibilityTimeout: unknown) => boolean;
  delete: (receiptHandle: string) => boolean;
}
const wrappedQueues = new WeakSet<object>();
const MIN_SWEEP_AT = 10_000;

function keepReceiveCountOnVisibilityChange(queue: object): void {
  if (wrappedQueues.has(queue)) return;
  wrappedQueues.add(queue);
  const q = queue as Partial<LibraryQueue>;
  const { newRecord, changeVisibility, delete: deleteRecord } = q;
  if (typeof newRecord !== 'function' || typeof changeVisibility !== 'function' || typeof deleteRecord !== 'function') return;

  // The library's own entries, weakly held: they disappear with the message (deleted, moved, expired).
  const entries = new Map<string, WeakRef<QueueRecordEntry>>();
  // Swept when the map doubles past what the last sweep left: a queue holding more than 10,000 live
  // messages (a broadcast's receipts) must not be walked on every send.
  let sweepAt = MIN_SWEEP_AT;
  q.newRecord = (...args: unknown[]) => {
    const entry = newRecord.apply(queue, args);
    const messageId = entry?.record?.MessageId;
    if (typeof messageId === 'string') {
      entries.set(messageId, new WeakRef(entry));
      if (entries.size > sweepAt) {
        for (const [id, ref] of entries) if (!ref.deref()) entries.delete(id);
        sweepAt = Math.max(MIN_SWEEP_AT, entries.size * 2);
      }
    }
    return entry;
  };
  q.changeVisibility = (receiptHandle, visibilityTimeout) => {
    const entry = entries.get(messageIdOf(receiptHandle) ?? '')?.deref();
    const count = entry?.record.attributes.ApproximateReceiveCount;
    const changed = changeVisibility.call(queue, receiptHandle, visibilityTimeout);
    if (entry && count !== undefined) entry.record.attributes.ApproximateReceiveCount = count;
    return changed;
  };
  q.delete = (receiptHandle) => {
    const deleted = deleteRecord.call(queue, receiptHandle);
    entries.delete(messageIdOf(receiptHandle) ?? '');
    return deleted;
  };
}

/** local-aws-sqs receipt handles are base64 of `<uuid>{"date":..,"MessageId":..,"QueueName":..}`. */
function messageIdOf(receiptHandle: string): string | undefined {
  try {
    const text = Buffer.from(receiptHandle, 'base64').toString('utf8');
    const parsed = JSON.parse(text.slice(text.indexOf('{'))) as { MessageId?: unknown };
    return typeof parsed.MessageId === 'string' ? parsed.MessageId : undefined;
  } catch {
    return undefined;
  }
}

async function createQueue(client: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no URL.`);
    return QueueUrl;
  } catch (error) {
    // It exists with other attributes (e.g. the catalog changed): bring it in line.
    if ((error as Error).name !== 'QueueNameExists' && (error as Error).name !== 'QueueAlreadyExists') throw error;
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!QueueUrl) throw new Error(`GetQueueUrl ${name} returned no URL.`);
    await client.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
    return QueueUrl;
  }
}

async function queueArn(client: SQSClient, url: string): Promise<string> {
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  if (!Attributes?.QueueArn) throw new Error(`GetQueueAttributes returned no QueueArn for ${url}.`);
  return Attributes.QueueArn;
}

/**
 * For every catalog queue: `<prefix><name>-dlq`, then `<prefix><name>` with the catalog's visibility
 * timeout and a redrive policy to that DLQ. Safe to call again.
 */
export async function ensureQueues(client: SQSClient, prefix = ''): Promise<Record<QueueName, EnsuredQueue>> {
  const result: Partial<Record<QueueName, EnsuredQueue>> = {};
  for (const definition of Object.values(queues)) {
    const dlqUrl = await createQueue(client, `${prefix}${dlqName(definition.name)}`, {
      MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS),
    });
    const dlqArn = await queueArn(client, dlqUrl);
    const url = await createQueue(client, `${prefix}${definition.name}`, {
      VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: definition.maxReceiveCount }),
    });
    result[definition.name] = { url, dlqUrl, arn: await queueArn(client, url), dlqArn };
  }
  return result as Record<QueueName, EnsuredQueue>;
}
