/**
 * A broadcast's counters from the table's stream (DynamoDB Local's, read by the local stream
 * poller): right once the broadcast is done, unchanged by a replayed or re-cut batch, right after a
 * cancel, and never ahead of the stream (messages not counted yet read as queued).
 */
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/streams/broadcast-counters.js';
import { passesStreamFilter, streamFunctions } from '../../shared/catalog.js';
import { deps } from '../../shared/deps.js';
import { broadcastCountChanges, padSequence, type StreamChange } from '../../shared/domain/broadcast-count-deltas.js';
import { ensureTable } from '../../shared/local/dynamodb-local.js';
import { createLambdaContext } from '../../shared/local/lambda-invoke.js';
import { streamEvent, toLambdaRecord } from '../../shared/local/stream-event.js';
import { runBroadcastTask, type BroadcastTask } from '../../shared/services/broadcast-fanout.js';
import { createBroadcast } from '../../shared/services/broadcasts.js';
import type { TaskQueue } from '../../shared/ports.js';
import { apiClient, waitFor } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';

let stack: Awaited<ReturnType<typeof startDemoStack>>['stack'];
let api: ReturnType<typeof apiClient>;

const ZONE = 'Stream Town';
const CUSTOMERS = 12;
/** Sandbox SMS: 35 minor units a segment (DEFAULT_PRICES). */
const PRICE = 35;
const counters = streamFunctions.find((fn) => fn.id === 'BroadcastCounters')!;

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('broadcast-counters-stream', { liftRateLimit: true }));
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => ({
    id: `sc-${String(i + 1).padStart(3, '0')}`,
    name: `Stream Customer ${i + 1}`,
    // The first number ends 0000: the sandbox accepts it, then reports it FAILED; the others are delivered.
    mobile: i === 0 ? '01714000000' : `0171${String(4000200 + i).padStart(7, '0')}`,
    status: 'active',
    zone: ZONE,
  }));
  expect((await api.post('/v1/customers/import', { customers })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** The broadcast's messages by status, read from the messages themselves. */
async function tally(broadcastId: string): Promise<Record<string, number>> {
  const byStatus: Record<string, number> = {};
  let cursor: string | undefined;
  do {
    const page = await api.get(`/v1/messages?broadcastId=${broadcastId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const m of page.body.items as Array<{ status: string }>) byStatus[m.status] = (byStatus[m.status] ?? 0) + 1;
    cursor = page.body.cursor;
  } while (cursor);
  return byStatus;
}

const nonZero = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== 0));

/** Every record of the table's stream so far, one array per shard. */
async function streamRecords(): Promise<Array<{ shardId: string; streamArn: string; records: _Record[] }>> {
  const { env } = stack;
  const options = { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB!, region: env.AWS_REGION!, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! } };
  const dynamodb = new DynamoDBClient(options);
  const streams = new DynamoDBStreamsClient(options);
  try {
    const streamArn = (await dynamodb.send(new DescribeTableCommand({ TableName: env.TABLE_NAME }))).Table!.LatestStreamArn!;
    const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription?.Shards ?? [];
    const out = [];
    for (const shard of shards) {
      let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      const records: _Record[] = [];
      while (iterator) {
        const reply = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        records.push(...(reply.Records ?? []));
        // An open shard always has a next iterator: stop at its end.
        iterator = (reply.Records ?? []).length > 0 ? reply.NextShardIterator : undefined;
      }
      out.push({ shardId: shard.ShardId!, streamArn, records });
    }
    return out;
  } finally {
    dynamodb.destroy();
    streams.destroy();
  }
}

/** Hands records to the function as its event source mapping (and the local poller) would. */
async function invoke(shardId: string, streamArn: string, records: _Record[]) {
  const lambdaRecords = records.filter((r) => passesStreamFilter(counters, r.dynamodb?.NewImage as never)).map((r) => toLambdaRecord(r, streamArn, stack.env.AWS_REGION!));
  const context = createLambdaContext({ functionName: 'ispnotify-BroadcastCounters', timeoutSeconds: counters.timeoutSeconds });
  return handler(streamEvent(lambdaRecords, shardId, streamArn), context);
}

describe('broadcast counters from the table stream', () => {
  let broadcastId: string;

  it('are right once a broadcast has finished: every status, what was spent, and the same as the messages say', async () => {
    const reply = await api.post('/v1/broadcasts', { name: 'Stream counts', filter: { zone: [ZONE] }, channel: 'sms', text: 'Hello {{customer.name}}' });
    expect(reply.status).toBe(202);
    broadcastId = reply.body.id;
    const done = await waitFor(() => api.get(`/v1/broadcasts/${broadcastId}`), (r) => r.body.state === 'completed', 60_000);
    expect(done.body.counts.queued).toBe(0);
    expect(done.body.percentDone).toBe(100);
    // Receipts come a moment later: the counters follow them to the end.
    const settled = await waitFor(
      () => api.get(`/v1/broadcasts/${broadcastId}`),
      (r) => r.body.counts.delivered === CUSTOMERS - 1 && r.body.counts.failed === 1,
      60_000,
    );
    expect(settled.body.counts).toEqual({ queued: 0, sent: 0, delivered: CUSTOMERS - 1, read: 0, failed: 1, cancelled: 0 });
    // The failed one had been accepted (then reported undelivered): every message was paid for.
    expect(settled.body.spent).toEqual({ amount: CUSTOMERS * PRICE, currency: 'BDT' });
    expect(nonZero(settled.body.counts)).toEqual(await tally(broadcastId));
  }, 120_000);

  it('count nothing twice when the same stream records are handed to the function again, whole or cut differently', async () => {
    const before = await deps().broadcasts.counts('demo', broadcastId, new Date());
    const shards = await streamRecords();
    const ours = shards.flatMap((s) => s.records).filter((r) => r.dynamodb?.NewImage?.entity?.S === 'message' && r.dynamodb.NewImage.broadcastId?.S === broadcastId);
    // Its inserts, its sends and its receipts are all in the stream.
    expect(ours.filter((r) => r.eventName === 'INSERT')).toHaveLength(CUSTOMERS);
    for (const { shardId, streamArn, records } of shards) {
      // The batch again, as Lambda retries it...
      await invoke(shardId, streamArn, records);
      // ...and bisected, as Lambda retries a batch that failed.
      const half = Math.floor(records.length / 2);
      await invoke(shardId, streamArn, records.slice(0, half));
      await invoke(shardId, streamArn, records.slice(half));
    }
    expect(await deps().broadcasts.counts('demo', broadcastId, new Date())).toEqual(before);
    expect(nonZero((await api.get(`/v1/broadcasts/${broadcastId}`)).body.counts)).toEqual(await tally(broadcastId));
  }, 60_000);

  it('count the part of a batch after what was counted, when a batch straddles it', async () => {
    const change = (sequence: number, status: string, old?: string): StreamChange => ({
      eventName: old ? 'MODIFY' : 'INSERT',
      sequenceNumber: String(sequence),
      newImage: { entity: 'message', operatorId: 'demo', broadcastId: 'straddled', status, updatedAt: new Date().toISOString(), cost: { amount: 7 } },
      ...(old ? { oldImage: { entity: 'message', operatorId: 'demo', broadcastId: 'straddled', status: old, cost: { amount: 7 } } } : {}),
    });
    const batch = [change(98, 'queued'), change(99, 'queued'), change(100, 'queued'), change(101, 'sent', 'queued'), change(102, 'sent', 'queued')];
    const [first] = broadcastCountChanges(batch.slice(0, 3));
    expect(await deps().broadcasts.applyStreamCounts(first!, 'lane-1')).toBe('applied');
    // Records 100..102 again after a crash: 100 was counted, 101 and 102 were not.
    const [straddling] = broadcastCountChanges(batch.slice(2));
    expect(straddling!.minSequence).toBe(padSequence('100'));
    expect(await deps().broadcasts.applyStreamCounts(straddling!, 'lane-1')).toBe('applied');
    expect(await deps().broadcasts.applyStreamCounts(straddling!, 'lane-1')).toBe('already-counted');
    const counts = await deps().broadcasts.counts('demo', 'straddled', new Date());
    expect(counts).toMatchObject({ queued: 1, sent: 2, spent: 14 });
  });

  it('come from a stream that the table of an older data directory gains at start', async () => {
    const { env } = stack;
    const dynamodb = new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB!, region: env.AWS_REGION!, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! } });
    try {
      const TableName = `${env.TABLE_NAME}-old`;
      // As an earlier version created it: no stream.
      await dynamodb.send(new CreateTableCommand({ TableName, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }] }));
      await ensureTable(dynamodb, TableName);
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName }));
      expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
      expect(Table?.LatestStreamArn).toBeDefined();
      await dynamodb.send(new DeleteTableCommand({ TableName }));
    } finally {
      dynamodb.destroy();
    }
  });

  it('are right after a cancel, and read messages the stream has not counted yet as queued, so a broadcast never completes early', async () => {
    const tasks: Array<{ queue: string; task: BroadcastTask }> = [];
    // The sends are kept back: the messages wait, queued, until the cancel.
    const queue: TaskQueue = { enqueue: async (name, list) => void tasks.push(...list.map((task) => ({ queue: name, task: task as BroadcastTask }))) };
    const d = { ...deps(), queue };
    const operator = (await d.operators.get('demo'))!;
    const { body } = await createBroadcast(d, operator, { kind: 'broadcast', filter: { zone: [ZONE] }, channel: 'sms', text: 'Never mind', category: 'transactional', dryRun: false });
    for (let next = tasks.find((t) => t.task.type === 'plan'); next; next = tasks.find((t) => t.task.type === 'plan')) {
      tasks.splice(tasks.indexOf(next), 1);
      await runBroadcastTask(d, next.task);
    }
    for (const page of tasks.filter((t) => t.task.type === 'expand')) await runBroadcastTask(d, page.task);
    // At once, whether or not the stream has been read: all written, none left, so queued.
    const written = await api.get(`/v1/broadcasts/${body.id}`);
    expect(written.body.counts).toMatchObject({ queued: CUSTOMERS, sent: 0, cancelled: 0 });
    expect(written.body.state).toBe('sending');
    expect((await api.post(`/v1/broadcasts/${body.id}/cancel`)).body.state).toBe('cancelled');
    const view = await waitFor(() => api.get(`/v1/broadcasts/${body.id}`), (r) => r.body.counts.cancelled === CUSTOMERS, 30_000);
    expect(view.body.counts).toEqual({ queued: 0, sent: 0, delivered: 0, read: 0, failed: 0, cancelled: CUSTOMERS });
    expect(view.body.spent.amount).toBe(0);
    expect(nonZero(view.body.counts)).toEqual(await tally(String(body.id)));
  }, 60_000);
});
