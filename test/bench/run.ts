/**
 * npm run bench — figures, not pass/fail:
 *   1. segment counting (pure domain) in texts per second, GSM-7 and UCS-2;
 *   2. the local stack end to end: POST /v1/messages throughput and latency, and the time until
 *      every message is delivered through the sandbox gateway (API → DynamoDB Local → SQS → sender
 *      → provider → signed receipt → webhook).
 *   3. start-up requeue and the history's status filter against the size of the history: both read
 *      a key (the pending index, the status index), so their time must not grow with it.
 *   4. rate-limit adherence of a gateway's maxPerSecond (test/bench/gateway-rate.ts).
 *   5. OTP latency (202 → provider call) with 2,000 bulk SMS queued ahead (test/bench/otp-latency.ts).
 *   6. broadcast fan-out: recipients/s against DynamoDB Local's raw BatchWriteItem rate, peak memory, and AWS
 *      dollars per million delivered messages (test/bench/broadcast-fanout.ts, test/bench/aws-cost.ts).
 *   7. event → provider call latency over 1,000 payment.received events (test/bench/event-latency.ts;
 *      BENCH_EVENT_COUNT (1000), BENCH_EVENT_CONCURRENCY (4); BENCH_ONLY=events).
 * Options: BENCH_MESSAGES (default 300), BENCH_CONCURRENCY (default 10), BENCH_HISTORY (default 20000),
 * BENCH_RATE_LIMIT (default 20), BENCH_RATE_MESSAGES (default 600), BENCH_OTP_BULK (2000), BENCH_OTP_COUNT (30),
 * BENCH_OTP_GAP_MS (200), BENCH_BROADCAST_CUSTOMERS (10000), BENCH_BROADCAST_SINGLES (200);
 *   8. notifier read units per customer reminded, 2,000 due of 200,000 (test/bench/notifier-reads.ts; BENCH_NOTIFIER_CUSTOMERS, BENCH_NOTIFIER_DUE).
 * BENCH_ONLY=segments,pipeline,history,rate,otp,broadcast,events,notifier runs only those.
 * DynamoDB Local runs in memory here (about 4k written items/s; on disk, as npm start runs it, 400-600/s).
 */
import { performance } from 'node:perf_hooks';
import { measureSms } from '../../shared/domain/segments.js';
import { deps } from '../../shared/deps.js';
import { newId } from '../../shared/domain/ids.js';
import type { Message } from '../../shared/domain/records.js';
import { requeueStrandedMessages } from '../../shared/local/requeue-stranded.js';
import { seedDemo } from '../../shared/local/seed.js';
import { listMessages } from '../../shared/services/messages.js';
import { startLocalRuntime } from '../../shared/local/runtime.js';
import { benchGatewayRate } from './gateway-rate.js';
import { benchOtpLatency } from './otp-latency.js';
import { benchNotifierReads } from './notifier-reads.js';
import { benchEventLatency } from './event-latency.js';
import { benchBroadcastFanout } from './broadcast-fanout.js';

const total = Number(process.env.BENCH_MESSAGES ?? 300);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 10);

