import type { Deps } from '../deps.js';
import type { DeferredProviderTask } from '../ports.js';

const CALLBACK_TIMEOUT_MS = 5_000;

/**
 * Runs a callback a provider scheduled (ProviderContext.later). Only providers schedule these, and
 * only to URLs we gave them (our own webhook URLs); any reply but 2xx throws, so the queue retries it.
 */
export async function runProviderCallback(d: Pick<Deps, 'fetch' | 'publicBaseUrl'> & Partial<Pick<Deps, 'webhookBaseUrl'>>, task: DeferredProviderTask): Promise<void> {
  // Either base: callbacks scheduled before WEBHOOK_BASE_URL was set still name the API's webhook routes.
  const ours = [d.publicBaseUrl, d.webhookBaseUrl].filter((base): base is string => !!base).map((base) => `${base}/webhooks/`);
  if (!ours.some((prefix) => task.url.startsWith(prefix))) {
    throw new Error(`Refusing a provider callback to ${new URL(task.url).host}: only this deployment's webhooks are called.`);
  }
  const reply = await d.fetch(task.url, { method: 'POST', headers: task.headers, body: task.body, signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS) });
  await reply.arrayBuffer(); // drain, so the connection is reused
  if (!reply.ok) throw new Error(`The webhook answered HTTP ${reply.status}; the callback will be retried.`);
}
