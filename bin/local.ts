/**
 * npm start: the whole app on this machine (API, DynamoDB Local, SQS and the workers), data kept in
 * .data/ at the project root (owner-only), a demo operator seeded on first start. Every server listens
 * on 127.0.0.1 only; to reach the API from elsewhere, put a tunnel or a reverse proxy in front of it.
 *   PORT  API port (default 3000)
 *   PUBLIC_BASE_URL  base of webhook and payment links, e.g. a tunnel to this machine
 *   ISPNOTIFY_DATA_DIR  another data directory than .data/
 * While it runs, .data/local-stack.json tells `npm run admin` how to reach it.
 */
import { isAbsolute, relative } from 'node:path';
import { deps } from '../shared/deps.js';
import { buildConsole, consoleBuilt } from '../shared/local/console-build.js';
import { localDataDir, removeLocalStackInfo, writeLocalStackInfo } from '../shared/local/data-dir.js';
import { requeueStrandedMessages } from '../shared/local/requeue-stranded.js';
import { recoverAllBroadcastTasks } from '../shared/services/broadcast-fanout.js';
import { startLocalRuntime, type LocalRuntime } from '../shared/local/runtime.js';
import { seedDemo } from '../shared/local/seed.js';

// Before anything is created (loading the modules above creates no file): the files of this process
// and of DynamoDB Local's Java child are the owner's only, 0600 in folders of 0700.
process.umask(0o077);

const port = Number(process.env.PORT ?? 3000);
const dataDir = localDataDir();
/** .data/ as the user knows it: relative when under the current folder, else the full path. */
const shownDataDir = () => {
  const rel = relative(process.cwd(), dataDir);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? `${rel}/` : `${dataDir}/`;
};
const oneLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');

let runtime: LocalRuntime | undefined;
let stopping = false;
let stopAskedAt = 0;

async function shutdown(code: number): Promise<never> {
  stopping = true;
  stopAskedAt = Date.now();
  try {
    // First, so an admin command no longer picks a stack that is going away.
    await removeLocalStackInfo(dataDir);
  } catch (error) {
    console.error(`ispnotify: could not remove local-stack.json: ${oneLine(error)}`);
  }
  try {
    await runtime?.stop();
  } catch (error) {
    console.error(`ispnotify: stopping failed: ${oneLine(error)}`);
    code = code || 1;
  }
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    // A second Ctrl-C leaves at once; so does one during start. DynamoDB Local's exit hook ends Java.
    // One Ctrl-C may arrive twice, from the terminal and relayed by tsx (which runs npm start): not a second one.
    if (stopping) {
      if (Date.now() - stopAskedAt > 1_000) process.exit(1);
      return;
    }
    if (!runtime) process.exit(0);
    console.log('\nStopping…');
    void shutdown(0);
  });
}

try {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, not ${JSON.stringify(process.env.PORT)}.`);
  // HOST once chose the API's interface (some shells export HOST as the machine's name: only an address is meant).
  if (/^[\d.:]+$/.test(process.env.HOST ?? '') && process.env.HOST !== '127.0.0.1') {
    console.warn('ispnotify: HOST is ignored: the local stack listens on 127.0.0.1 only (use a tunnel or a reverse proxy).');
  }
  if (!consoleBuilt()) {
    // A fresh clone (or changed console sources): the admin console is built (about a minute), then served at /console/.
    console.log('Building the admin console (console/dist is missing or older than console/src)…');
    await buildConsole().catch((error: unknown) => console.error(`ispnotify: the console could not be built (the API still starts): ${oneLine(error)}`));
  }
  runtime = await startLocalRuntime({
    port,
    dataDir,
    // Several batches per worker at once, as Lambda runs them (a broadcast's sends go out in parallel).
    workerConcurrency: 'catalog',
    ...(process.env.PUBLIC_BASE_URL ? { publicBaseUrl: process.env.PUBLIC_BASE_URL } : {}),
  });
  const { apiKey, created } = await seedDemo({ dataDir });
  const requeued = await requeueStrandedMessages(deps());
  // Broadcast messages are not in the pending index: their sends and pages' debits are found from each running broadcast.
  const recovered = await recoverAllBroadcastTasks(deps());
  const { env } = runtime;
  await writeLocalStackInfo(dataDir, {
    pid: process.pid,
    dynamodbEndpoint: env.AWS_ENDPOINT_URL_DYNAMODB!,
    region: env.AWS_REGION!,
    tableName: env.TABLE_NAME!,
    accessKeyId: env.AWS_ACCESS_KEY_ID!,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY!,
    apiUrl: runtime.baseUrl,
  });
  console.log('');
  console.log(`API: ${runtime.baseUrl}`);
  console.log(`API key: ${apiKey}`);
  console.log(`Console: ${runtime.baseUrl}/console/ (sign in with the API key)${consoleBuilt() ? '' : ' — not built: run `npm run build:console`'}`);
  console.log(`Try: curl -H "Authorization: Bearer ${apiKey}" ${runtime.baseUrl}/v1/customers`);
  if (requeued > 0) console.log(`Put ${requeued} message(s) still queued from the last run back on the send queue.`);
  if (recovered.sends + recovered.settles + recovered.plans > 0) {
    console.log(`Put ${recovered.sends} broadcast message(s) still queued, ${recovered.settles} page debit(s) and ${recovered.plans} audience walk(s) from the last run back on their queues.`);
  }
  console.log(
    `${created ? 'Seeded a prepaid demo operator with sandbox SMS and WhatsApp gateways and an email gateway to the local mailbox (GET /local/mailbox).' : `Using the data in ${shownDataDir()} (delete it to start over).`} ` +
      `API docs: ${runtime.baseUrl}/openapi.json. Ctrl-C stops.`,
  );
} catch (error) {
  console.error(`ispnotify: could not start: ${oneLine(error)}`);
  await shutdown(1);
}
