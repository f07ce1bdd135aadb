/**
 * The whole app on a laptop: DynamoDB Local, a local SQS server, an API Gateway stand-in serving the
 * catalog's HTTP functions and one SQS poller per catalog worker. The handlers are the same modules
 * that are deployed to Lambda, configured through the same environment variables.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { httpFunctions, queues, scheduledFunctions, streamFunctions, workerFunctions, type HttpFunction, type WorkerFunction } from '../catalog.js';
import { resetConfig } from '../config.js';
import { createApiServer } from './api-gateway.js';
import { startLocalMailbox } from './mailbox.js';
import { LOCAL_MAILBOX_ENV } from '../adapters/providers/email/smtp.js';
import { ensureDynamoDbCredentials, inMemoryCredentials, secureDataDir, storedRegion } from './data-dir.js';
import { ensureTable, startDynamoDbLocal } from './dynamodb-local.js';
import { invokeHandler, type LambdaHandler } from './lambda-invoke.js';
import { ensureQueues, startSqsLocal } from './sqs-local.js';
import { startScheduleRunner } from './schedule-runner.js';
import { startLocalScheduleLoop } from '../adapters/scheduler/local-schedule-loop.js';
import { deps } from '../deps.js';
import { startSqsPoller, type SqsPoller, type SqsWorkerHandler } from './sqs-poller.js';
import type { StreamHandler } from './stream-poller.js';
import { startTableStreams } from './table-streams.js';

export interface LocalRuntimeOptions {
  /** Port of the API (on 127.0.0.1 only, as every server of the local stack); 0 picks a free one. */
  port: number;
  /**
   * Keeps DynamoDB data (`<dataDir>/dynamodb`), its random access key and the credentials key, all
   * owner-only; undefined = all in memory, with a fixed DynamoDB Local key.
   */
  dataDir?: string;
  /** Use this DynamoDB endpoint instead of starting DynamoDB Local. */
  dynamodbEndpoint?: string;
  /** Use this SQS endpoint instead of starting a local SQS server. */
  sqsEndpoint?: string;
  /** Default 'ispnotify'. */
  tableName?: string;
  /** Prefix of the queue names, e.g. 'test-abc-'. Default ''. */
  queuePrefix?: string;
  /** Base of the links handlers build (webhook URLs, ...). Default: this server's own base URL. */
  publicBaseUrl?: string;
  /** Seconds before a failed SQS record is retried (AWS: the visibility timeout). Default 5. */
  retryDelaySeconds?: number;
  /** No request log, and handler logs at ERROR unless POWERTOOLS_LOG_LEVEL is set. */
  quiet?: boolean;
  /** false: no SQS pollers and no stream poller (tests that drive the workers themselves). Default true. */
  workers?: boolean;
  /**
   * Batches each worker handles at once: 'catalog' runs as many as its event source's maxConcurrency
   * allows, up to 4 on a laptop (npm start, benchmarks); default 1 (tests: one batch at a time).
   */
  workerConcurrency?: 'catalog' | 1;
}

/** Concurrent batches of one worker on the local stack at most (a laptop's cores, not Lambda's scale). */
const LOCAL_MAX_CONCURRENCY = 4;

export interface LocalRuntime {
  /** e.g. http://127.0.0.1:3000 (no trailing slash) */
  baseUrl: string;
  /** The environment variables this runtime set in process.env. */
  env: Record<string, string>;
  /** Stops the pollers, the API server, then SQS and DynamoDB if this runtime started them. */
  stop(): Promise<void>;
}

/** The project root, from this file's place in it (shared/local/runtime.ts). */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

const DEFAULT_RETRY_DELAY_SECONDS = 5;

/** Loads `handler` from a catalog entry (a .ts path from the project root) as Lambda would load the bundle. */
async function loadEntryHandler<H>(entry: string): Promise<H> {
  const module = (await import(pathToFileURL(join(projectRoot, entry)).href)) as { handler?: unknown };
  if (typeof module.handler !== 'function') throw new Error(`${entry} does not export a function named handler.`);
  return module.handler as H;
}

