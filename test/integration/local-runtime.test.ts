import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { tableDefinition } from '../../shared/adapters/dynamodb/table.js';
import { queues, type HttpFunction } from '../../shared/catalog.js';
import { createApiServer } from '../../shared/local/api-gateway.js';
import { ensureTable, startDynamoDbLocal } from '../../shared/local/dynamodb-local.js';
import type { LambdaHandler } from '../../shared/local/lambda-invoke.js';
import { startLocalRuntime, type LocalRuntime } from '../../shared/local/runtime.js';
import { ensureQueues } from '../../shared/local/sqs-local.js';
import { startSqsPoller, type SqsPoller } from '../../shared/local/sqs-poller.js';
import { waitFor } from '../support/api-client.js';
import * as httpFixtures from '../support/fixtures/http-handlers.js';
import * as worker from '../support/fixtures/worker-handler.js';
import { startTestStack } from '../support/local-stack.js';

const fixtureEntry = 'test/support/fixtures/http-handlers.ts';
const fixtureRoutes: HttpFunction[] = [
  {
    id: 'echo',
    entry: fixtureEntry,
    routes: ['GET /things/{id}', 'POST /things/{id}/notes/{noteId}', 'GET /health', 'ANY /anything'],
    timeoutSeconds: 7,
  },
  { id: 'plain', entry: fixtureEntry, routes: ['GET /things/special', 'GET /plain'], timeoutSeconds: 3 },
  { id: 'text', entry: fixtureEntry, routes: ['GET /text'], timeoutSeconds: 3 },
  { id: 'binary', entry: fixtureEntry, routes: ['GET /binary'], timeoutSeconds: 3 },
  { id: 'boom', entry: fixtureEntry, routes: ['GET /boom'], timeoutSeconds: 3 },
  { id: 'slow', entry: fixtureEntry, routes: ['GET /slow'], timeoutSeconds: 1 },
  { id: 'callback', entry: fixtureEntry, routes: ['GET /callback'], timeoutSeconds: 3 },
];

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createApiServer({
    routes: fixtureRoutes,
    loadHandler: async (fn) => (httpFixtures as unknown as Record<string, LambdaHandler>)[fn.id]!,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A raw request, so headers can repeat as they do on the wire (fetch would merge them). */
function rawRequest(method: string, path: string, headers: string[], body?: Buffer | string) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    // With headers as an array Node adds no Host header: send it as a client would.
    const req = httpRequest(`${baseUrl}${path}`, { method, headers: ['Host', new URL(baseUrl).host, ...headers] }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const echoed = (body: string) => JSON.parse(body) as { event: APIGatewayProxyEventV2; context: Record<string, unknown> };

describe('local API Gateway (HTTP API, payload format 2.0)', () => {
  it('builds the event API Gateway builds: route key, decoded path parameters, query, lower-cased headers, cookies', async () => {
    const reply = await rawRequest(
      'GET',
      '/things/caf%C3%A9%20au%20lait?tag=a&tag=b&q=hello%20world&plus=a+b',
      ['X-Custom', 'one', 'x-custom', 'two', 'Cookie', 'a=1; b=2', 'Cookie', 'c=3', 'User-Agent', 'local-test/1.0'],
    );
    expect(reply.status).toBe(200);
    const { event, context } = echoed(reply.body);
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /things/{id}',
      rawPath: '/things/caf%C3%A9%20au%20lait',
      rawQueryString: 'tag=a&tag=b&q=hello%20world&plus=a+b',
      pathParameters: { id: 'café au lait' },
      queryStringParameters: { tag: 'a,b', q: 'hello world', plus: 'a b' },
      cookies: ['a=1', 'b=2', 'c=3'],
      isBase64Encoded: false,
      requestContext: {
        accountId: '123456789012',
        apiId: 'local',
        domainName: '127.0.0.1',
        routeKey: 'GET /things/{id}',
        stage: '$default',
        http: { method: 'GET', path: '/things/caf%C3%A9%20au%20lait', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'local-test/1.0' },
      },
    });
    expect(event.headers['x-custom']).toBe('one,two');
    expect(event.headers['user-agent']).toBe('local-test/1.0');
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.headers).not.toHaveProperty('cookie');
    expect('body' in event).toBe(false);
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(5_000);
    expect(event.requestContext.requestId).toMatch(/^[A-Za-z0-9+/]{14}[A-Za-z0-9+/=]{2}$/);
    expect(reply.headers['apigw-requestid']).toBe(event.requestContext.requestId);

    expect(context).toMatchObject({
      functionName: 'ispnotify-echo',
      functionVersion: '$LATEST',
      invokedFunctionArn: expect.stringMatching(/^arn:aws:lambda:[a-z0-9-]+:123456789012:function:ispnotify-echo$/),
      memoryLimitInMB: '512',
      logGroupName: '/aws/lambda/ispnotify-echo',
      awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(context.remainingMs).toBeGreaterThan(6_000);
    expect(context.remainingMs).toBeLessThanOrEqual(7_000);
  });

  it('leaves out queryStringParameters, pathParameters and cookies when there are none', async () => {
    const reply = await fetch(`${baseUrl}/health`);
    const { event } = echoed(await reply.text());
    expect(event.routeKey).toBe('GET /health');
    expect(event.rawQueryString).toBe('');
    for (const field of ['queryStringParameters', 'pathParameters', 'cookies', 'body']) expect(event).not.toHaveProperty(field);
  });

  it('passes a text body as a string and a binary body base64-encoded', async () => {
    const json = await fetch(`${baseUrl}/things/1/notes/n%2F2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ note: 'ধন্যবাদ' }),
    });
    const { event } = echoed(await json.text());
    expect(event.routeKey).toBe('POST /things/{id}/notes/{noteId}');
    expect(event.pathParameters).toEqual({ id: '1', noteId: 'n/2' });
    expect(event.body).toBe('{"note":"ধন্যবাদ"}');
    expect(event.isBase64Encoded).toBe(false);

    const bytes = Buffer.from([0, 1, 2, 200, 255]);
    const binary = await fetch(`${baseUrl}/anything`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    const sent = echoed(await binary.text()).event;
    expect(sent.routeKey).toBe('ANY /anything');
    expect(sent.isBase64Encoded).toBe(true);
    expect(Buffer.from(sent.body!, 'base64')).toEqual(bytes);
  });

  it('prefers a literal segment over a parameter, as API Gateway does', async () => {
    const reply = await fetch(`${baseUrl}/things/special`);
    expect(await reply.json()).toEqual({ hello: 'world' });
  });

  it('writes structured results: status, headers, cookies as set-cookie, base64 bodies', async () => {
    const echo = await fetch(`${baseUrl}/things/x`);
    expect(echo.headers.get('x-function')).toBe('ispnotify-echo');
    expect(echo.headers.get('x-count')).toBe('2');
    expect(echo.headers.getSetCookie()).toEqual(['session=abc; Path=/; HttpOnly', 'theme=dark']);

    const binary = await fetch(`${baseUrl}/binary`);
    expect(binary.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await binary.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 254, 255]));

    const called = await fetch(`${baseUrl}/callback`);
    expect(called.status).toBe(201);
    expect(await called.text()).toBe('called back');
  });

  it('answers 200 JSON for a result without statusCode', async () => {
    const object = await fetch(`${baseUrl}/plain`);
    expect(object.status).toBe(200);
    expect(object.headers.get('content-type')).toBe('application/json');
    expect(await object.json()).toEqual({ hello: 'world' });

    const text = await fetch(`${baseUrl}/text`);
    expect(text.status).toBe(200);
    expect(await text.json()).toBe('just a string');
  });

  it('answers 404 problem+json for a route that does not exist', async () => {
    for (const [method, path] of [
      ['GET', '/x'],
      ['DELETE', '/things/1'],
      ['GET', '/things/1/extra'],
      ['GET', '/things/'],
    ] as const) {
      const reply = await fetch(`${baseUrl}${path}`, { method });
      expect(reply.status).toBe(404);
      expect(reply.headers.get('content-type')).toBe('application/problem+json');
      expect(await reply.json()).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: `No route for ${method} ${path}` });
    }
  });

  it('answers 500 problem+json when the handler throws or times out, and logs the error', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const thrown = await fetch(`${baseUrl}/boom`);
    expect(thrown.status).toBe(500);
    expect(thrown.headers.get('content-type')).toBe('application/problem+json');
    expect(await thrown.json()).toMatchObject({ type: 'about:blank', title: 'Internal Server Error', status: 500 });
    expect(errors.mock.calls.flat()).toContainEqual(expect.objectContaining({ message: 'fixture handler exploded' }));

    const started = Date.now();
    const late = await fetch(`${baseUrl}/slow`);
    expect(late.status).toBe(500);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(errors.mock.calls.flat()).toContainEqual(expect.objectContaining({ message: 'Task timed out after 1.00 seconds' }));
  });

  it('refuses a body over 6 MB with 413', async () => {
    const reply = await fetch(`${baseUrl}/anything`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(6 * 1024 * 1024 + 1),
    });
    expect(reply.status).toBe(413);
    expect(reply.headers.get('content-type')).toBe('application/problem+json');
    expect(((await reply.json()) as { status: number }).status).toBe(413);
  });
});

describe('local SQS event source (ReportBatchItemFailures)', () => {
  const sqs = new SQSClient({
    endpoint: inject('sqsEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const pollers: SqsPoller[] = [];
  afterAll(async () => {
    await Promise.all(pollers.map((poller) => poller.stop()));
    sqs.destroy();
  });

  async function queueWithWorker(prefix: string) {
    const ensured = (await ensureQueues(sqs, `${prefix}-${Date.now()}-`))['send-sms'];
    const poller = startSqsPoller({
      client: sqs,
      queueUrl: ensured.url,
      queueArn: ensured.arn,
      batchSize: 10,
      handler: worker.handler,
      functionTimeoutSeconds: 5,
      retryDelaySeconds: 0,
      functionName: 'ispnotify-FixtureWorker',
    });
    pollers.push(poller);
    return { ...ensured, poller };
  }
  const recordsWith = (body: string) => worker.received.filter((record) => record.body === body);
  const counts = (records: SQSRecord[]) => records.map((record) => record.attributes.ApproximateReceiveCount);

  it('deletes the records that succeeded, retries the failed one and moves it to the DLQ after maxReceiveCount receives', async () => {
    const queue = await queueWithWorker('partial');
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: [
          { Id: '1', MessageBody: 'ok-1' },
          {
            Id: '2',
            MessageBody: 'fail',
            MessageAttributes: {
              kind: { DataType: 'String', StringValue: 'test' },
              blob: { DataType: 'Binary', BinaryValue: Buffer.from('bytes') },
            },
          },
          { Id: '3', MessageBody: 'ok-2' },
        ],
      }),
    );

    const maxReceiveCount = queues['send-sms'].maxReceiveCount;
    await waitFor(
      async () => recordsWith('fail').length,
      (n) => n >= maxReceiveCount,
      25_000,
    );
    const dead = await waitFor(
      async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }))).Messages ?? [],
      (messages) => messages.length > 0,
      10_000,
    );
    await queue.poller.stop();

    expect(dead.map((message) => message.Body)).toEqual(['fail']);
    expect(counts(recordsWith('fail'))).toEqual(Array.from({ length: maxReceiveCount }, (_, i) => String(i + 1)));
    expect(counts(recordsWith('ok-1'))).toEqual(['1']);
    expect(counts(recordsWith('ok-2'))).toEqual(['1']);
    const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 1 }));
    expect(left.Messages ?? []).toEqual([]);

    const record = recordsWith('fail')[0]!;
    expect(record).toMatchObject({
      body: 'fail',
      md5OfBody: createHash('md5').update('fail').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'us-east-1',
      messageAttributes: {
        kind: { stringValue: 'test', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: { binaryValue: Buffer.from('bytes').toString('base64'), stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
    });
    expect(record.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(record.receiptHandle).not.toBe('');
    for (const name of ['SentTimestamp', 'SenderId', 'ApproximateFirstReceiveTimestamp'] as const) expect(record.attributes[name]).toBeTruthy();
  });

  it('deletes nothing when the handler throws: the whole batch is delivered again', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const queue = await queueWithWorker('throws');
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: [
          { Id: '1', MessageBody: 'throw-once' },
          { Id: '2', MessageBody: 'neighbour' },
        ],
      }),
    );
    await waitFor(
      async () => recordsWith('neighbour').length,
      (n) => n >= 2,
      15_000,
    );
    await queue.poller.stop();
    expect(counts(recordsWith('neighbour'))).toEqual(['1', '2']);
    expect(counts(recordsWith('throw-once'))).toEqual(['1', '2']);
    expect(errors).toHaveBeenCalled();
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, WaitTimeSeconds: 0 }));
    expect(dead.Messages ?? []).toEqual([]);
  });
});

describe('the local runtime', () => {
  let stack: LocalRuntime | undefined;
  afterAll(async () => {
    await stack?.stop();
  });

  it('serves the catalog on its own table and queues, with the environment the handlers read', async () => {
    stack = await startTestStack('local-runtime');
    const health = await fetch(`${stack.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const unknown = await fetch(`${stack.baseUrl}/v1/nothing-here`);
    expect(unknown.status).toBe(404);

    const { env } = stack;
    expect(env.TABLE_NAME).toMatch(/^test-local-runtime-[0-9a-f]{8}$/);
    expect(env.SEND_SMS_QUEUE_URL).toMatch(/\/local-runtime-[0-9a-f]{8}-send-sms$/);
    expect(env.PUBLIC_BASE_URL).toBe(stack.baseUrl);
    expect(env.AWS_ENDPOINT_URL_DYNAMODB).toBe(inject('dynamodbEndpoint'));
    expect(Buffer.from(env.CREDENTIALS_LOCAL_KEY!, 'base64')).toHaveLength(32);
    for (const [name, value] of Object.entries(env)) expect(process.env[name]).toBe(value);

    // Without -sharedDb the database is the key's and the region's: the stack's own, from its environment.
    const dynamodb = new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, region: env.AWS_REGION });
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: env.TABLE_NAME }));
    dynamodb.destroy();
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.GlobalSecondaryIndexes?.map((gsi) => [gsi.IndexName, gsi.Projection?.ProjectionType])).toEqual(
      tableDefinition.globalIndexes.map((gsi) => [gsi.indexName, gsi.projection]),
    );
  });

  it('keeps the credentials key in <dataDir>/credentials.key, readable by the owner only, across restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ispnotify-runtime-'));
    try {
      const options = {
        port: 0,
        dataDir,
        dynamodbEndpoint: inject('dynamodbEndpoint'),
        sqsEndpoint: inject('sqsEndpoint'),
        tableName: `test-key-${Date.now()}`,
        queuePrefix: `key-${Date.now()}-`,
        quiet: true,
      };
      const first = await startLocalRuntime(options);
      await first.stop();
      const file = join(dataDir, 'credentials.key');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await readFile(file, 'utf8')).trim()).toBe(first.env.CREDENTIALS_LOCAL_KEY);
      const second = await startLocalRuntime(options);
      await second.stop();
      expect(second.env.CREDENTIALS_LOCAL_KEY).toBe(first.env.CREDENTIALS_LOCAL_KEY);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('DynamoDB Local', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  it('says in one line that Java 17 is needed when there is no java on PATH', async () => {
    process.env.PATH = await mkdtemp(join(tmpdir(), 'no-java-'));
    await expect(startDynamoDbLocal({ port: 0 })).rejects.toThrow(
      /^DynamoDB Local needs Java 17 or newer on PATH \(install e\.g\. openjdk-17-jre-headless\); java was not found\.$/,
    );
  });

  it('names the Java version it found when it is too old', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'old-java-'));
    try {
      for (const [version, major] of [
        ['11.0.2', '11'],
        ['1.8.0_292', '8'],
      ] as const) {
        await writeFile(join(dir, 'java'), `#!/bin/sh\necho 'openjdk version "${version}" 2019-01-15' >&2\n`);
        await chmod(join(dir, 'java'), 0o755);
        process.env.PATH = dir;
        await expect(startDynamoDbLocal({ port: 0 })).rejects.toThrow(
          new RegExp(`^DynamoDB Local needs Java 17 or newer on PATH \\(install e\\.g\\. openjdk-17-jre-headless\\); found Java ${major}\\.$`),
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The addresses sockets listen on for `port` (Linux: /proc/net/tcp and tcp6), or undefined elsewhere. */
async function listeningAddresses(port: number): Promise<string[] | undefined> {
  const decode = (hex: string) => {
    const bytes: number[] = [];
    // Each 32-bit word is written in host (little-endian) order.
    for (let word = 0; word < hex.length / 8; word++) for (let b = 3; b >= 0; b--) bytes.push(parseInt(hex.slice(word * 8 + b * 2, word * 8 + b * 2 + 2), 16));
    if (bytes.length === 4) return bytes.join('.');
    const v4Mapped = bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 255 && bytes[11] === 255;
    if (v4Mapped) return bytes.slice(12).join('.');
    return Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16)).join(':');
  };
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) {
      if (file.endsWith('tcp')) return undefined;
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || !local) continue; // 0A: LISTEN
      const [address, hexPort] = local.split(':');
      if (parseInt(hexPort!, 16) === port) found.push(decode(address!));
    }
  }
  return found;
}

