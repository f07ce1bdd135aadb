/**
 * Operator administration, on the local stack or on a table on AWS:
 *   npm run admin -- create-operator --id acme --name "Acme ISP" --country BD [--timezone Asia/Dhaka]
 *   npm run admin -- create-key --id acme
 * Prints the new API key once.
 *
 * Where it works:
 * - no flags: the local stack. While `npm start` runs, through .data/local-stack.json (its DynamoDB
 *   Local, endpoint and key); otherwise on .data/ itself, with a DynamoDB Local of its own that it
 *   stops when done (never a second one on files `npm start` uses). No environment variable is needed;
 *   ISPNOTIFY_DATA_DIR names another data directory, as for `npm start`.
 * - `--table <TableName output> --region <region>`, both: that table on AWS, with the AWS credentials
 *   of the environment. TABLE_NAME in the environment alone is refused, so that a shell left set up for
 *   AWS never writes there by mistake.
 *
 * A command is one entry in `commands` below: its options, a check of them, and what it does.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoOperatorStore as operators } from '../shared/adapters/dynamodb/operators.js';
import { resetConfig } from '../shared/config.js';
import { generateApiKey, hashApiKey } from '../shared/domain/api-keys.js';
import { isCountryCode } from '../shared/domain/phone.js';
import { ResourceId } from '../shared/domain/schemas.js';
import { PLATFORM_OWNER } from '../shared/ports.js';
import { dynamoBillingStore } from '../shared/adapters/dynamodb/billing.js';
import { verifyLedger } from '../shared/services/billing.js';
import { createKey as createKeyFor, type NewKey } from '../shared/services/keys.js';
import {
  ensureDynamoDbCredentials,
  isProcessAlive,
  LOCAL_STACK_FILE,
  localDataDir,
  LockedError,
  readLocalStackInfo,
  secureDataDir,
  storedRegion,
} from '../shared/local/data-dir.js';
import { ensureTable, startDynamoDbLocal } from '../shared/local/dynamodb-local.js';

type Values = Record<string, string | boolean | undefined>;

interface Command<Input> {
  /** The arguments after the command name, for the usage text. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Checks the options (before anything is opened); throws a UsageError. */
  parse(values: Values): Input;
  run(input: Input): Promise<void>;
}

/** A mistake of the caller: the message alone is printed. */
class UsageError extends Error {}

const defineCommand = <Input>(command: Command<Input>) => command as Command<unknown>;

function operatorId(values: Values): string {
  const id = ResourceId.safeParse(values.id);
  if (!id.success) throw new UsageError('--id is required: 1-64 letters, digits, "_", "-", "." or ":".');
  return id.data;
}

const createRoleKey = (store: typeof operators, ownerId: string, input: NewKey) => createKeyFor({ operators: store, clock: { now: () => new Date() } }, ownerId, input);

async function createKey(id: string): Promise<void> {
  const apiKey = generateApiKey();
  await operators.putApiKey(hashApiKey(apiKey), id, 'admin cli');
  console.log(`API key: ${apiKey}`);
}

