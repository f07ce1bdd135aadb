/**
 * `npm start` and `npm run admin` as a user runs them, as processes: the admin CLI finds the running
 * local stack with no environment variable, works on .data/ itself when the stack is stopped, and
 * refuses a table on AWS unless --table and --region name it. Each process gets a data directory in a
 * temporary folder (ISPNOTIFY_DATA_DIR) and a minimal environment; every process started here is
 * stopped, and no DynamoDB Local may be left on that folder.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../shared/local/runtime.js';

const tsx = join(projectRoot, 'node_modules', '.bin', 'tsx');

/** What a shell with nothing set up would have, plus the data directory. */
function bareEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ISPNOTIFY_DATA_DIR: dataDir, ...extra };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  return env;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `npm run admin -- ...args`, to its end (killed after `timeoutMs`). */
function admin(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 100_000): Promise<Run> {
  const started = Date.now();
  return new Promise((resolveRun, reject) => {
    const child = spawn(tsx, ['bin/admin.ts', ...args], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => killGroup(child), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Process ids of the Java processes (DynamoDB Local) working on a folder under `dir`. */
function javaProcessesOn(dir: string): number[] {
  const listing = execFileSync('ps', ['-ww', '-eo', 'pid=,args='], { encoding: 'utf8' });
  return listing
    .split('\n')
    .filter((line) => line.includes('DynamoDBLocal.jar') && line.includes(dir))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

/** The id of a process that has exited. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  return pid!;
}

const apiKeyOf = (stdout: string) => /^API key: (isk_\S+)$/m.exec(stdout)?.[1];

describe('npm start and the admin CLI', () => {
  let root: string;
  let dataDir: string;
  let stack: ChildProcess | undefined;
  let stackOutput = '';
  let apiUrl: string;
  let stackExit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ispnotify-admin-'));
    dataDir = join(root, '.data');
    // bin/local.ts as `npm start` runs it, but in one process (node with tsx's loader, no tsx CLI in
    // front): the SIGINT below reaches it alone, so it is this process that must stop DynamoDB Local.
    // In a process group of its own, for the clean-up in afterAll.
    stack = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
      cwd: projectRoot,
      env: bareEnv(dataDir, { PORT: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    stackExit = new Promise((resolveExit) => stack!.once('exit', (code, signal) => resolveExit({ code, signal })));
    stack.stderr!.on('data', (chunk: Buffer) => (stackOutput += chunk.toString()));
    await new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not print its API key within 150 s:\n${stackOutput}`)), 150_000);
      stack!.stdout!.on('data', (chunk: Buffer) => {
        stackOutput += chunk.toString();
        const api = /^API: (\S+)$/m.exec(stackOutput)?.[1];
        if (api && apiKeyOf(stackOutput)) {
          clearTimeout(timer);
          apiUrl = api;
          resolveReady();
        }
      });
      void stackExit.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited (${code ?? signal}) before it was ready:\n${stackOutput}`));
      });
    });
  }, 180_000);

  afterAll(async () => {
    if (stack) killGroup(stack);
    // Nothing may outlive the tests: a DynamoDB Local left running would hold up CI.
    if (root) {
      for (const pid of javaProcessesOn(root)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await rm(root, { recursive: true, force: true });
    }
  }, 60_000);

  it('listens on 127.0.0.1 and writes local-stack.json (0600) for a local admin', async () => {
    expect(new URL(apiUrl).hostname).toBe('127.0.0.1');
    const file = join(dataDir, 'local-stack.json');
    const info = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(info).sort()).toEqual(['accessKeyId', 'apiUrl', 'dynamodbEndpoint', 'pid', 'region', 'secretAccessKey', 'tableName']);
    expect(info).toMatchObject({ apiUrl, tableName: 'ispnotify', accessKeyId: expect.stringMatching(/^[A-Z0-9]{20}$/) });
    expect(() => process.kill(info.pid as number, 0)).not.toThrow();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  it('creates an operator and a key on the running stack with no environment variables', async () => {
    const created = await admin(['create-operator', '--id', 'acme', '--name', 'Acme ISP', '--country', 'BD'], bareEnv(dataDir));
    expect(created, created.stderr).toMatchObject({ code: 0 });
    expect(created.stdout).toMatch(/^Operator: acme\nAPI key: isk_\S+\n$/);
    expect(created.stderr).toMatch(/Using the running local stack/);
    // It used npm start's DynamoDB Local, never one of its own on the same files.
    expect(javaProcessesOn(root)).toHaveLength(1);

    const reply = await fetch(`${apiUrl}/v1/customers`, { headers: { authorization: `Bearer ${apiKeyOf(created.stdout)}` } });
    expect(reply.status).toBe(200);

    const key = await admin(['create-key', '--id', 'acme'], bareEnv(dataDir));
    expect(key, key.stderr).toMatchObject({ code: 0 });
    expect(key.stdout).toMatch(/^API key: isk_\S+\n$/);
    expect((await fetch(`${apiUrl}/v1/customers`, { headers: { authorization: `Bearer ${apiKeyOf(key.stdout)}` } })).status).toBe(200);

    const again = await admin(['create-operator', '--id', 'acme', '--name', 'Acme ISP'], bareEnv(dataDir));
    expect(again).toMatchObject({ code: 1, stdout: '' });
    expect(again.stderr).toMatch(/Operator "acme" already exists; use create-key for another key\./);
  }, 120_000);

  it('makes a platform key that reaches the platform routes, and verifies every ledger', async () => {
    const made = await admin(['create-platform-key'], bareEnv(dataDir));
    expect(made, made.stderr).toMatchObject({ code: 0 });
    expect(made.stdout).toMatch(/^Platform key: isk_\S+\n$/);
    const platformKey = /^Platform key: (\S+)$/m.exec(made.stdout)![1]!;
    const operators = await fetch(`${apiUrl}/v1/platform/operators`, { headers: { authorization: `Bearer ${platformKey}` } });
    expect(operators.status).toBe(200);
    expect(((await operators.json()) as { items: { id: string }[] }).items.map((o) => o.id)).toEqual(expect.arrayContaining(['demo']));
    expect((await fetch(`${apiUrl}/v1/customers`, { headers: { authorization: `Bearer ${platformKey}` } })).status).toBe(403);

    const verified = await admin(['verify-ledger'], bareEnv(dataDir));
    expect(verified, verified.stderr).toMatchObject({ code: 0 });
    expect(verified.stdout).toMatch(/^ok   demo: balance 100000000, ledger sum 100000000 over 1 entries, reserved 0$/m);
    expect(verified.stdout).toMatch(/Ledgers verified: \d+ ok, 0 failed/);
  }, 120_000);

  it('refuses a table on AWS unless both --table and --region name it', async () => {
    const nowhere = join(root, 'no-data-here');
    for (const dir of [nowhere, dataDir]) {
      const refused = await admin(['create-operator', '--id', 'acme', '--name', 'Acme ISP'], bareEnv(dir, { TABLE_NAME: 'foo' }));
      expect(refused).toMatchObject({ code: 1, stdout: '' });
      expect(refused.stderr).toMatch(/TABLE_NAME is set.*pass --table foo --region <region>/);
    }
    for (const flags of [['--table', 'foo'], ['--region', 'eu-west-1'], ['--table', '', '--region', 'eu-west-1']]) {
      const refused = await admin(['create-key', '--id', 'acme', ...flags], bareEnv(nowhere));
      expect(refused).toMatchObject({ code: 1, stdout: '' });
      expect(refused.stderr).toMatch(/needs both --table <name> and --region <region>/);
    }
    const noStack = await admin(['create-key', '--id', 'acme'], bareEnv(nowhere));
    expect(noStack).toMatchObject({ code: 1, stdout: '' });
    expect(noStack.stderr).toMatch(/No local stack: .* does not exist\. Start one with `npm start`, or pass --table <name> --region <region>/);
    expect(existsSync(nowhere)).toBe(false);

    const usage = await admin(['make-coffee'], bareEnv(nowhere));
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/create-operator --id <id> --name <name>/);
  }, 120_000);

  it('stops on SIGINT: local-stack.json goes, and so does DynamoDB Local (which got no signal itself)', async () => {
    expect(javaProcessesOn(root)).toHaveLength(1);
    process.kill(stack!.pid!, 'SIGINT');
    const exit = await stackExit;
    expect(exit, stackOutput).toEqual({ code: 0, signal: null });
    stack = undefined;
    const left = await readdir(dataDir);
    expect(left).not.toContain('local-stack.json');
    expect(left).not.toContain('dynamodb.lock');
    expect(javaProcessesOn(root)).toEqual([]);
  }, 60_000);

  it('works on .data/ itself when the stack is stopped (local-stack.json stale), and stops what it started', async () => {
    await writeFile(
      join(dataDir, 'local-stack.json'),
      JSON.stringify({ pid: deadPid(), dynamodbEndpoint: 'http://127.0.0.1:9', region: 'us-east-1', tableName: 'ispnotify', accessKeyId: 'X', secretAccessKey: 'Y', apiUrl: 'http://127.0.0.1:9' }),
      { mode: 0o600 },
    );
    const key = await admin(['create-key', '--id', 'acme'], bareEnv(dataDir));
    expect(key, key.stderr).toMatchObject({ code: 0 });
    expect(key.stdout).toMatch(/^API key: isk_\S+\n$/);
    expect(key.stderr).toMatch(/the local stack is not running/);
    expect(javaProcessesOn(root)).toEqual([]);
    expect(await readdir(dataDir)).not.toContain('dynamodb.lock');

    // The same data as npm start's: the operator made on the running stack is there.
    const again = await admin(['create-operator', '--id', 'acme', '--name', 'Acme ISP'], bareEnv(dataDir));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/Operator "acme" already exists/);
    expect(javaProcessesOn(root)).toEqual([]);
  }, 180_000);
});