/** Whether `port` accepts a connection on any of this host's non-loopback addresses (undefined: there are none). */
async function reachableFromOtherInterfaces(port: number): Promise<boolean | undefined> {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((info) => info && !info.internal && (info.family === 'IPv4' || !info.address.startsWith('fe80')))
    .map((info) => info!.address);
  if (addresses.length === 0) return undefined;
  const attempts = addresses.map(
    (host) =>
      new Promise<boolean>((resolveAttempt) => {
        const socket = connect({ host, port, timeout: 2_000 });
        socket.once('connect', () => {
          socket.destroy();
          resolveAttempt(true);
        });
        socket.once('timeout', () => {
          socket.destroy();
          resolveAttempt(false);
        });
        socket.once('error', () => resolveAttempt(false));
      }),
  );
  return (await Promise.all(attempts)).some(Boolean);
}

/** Every path under `dir` (itself included) with its permission bits, e.g. ['dynamodb/x.db', 0o600]. */
async function modesUnder(dir: string, prefix = ''): Promise<Array<[string, number, 'dir' | 'file']>> {
  const stats = await lstat(dir);
  const own: [string, number, 'dir' | 'file'] = [prefix || '.', stats.mode & 0o777, stats.isDirectory() ? 'dir' : 'file'];
  if (!stats.isDirectory()) return [own];
  const nested = await Promise.all((await readdir(dir)).map((name) => modesUnder(join(dir, name), prefix ? `${prefix}/${name}` : name)));
  return [own, ...nested.flat()];
}

