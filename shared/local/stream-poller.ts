/**
 * A local stand-in for Lambda's DynamoDB Streams event source mapping: it reads DynamoDB Local's
 * stream of the table shard by shard (a parent before its children, new shards as they appear),
 * keeps the records the catalog's filter passes, and hands them to the handler in batches of at most
 * `batchSize`, after the batching window, one shard's records per event (with its `shardId`).
 *
 * As on Lambda, a failed batch blocks its shard and is retried (here after a short backoff) up to
 * `retryAttempts` times; then it is logged and skipped (on AWS: its DLQ). The handler is idempotent
 * per shard and sequence number, so reading a stretch twice is harmless: a shard is read from its
 * start, or after the last sequence number handed over when a checkpoint file keeps it (a data
 * directory), so changes made while the stack was down or in its last moments are still counted.
 *
 * Local differences: shards are read one after the other (Lambda reads them in parallel), and a
 * stopping poller hands over what it has at once.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { passesStreamFilter, type StreamFunction } from '../catalog.js';
import { createLambdaContext, invokeHandler, type LambdaHandler } from './lambda-invoke.js';
import { reportStreamInvocation, streamEvent, toLambdaRecord, type LocalStreamEvent } from './stream-event.js';

export type StreamHandler = LambdaHandler<LocalStreamEvent, unknown>;

export interface StreamPollerOptions {
  client: DynamoDBStreamsClient;
  streamArn: string;
  fn: StreamFunction;
  handler: StreamHandler;
  region: string;
  /** Between reads of a shard (Lambda: about four a second). Default 200 ms. */
  pollMs?: number;
  /** Keeps the last sequence number handed over per shard across restarts; absent: read every shard from its start. */
  checkpointFile?: string;
}

export interface StreamPoller {
  /** Hands over what has been read (and what a last read finds), then ends; no timer is left. */
  stop(): Promise<void>;
}

interface ShardState {
  id: string;
  parent?: string;
  iterator?: string;
  /** NextShardIterator came back empty: nothing more will be written to it. */
  closed: boolean;
  /** Closed, and everything read from it handed over. */
  done: boolean;
  buffer: DynamoDBRecord[];
  bufferSince: number;
  /** The last sequence number read (passed to the handler or filtered out). */
  readUpTo?: string;
  /** The last sequence number handed over (or filtered out before it): the checkpoint. */
  handedUpTo?: string;
  failures: number;
  retryAt: number;
}

/** How often the shard list is read again (new shards), besides when a shard closes. */
const DESCRIBE_EVERY_MS = 5_000;
/** How long stop() drains at most. */
const DRAIN_MS = 5_000;

