/**
 * What a run would cost on AWS: SDK middleware counts every DynamoDB and SQS request by operation and
 * by what it touches (the item kind from its key, the queue), with the capacity DynamoDB reports
 * (ReturnConsumedCapacity TOTAL); the Lambda invocations the run implies (one per SQS batch a worker
 * took, one per API or webhook request) with their measured durations, and the API Gateway requests
 * (not for webhooks through a Lambda function URL, which has no charge of its own), the stream functions'
 * invocations as the local stream poller reports them; then prices from aws-prices.ts.
 *
 * What exists only on the local stack is counted apart and left out of the price: the sandbox
 * provider's own journal and its receipt queue (a real provider keeps its own), the local scheduler's
 * table items (EventBridge Scheduler on AWS), and empty receives (idle polling; on AWS the event source
 * mapping long-polls 20 s, a cost per hour, not per message).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_MEMORY_MB, eventFunctions, httpFunctions, scheduledFunctions, streamFunctions, workerFunctions } from '../../shared/catalog.js';
import { onDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { onSqsClient } from '../../shared/adapters/sqs/task-queue.js';
import { onStreamInvocation } from '../../shared/local/stream-event.js';
import { awsPrices } from './aws-prices.js';

/** Lambda memory of a function, as the catalog gives it to CDK (lib/constructs/lambda-function.ts). */
function memoryMbOf(fn: string): number {
  const spec = [...httpFunctions, ...workerFunctions, ...scheduledFunctions, ...eventFunctions, ...streamFunctions].find((f) => f.id === fn) as { memoryMb?: number } | undefined;
  return spec?.memoryMb ?? DEFAULT_MEMORY_MB;
}