describe('the local stack on a data directory (npm start)', () => {
  let root: string;
  let dataDir: string;
  let stack: LocalRuntime | undefined;
  const legacyItem = { pk: { S: 'LEGACY#1' }, sk: { S: 'legacy' }, note: { S: 'kept by a version with -sharedDb' } };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ispnotify-data-'));
    dataDir = join(root, '.data');
    // A .data/ of an older version: loose modes, and DynamoDB Local's single shared database.
    await mkdir(join(dataDir, 'notes'), { recursive: true, mode: 0o755 });
    await chmod(dataDir, 0o755);
    await chmod(join(dataDir, 'notes'), 0o755);
    await writeFile(join(dataDir, 'credentials.key'), `${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o644 });
    await writeFile(join(dataDir, 'notes', 'old.txt'), 'left by hand\n', { mode: 0o644 });
    await chmod(join(dataDir, 'credentials.key'), 0o644);
    await chmod(join(dataDir, 'notes', 'old.txt'), 0o644);
    // -sharedDb only changed the file's name (shared-local-instance.db): make one under a key, then rename it.
    const old = await startDynamoDbLocal({ port: 0, dataDir: join(dataDir, 'dynamodb'), region: 'us-east-1' });
    try {
      const client = new DynamoDBClient({ endpoint: old.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      await ensureTable(client, 'ispnotify');
      await client.send(new PutItemCommand({ TableName: 'ispnotify', Item: legacyItem }));
      client.destroy();
    } finally {
      await old.stop();
    }
    await rename(join(dataDir, 'dynamodb', 'local_us-east-1.db'), join(dataDir, 'dynamodb', 'shared-local-instance.db'));
    await chmod(join(dataDir, 'dynamodb'), 0o755);
    await chmod(join(dataDir, 'dynamodb', 'shared-local-instance.db'), 0o644);

    // What npm start runs (its own DynamoDB Local and SQS server), except the port and the log.
    stack = await startLocalRuntime({ port: 0, dataDir, quiet: true, workers: false });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  }, 60_000);

  it('listens on 127.0.0.1 only: the API and the SQS server', async () => {
    const ports = {
      api: Number(new URL(stack!.baseUrl).port),
      sqs: Number(new URL(stack!.env.AWS_ENDPOINT_URL_SQS!).port),
    };
    expect(new URL(stack!.baseUrl).hostname).toBe('127.0.0.1');
    for (const [server, port] of Object.entries(ports)) {
      const addresses = await listeningAddresses(port);
      if (addresses) expect({ server, addresses }).toEqual({ server, addresses: ['127.0.0.1'] });
      const reachable = await reachableFromOtherInterfaces(port);
      if (reachable !== undefined) expect({ server, reachable }).toEqual({ server, reachable: false });
      expect(addresses !== undefined || reachable !== undefined).toBe(true); // at least one check ran
    }
  });

  it('keeps its data from any caller with another access key (DynamoDB Local listens on every interface)', async () => {
    const stored = JSON.parse(await readFile(join(dataDir, 'dynamodb-credentials.json'), 'utf8')) as Record<string, string>;
    expect(stored.accessKeyId).toMatch(/^[A-Z0-9]{20}$/);
    expect(stored.secretAccessKey).toMatch(/^[A-Z0-9]{40}$/);
    expect(stored.region).toBe(stack!.env.AWS_REGION);
    expect(stack!.env.AWS_ACCESS_KEY_ID).toBe(stored.accessKeyId);
    expect(stack!.env.AWS_SECRET_ACCESS_KEY).toBe(stored.secretAccessKey);

    const endpoint = stack!.env.AWS_ENDPOINT_URL_DYNAMODB!;
    const tableName = stack!.env.TABLE_NAME!;
    const asCaller = (accessKeyId: string, region = stack!.env.AWS_REGION!) =>
      new DynamoDBClient({ endpoint, region, credentials: { accessKeyId, secretAccessKey: 'guess' }, maxAttempts: 1 });

    const own = asCaller(stored.accessKeyId!);
    expect((await own.send(new ListTablesCommand({}))).TableNames).toContain(tableName);
    own.destroy();
    // The well-known key of the old -sharedDb setup, a random one, the stack's key in another region.
    const otherRegion = stored.region === 'eu-west-1' ? 'eu-central-1' : 'eu-west-1';
    for (const [accessKeyId, region] of [['local', undefined], ['INTRUDER0123456789AB', undefined], [stored.accessKeyId!, otherRegion]] as const) {
      const other = asCaller(accessKeyId, region);
      try {
        expect((await other.send(new ListTablesCommand({}))).TableNames).toEqual([]);
        await expect(other.send(new DescribeTableCommand({ TableName: tableName }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
        await expect(other.send(new GetItemCommand({ TableName: tableName, Key: { pk: legacyItem.pk, sk: legacyItem.sk } }))).rejects.toMatchObject({
          name: 'ResourceNotFoundException',
        });
      } finally {
        other.destroy();
      }
    }
  });

  it('moves the database of an older version (shared-local-instance.db) to the access key, losing nothing', async () => {
    const names = await readdir(join(dataDir, 'dynamodb'));
    const stored = JSON.parse(await readFile(join(dataDir, 'dynamodb-credentials.json'), 'utf8')) as Record<string, string>;
    expect(names).not.toContain('shared-local-instance.db');
    expect(names).toContain(`${stored.accessKeyId}_${stored.region}.db`);
    const client = new DynamoDBClient({
      endpoint: stack!.env.AWS_ENDPOINT_URL_DYNAMODB,
      region: stack!.env.AWS_REGION,
      credentials: { accessKeyId: stack!.env.AWS_ACCESS_KEY_ID!, secretAccessKey: stack!.env.AWS_SECRET_ACCESS_KEY! },
    });
    const { Item } = await client.send(new GetItemCommand({ TableName: stack!.env.TABLE_NAME, Key: { pk: legacyItem.pk, sk: legacyItem.sk } }));
    client.destroy();
    expect(Item).toEqual(legacyItem);
  });

  it('makes the data directory the owner\'s only: folders 0700 and files 0600, DynamoDB Local\'s included', async () => {
    const modes = await modesUnder(dataDir);
    expect(modes.map(([path]) => path)).toEqual(
      expect.arrayContaining(['.', 'credentials.key', 'dynamodb-credentials.json', 'dynamodb', 'dynamodb.lock', 'notes', 'notes/old.txt']),
    );
    expect(modes.some(([path]) => /^dynamodb\/[A-Z0-9]{20}_[a-z0-9-]+\.db$/.test(path))).toBe(true);
    const loose = modes.filter(([, mode, kind]) => mode !== (kind === 'dir' ? 0o700 : 0o600)).map(([path, mode]) => `${path} ${mode.toString(8)}`);
    expect(loose).toEqual([]);
  });

  it('lets one DynamoDB Local at a time work on the data directory', async () => {
    await expect(startDynamoDbLocal({ port: 0, dataDir: join(dataDir, 'dynamodb'), lockWaitMs: 0 })).rejects.toThrow(
      new RegExp(`^${join(dataDir, 'dynamodb').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by process ${process.pid}, \\d+ `),
    );
  });

  it('keeps its access key and data across a restart, and lets go of the directory when stopped', async () => {
    const before = stack!.env;
    await stack!.stop();
    stack = undefined;
    expect(await readdir(dataDir)).not.toContain('dynamodb.lock');
    stack = await startLocalRuntime({ port: 0, dataDir, quiet: true, workers: false });
    expect(stack.env.AWS_ACCESS_KEY_ID).toBe(before.AWS_ACCESS_KEY_ID);
    expect(stack.env.AWS_REGION).toBe(before.AWS_REGION);
    const client = new DynamoDBClient({
      endpoint: stack.env.AWS_ENDPOINT_URL_DYNAMODB,
      region: stack.env.AWS_REGION,
      credentials: { accessKeyId: stack.env.AWS_ACCESS_KEY_ID!, secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY! },
    });
    const { Item } = await client.send(new GetItemCommand({ TableName: stack.env.TABLE_NAME, Key: { pk: legacyItem.pk, sk: legacyItem.sk } }));
    client.destroy();
    expect(Item).toEqual(legacyItem);
  }, 120_000);
});

describe('a data directory that is not one', () => {
  it('is refused before anything in it is touched (no chmod of a folder chosen by mistake)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'not-data-'));
    try {
      await writeFile(join(dir, 'notes.txt'), 'mine\n');
      await chmod(join(dir, 'notes.txt'), 0o644);
      await expect(
        startLocalRuntime({ port: 0, dataDir: dir, dynamodbEndpoint: inject('dynamodbEndpoint'), sqsEndpoint: inject('sqsEndpoint'), quiet: true }),
      ).rejects.toThrow(/holds files, none of them local ispnotify data/);
      expect((await stat(join(dir, 'notes.txt'))).mode & 0o777).toBe(0o644);
      expect(await readdir(dir)).toEqual(['notes.txt']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
