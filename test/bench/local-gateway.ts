/**
 * The benchmarks' setup: the local stack, the demo operator with its limits lifted, and a generic
 * HTTP SMS gateway on loopback (private URLs allowed for the run) as its default, with the given
 * request body and rate.
 */
import { deps } from '../../shared/deps.js';
import { seedDemo } from '../../shared/local/seed.js';
import { startLocalRuntime } from '../../shared/local/runtime.js';
import { saveGateway } from '../../shared/services/gateways.js';

export async function withLocalGateway<T>(
  port: number,
  gateway: { name: string; body: Record<string, string>; maxPerSecond: number },
  run: (ctx: { apiKey: string; baseUrl: string }) => Promise<T>,
): Promise<T> {
  const allowBefore = process.env.ISPNOTIFY_ALLOW_PRIVATE_URLS;
  process.env.ISPNOTIFY_ALLOW_PRIVATE_URLS = '1'; // the local provider listens on loopback
  const runtime = await startLocalRuntime({ port: 0, quiet: true, retryDelaySeconds: 1 });
  try {
    const { apiKey } = await seedDemo({});
    const d = deps();
    await d.operators.update('demo', { requestsPerSecond: 1000, messagesPerDay: 10_000_000 });
    await saveGateway(d, (await d.operators.get('demo'))!, {
      name: gateway.name,
      channel: 'sms',
      provider: 'http',
      credentials: { apiKey: 'bench-api-key', webhookSecret: 'bench-webhook-secret-0123' },
      settings: {
        request: { method: 'POST', url: `http://127.0.0.1:${port}/send`, contentType: 'json', body: gateway.body },
        numberFormat: 'e164',
        success: { statusCodes: [200] },
        messageId: { jsonPath: '$.id' },
      },
      default: true,
      priority: 1,
      maxPerSecond: gateway.maxPerSecond,
    });
    return await run({ apiKey, baseUrl: runtime.baseUrl });
  } finally {
    await runtime.stop();
    if (allowBefore === undefined) delete process.env.ISPNOTIFY_ALLOW_PRIVATE_URLS;
    else process.env.ISPNOTIFY_ALLOW_PRIVATE_URLS = allowBefore;
  }
}
