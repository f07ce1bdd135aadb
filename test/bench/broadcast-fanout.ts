/**
 * Broadcast fan-out on the local stack (issue 10): BENCH_BROADCAST_CUSTOMERS customers (default
 * 10,000) seeded with BatchWriteItem, a personalised template, the sandbox gateway answering at once
 * and unthrottled; then POST /v1/broadcasts and GET /v1/broadcasts/{id} until every message has left.
 * Prints recipients per second from the POST until every message is sent, DynamoDB Local's raw
 * BatchWriteItem rate for as many message-sized items (and the ratio, goal at least 0.5), the peak
 * RSS of this process, and what the broadcast would cost on AWS per million delivered messages
 * (test/bench/aws-cost.ts), next to a few single sends for the baseline.
 * BENCH_BROADCAST_SINGLES (default 200; 0 skips the baseline), BENCH_BROADCAST_TIMEOUT_S (default 1800: stops
 * waiting then, or after 90 s without progress, and says how far it got).
 */
import { performance } from 'node:perf_hooks';
import { BatchWriteItemCommand, DynamoDBClient, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { deps } from '../../shared/deps.js';
import type { Customer } from '../../shared/domain/records.js';
import { startLocalRuntime, type LocalRuntime } from '../../shared/local/runtime.js';
import { seedDemo } from '../../shared/local/seed.js';
import { installAwsMeter, metering, oneAtATime, price, printCost } from './aws-cost.js';
import { cpuSpan, describeCpu, type CpuSpan } from './process-cpu.js';

const customerCount = Number(process.env.BENCH_BROADCAST_CUSTOMERS ?? 10_000);
const singles = Number(process.env.BENCH_BROADCAST_SINGLES ?? 200);
const ZONE = 'BenchZone';
/** A few customers of their own for the timing run (durations one invocation at a time). */
const CALIBRATION_ZONE = 'BenchTiming';
const calibrationCount = Number(process.env.BENCH_BROADCAST_TIMING_CUSTOMERS ?? 300);
const TEMPLATE_ID = 'bench-reminder';
/** The goal for a broadcast message, provider fees excluded. */
const GOAL_PER_MILLION = 3;

type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

function apiOf(baseUrl: string, apiKey: string): Api {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  return async (method, path, body) => {
    const reply = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await reply.text();
    return { status: reply.status, body: text ? JSON.parse(text) : undefined };
  };
}

async function expectStatus(reply: Promise<{ status: number; body: any }>, status: number | number[], what: string) {
  const r = await reply;
  if (![status].flat().includes(r.status)) throw new Error(`${what} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Numbers the sandbox delivers: endings 0000 (never delivered), 1111 (rejected) and 9999 (gateway down) are skipped. */
function* deliverableNumbers(start: number): Generator<string> {
  for (let n = start; ; n++) {
    const ending = String(n % 10_000).padStart(4, '0');
    if (ending !== '0000' && ending !== '1111' && ending !== '9999') yield `0171${String(n).padStart(7, '0')}`;
  }
}

/** Counts the webhook requests the sandbox's receipts make: each is a Webhooks invocation through its function URL on AWS. */
function meterWebhooks(baseUrl: string): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(`${baseUrl}/webhooks/`)) return original(input, init);
    const t0 = performance.now();
    const reply = await original(input, init);
    // On AWS providers call the Webhooks function's URL (WEBHOOK_BASE_URL): a Lambda invocation, no API Gateway request.
    metering.functionUrl('Webhooks', performance.now() - t0);
    return reply;
  };
  return () => {
    globalThis.fetch = original;
  };
}

function sampleRss(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

async function seedCustomers(count: number, zone = ZONE, offset = 0, idPrefix = 'bench'): Promise<number> {
  const d = deps();
  const now = new Date().toISOString();
  const numbers = deliverableNumbers(2_000_000);
  const t0 = performance.now();
  const CHUNK = 500;
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < count) {
        const start = next;
        next += CHUNK;
        const chunk: Customer[] = [];
        for (let i = start; i < Math.min(start + CHUNK, count); i++) {
          chunk.push({
            id: `${idPrefix}-${String(offset + i + 1).padStart(6, '0')}`,
            name: `Customer ${i + 1}`,
            mobile: '',
            status: 'active',
            zone,
            package: i % 2 === 0 ? 'Home 20 Mbps' : 'Home 40 Mbps',
            expiresAt: '2026-12-31',
            createdAt: now,
            updatedAt: now,
          });
        }
        // Numbers in id order, whichever worker takes the chunk.
        // Stored as the import stores them (E.164).
        chunk.forEach((c, j) => (c.mobile = `+88${mobileAt(numbers, offset + start + j)}`));
        await d.customers.putMany('demo', chunk);
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

const mobiles: string[] = [];
function mobileAt(numbers: Generator<string>, i: number): string {
  while (mobiles.length <= i) mobiles.push(numbers.next().value as string);
  return mobiles[i]!;
}

/** Writes `count` copies of a message item (same size and index keys) with BatchWriteItem, 25 a request, 4 requests at a time. */
async function rawBatchWriteRate(runtime: LocalRuntime, sample: Record<string, AttributeValue>, count: number): Promise<{ perSecond: number; bytes: number; cpu: ReturnType<CpuSpan['stop']> }> {
  const client = rawClient(runtime);
  const table = runtime.env.TABLE_NAME!;
  const copy = (i: number): Record<string, AttributeValue> => {
    const item: Record<string, AttributeValue> = { ...sample };
    const suffix = `#RAW${String(i).padStart(7, '0')}`;
    // Unique keys of the same length, in the table and in each index the message is in.
    for (const name of Object.keys(item)) {
      if ((name === 'sk' || /^gsi\d+sk$/.test(name)) && item[name]!.S !== undefined) item[name] = { S: item[name]!.S!.slice(0, -suffix.length) + suffix };
    }
    // Not a broadcast's message (the same bytes under another name): the counters' stream function
    // passes it by, so its work is not timed as DynamoDB Local's, nor are the copies counted as sent.
    if (item.broadcastId) {
      item.rawCopyOf = item.broadcastId;
      delete item.broadcastId;
    }
    return item;
  };
  const bytes = JSON.stringify(sample).length;
  try {
    let next = 0;
    const t0 = performance.now();
    const cpu = cpuSpan();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < count) {
          const start = next;
          next += 25;
          let requests = Array.from({ length: Math.min(25, count - start) }, (_, j) => ({ PutRequest: { Item: copy(start + j) } }));
          while (requests.length > 0) {
            const reply = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
            requests = (reply.UnprocessedItems?.[table] ?? []) as typeof requests;
          }
        }
      }),
    );
    return { perSecond: count / ((performance.now() - t0) / 1000), bytes, cpu: cpu.stop() };
  } finally {
    client.destroy();
  }
}