/** The local key that seals gateway credentials: kept in <dataDir>/credentials.key (0600), else in memory. */
async function credentialsKey(dataDir: string | undefined): Promise<string> {
  if (!dataDir) return randomBytes(32).toString('base64');
  const file = join(dataDir, 'credentials.key');
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const key = (await readFile(file, 'utf8')).trim();
  if (Buffer.from(key, 'base64').length !== 32) {
    throw new Error(`${file} does not hold a base64 32-byte key; delete it only if no gateway credentials were sealed with it.`);
  }
  return key;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`Port ${port} is already in use; choose another with PORT.`) : error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolvePort(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    if (!server.listening) return resolveClose();
    server.close(() => resolveClose());
    server.closeIdleConnections();
    // Requests still running get a moment to finish, then their connections are cut.
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
  });
}

export async function startLocalRuntime(opts: LocalRuntimeOptions): Promise<LocalRuntime> {
  const log = opts.quiet ? () => {} : (line: string) => console.log(line);
  // On a data directory, the region its DynamoDB database is named after (its first start's).
  const region = (opts.dataDir && storedRegion(opts.dataDir)) || process.env.AWS_REGION || 'us-east-1';
  // Node 20 is supported today; the SDK's notice about 2027 is noise on every local start.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // CloudWatch EMF lines are for AWS; on a laptop they would bury the request log.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const tableName = opts.tableName ?? 'ispnotify';
  const queuePrefix = opts.queuePrefix ?? '';
  const retryDelaySeconds = opts.retryDelaySeconds ?? DEFAULT_RETRY_DELAY_SECONDS;
  // Loopback only: nothing of the local stack is for other hosts (a tunnel or reverse proxy can expose the API).
  const host = '127.0.0.1';

  // What has been started so far, stopped in this order by stop() or when a later step fails.
  const stopped = { pollers: [] as SqsPoller[], streams: [] as SqsPoller[], server: undefined as Server | undefined, clients: [] as Array<{ destroy(): void }> };
  let stopSqs: (() => Promise<void>) | undefined;
  let stopMailbox: (() => Promise<void>) | undefined;
  let stopDynamoDb: (() => Promise<void>) | undefined;
  const stopAll = async () => {
    const steps: Array<() => Promise<void> | void> = [
      () => Promise.all(stopped.pollers.map((poller) => poller.stop())).then(() => {}),
      // After the workers: the stream's last records (their last moves) are counted before DynamoDB goes.
      () => Promise.all(stopped.streams.map((poller) => poller.stop())).then(() => {}),
      () => (stopped.server ? closeServer(stopped.server) : undefined),
      () => stopped.clients.forEach((client) => client.destroy()),
      () => stopSqs?.(),
      () => stopMailbox?.(),
      () => stopDynamoDb?.(),
    ];
    const errors: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  };

  try {
    // The API port first: when it is taken, nothing else has been started (nor opened the data directory).
    // Handlers load on their first request, once the environment below is in place.
    let markReady!: () => void;
    const ready = new Promise<void>((resolveReady) => (markReady = resolveReady));
    // The email sandbox: mails to the demo's SMTP gateway land here, listed at GET /local/mailbox.
    const mailbox = await startLocalMailbox();
    stopMailbox = mailbox.stop;
    const server = createApiServer({
      routes: httpFunctions,
      loadHandler: async (fn: HttpFunction) => {
        await ready;
        return loadEntryHandler<LambdaHandler>(fn.entry);
      },
      log,
      region,
      localRoutes: { '/local/mailbox': () => ({ items: mailbox.items() }) },
      staticSite: { prefix: '/console', dir: join(projectRoot, 'console', 'dist'), missingHint: 'The console is not built: run `npm run build:console`.' },
    });
    const port = await listen(server, opts.port, host);
    stopped.server = server;
    const baseUrl = `http://${host}:${port}`;

    if (opts.dataDir) await secureDataDir(opts.dataDir); // 0700, files 0600, also for a .data/ of an older version
    // Every client of the stack uses this key: DynamoDB Local keeps a database per access key id and region.
    const credentials = opts.dataDir ? await ensureDynamoDbCredentials(opts.dataDir, region) : inMemoryCredentials();
    let dynamodbEndpoint = opts.dynamodbEndpoint;
    if (!dynamodbEndpoint) {
      const dynamo = await startDynamoDbLocal({ port: 0, credentials, region, ...(opts.dataDir ? { dataDir: join(opts.dataDir, 'dynamodb') } : {}) });
      stopDynamoDb = dynamo.stop;
      dynamodbEndpoint = dynamo.endpoint;
    }
    let sqsEndpoint = opts.sqsEndpoint;
    if (!sqsEndpoint) {
      const sqsServer = await startSqsLocal({ port: 0, region });
      stopSqs = sqsServer.stop;
      sqsEndpoint = sqsServer.endpoint;
    }

    const dynamodb = new DynamoDBClient({ endpoint: dynamodbEndpoint, region, credentials });
    const sqs = new SQSClient({ endpoint: sqsEndpoint, region, credentials });
    stopped.clients.push(dynamodb, sqs);
    await ensureTable(dynamodb, tableName);
    const ensured = await ensureQueues(sqs, queuePrefix);

    const env: Record<string, string> = {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      TABLE_NAME: tableName,
      PUBLIC_BASE_URL: (opts.publicBaseUrl ?? baseUrl).replace(/\/$/, ''),
      CREDENTIALS_LOCAL_KEY: await credentialsKey(opts.dataDir),
      POWERTOOLS_SERVICE_NAME: process.env.POWERTOOLS_SERVICE_NAME ?? 'ispnotify',
      [LOCAL_MAILBOX_ENV]: `${mailbox.host}:${mailbox.port}`,
    };
    for (const definition of Object.values(queues)) env[definition.urlEnv] = ensured[definition.name].url;
    if (opts.quiet && !process.env.POWERTOOLS_LOG_LEVEL) env.POWERTOOLS_LOG_LEVEL = 'ERROR';
    Object.assign(process.env, env);
    // Local: the local key seals credentials, never a KMS key, and no real session token tags along.
    delete process.env.CREDENTIALS_KMS_KEY_ID;
    delete process.env.AWS_SESSION_TOKEN;
    resetConfig();
    markReady();

    if (opts.workers !== false) {
      for (const worker of workerFunctions) {
        // Lambda runs up to maxConcurrency batches of a queue at once; a laptop runs a few.
        for (let i = 0; i < Math.min(worker.maxConcurrency, LOCAL_BATCHES_PER_WORKER); i++) {
          const concurrency = opts.workerConcurrency === 'catalog' ? Math.min(worker.maxConcurrency, LOCAL_MAX_CONCURRENCY) : 1;
          stopped.pollers.push(startWorker(worker, sqs, ensured[worker.queue], retryDelaySeconds, concurrency));
        }
      }
      // EventBridge Scheduler's part: the same schedules, run in process (stopped with the pollers).
      stopped.pollers.push(startScheduleRunner(scheduledFunctions, (fn) => loadEntryHandler<LambdaHandler>(fn.entry)));
      // And the schedules the app makes (deps().scheduler): fired from the table onto their queues.
      stopped.pollers.push(startLocalScheduleLoop(deps()));
      // Lambda's stream triggers: the table's stream read as the event source mapping would.
      stopped.streams.push(
        await startTableStreams({
          dynamodb,
          endpoint: dynamodbEndpoint,
          region,
          credentials,
          tableName,
          functions: streamFunctions,
          loadHandler: (fn) => loadEntryHandler<StreamHandler>(fn.entry),
          ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
        }),
      );
    }

    let stopping: Promise<void> | undefined;
    return { baseUrl, env, stop: () => (stopping ??= stopAll()) };
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }
}