export function startStreamPoller(opts: StreamPollerOptions): StreamPoller {
  const { client, streamArn, fn } = opts;
  const pollMs = opts.pollMs ?? 200;
  const label = `[ispnotify-${fn.id}]`;
  const shards = new Map<string, ShardState>();
  const stopping = new AbortController();
  let describedAt = 0;
  let errorBackoffMs = 0;
  /** The checkpoint moved since it was last written (written at most once a second, and when stopping). */
  let dirty = false;
  let savedAt = 0;

  async function loadCheckpoint(): Promise<Record<string, string>> {
    if (!opts.checkpointFile) return {};
    try {
      const saved = JSON.parse(await readFile(opts.checkpointFile, 'utf8')) as { streamArn?: string; shards?: Record<string, string> };
      return saved.streamArn === streamArn && saved.shards ? saved.shards : {};
    } catch {
      return {};
    }
  }

  async function saveCheckpoint(): Promise<void> {
    if (!opts.checkpointFile || !dirty) return;
    dirty = false;
    savedAt = Date.now();
    const saved = Object.fromEntries([...shards.values()].flatMap((s) => (s.handedUpTo ? [[s.id, s.handedUpTo]] : [])));
    const temporary = `${opts.checkpointFile}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ streamArn, shards: saved })}\n`, { mode: 0o600 });
    await rename(temporary, opts.checkpointFile);
  }

  async function describe(checkpoint: Record<string, string>): Promise<void> {
    let start: string | undefined;
    do {
      const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamArn: streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }));
      for (const shard of StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || shards.has(shard.ShardId)) continue;
        const handed = checkpoint[shard.ShardId];
        shards.set(shard.ShardId, {
          id: shard.ShardId,
          ...(shard.ParentShardId ? { parent: shard.ParentShardId } : {}),
          closed: false,
          done: false,
          buffer: [],
          bufferSince: 0,
          ...(handed ? { readUpTo: handed, handedUpTo: handed } : {}),
          failures: 0,
          retryAt: 0,
        });
      }
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
    describedAt = Date.now();
  }

  /** A shard is read once its parent is done (or gone from the stream): changes of an item stay in order. */
  const ready = (shard: ShardState) => !shard.done && (!shard.parent || !shards.has(shard.parent) || shards.get(shard.parent)!.done);

  async function iteratorOf(shard: ShardState): Promise<string | undefined> {
    const after = shard.readUpTo;
    const request = (type: ShardIteratorType) =>
      client.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.id, ShardIteratorType: type, ...(type === 'AFTER_SEQUENCE_NUMBER' ? { SequenceNumber: after } : {}) }));
    try {
      return (await request(after ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON')).ShardIterator;
    } catch (error) {
      if ((error as Error).name !== 'TrimmedDataAccessException') throw error;
      console.warn(`${label} records after ${after} of ${shard.id} are gone from the stream (older than its retention); reading from its oldest.`);
      return (await request('TRIM_HORIZON')).ShardIterator;
    }
  }

  /** Reads what the shard has (up to a batch); false when the read found nothing new. */
  async function read(shard: ShardState): Promise<boolean> {
    shard.iterator ??= await iteratorOf(shard);
    if (!shard.iterator) {
      shard.closed = true;
      return false;
    }
    let reply;
    try {
      reply = await client.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: fn.batchSize - shard.buffer.length }));
    } catch (error) {
      // An iterator lives 15 minutes: a new one starts after what was read.
      if ((error as Error).name === 'ExpiredIteratorException') shard.iterator = undefined;
      throw error;
    }
    const records = reply.Records ?? [];
    for (const record of records) {
      if (record.dynamodb?.SequenceNumber) shard.readUpTo = record.dynamodb.SequenceNumber;
      if (!passesStreamFilter(fn, record.dynamodb?.NewImage as Parameters<typeof passesStreamFilter>[1])) continue;
      if (shard.buffer.length === 0) shard.bufferSince = Date.now();
      shard.buffer.push(toLambdaRecord(record, streamArn, opts.region));
    }
    if (reply.NextShardIterator) shard.iterator = reply.NextShardIterator;
    else {
      shard.iterator = undefined;
      shard.closed = true;
    }
    return records.length > 0;
  }

  /** Hands the shard's records to the handler when the batch is full, its window has passed, or the shard or the poller ends. */
  async function handOver(shard: ShardState, draining: boolean): Promise<void> {
    const due = shard.buffer.length >= fn.batchSize || Date.now() - shard.bufferSince >= fn.batchingWindowSeconds * 1000 || shard.closed || draining;
    if (shard.buffer.length > 0 && (!due || Date.now() < shard.retryAt)) return;
    if (shard.buffer.length > 0) {
      const started = performance.now();
      try {
        const context = createLambdaContext({ functionName: `ispnotify-${fn.id}`, timeoutSeconds: fn.timeoutSeconds });
        await invokeHandler(opts.handler, streamEvent(shard.buffer, shard.id, streamArn), context, fn.timeoutSeconds);
      } catch (error) {
        shard.failures++;
        const range = `${shard.buffer[0]?.dynamodb?.SequenceNumber}..${shard.buffer.at(-1)?.dynamodb?.SequenceNumber}`;
        if (shard.failures <= fn.retryAttempts) {
          shard.retryAt = Date.now() + Math.min(200 * 2 ** shard.failures, 10_000);
          console.error(`${label} the handler failed on ${shard.buffer.length} records (${range}) of ${shard.id}; retry ${shard.failures} of ${fn.retryAttempts}:`, error);
          return;
        }
        // On AWS the batch's description goes to the function's DLQ (alarmed); here the log is all there is.
        console.error(`${label} gave up on ${shard.buffer.length} records (${range}) of ${shard.id} after ${fn.retryAttempts} retries; their counts are lost.`);
      } finally {
        reportStreamInvocation(fn.id, performance.now() - started);
      }
    }
    shard.buffer = [];
    shard.failures = 0;
    shard.retryAt = 0;
    if (shard.closed) shard.done = true;
    if (shard.readUpTo && shard.readUpTo !== shard.handedUpTo) {
      shard.handedUpTo = shard.readUpTo;
      dirty = true;
    }
  }

  /** One pass over the shards; true when some shard had records or still holds some. */
  async function pass(draining: boolean): Promise<boolean> {
    let busy = false;
    for (const shard of [...shards.values()].filter(ready)) {
      const before = shard.done;
      // A failed batch blocks its shard (in order, as on Lambda) until it is handed over.
      if (shard.failures === 0 && shard.buffer.length < fn.batchSize && !shard.closed) busy = (await read(shard)) || busy;
      await handOver(shard, draining);
      busy ||= shard.buffer.length > 0;
      // Its children can start now.
      if (!before && shard.done) describedAt = 0;
    }
    return busy;
  }

  async function loop(): Promise<void> {
    const checkpoint = await loadCheckpoint();
    while (!stopping.signal.aborted) {
      try {
        if (Date.now() - describedAt >= DESCRIBE_EVERY_MS) await describe(checkpoint);
        await pass(false);
        if (Date.now() - savedAt >= 1_000) await saveCheckpoint();
        errorBackoffMs = 0;
      } catch (error) {
        errorBackoffMs = Math.min(Math.max(errorBackoffMs * 2, 500), 10_000);
        if (!stopping.signal.aborted) console.error(`${label} reading the table's stream failed; again in ${errorBackoffMs} ms:`, (error as Error).message ?? error);
      }
      await sleep(Math.max(pollMs, errorBackoffMs), undefined, { signal: stopping.signal }).catch(() => {});
    }
    // Stopping: what the workers wrote last is read and handed over before the stack goes.
    const deadline = Date.now() + DRAIN_MS;
    try {
      while (Date.now() < deadline && (await pass(true))) await sleep(50);
      await saveCheckpoint();
    } catch (error) {
      console.error(`${label} the last read of the table's stream failed:`, (error as Error).message ?? error);
    }
  }

  const done = loop().catch((error: unknown) => console.error(`${label} stopped:`, error));
  return {
    async stop() {
      stopping.abort();
      await done;
    },
  };
}