function benchSegments() {
  const texts = {
    'GSM-7 (300 chars, with € and {})': 'Dear customer, your bill of €12 {Home 20} is due. '.repeat(6),
    'UCS-2 Bangla (125 chars)': 'আপনার বিল ৫০০ টাকা বকেয়া। '.repeat(5),
  };
  for (const [name, text] of Object.entries(texts)) {
    const rounds = 200_000;
    const start = performance.now();
    for (let i = 0; i < rounds; i++) measureSms(text);
    const seconds = (performance.now() - start) / 1000;
    console.log(`segments  ${name}: ${Math.round(rounds / seconds).toLocaleString('en')} texts/s`);
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function benchPipeline() {
  const runtime = await startLocalRuntime({ port: 0, quiet: true, retryDelaySeconds: 1 });
  try {
    const { apiKey } = await seedDemo({});
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    // Throughput, not the operator's limits, is measured: lift them (default 10 requests a second).
    const raised = await fetch(`${runtime.baseUrl}/v1/settings`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ limits: { requestsPerSecond: 1000, messagesPerDay: 10_000_000 } }),
    });
    if (raised.status !== 200) throw new Error(`PATCH /v1/settings answered ${raised.status}: ${await raised.text()}`);
    const latencies: number[] = [];
    const ids: string[] = [];
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          const t0 = performance.now();
          const reply = await fetch(`${runtime.baseUrl}/v1/messages`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ mobile: `0171${String(2000000 + i)}`, text: `Bench message ${i}: your bill is due.` }),
          });
          latencies.push(performance.now() - t0);
          if (reply.status !== 202) throw new Error(`POST /v1/messages answered ${reply.status}: ${await reply.text()}`);
          ids.push(((await reply.json()) as { id: string }).id);
        }
      }),
    );
    const accepted = performance.now();
    const pending = new Set(ids);
    while (pending.size > 0 && performance.now() - start < 300_000) {
      for (const id of [...pending].slice(0, 50)) {
        const reply = await fetch(`${runtime.baseUrl}/v1/messages/${id}`, { headers });
        const status = ((await reply.json()) as { status: string }).status;
        if (status === 'delivered' || status === 'failed') pending.delete(id);
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, 200));
    }
    const done = performance.now();
    latencies.sort((a, b) => a - b);
    console.log(`pipeline  POST /v1/messages: ${total} messages, concurrency ${concurrency}: ${(total / ((accepted - start) / 1000)).toFixed(0)} req/s, latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
    console.log(`pipeline  all ${total - pending.size}/${total} reached a final status ${((done - start) / 1000).toFixed(1)} s after the first request (${((total - pending.size) / ((done - start) / 1000)).toFixed(0)} messages/s end to end, sandbox receipt delay 500 ms, scheduled on the queue in whole seconds)`);
  } finally {
    await runtime.stop();
  }
}

const historySize = Number(process.env.BENCH_HISTORY ?? 20_000);

/** Start-up requeue and a rare-status listing, timed with a small history and again with a large one. */
async function benchHistory() {
  const runtime = await startLocalRuntime({ port: 0, quiet: true, workers: false });
  try {
    await seedDemo({});
    const d = deps();
    const operator = (await d.operators.get('demo'))!;
    const message = (status: Message['status']): Message => {
      const now = new Date(Date.now() - 3_600_000);
      const at = now.toISOString();
      return {
        id: newId(now), operatorId: 'demo', channel: 'sms', to: '+8801711223344', text: 'bench', encoding: 'GSM-7', characters: 5, segments: 1,
        gatewayId: operator.smsGatewayId!, provider: 'sandbox', status, history: [{ status, at }], attempts: 1, createdAt: at, updatedAt: at,
      };
    };
    const write = async (count: number, status: Message['status']) => {
      let next = 0;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next++ < count) await d.messages.create(message(status));
      }));
    };
    const noQueue = { ...d, queue: { enqueue: async () => {} } };
    const measure = async (label: string) => {
      const t0 = performance.now();
      const requeued = await requeueStrandedMessages(noQueue);
      const t1 = performance.now();
      const page = await listMessages(d, operator, { status: 'queued' }, 25);
      const t2 = performance.now();
      console.log(`history   ${label}: start-up requeue of ${requeued} queued ${(t1 - t0).toFixed(0)} ms; GET ?status=queued (${page.items.length} items) ${(t2 - t1).toFixed(0)} ms`);
    };
    await write(50, 'queued');
    await measure('50 messages');
    const t0 = performance.now();
    await write(historySize, 'delivered');
    console.log(`history   wrote ${historySize.toLocaleString('en')} delivered messages in ${((performance.now() - t0) / 1000).toFixed(1)} s (in-memory DynamoDB Local)`);
    await measure(`${(historySize + 50).toLocaleString('en')} messages`);
  } finally {
    await runtime.stop();
  }
}

const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
const benches: Record<string, () => unknown> = { segments: benchSegments, pipeline: benchPipeline, history: benchHistory, rate: benchGatewayRate, otp: benchOtpLatency, broadcast: benchBroadcastFanout, events: benchEventLatency, notifier: benchNotifierReads };
for (const [name, bench] of Object.entries(benches)) if (!only || only.includes(name)) await bench();