/** A DynamoDB client apart from the app's: its requests are not counted. */
function rawClient(runtime: LocalRuntime): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: runtime.env.AWS_ENDPOINT_URL_DYNAMODB,
    region: runtime.env.AWS_REGION,
    credentials: { accessKeyId: runtime.env.AWS_ACCESS_KEY_ID!, secretAccessKey: runtime.env.AWS_SECRET_ACCESS_KEY! },
  });
}

async function readMessageItem(runtime: LocalRuntime, messageId: string): Promise<Record<string, AttributeValue>> {
  const client = rawClient(runtime);
  try {
    const reply = await client.send(new GetItemCommand({ TableName: runtime.env.TABLE_NAME!, Key: { pk: { S: 'OP#demo' }, sk: { S: `MSG#${messageId}` } } }));
    if (!reply.Item) throw new Error(`Message ${messageId} is not in the table.`);
    return reply.Item;
  } finally {
    client.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The broadcast's progress until `done` holds, `timeoutMs` passes or nothing moved for `stallMs`; answers the last reply. */
async function pollBroadcast(api: Api, id: string, done: (b: any) => boolean, timeoutMs: number, onPoll: () => void, stallMs = 90_000): Promise<{ body: any; finished: boolean }> {
  const t0 = performance.now();
  let lastMove = t0;
  let last = '';
  for (;;) {
    const body = await expectStatus(api('GET', `/v1/broadcasts/${id}`), 200, 'GET /v1/broadcasts/{id}');
    onPoll();
    if (done(body)) return { body, finished: true };
    const now = performance.now();
    const seen = JSON.stringify(body.counts);
    if (seen !== last) [last, lastMove] = [seen, now];
    if (now - t0 > timeoutMs || now - lastMove > stallMs) return { body, finished: false };
    await sleep(500);
  }
}

/** Powertools prints this on every worker batch that recorded no metric (locally, metrics are off), on its own console: not a figure. */
function quietMetricsNotice(): () => void {
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  streams.forEach((stream, i) => {
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      typeof chunk === 'string' && chunk.startsWith('No application metrics to publish') ? true : (writes[i] as any).call(stream, chunk, ...rest)) as typeof stream.write;
  });
  return () => streams.forEach((stream, i) => (stream.write = writes[i]!));
}

const timeoutSeconds = Number(process.env.BENCH_BROADCAST_TIMEOUT_S ?? 1800);

export async function benchBroadcastFanout(): Promise<void> {
  installAwsMeter();
  const loud = quietMetricsNotice();
  const runtime = await startLocalRuntime({ port: 0, quiet: true, retryDelaySeconds: 1, workerConcurrency: 'catalog' });
  const unmeterWebhooks = meterWebhooks(runtime.baseUrl);
  try {
    console.log(`broadcast stack: DynamoDB Local in memory (no dataDir), local SQS server in process, each worker up to its catalog maxConcurrency (at most 4) batches at once; ${customerCount.toLocaleString('en')} customers`);
    const { apiKey } = await seedDemo({});
    const api = apiOf(runtime.baseUrl, apiKey);
    // Throughput, not the operator's limits, is measured: lift them.
    await expectStatus(api('PATCH', '/v1/settings', { limits: { requestsPerSecond: 1000, messagesPerDay: 10_000_000 } }), 200, 'PATCH /v1/settings');
    const gateways = (await expectStatus(api('GET', '/v1/gateways'), 200, 'GET /v1/gateways')).items as any[];
    const sms = gateways.find((g) => g.channel === 'sms' && g.default) ?? gateways.find((g) => g.channel === 'sms');
    const lifted = await expectStatus(
      api('PUT', `/v1/gateways/${sms.id}`, { name: sms.name, channel: 'sms', provider: sms.provider, settings: { ...sms.settings, deliveryDelayMs: 0 }, default: true, maxPerSecond: 10_000 }),
      200,
      'PUT /v1/gateways/{id}',
    );
    console.log(`broadcast gateway ${sms.provider} ${sms.id}: maxPerSecond ${sms.maxPerSecond} -> ${lifted.maxPerSecond}, receipt delay ${sms.settings.deliveryDelayMs} ms -> 0`);
    await expectStatus(
      api('PUT', `/v1/templates/${TEMPLATE_ID}`, { name: 'Bench reminder', channel: 'sms', body: 'Dear {{customer.name}} ({{customer.id}}), your {{customer.package}} line expires on {{customer.expiresAt}}. {{operator.name}}' }),
      [200, 201],
      'PUT /v1/templates/{id}',
    );
    const seedSeconds = await seedCustomers(customerCount);
    console.log(`broadcast seeded ${customerCount.toLocaleString('en')} customers with BatchWriteItem in ${seedSeconds.toFixed(1)} s (${Math.round(customerCount / seedSeconds).toLocaleString('en')}/s)`);
    // First in the status index ("a-…" before "bench-…"), so the timing broadcast's estimate finds them in its first pages.
    await seedCustomers(calibrationCount, CALIBRATION_ZONE, customerCount, 'a-timing');
    await sleep(1000); // let the start-up requeue and first reconciler pass settle before counting

    const rss = sampleRss();
    const meter = metering.start();
    const cpu = cpuSpan();
    let polls = 0;
    const t0 = performance.now();
    const posted = await expectStatus(api('POST', '/v1/broadcasts', { name: 'Bench broadcast', filter: { zone: [ZONE] }, channel: 'sms', templateId: TEMPLATE_ID }), 202, 'POST /v1/broadcasts');
    metering.http('POST /v1/broadcasts', 'BroadcastsApi', performance.now() - t0);
    const { body: sent, finished } = await pollBroadcast(api, posted.id, (b) => b.state === 'completed' && b.counts.queued === 0, timeoutSeconds * 1000, () => polls++);
    const tSent = performance.now();
    const cpuUntilSent = cpu.stop();
    const left = sent.counts.sent + sent.counts.delivered + (sent.counts.read ?? 0);
    const seconds = (tSent - t0) / 1000;
    const rate = left / seconds;
    console.log(
      `broadcast ${posted.recipients.toLocaleString('en')}${posted.countComplete === false ? '+ (counted for 5 s)' : ''} recipients: ${left.toLocaleString('en')} sent in ${seconds.toFixed(1)} s from the POST = ${rate.toFixed(1)} recipients/s ` +
        `(${finished ? '' : 'STOPPED BEFORE THE END: '}state ${sent.state}, queued ${sent.counts.queued}, failed ${sent.counts.failed}; polled every 0.5 s)`,
    );
    // The receipts (cost is per delivered message), and the pages' settlement (one debit per page, once its messages left).
    const { body: delivered } = await pollBroadcast(
      api,
      posted.id,
      (b) => b.counts.sent === 0 && (b.state === 'completed' || !finished) && b.billing.settled >= b.billing.pages,
      300_000,
      () => polls++,
    );
    const tDelivered = performance.now();
    metering.stop();
    const peakRss = rss.stop();
    console.log(
      `broadcast ${delivered.counts.delivered.toLocaleString('en')} delivered and ${delivered.billing.settled}/${delivered.billing.pages} pages debited ${((tDelivered - t0) / 1000).toFixed(1)} s after the POST (sent ${delivered.counts.sent}, failed ${delivered.counts.failed})`,
    );
    console.log(`broadcast peak RSS of this process (API, workers, SQS server; DynamoDB Local is a separate Java process): ${(peakRss / 1024 / 1024).toFixed(0)} MB`);

    // DynamoDB Local's own rate for as many items like the broadcast's messages.
    const first = await expectStatus(api('GET', `/v1/messages?broadcastId=${posted.id}&limit=1`), 200, 'GET /v1/messages');
    const item = await readMessageItem(runtime, first.items[0].id);
    // As many items as messages were made (the POST's count is a lower bound for a huge audience).
    const made = Object.values(delivered.counts as Record<string, number>).reduce((n, v) => n + v, 0);
    const raw = await rawBatchWriteRate(runtime, item, made);
    console.log(`broadcast DynamoDB Local raw BatchWriteItem: ${made.toLocaleString('en')} message items (~${raw.bytes} bytes as JSON, same index keys), 25 a request, 4 in parallel: ${raw.perSecond.toFixed(0)} items/s`);
    console.log(`broadcast ratio recipients/s to raw BatchWriteItem items/s: ${(rate / raw.perSecond).toFixed(3)} (goal at least 0.5)`);
    // Which side bounds the ratio: CPU per message against CPU per raw item.
    const perItem = (span: { node: number; java: number | undefined }, n: number) => `${((span.node / n) * 1000).toFixed(2)} ms here, ${span.java === undefined ? '?' : ((span.java / n) * 1000).toFixed(2)} ms in DynamoDB Local`;
    console.log(`broadcast CPU from the POST until all sent (2 cores): ${describeCpu(cpuUntilSent)}; per message ${perItem(cpuUntilSent, left)}`);
    console.log(`broadcast CPU of the raw BatchWriteItem: ${describeCpu(raw.cpu)}; per item ${perItem(raw.cpu, made)}`);

    console.log(`cost      broadcast: counted from the POST to the last receipt; includes ${polls} GET /v1/broadcasts/{id} polls' DynamoDB reads (not their API requests)`);
    // Lambda is billed by each invocation's duration in its own environment; here every handler shares
    // one event loop (and 2 cores with DynamoDB Local), so under load a handler's wall time counts the
    // others' work too. A second, small broadcast runs its invocations one at a time to time them.
    const durations = await oneAtATime(async () => {
      const timing = await expectStatus(api('POST', '/v1/broadcasts', { name: 'Bench timing', filter: { zone: [CALIBRATION_ZONE] }, channel: 'sms', templateId: TEMPLATE_ID }), 202, 'POST /v1/broadcasts');
      await pollBroadcast(api, timing.id, (b) => b.state === 'completed' && b.counts.queued === 0 && b.counts.sent === 0 && b.billing.settled >= b.billing.pages, 600_000, () => undefined);
    });
    console.log(
      `cost      broadcast: Lambda durations one invocation at a time (a ${calibrationCount}-recipient broadcast run so): ` +
        [...durations].map(([fn, ms]) => `${fn} ${ms.toFixed(0)} ms`).join(', '),
    );
    const underLoad = price(meter).total;
    console.log(`cost      broadcast: with the durations measured under the run's load instead: $${((underLoad / delivered.counts.delivered) * 1e6).toFixed(2)} per million`);
    printCost('broadcast', meter, delivered.counts.delivered, `goal at most $${GOAL_PER_MILLION.toFixed(2)}`, durations);

    if (singles > 0) await singleSendBaseline(api, runtime);
  } finally {
    unmeterWebhooks();
    await runtime.stop();
    loud();
  }
}

/** The same count for single sends (POST /v1/messages), next to the issue's $11 baseline. */
async function singleSendBaseline(api: Api, runtime: LocalRuntime): Promise<void> {
  const numbers = deliverableNumbers(5_000_000);
  const meter = metering.start();
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      while (next < singles) {
        next++;
        const t0 = performance.now();
        const body = await expectStatus(api('POST', '/v1/messages', { mobile: numbers.next().value, text: 'Your bill of 500 BDT is due on 5 December.' }), 202, 'POST /v1/messages');
        metering.http('POST /v1/messages', 'MessagesApi', performance.now() - t0);
        ids.push(body.id);
      }
    }),
  );
  // Polled with a client of its own, so the polls stay out of the count.
  const client = rawClient(runtime);
  const pending = new Set(ids);
  const t0 = performance.now();
  try {
    while (pending.size > 0 && performance.now() - t0 < 120_000) {
      await sleep(500);
      for (const id of [...pending]) {
        const { Item } = await client.send(new GetItemCommand({ TableName: runtime.env.TABLE_NAME!, Key: { pk: { S: 'OP#demo' }, sk: { S: `MSG#${id}` } } }));
        if (Item?.status?.S === 'delivered' || Item?.status?.S === 'failed') pending.delete(id);
      }
    }
  } finally {
    client.destroy();
    metering.stop();
  }
  console.log(`cost      single: ${singles - pending.size}/${singles} POST /v1/messages (5 at a time) reached a final status`);
  printCost('single', meter, singles - pending.size, 'the issue measured about $11.00 before this work');
}