const READ_OPS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITE_OPS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const DOCUMENT_NAMES: Record<string, string> = { Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', BatchGet: 'BatchGetItem', BatchWrite: 'BatchWriteItem', TransactWrite: 'TransactWriteItems', TransactGet: 'TransactGetItems' };

interface DynamoLine { requests: number; units: number; reported: number; estimated: number; failed: number }
interface SqsLine { requests: number; billed: number }
interface LambdaLine { invocations: number; ms: number; timed: number }

/** One run's counts; `local` marks what AWS would not see (sandbox, local scheduler, idle polls). */
export class Meter {
  dynamo = new Map<string, DynamoLine>();
  sqs = new Map<string, SqsLine>();
  lambda = new Map<string, LambdaLine>();
  http = new Map<string, number>();
  /** Requests through a Lambda function URL, by function: no charge beyond the invocation. */
  functionUrl = new Map<string, number>();
  batches = new Map<string, { fn: string; at: number }>();

  dynamoLine(key: string): DynamoLine {
    let line = this.dynamo.get(key);
    if (!line) this.dynamo.set(key, (line = { requests: 0, units: 0, reported: 0, estimated: 0, failed: 0 }));
    return line;
  }
  sqsLine(key: string): SqsLine {
    let line = this.sqs.get(key);
    if (!line) this.sqs.set(key, (line = { requests: 0, billed: 0 }));
    return line;
  }
  invoked(fn: string, ms?: number): void {
    let line = this.lambda.get(fn);
    if (!line) this.lambda.set(fn, (line = { invocations: 0, ms: 0, timed: 0 }));
    line.invocations++;
    if (ms !== undefined) this.timed(fn, ms);
  }
  timed(fn: string, ms: number): void {
    const line = this.lambda.get(fn);
    if (!line) return;
    // Billed per millisecond, rounded up.
    line.ms += Math.max(1, Math.ceil(ms));
    line.timed++;
  }
}

let current: Meter | undefined;
/** Counting starts with a fresh meter; stop() hands it back. */
export const metering = {
  start(): Meter {
    current = new Meter();
    return current;
  },
  stop(): Meter | undefined {
    const meter = current;
    current = undefined;
    return meter;
  },
  /** An HTTP request the app served (API Gateway HTTP API + the route's Lambda function). */
  http(route: string, fn: string, ms: number): void {
    if (!current) return;
    current.http.set(route, (current.http.get(route) ?? 0) + 1);
    current.invoked(fn, ms);
  },
  /** An HTTP request through a function's Lambda function URL: the Lambda invocation only, no API Gateway request. */
  functionUrl(fn: string, ms: number): void {
    if (!current) return;
    current.functionUrl.set(fn, (current.functionUrl.get(fn) ?? 0) + 1);
    current.invoked(fn, ms);
  },
};

const str = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : value && typeof value === 'object' && 'S' in value && typeof value.S === 'string' ? value.S : undefined;

/** The kind of item a key names: MSG, HOLD, #BALANCE, GW #RATE, PJ (the sandbox's journal), ... */
function itemKind(item: Record<string, unknown> | undefined): string {
  const pk = str(item?.pk) ?? '?';
  const sk = str(item?.sk) ?? '';
  const skKind = sk.startsWith('#') ? `#${sk.split('#')[1]}` : sk.split('#')[0]!;
  if (pk.startsWith('OP#') || pk === 'PLATFORM') return skKind;
  return `${pk.split('#')[0]}${sk.startsWith('#') ? ` ${skKind}` : ''}`;
}

/** Items the local stack keeps that AWS would not: the sandbox provider's journal, the local scheduler's schedules. */
const LOCAL_KINDS = new Set(['PJ', 'SCHEDULES']);

function dynamoTarget(op: string, input: Record<string, any>): { kind: string; items: number } {
  switch (op) {
    case 'PutItem':
      return { kind: itemKind(input.Item), items: 1 };
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return { kind: itemKind(input.Key), items: 1 };
    case 'Query':
    case 'Scan':
      return { kind: input.IndexName ?? 'table', items: 1 };
    case 'BatchWriteItem': {
      const requests = Object.values(input.RequestItems ?? {}).flat() as Array<{ PutRequest?: { Item: any }; DeleteRequest?: { Key: any } }>;
      return { kind: itemKind(requests[0]?.PutRequest?.Item ?? requests[0]?.DeleteRequest?.Key), items: requests.length };
    }
    case 'BatchGetItem': {
      const keys = Object.values(input.RequestItems ?? {}).flatMap((entry: any) => entry.Keys ?? []);
      return { kind: itemKind(keys[0]), items: keys.length };
    }
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const parts = (input.TransactItems ?? []).map((t: any) => {
        const [verb, body] = Object.entries(t)[0] as [string, any];
        return `${verb} ${itemKind(body.Item ?? body.Key)}`;
      });
      return { kind: parts.join(' + '), items: parts.length };
    }
    default:
      return { kind: '', items: 1 };
  }
}

type Stack = { add(middleware: unknown, options: { step: 'initialize'; name: string; override: boolean }): void };
const instrumented = new WeakSet<object>();

