/**
 * Rate-limit adherence: a gateway limited to BENCH_RATE_LIMIT messages a second (default 20), whose
 * provider answers 429 to anything above that rate in a wall-clock second, sent BENCH_RATE_MESSAGES
 * messages (default 600) through the local stack. Prints the achieved rate as a share of the limit
 * (goal: at least 95%) and the number of 429s (goal: 0). Figures, not assertions. The figure
 * is 3,000 messages at 50 a second; this laptop-sized stack sends fewer by default (set the options).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { deps } from '../../shared/deps.js';
import { withLocalGateway } from './local-gateway.js';
import { sendMessage } from '../../shared/services/messages.js';

const limit = Number(process.env.BENCH_RATE_LIMIT ?? 20);
const total = Number(process.env.BENCH_RATE_MESSAGES ?? 600);

export async function benchGatewayRate(): Promise<void> {
  // The provider: counts requests per wall-clock second and throttles above the limit, as real gateways do.
  const perSecond = new Map<number, number>();
  let accepted = 0;
  let throttled = 0;
  let first = 0;
  let last = 0;
  const provider = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const now = Date.now();
      const second = Math.floor(now / 1000);
      const count = (perSecond.get(second) ?? 0) + 1;
      perSecond.set(second, count);
      if (count > limit) {
        throttled++;
        res.writeHead(429, { 'content-type': 'application/json' }).end('{"error":"rate limited"}');
        return;
      }
      accepted++;
      first ||= now;
      last = now;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: randomBytes(6).toString('hex') }));
    });
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  const port = (provider.address() as AddressInfo).port;

  try {
    await withLocalGateway(port, { name: 'Rate-limited gateway', body: { to: '{{to}}', text: '{{text}}', key: '{{credentials.apiKey}}' }, maxPerSecond: limit }, async () => {
      const d = deps();
      const operator = (await d.operators.get('demo'))!;
      const ids: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < total) {
            const i = next++;
            ids.push((await sendMessage(d, operator, { mobile: `0171${String(3000000 + i)}`, text: `Rate bench ${i}`, variables: {} })).id);
          }
        }),
      );
      const started = performance.now();
      while (accepted < total && performance.now() - started < 600_000) await new Promise((r) => setTimeout(r, 250));
      const seconds = (last - first) / 1000 || 1;
      // Rate over whole seconds: n messages in k full seconds, the first second counting as one.
      const achieved = (accepted - 1) / seconds;
      console.log(
        `rate      gateway limited to ${limit}/s, ${total} messages: ${accepted} accepted in ${seconds.toFixed(1)} s = ` +
          `${achieved.toFixed(1)}/s (${((100 * achieved) / limit).toFixed(0)}% of the limit); 429s from the provider: ${throttled}`,
      );
    });
  } finally {
    provider.close();
  }
}
