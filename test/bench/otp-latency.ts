/**
 * OTP latency under bulk load: BENCH_OTP_BULK SMS (default 2,000) are queued on the bulk SMS queue
 * (as a broadcast would), then BENCH_OTP_COUNT OTPs (default 30) are asked for through the API, one
 * every BENCH_OTP_GAP_MS (default 200). Prints, for the OTPs, the time from the API's 202 to the
 * provider receiving the send (p50, p99, max), and where the bulk stood meanwhile. The provider is
 * a local HTTP gateway that records when each message reaches it; its rate is not limited here
 * (the gateway's maxPerSecond is raised), so the figure is the queues', not the gateway's.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { deps } from '../../shared/deps.js';
import { withLocalGateway } from './local-gateway.js';
import { createMessage } from '../../shared/services/messages.js';

const bulk = Number(process.env.BENCH_OTP_BULK ?? 2000);
const otps = Number(process.env.BENCH_OTP_COUNT ?? 30);
const gapMs = Number(process.env.BENCH_OTP_GAP_MS ?? 200);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function benchOtpLatency(): Promise<void> {
  // The provider: notes when each of our message ids reaches it.
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
      // The bulk load, on the bulk SMS queue.
      const bulkIds: string[] = [];
      let next = 0;
      const queuedStart = performance.now();
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < bulk) {
            const i = next++;
            const { message } = await createMessage(
              d,
              operator,
              { channel: 'sms', number: `+880171${String(4000000 + i)}`, content: { text: `Bulk ${i}` }, lane: 'bulk', fields: { recipient: 'mobile', content: 'text' } },
              { quota: {} },
            );
            bulkIds.push(message.id);
          }
        }),
      );
      const queuedSeconds = (performance.now() - queuedStart) / 1000;

      // OTPs through the API while the bulk drains.
      const latencies: number[] = [];
      const bulkLeftAtOtp: number[] = [];
      const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
      const pending: Array<{ messageId: string; acceptedAt: number }> = [];
      // For comparison: one message put on the bulk queue as the OTPs start, behind the backlog.
      const { message: behind } = await createMessage(
        d,
        operator,
        { channel: 'sms', number: '+8801716000000', content: { text: 'Behind the bulk' }, lane: 'bulk', fields: { recipient: 'mobile', content: 'text' } },
        { quota: {} },
      );
      const behindAt = performance.now();
      for (let i = 0; i < otps; i++) {
        bulkLeftAtOtp.push(bulkIds.filter((id) => !arrived.has(id)).length);
        const reply = await fetch(`${baseUrl}/v1/otp`, { method: 'POST', headers, body: JSON.stringify({ mobile: `01715${String(100000 + i)}`, channel: 'sms' }) });
        if (reply.status !== 202) throw new Error(`POST /v1/otp answered ${reply.status}: ${await reply.text()}`);
        const body = (await reply.json()) as { messageId: string };
        pending.push({ messageId: body.messageId, acceptedAt: performance.now() });
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      const deadline = performance.now() + 300_000;
      while ((pending.some((p) => !arrived.has(p.messageId)) || !arrived.has(behind.id)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const p of pending) if (arrived.has(p.messageId)) latencies.push(arrived.get(p.messageId)! - p.acceptedAt);
      latencies.sort((a, b) => a - b);
      const bulkDone = bulkIds.filter((id) => arrived.has(id) && (!arrived.has(behind.id) || arrived.get(id)! <= arrived.get(behind.id)!)).length;
      console.log(
        `otp       ${bulk} bulk SMS queued first (${(bulk / queuedSeconds).toFixed(0)}/s); ${latencies.length}/${otps} OTPs sent, 202 → provider: ` +
          `p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms; ` +
          `bulk still queued when the OTPs were asked for: ${Math.min(...bulkLeftAtOtp)}–${Math.max(...bulkLeftAtOtp)}; ` +
          `a message queued on the bulk queue as the OTPs started reached the provider after ${arrived.has(behind.id) ? `${((arrived.get(behind.id)! - behindAt) / 1000).toFixed(1)} s` : 'more than 5 minutes'} (bulk sent by then: ${bulkDone})`,
      );
    });
  } finally {
    provider.close();
  }
}
