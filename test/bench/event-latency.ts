/**
 * Event → provider latency: BENCH_EVENT_COUNT `payment.received` events (default 1,000) posted to
 * POST /v1/events, BENCH_EVENT_CONCURRENCY at a time (default 4), with a rule that sends a receipt
 * by SMS. The provider is a local HTTP gateway that answers at once and notes when each message
 * reaches it. Prints p50/p99/max of: the POST itself, reply → provider (the queue and the sender),
 * and event → provider (the whole), against the goal of p99 ≤ 50 ms.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { deps } from '../../shared/deps.js';
import { putEventRule } from '../../shared/services/event-rules.js';
import { putTemplate } from '../../shared/services/templates.js';
import { withLocalGateway } from './local-gateway.js';

const count = Number(process.env.BENCH_EVENT_COUNT ?? 1000);
const concurrency = Number(process.env.BENCH_EVENT_CONCURRENCY ?? 4);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const figures = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`;
};

export async function benchEventLatency(): Promise<void> {
  const arrived = new Map<string, number>();
  const provider = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { messageId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messageId: string };
      arrived.set(messageId, performance.now());
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: randomBytes(6).toString('hex') }));
    });
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  const port = (provider.address() as AddressInfo).port;

  try {
    await withLocalGateway(port, { name: 'Local gateway', body: { to: '{{to}}', text: '{{text}}', messageId: '{{messageId}}' }, maxPerSecond: 10_000 }, async ({ apiKey, baseUrl }) => {
      const d = deps();
      const operator = (await d.operators.get('demo'))!;
      await putTemplate(d, operator, 'bench-receipt', { name: 'Receipt', channel: 'sms', body: 'Dear {{customer.name}}, we received BDT {{amountFormatted}} by {{method}}, receipt {{receiptNumber}}.' });
      await putEventRule(d, operator, 'payment.received', { enabled: true, channels: [{ channel: 'sms', templateId: 'bench-receipt' }] });
      const customers = (await d.customers.list('demo', {}, 20)).items.map((c) => c.id);
      const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
      const runId = randomBytes(3).toString('hex');

      const sent: Array<{ messageId: string; postedAt: number; repliedAt: number }> = [];
      let next = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < count) {
            const i = next++;
            const event = {
              id: `bench-${runId}-${i}`,
              type: 'payment.received',
              customerId: customers[i % customers.length],
              occurredAt: new Date().toISOString(),
              data: { amount: 50_000 + i, currency: 'BDT', method: 'mobile', receiptNumber: `R-${i}` },
            };
            const postedAt = performance.now();
            const reply = await fetch(`${baseUrl}/v1/events`, { method: 'POST', headers, body: JSON.stringify(event) });
            const repliedAt = performance.now();
            if (reply.status !== 202) throw new Error(`POST /v1/events answered ${reply.status}: ${await reply.text()}`);
            const body = (await reply.json()) as { messages: Array<{ id: string }> };
            sent.push({ messageId: body.messages[0]!.id, postedAt, repliedAt });
          }
        }),
      );
      const posted = performance.now();
      const deadline = posted + 120_000;
      while (sent.some((s) => !arrived.has(s.messageId)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const done = sent.filter((s) => arrived.has(s.messageId));
      const whole = done.map((s) => arrived.get(s.messageId)! - s.postedAt);
      const p99 = [...whole].sort((a, b) => a - b)[Math.min(whole.length - 1, Math.floor(0.99 * whole.length))]!;
      console.log(
        `events    ${done.length}/${count} payment.received events, concurrency ${concurrency}, ${(count / ((posted - start) / 1000)).toFixed(0)} events/s:\n` +
          `events      POST /v1/events (effects, rule, message stored and queued): ${figures(sent.map((s) => s.repliedAt - s.postedAt))}\n` +
          `events      reply → provider call (SQS, poller, sender):               ${figures(done.map((s) => arrived.get(s.messageId)! - s.repliedAt))}\n` +
          `events      event → provider call:                                     ${figures(whole)} (goal p99 ≤ 50 ms: ${p99 <= 50 ? 'met' : 'not met'})`,
      );
    });
  } finally {
    provider.close();
  }
}