const commands: Record<string, Command<unknown>> = {
  'verify-ledger': defineCommand({
    usage: '[--id <operator>]',
    options: { id: { type: 'string' } },
    parse: (values) => ({ id: values.id === undefined ? undefined : operatorId(values) }),
    async run({ id }) {
      // Every operator (or one): balance = sum(ledger), each entry's balanceAfter in order, never below the credit limit.
      const ids: string[] = [];
      if (id) ids.push(id);
      else {
        let cursor: string | undefined;
        do {
          const page = await operators.list(100, cursor);
          ids.push(...page.items.map((o) => o.id));
          cursor = page.cursor;
        } while (cursor);
      }
      let bad = 0;
      for (const operator of ids) {
        const report = await verifyLedger({ billing: dynamoBillingStore }, operator);
        if (!report.ok) bad++;
        console.log(`${report.ok ? 'ok  ' : 'FAIL'} ${operator}: balance ${report.balance}, ledger sum ${report.ledgerSum} over ${report.entries} entries, reserved ${report.reserved}${report.ok ? '' : `\n     ${report.problems.join('\n     ')}`}`);
      }
      console.log(`Ledgers verified: ${ids.length - bad} ok, ${bad} failed`);
      if (bad > 0) process.exitCode = 1;
    },
  }),
  'create-platform-key': defineCommand({
    usage: '',
    options: {},
    parse: () => ({}),
    async run() {
      // The platform's key: operators, prices, top-ups, payments and bills of every operator.
      const { apiKey } = await createRoleKey(operators, PLATFORM_OWNER, { role: 'platform', label: 'admin cli' });
      console.log(`Platform key: ${apiKey}`);
    },
  }),
  'create-operator': defineCommand({
    usage: '--id <id> --name <name> [--country BD] [--timezone Asia/Dhaka]',
    options: {
      id: { type: 'string' },
      name: { type: 'string' },
      country: { type: 'string', default: 'BD' },
      timezone: { type: 'string', default: 'Asia/Dhaka' },
    },
    parse(values) {
      const id = operatorId(values);
      const name = typeof values.name === 'string' ? values.name.trim() : '';
      if (!name) throw new UsageError('--name is required.');
      const country = String(values.country);
      if (!isCountryCode(country)) throw new UsageError(`--country "${country}" is not an ISO 3166 country code.`);
      const timezone = String(values.timezone);
      try {
        new Intl.DateTimeFormat('en', { timeZone: timezone });
      } catch {
        throw new UsageError(`--timezone "${timezone}" is not an IANA time zone (e.g. Asia/Dhaka).`);
      }
      return { id, name, country: country.toUpperCase(), timezone };
    },
    async run({ id, name, country, timezone }) {
      if (await operators.get(id)) throw new UsageError(`Operator "${id}" already exists; use create-key for another key.`);
      await operators.put({ id, name, defaultCountry: country, timezone, createdAt: new Date().toISOString() });
      console.log(`Operator: ${id}`);
      await createKey(id);
    },
  }),
  'create-key': defineCommand({
    usage: '--id <id>',
    options: { id: { type: 'string' } },
    parse: (values) => ({ id: operatorId(values) }),
    async run({ id }) {
      if (!(await operators.get(id))) throw new UsageError(`Operator "${id}" does not exist.`);
      await createKey(id);
    },
  }),
};

/** Options every command takes: where to work. */
const targetOptions = { table: { type: 'string' }, region: { type: 'string' } } as const;

function usage(): string {
  return [
    'Usage:',
    ...Object.entries(commands).map(([name, command]) => `  npm run admin -- ${name} ${command.usage} [--table <name> --region <region>]`),
    'Without --table and --region: the local stack (npm start, or .data/). With both: that DynamoDB table on AWS.',
  ].join('\n');
}

/** Where the command works, and what to stop afterwards. */
interface Target {
  description: string;
  close(): Promise<void>;
}

/** Points the app's DynamoDB adapter (it reads the environment) at a local DynamoDB, and nowhere else. */
async function pointAtLocal(dataDir: string, to: { endpoint: string; region: string; tableName: string; accessKeyId: string; secretAccessKey: string }) {
  // Nothing of an AWS setup in this shell may redirect the client: no profile, session or endpoint switch.
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_DEFAULT_REGION', 'AWS_ENDPOINT_URL', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', 'CREDENTIALS_KMS_KEY_ID']) {
    delete process.env[name];
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: to.endpoint,
    AWS_REGION: to.region,
    AWS_ACCESS_KEY_ID: to.accessKeyId,
    AWS_SECRET_ACCESS_KEY: to.secretAccessKey,
    TABLE_NAME: to.tableName,
  });
  // The key that seals gateway credentials locally, for commands that seal some.
  const sealingKey = await readFile(join(dataDir, 'credentials.key'), 'utf8').catch(() => undefined);
  if (sealingKey?.trim()) process.env.CREDENTIALS_LOCAL_KEY = sealingKey.trim();
  resetConfig();
}

function useAwsTable(table: string, region: string): Target {
  process.env.TABLE_NAME = table;
  process.env.AWS_REGION = region;
  resetConfig();
  return { description: `table ${table} in ${region}`, close: async () => {} };
}

/** Checks that the running stack's DynamoDB Local answers and has the table. */
async function assertAnswers(to: { endpoint: string; region: string; tableName: string; accessKeyId: string; secretAccessKey: string }, what: string) {
  const client = new DynamoDBClient({ endpoint: to.endpoint, region: to.region, credentials: to, maxAttempts: 1 });
  try {
    await client.send(new DescribeTableCommand({ TableName: to.tableName }));
  } catch (error) {
    throw new Error(`${what} does not answer at ${to.endpoint} (${error instanceof Error ? error.message : String(error)}).`);
  } finally {
    client.destroy();
  }
}

