/**
 * What the send path shares between the sends a process has in flight, against DynamoDB Local and the
 * local SQS server: the sandbox's journal entries written together (each put still returns once its
 * entry is stored), one circuit read for many sends, a send whose clock lags the rate lease counted in
 * the newer second, and SendMessageBatch calls cut by size as well as count.
 */
import { randomBytes } from 'node:crypto';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { documentClient } from '../../shared/adapters/dynamodb/client.js';
import { onSqsClient, sqsTaskQueue } from '../../shared/adapters/sqs/task-queue.js';
import { config } from '../../shared/config.js';
import { deps } from '../../shared/deps.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>> | undefined;
/** Requests by command name, of the app's DynamoDB and SQS clients. */
const requests = new Map<string, number>();
const unhook: Array<() => void> = [];
const counted = (name: string) => requests.get(name) ?? 0;

beforeAll(async () => {
  stack = await startTestStack('send-path-batching', { workers: false });
  const count = (client: { middlewareStack: { add: Function } }) =>
    client.middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        requests.set(context.commandName ?? '?', counted(context.commandName ?? '?') + 1);
        return next(args);
      },
      { step: 'initialize', name: 'countRequests' },
    );
  unhook.push(onDocumentClient(count), onSqsClient(count));
}, 60_000);
afterAll(async () => {
  unhook.forEach((off) => off());
  await stack?.stop();
});

const uniqueGateway = () => `01TEST${randomBytes(6).toString('hex').toUpperCase()}`;

describe("the sandbox's journal", () => {
  it('writes the entries of sends in flight together, 25 a request, each readable once its put returned', async () => {
    const journal = deps().journal(uniqueGateway());
    const before = { batch: counted('BatchWriteItemCommand'), put: counted('PutItemCommand') };
    await Promise.all(Array.from({ length: 60 }, (_, i) => journal.put(`msg#${i}`, { outcome: 'DELIVERED', providerMessageId: `sbx_${i}`, at: '2026-11-28T00:00:00.000Z' })));
    expect(counted('BatchWriteItemCommand') - before.batch).toBe(3);
    expect(counted('PutItemCommand') - before.put).toBe(0);
    for (const i of [0, 24, 25, 59]) expect(await journal.get(`msg#${i}`)).toEqual({ outcome: 'DELIVERED', providerMessageId: `sbx_${i}`, at: '2026-11-28T00:00:00.000Z' });
  });

  it('keeps the last of two puts of one entry made together', async () => {
    const journal = deps().journal(uniqueGateway());
    await Promise.all([journal.put('msg#same', { outcome: 'REJECTED', at: '1' }), journal.put('msg#same', { outcome: 'DELIVERED', providerMessageId: 'sbx_2', at: '2' })]);
    expect(await journal.get('msg#same')).toEqual({ outcome: 'DELIVERED', providerMessageId: 'sbx_2', at: '2' });
  });

  it('fails the put whose entry could not be stored, and only the puts of its request', async () => {
    const journal = deps().journal(uniqueGateway());
    // Over DynamoDB's 400 KB item limit: refused.
    const tooBig = journal.put('msg#big', { outcome: 'DELIVERED', at: 'x'.repeat(410_000) });
    await expect(tooBig).rejects.toThrow();
    expect(await journal.get('msg#big')).toBeUndefined();
    await journal.put('msg#small', { outcome: 'FAILED', at: '3' });
    expect(await journal.get('msg#small')).toEqual({ outcome: 'FAILED', at: '3' });
  });
});

describe('gateway circuits', () => {
  it('reads a circuit once for the sends that find it stale together, and still sees a fault recorded here at once', async () => {
    const gateway = uniqueGateway();
    const now = new Date().toISOString();
    const before = counted('BatchGetItemCommand');
    const states = await Promise.all(Array.from({ length: 30 }, () => deps().circuits.state([gateway], now)));
    expect(counted('BatchGetItemCommand') - before).toBe(1);
    expect(states.every((s) => s.open.size === 0 && s.slowed.size === 0)).toBe(true);

    // Opened by this process: seen at once, not after the cached "closed" runs out.
    for (let i = 0; i < 3; i++) await deps().circuits.recordFault(gateway, now);
    expect((await deps().circuits.state([gateway], now)).open.has(gateway)).toBe(true);
  });
});

describe('the gateway rate', () => {
  const counter = async (gateway: string, second: number) =>
    (await documentClient().send(new GetCommand({ TableName: config().TABLE_NAME, Key: { pk: `GW#${gateway}`, sk: `#RATE#${second}` } }))).Item?.sent;

  it('counts a send whose clock lags the lease by a second in the newer second, and one far behind in its own', async () => {
    const gateway = uniqueGateway();
    const second = Math.floor(Date.now() / 1000) + 30;
    const at = (s: number) => new Date(s * 1000 + 500);
    const before = counted('UpdateItemCommand');
    // maxPerSecond 100: a lease of ten tokens.
    expect(await deps().gatewayRate.take(gateway, 100, at(second))).toBe(true);
    expect(await deps().gatewayRate.take(gateway, 100, at(second - 1))).toBe(true);
    expect(counted('UpdateItemCommand') - before).toBe(1);
    expect(await counter(gateway, second)).toBe(10);
    expect(await counter(gateway, second - 1)).toBeUndefined();

    expect(await deps().gatewayRate.take(gateway, 100, at(second - 10))).toBe(true);
    expect(await counter(gateway, second - 10)).toBe(1);
  });
});

describe('the task queue', () => {
  it('cuts a SendMessageBatch by its 256 KiB as well as by ten entries, and every task arrives whole', async () => {
    const tasks = Array.from({ length: 10 }, (_, i) => ({ type: 'expand', index: i, rows: 'r'.repeat(60_000) }));
    const before = counted('SendMessageBatchCommand');
    await sqsTaskQueue.enqueue('broadcasts', tasks);
    // Four of about 60 KB fit under 256 KiB: 4 + 4 + 2.
    expect(counted('SendMessageBatchCommand') - before).toBe(3);

    const sqs = new SQSClient({ endpoint: stack!.env.AWS_ENDPOINT_URL_SQS, region: stack!.env.AWS_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      const seen: number[] = [];
      for (let round = 0; round < 10 && seen.length < 10; round++) {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: config().queueUrl('broadcasts'), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        for (const message of Messages) {
          const task = JSON.parse(message.Body!);
          expect(task.rows).toHaveLength(60_000);
          seen.push(task.index);
        }
      }
      expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      sqs.destroy();
    }
  });
});