/**
 * Concurrent batches per worker locally (Lambda: the worker's maxConcurrency). One: on a laptop the
 * stack is CPU-bound well before that (3 measured no faster on 2 cores, and with more 429s at the
 * second boundaries in the gateway-rate bench).
 */
const LOCAL_BATCHES_PER_WORKER = 1;

function startWorker(worker: WorkerFunction, client: SQSClient, queue: { url: string; arn: string }, retryDelaySeconds: number, concurrency: number): SqsPoller {
  let loading: Promise<SqsWorkerHandler> | undefined;
  // Loaded on the first batch (a cold start); a module that fails to load is tried again next batch.
  const handler: SqsWorkerHandler = async (event, context) => {
    loading ??= loadEntryHandler<SqsWorkerHandler>(worker.entry).catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    const loaded = await loading;
    return invokeHandler(loaded, event, context, context.getRemainingTimeInMillis() / 1000);
  };
  return startSqsPoller({
    client,
    queueUrl: queue.url,
    queueArn: queue.arn,
    batchSize: worker.batchSize,
    // No batching window (OTPs, single sends, event receipts): short polls, so a lone message starts at once, as on Lambda.
    waitTimeSeconds: worker.batchingWindowSeconds === 0 ? 0 : 1,
    handler,
    functionTimeoutSeconds: worker.timeoutSeconds,
    retryDelaySeconds,
    functionName: `ispnotify-${worker.id}`,
    concurrency,
  });
}
