/**
 * npm start: the whole app on this machine (API, DynamoDB Local, SQS and the workers), data kept in
 * .data/ at the project root, a demo operator seeded on first start.
 *   PORT  API port (default 3000)     HOST  interface to listen on (default 127.0.0.1)
 *   PUBLIC_BASE_URL  base of webhook and payment links, e.g. a tunnel to this machine
 */
import { join } from 'node:path';
import { deps } from '../shared/deps.js';
import { requeueStrandedMessages } from '../shared/local/requeue-stranded.js';
import { seedDemo } from '../shared/local/seed.js';
import { projectRoot, startLocalRuntime, type LocalRuntime } from '../shared/local/runtime.js';

const port = Number(process.env.PORT ?? 3000);
const dataDir = join(projectRoot, '.data');
const oneLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');

let runtime: LocalRuntime | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
  stopping = true;
  try {
    await runtime?.stop();
  } catch (error) {
    console.error(`ispnotify: stopping failed: ${oneLine(error)}`);
    code = code || 1;
  }
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // A second Ctrl-C leaves at once; so does one during start. DynamoDB Local's exit hook ends Java.
    if (stopping) process.exit(1);
    if (!runtime) process.exit(0);
    console.log('\nStopping…');
    void shutdown(0);
  });
}

try {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, not ${JSON.stringify(process.env.PORT)}.`);
  runtime = await startLocalRuntime({
    port,
    dataDir,
    ...(process.env.HOST ? { host: process.env.HOST } : {}),
    ...(process.env.PUBLIC_BASE_URL ? { publicBaseUrl: process.env.PUBLIC_BASE_URL } : {}),
  });
  const { apiKey, created } = await seedDemo({ dataDir });
  const requeued = await requeueStrandedMessages(deps());
  console.log('');
  console.log(`API: ${runtime.baseUrl}`);
  console.log(`API key: ${apiKey}`);
  console.log(`Try: curl -H "Authorization: Bearer ${apiKey}" ${runtime.baseUrl}/v1/customers`);
  if (requeued > 0) console.log(`Put ${requeued} message(s) still queued from the last run back on the send queue.`);
  console.log(
    `${created ? 'Seeded a demo operator with a sandbox SMS gateway.' : 'Using the data in .data/ (delete it to start over).'} ` +
      `API docs: ${runtime.baseUrl}/openapi.json. Ctrl-C stops.`,
  );
} catch (error) {
  console.error(`ispnotify: could not start: ${oneLine(error)}`);
  await shutdown(1);
}