function addDynamoMiddleware(stack: Stack): void {
  stack.add(
    (next: any, context: any) => async (args: any) => {
      const meter = current;
      if (!meter) return next(args);
      const name = String(context.commandName ?? '').replace(/Command$/, '');
      const op = DOCUMENT_NAMES[name] ?? name;
      const { kind, items } = dynamoTarget(op, args.input ?? {});
      const metered = READ_OPS.has(op) || WRITE_OPS.has(op);
      if (metered) args.input.ReturnConsumedCapacity = 'TOTAL';
      const line = meter.dynamoLine(`${LOCAL_KINDS.has(kind.split(' ')[0]!) ? 'local ' : ''}${op} ${kind}`);
      line.requests++;
      try {
        const result = await next(args);
        const consumed = result.output?.ConsumedCapacity;
        const units = Array.isArray(consumed) ? consumed.reduce((sum: number, c: any) => sum + (c.CapacityUnits ?? 0), 0) : consumed?.CapacityUnits;
        if (typeof units === 'number' && units > 0) {
          line.units += units;
          line.reported++;
        } else if (metered) {
          // Not reported: the smallest charge (1 unit per item; 2 in a transaction).
          line.units += items * (op.startsWith('Transact') ? 2 : 1);
          line.estimated++;
        }
        return result;
      } catch (error) {
        // A failed condition is still charged (AWS: the write units of the item, at least 1); DynamoDB reports none.
        line.failed++;
        if (metered) {
          line.units += items * (op.startsWith('Transact') ? 2 : 1);
          line.estimated++;
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'benchAwsCost', override: true },
  );
}

const queueOf = (url: unknown) => (typeof url === 'string' ? url.slice(url.lastIndexOf('/') + 1) : '?');
const functionOf = (queue: string) => workerFunctions.find((w) => queue.endsWith(w.queue))?.id ?? `worker of ${queue}`;
/** Queues only the sandbox uses (its delivery receipts, scheduled for later). */
const LOCAL_QUEUES = new Set(['provider-callbacks']);

function addSqsMiddleware(stack: Stack): void {
  stack.add(
    (next: any, context: any) => async (args: any) => {
      const meter = current;
      if (!meter) return next(args);
      const op = String(context.commandName ?? '').replace(/Command$/, '');
      const queue = queueOf(args.input?.QueueUrl);
      const local = [...LOCAL_QUEUES].some((q) => queue.endsWith(q));
      const bytes = (op === 'SendMessageBatch' ? (args.input.Entries ?? []).map((e: any) => e.MessageBody) : op === 'SendMessage' ? [args.input.MessageBody] : [])
        .reduce((sum: number, body: string) => sum + Buffer.byteLength(body ?? ''), 0);
      if (op === 'DeleteMessageBatch' || op === 'ChangeMessageVisibilityBatch') {
        // The worker's batch ends when the poller acknowledges it: that is its duration.
        for (const entry of args.input.Entries ?? []) {
          const batch = meter.batches.get(entry.ReceiptHandle);
          if (!batch) continue;
          meter.timed(batch.fn, performance.now() - batch.at);
          for (const [handle, other] of meter.batches) if (other === batch) meter.batches.delete(handle);
          break;
        }
      }
      const result = await next(args);
      let key = `${local ? 'local ' : ''}${op} ${queue}`;
      let billedBytes = bytes;
      if (op === 'ReceiveMessage') {
        const messages: any[] = result.output?.Messages ?? [];
        if (messages.length === 0) key = `idle ReceiveMessage ${queue} (empty)`;
        else {
          billedBytes = messages.reduce((sum, m) => sum + Buffer.byteLength(m.Body ?? ''), 0);
          const fn = `${local ? 'local ' : ''}${functionOf(queue)}`;
          meter.invoked(fn);
          const batch = { fn, at: performance.now() };
          for (const m of messages) meter.batches.set(m.ReceiptHandle, batch);
        }
      }
      const line = meter.sqsLine(key);
      line.requests++;
      line.billed += Math.max(1, Math.ceil(billedBytes / awsPrices.sqs.chunkBytes));
      return result;
    },
    { step: 'initialize', name: 'benchAwsCost', override: true },
  );
}

function instrumentSqs(client: SQSClient): void {
  if (instrumented.has(client)) return;
  instrumented.add(client);
  addSqsMiddleware(client.middlewareStack as Stack);
}

/**
 * Adds the counting middleware to the app's DynamoDB document client and SQS client (through their
 * hooks) and to the local runtime's SQS client, which stands in for Lambda's SQS event source mapping:
 * that one is made inside shared/local/runtime.ts, so it is caught on its first send.
 */
export function installAwsMeter(): void {
  onDocumentClient((client) => {
    if (instrumented.has(client)) return;
    instrumented.add(client);
    addDynamoMiddleware(client.middlewareStack as Stack);
  });
  onSqsClient(instrumentSqs);
  // The local stream poller's handler calls (reading the stream is free for a Lambda trigger: its own requests are not counted).
  onStreamInvocation((fn, ms) => current?.invoked(fn, ms));
  const send = SQSClient.prototype.send;
  SQSClient.prototype.send = function (this: SQSClient, ...args: any[]) {
    instrumentSqs(this);
    return (send as any).apply(this, args);
  } as typeof send;
}

export interface CostLine { service: string; item: string; quantity: string; dollars: number }

/** Each counted item priced; `excluded` lists what the local stack did that AWS would not do per message. */
/**
 * Mean durations (ms) by function, measured one invocation at a time (see oneAtATime): each Lambda
 * invocation runs in its own environment, while the local stack runs all of them on one event loop,
 * where a handler's wall time also counts the others' work.
 */
export type Durations = Map<string, number>;

export function price(meter: Meter, durations?: Durations): { lines: CostLine[]; excluded: string[]; total: number; byService: Record<string, number>; units: { read: number; write: number; reported: number; estimated: number } } {
  const lines: CostLine[] = [];
  const excluded: string[] = [];
  const units = { read: 0, write: 0, reported: 0, estimated: 0 };
  for (const [key, line] of meter.dynamo) {
    if (key.startsWith('local ')) {
      excluded.push(`DynamoDB ${key.slice(6)}: ${line.requests} requests, ${line.units} units (the sandbox's journal or the local scheduler)`);
      continue;
    }
    const op = key.split(' ')[0]!;
    const write = WRITE_OPS.has(op);
    if (write) units.write += line.units;
    else units.read += line.units;
    units.reported += line.reported;
    units.estimated += line.estimated;
    const rate = write ? awsPrices.dynamodb.writeRequestUnit : awsPrices.dynamodb.readRequestUnit;
    lines.push({ service: 'DynamoDB', item: key, quantity: `${line.requests} req, ${round(line.units)} ${write ? 'WRU' : 'RRU'}${line.failed ? `, ${line.failed} failed conditions` : ''}`, dollars: line.units * rate });
  }
  for (const [key, line] of meter.sqs) {
    if (key.startsWith('local ') || key.startsWith('idle ')) {
      excluded.push(`SQS ${key.replace(/^(local|idle) /, '')}: ${line.requests} requests (${key.startsWith('idle') ? 'idle polling' : "the sandbox's receipts"})`);
      continue;
    }
    lines.push({ service: 'SQS', item: key, quantity: `${line.requests} req${line.billed !== line.requests ? ` (${line.billed} billed 64 KB chunks)` : ''}`, dollars: line.billed * awsPrices.sqs.request });
  }
  for (const [fn, line] of meter.lambda) {
    if (fn.startsWith('local ')) {
      excluded.push(`Lambda ${fn.slice(6)}: ${line.invocations} invocations (the sandbox's receipts)`);
      continue;
    }
    // Batches whose end was not seen are priced at the function's mean duration.
    const isolated = durations?.get(fn);
    const mean = isolated ?? (line.timed > 0 ? line.ms / line.timed : 0);
    const ms = isolated !== undefined ? isolated * line.invocations : line.ms + mean * (line.invocations - line.timed);
    const memoryMb = memoryMbOf(fn);
    const gbSeconds = (ms / 1000) * (memoryMb / 1024);
    lines.push({
      service: 'Lambda',
      item: `${fn} (arm64, ${memoryMb} MB)`,
      quantity: `${line.invocations} invocations, mean ${mean.toFixed(0)} ms${isolated !== undefined ? ' (one at a time)' : ''}, ${round(gbSeconds)} GB-s`,
      dollars: line.invocations * awsPrices.lambda.request + gbSeconds * awsPrices.lambda.gbSecondArm64,
    });
  }
  for (const [route, count] of meter.http) {
    lines.push({ service: 'API Gateway', item: `HTTP API ${route}`, quantity: `${count} req`, dollars: count * awsPrices.apiGateway.httpApiRequest });
  }
  for (const [fn, count] of meter.functionUrl) {
    lines.push({ service: 'Lambda', item: `function URL of ${fn}`, quantity: `${count} req (no charge beyond the invocations above)`, dollars: 0 });
  }
  lines.sort((a, b) => b.dollars - a.dollars);
  const byService: Record<string, number> = {};
  for (const line of lines) byService[line.service] = (byService[line.service] ?? 0) + line.dollars;
  return { lines, excluded, total: lines.reduce((sum, l) => sum + l.dollars, 0), byService, units };
}

const round = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** Prints dollars per million delivered messages with the breakdown, one line per figure. */
export function printCost(label: string, meter: Meter, delivered: number, compareWith: string, durations?: Durations): number {
  const { lines, excluded, total, byService, units } = price(meter, durations);
  const perMillion = (dollars: number) => (delivered > 0 ? (dollars / delivered) * 1e6 : NaN);
  console.log(`cost      ${label}: $${perMillion(total).toFixed(2)} per million delivered messages (${compareWith}), AWS us-east-1 on-demand prices, provider fees excluded`);
  console.log(
    `cost      ${label}: per message ${(units.write / delivered).toFixed(2)} DynamoDB write units, ${(units.read / delivered).toFixed(2)} read units ` +
      `(${units.reported} requests reported their capacity, ${units.estimated} estimated at 1 unit per item), ` +
      `${(sumSqs(meter) / delivered).toFixed(2)} SQS requests, ${(sumLambda(meter) / delivered).toFixed(3)} Lambda invocations, ${(sumHttp(meter) / delivered).toFixed(2)} HTTP API requests, ` +
      `${(sumFunctionUrl(meter) / delivered).toFixed(2)} function URL requests`,
  );
  for (const [service, dollars] of Object.entries(byService).sort((a, b) => b[1] - a[1])) {
    console.log(`cost      ${label}: ${service.padEnd(11)} $${perMillion(dollars).toFixed(2)} per million`);
  }
  for (const line of lines) {
    console.log(`cost      ${label}:   $${perMillion(line.dollars).toFixed(3).padStart(7)} per million  ${line.service} ${line.item}: ${line.quantity}`);
  }
  for (const line of excluded) console.log(`cost      ${label}:   not priced  ${line}`);
  return perMillion(total);
}

const sumSqs = (meter: Meter) => [...meter.sqs].filter(([k]) => !k.startsWith('local ') && !k.startsWith('idle ')).reduce((sum, [, l]) => sum + l.requests, 0);
const sumLambda = (meter: Meter) => [...meter.lambda].filter(([k]) => !k.startsWith('local ')).reduce((sum, [, l]) => sum + l.invocations, 0);
const sumHttp = (meter: Meter) => [...meter.http.values()].reduce((sum, n) => sum + n, 0);
const sumFunctionUrl = (meter: Meter) => [...meter.functionUrl.values()].reduce((sum, n) => sum + n, 0);

/**
 * Runs the local stack's invocations one at a time while `work` runs, and returns each function's
 * mean duration (by catalog id): how long a handler takes when nothing else shares its CPU, as in a
 * Lambda environment. Functions that exist only locally (the sandbox's receipts) are not held back.
 */
export async function oneAtATime(work: () => Promise<void>, localOnly: string[] = ['ProviderCallbacksWorker']): Promise<Durations> {
  const { localInvocations } = await import('../../shared/local/lambda-invoke.js');
  const sums = new Map<string, { n: number; ms: number }>();
  const inTurn = new AsyncLocalStorage<boolean>();
  let queue: Promise<void> = Promise.resolve();
  localInvocations.around = async <R>(functionName: string, invoke: () => Promise<R>): Promise<R> => {
    const fn = functionName.replace(/^ispnotify-/, '');
    // A local worker's wrapper invokes its loaded handler again: that inner call is the same turn.
    if (localOnly.includes(fn) || inTurn.getStore()) return invoke();
    const turn = queue;
    let done!: () => void;
    queue = new Promise<void>((resolve) => (done = resolve));
    await turn;
    const t0 = performance.now();
    try {
      return await inTurn.run(true, invoke);
    } finally {
      const sum = sums.get(fn) ?? { n: 0, ms: 0 };
      sum.n++;
      sum.ms += Math.max(1, Math.ceil(performance.now() - t0));
      sums.set(fn, sum);
      done();
    }
  };
  try {
    await work();
  } finally {
    delete localInvocations.around;
  }
  return new Map([...sums].map(([fn, { n, ms }]) => [fn, ms / n]));
}