const LOCAL_TABLE_NAME = 'ispnotify'; // what `npm start` uses (shared/local/runtime.ts)
const WAIT_FOR_LOCAL_STACK_MS = 90_000;

async function useLocalStack(dataDir: string): Promise<Target> {
  const deadline = Date.now() + WAIT_FOR_LOCAL_STACK_MS;
  let waitingFor: number[] | undefined;
  for (;;) {
    const info = await readLocalStackInfo(dataDir);
    if (info && isProcessAlive(info.pid)) {
      const to = { ...info, endpoint: info.dynamodbEndpoint };
      await assertAnswers(to, `The local stack of ${join(dataDir, LOCAL_STACK_FILE)} (pid ${info.pid})`);
      await pointAtLocal(dataDir, to);
      return { description: `the running local stack (pid ${info.pid}, ${info.apiUrl})`, close: async () => {} };
    }
    if (!existsSync(dataDir)) {
      throw new UsageError(
        `No local stack: ${dataDir} does not exist. Start one with \`npm start\`, or pass --table <name> --region <region> for a table on AWS.`,
      );
    }
    try {
      return await useDataDir(dataDir, info?.tableName ?? LOCAL_TABLE_NAME);
    } catch (error) {
      // `npm start` is starting (it writes local-stack.json once it answers), or another admin command runs.
      if (!(error instanceof LockedError) || Date.now() > deadline) throw error;
      if (!waitingFor) console.error(`Waiting for process ${error.pids.join(', ')}, which uses ${join(dataDir, 'dynamodb')}…`);
      waitingFor = error.pids;
      await sleep(250);
    }
  }
}

/** No stack runs: DynamoDB Local of our own on the data directory, stopped by close(). */
async function useDataDir(dataDir: string, tableName: string): Promise<Target> {
  await secureDataDir(dataDir);
  const credentials = await ensureDynamoDbCredentials(dataDir, storedRegion(dataDir) || process.env.AWS_REGION || 'us-east-1');
  const { region } = credentials;
  const dynamo = await startDynamoDbLocal({ port: 0, dataDir: join(dataDir, 'dynamodb'), credentials, region, lockWaitMs: 0 });
  try {
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials });
    try {
      await ensureTable(client, tableName);
    } finally {
      client.destroy();
    }
    await pointAtLocal(dataDir, { ...credentials, endpoint: dynamo.endpoint, tableName });
  } catch (error) {
    await dynamo.stop();
    throw error;
  }
  return { description: `${dataDir} (the local stack is not running)`, close: dynamo.stop };
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : commands[name];
  if (!command) throw new UsageError(usage());
  let values: Values;
  try {
    values = parseArgs({ args: rest, options: { ...command.options, ...targetOptions }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${usage()}`);
  }
  const input = command.parse(values);

  const { table, region } = values;
  let target: Target;
  if (table !== undefined || region !== undefined) {
    if (typeof table !== 'string' || !table || typeof region !== 'string' || !region) {
      throw new UsageError('A table on AWS needs both --table <name> and --region <region>.');
    }
    target = useAwsTable(table, region);
  } else if (process.env.TABLE_NAME) {
    throw new UsageError(
      `TABLE_NAME is set, but the admin CLI uses a table on AWS only when it is named with both flags: ` +
        `pass --table ${process.env.TABLE_NAME} --region <region>. Unset TABLE_NAME to use the local stack.`,
    );
  } else {
    target = await useLocalStack(localDataDir());
  }
  console.error(`Using ${target.description}.`);
  try {
    await command.run(input);
  } finally {
    await target.close();
  }
}

// Defaults the app's config needs and these commands do not use.
process.env.PUBLIC_BASE_URL ??= 'https://unused.invalid';
process.env.CREDENTIALS_LOCAL_KEY ??= Buffer.alloc(32).toString('base64');
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let exitCode = 0;
try {
  await main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof UsageError ? error.message : `admin: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
}
// Whatever sockets the SDK keeps alive: the work is done (and anything started here is stopped).
process.exit(exitCode);
