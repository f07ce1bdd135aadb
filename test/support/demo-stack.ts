/**
 * The local stack for one test file with the demo operator seeded, its API client, and (when asked)
 * a second operator to prove another operator's data stays apart.
 */
import { generateApiKey, hashApiKey } from '../../shared/domain/api-keys.js';
import { deps } from '../../shared/deps.js';
import type { LocalRuntimeOptions } from '../../shared/local/runtime.js';
import { seedDemo } from '../../shared/local/seed.js';
import { apiClient } from './api-client.js';
import { startTestStack } from './local-stack.js';

export interface DemoStack {
  stack: Awaited<ReturnType<typeof startTestStack>>;
  /** The demo operator's client. */
  api: ReturnType<typeof apiClient>;
  apiKey: string;
}

/**
 * `liftRateLimit`: files that fire requests in quick succession lift the demo's requests-per-second
 * limit (default 10), which is under test elsewhere (settings-and-limits.test.ts).
 */
export async function startDemoStack(name: string, opts: Partial<LocalRuntimeOptions> & { liftRateLimit?: boolean } = {}): Promise<DemoStack> {
  const { liftRateLimit, ...runtime } = opts;
  const stack = await startTestStack(name, runtime);
  const { apiKey } = await seedDemo({});
  if (liftRateLimit) await deps().operators.update('demo', { requestsPerSecond: 1000 });
  return { stack, api: apiClient(stack.baseUrl, apiKey), apiKey };
}

/** Another operator with its own key, for isolation checks. */
export async function addOperator(baseUrl: string, id: string, country = 'IN', timezone = 'Asia/Kolkata') {
  const d = deps();
  await d.operators.put({ id, name: `${id} ISP`, defaultCountry: country, timezone, createdAt: new Date().toISOString() });
  const key = generateApiKey();
  await d.operators.putApiKey(hashApiKey(key), id, 'test');
  return apiClient(baseUrl, key);
}
