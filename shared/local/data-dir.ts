/**
 * The local data directory (.data/ at the project root, or ISPNOTIFY_DATA_DIR): its permissions, the
 * DynamoDB Local access key kept in it, the lock that keeps one DynamoDB Local on its files, and
 * local-stack.json, which tells a local admin (bin/admin.ts) how to reach the running stack.
 *
 * DynamoDB Local cannot be told which interface to listen on: it answers on every interface. Without
 * -sharedDb it keeps one database per access key id and region (`<accessKeyId>_<region>.db`) and
 * checks no secret, so the stack's data is reached only with its random access key id, which lives
 * here, readable by the owner only.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, link, lstat, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DynamoDbCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What <dataDir>/dynamodb-credentials.json holds: the key and the region its database file is named after. */
export interface StoredDynamoDbCredentials extends DynamoDbCredentials {
  region: string;
}

/** What <dataDir>/local-stack.json holds while `npm start` runs. */
export interface LocalStackInfo {
  pid: number;
  dynamodbEndpoint: string;
  region: string;
  tableName: string;
  accessKeyId: string;
  secretAccessKey: string;
  apiUrl: string;
}

/** In memory (tests): nothing is kept, every client of the run uses this key. A new object each time: the SDK writes into it. */
export function inMemoryCredentials(): DynamoDbCredentials {
  return { accessKeyId: 'local', secretAccessKey: 'local' };
}

export const DYNAMODB_CREDENTIALS_FILE = 'dynamodb-credentials.json';
export const LOCAL_STACK_FILE = 'local-stack.json';
/** The file DynamoDB Local kept with -sharedDb (before the access key). */
export const SHARED_DB_FILE = 'shared-local-instance.db';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** DynamoDB Local (2.0+) accepts only letters and digits in an access key id; it names a file after it. */
const ACCESS_KEY_ID = /^[A-Za-z0-9]{1,128}$/;
const REGION = /^[a-z0-9-]{1,40}$/;

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** ISPNOTIFY_DATA_DIR (resolved from the working directory), else .data/ at the project root. */
export function localDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ISPNOTIFY_DATA_DIR ? resolve(env.ISPNOTIFY_DATA_DIR) : join(projectRoot, '.data');
}

function randomAlphanumeric(length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return text;
}

const errnoCode = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/** Names that show a folder is (or holds) local ispnotify data: what npm start and DynamoDB Local write. */
const OUR_NAMES = /^(credentials\.key|demo-api-key|dynamodb|dynamodb\.lock|dynamodb-credentials\.json|local-stack\.json|.+\.db)$/;

/**
 * Makes `dir` 0700 and everything in it owner-only: folders 0700, files 0600, recursively (symbolic
 * links are left alone, and not followed). Creates `dir` when missing. Refuses a folder with content
 * and nothing of ours in it (ISPNOTIFY_DATA_DIR pointed at the wrong place): that is not for chmod.
 */
export async function secureDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  const names = await readdir(dir);
  if (names.length > 0 && !names.some((name) => OUR_NAMES.test(name))) {
    throw new Error(`${dir} holds files, none of them local ispnotify data: choose an empty or new folder as the data directory.`);
  }
  await secureTree(dir);
}

async function secureTree(path: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return; // gone meanwhile (a journal file, a temporary file)
    throw error;
  }
  if (stats.isSymbolicLink()) return;
  const mode = stats.isDirectory() ? DIR_MODE : FILE_MODE;
  if ((stats.mode & 0o777) !== mode) {
    await chmod(path, mode).catch((error: unknown) => {
      if (errnoCode(error) !== 'ENOENT') throw error;
    });
  }
  if (!stats.isDirectory()) return;
  const names = await readdir(path).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return [] as string[];
    throw error;
  });
  for (const name of names) await secureTree(join(path, name));
}

/** Writes `file` (0600) through a temporary file and a rename, so a reader never sees half of it. */
async function writePrivateFile(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: FILE_MODE });
  await chmod(temporary, FILE_MODE); // it may have been left behind with other modes
  await rename(temporary, file);
}

function parseStoredCredentials(text: string, file: string): StoredDynamoDbCredentials {
  let parsed: Partial<Record<keyof StoredDynamoDbCredentials, unknown>>;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new Error(`${file} is not JSON; restore it, or delete it to lose the local data.`);
  }
  const { accessKeyId, secretAccessKey, region } = parsed;
  if (typeof accessKeyId !== 'string' || !ACCESS_KEY_ID.test(accessKeyId) || typeof secretAccessKey !== 'string' || typeof region !== 'string' || !REGION.test(region)) {
    throw new Error(`${file} does not hold {accessKeyId, secretAccessKey, region}; restore it, or delete it to lose the local data.`);
  }
  return { accessKeyId, secretAccessKey, region };
}

/** The stored DynamoDB Local credentials, or undefined when there are none yet. */
export async function readDynamoDbCredentials(dataDir: string): Promise<StoredDynamoDbCredentials | undefined> {
  const file = join(dataDir, DYNAMODB_CREDENTIALS_FILE);
  const text = await readFile(file, 'utf8').catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  });
  return text === undefined ? undefined : parseStoredCredentials(text, file);
}

/** The region of the stored credentials (their database file is named after it), if any. Synchronous. */
export function storedRegion(dataDir: string): string | undefined {
  const file = join(dataDir, DYNAMODB_CREDENTIALS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseStoredCredentials(text, file).region;
}

/**
 * The DynamoDB Local credentials kept in <dataDir>/dynamodb-credentials.json (0600): created on the
 * first call with a random 20-character access key id and `region`, the same ever after.
 */
export async function ensureDynamoDbCredentials(dataDir: string, region: string): Promise<StoredDynamoDbCredentials> {
  if (!REGION.test(region)) throw new Error(`"${region}" is not a region name.`);
  await mkdir(dataDir, { recursive: true, mode: DIR_MODE });
  const file = join(dataDir, DYNAMODB_CREDENTIALS_FILE);
  const created: StoredDynamoDbCredentials = { accessKeyId: randomAlphanumeric(20), secretAccessKey: randomAlphanumeric(40), region };
  try {
    // 'wx': when two starts race, one file wins and both read it below.
    await writeFile(file, `${JSON.stringify(created, null, 2)}\n`, { mode: FILE_MODE, flag: 'wx' });
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
  }
  const stored = await readDynamoDbCredentials(dataDir);
  if (!stored) throw new Error(`${file} disappeared while it was created.`);
  return stored;
}

/** The database file DynamoDB Local (without -sharedDb) keeps for these credentials. */
export function dynamoDbFileName(accessKeyId: string, region: string): string {
  return `${accessKeyId}_${region}.db`;
}

/**
 * Data from before the access key: renames `shared-local-instance.db` (and any SQLite journal next to
 * it) to the keyed file, unless that already exists. Returns true when it moved something. Call it
 * only while no DynamoDB Local runs on `dynamoDir`.
 */
export async function migrateSharedDb(dynamoDir: string, accessKeyId: string, region: string): Promise<boolean> {
  const from = join(dynamoDir, SHARED_DB_FILE);
  const to = join(dynamoDir, dynamoDbFileName(accessKeyId, region));
  const exists = (path: string) =>
    lstat(path).then(
      () => true,
      (error: unknown) => {
        if (errnoCode(error) === 'ENOENT') return false;
        throw error;
      },
    );
  if (!(await exists(from)) || (await exists(to))) return false;
  for (const suffix of ['-journal', '-wal', '-shm']) {
    if (await exists(`${from}${suffix}`)) await rename(`${from}${suffix}`, `${to}${suffix}`);
  }
  await rename(from, to);
  return true;
}

/** True when a process with this id exists (it may belong to another user). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the process is gone. */
async function stopProcess(pid: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + 3_000;
  while (isProcessAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isProcessAlive(pid)) signal('SIGKILL');
  while (isProcessAlive(pid)) await sleep(50);
}

/** local-stack.json, written by `npm start` once the stack answers. */
export async function writeLocalStackInfo(dataDir: string, info: LocalStackInfo): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: DIR_MODE });
  await writePrivateFile(join(dataDir, LOCAL_STACK_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

/** local-stack.json if it is there and well-formed (whether its process still runs is for the caller to check). */
export async function readLocalStackInfo(dataDir: string): Promise<LocalStackInfo | undefined> {
  let parsed: Partial<Record<keyof LocalStackInfo, unknown>>;
  try {
    parsed = JSON.parse(await readFile(join(dataDir, LOCAL_STACK_FILE), 'utf8')) as typeof parsed;
  } catch {
    return undefined;
  }
  const strings = ['dynamodbEndpoint', 'region', 'tableName', 'accessKeyId', 'secretAccessKey', 'apiUrl'] as const;
  if (typeof parsed.pid !== 'number' || strings.some((name) => typeof parsed[name] !== 'string' || parsed[name] === '')) return undefined;
  return parsed as LocalStackInfo;
}

/** Removes local-stack.json if it was written by process `pid`. */
export async function removeLocalStackInfo(dataDir: string, pid: number = process.pid): Promise<void> {
  const info = await readLocalStackInfo(dataDir);
  if (info && info.pid !== pid) return;
  await unlink(join(dataDir, LOCAL_STACK_FILE)).catch((error: unknown) => {
    if (errnoCode(error) !== 'ENOENT') throw error;
  });
}

/** Raised when another live process holds a lock. */
export class LockedError extends Error {
  constructor(
    message: string,
    readonly pids: number[],
  ) {
    super(message);
    this.name = 'LockedError';
  }
}

export interface Lock {
  /** Adds a process whose life also keeps the lock (e.g. a child that works on the files). */
  addPid(pid: number): Promise<void>;
  release(): Promise<void>;
}

/** Lock files this process holds, to tell them from a stale one left by an earlier process with our pid. */
const heldLocks = new Set<string>();

async function readLockPids(file: string): Promise<number[] | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { pids?: unknown };
    return Array.isArray(parsed.pids) ? parsed.pids.filter((pid): pid is number => typeof pid === 'number') : [];
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    return []; // unreadable or half-written: treated as stale (a writer writes it in one go)
  }
}

/**
 * An exclusive lock: the file `file` holding the ids of the processes that keep it. A lock whose
 * processes have all exited is stale and taken over. Waits up to `waitMs` for a live holder to let go,
 * then throws a LockedError naming `what`.
 */
export async function acquireLock(
  file: string,
  what: string,
  waitMs = 0,
  /**
   * Tells a child left running by a holder that was killed (SIGKILL gives it no chance to stop its
   * Java): such an orphan is stopped and the lock taken over, instead of blocking every restart.
   */
  isOrphanedChild?: (pid: number) => boolean,
): Promise<Lock> {
  const absolute = resolve(file);
  const deadline = Date.now() + waitMs;
  await mkdir(dirname(absolute), { recursive: true, mode: DIR_MODE });
  for (;;) {
    const pids = [process.pid];
    // Written whole under a name of our own, then linked in place: link fails if the lock exists, and
    // no reader ever sees a lock file without its pids.
    const temporary = `${absolute}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ pids })}\n`, { mode: FILE_MODE });
    const linked = await link(temporary, absolute).then(
      () => true,
      (error: unknown) => {
        if (errnoCode(error) === 'EEXIST') return false;
        throw error;
      },
    );
    await unlink(temporary).catch(() => {});
    if (linked) {
      heldLocks.add(absolute);
      return {
        async addPid(pid) {
          pids.push(pid);
          await writePrivateFile(absolute, `${JSON.stringify({ pids })}\n`);
        },
        async release() {
          if (!heldLocks.delete(absolute)) return;
          await unlink(absolute).catch(() => {});
        },
      };
    }
    const holders = await readLockPids(absolute);
    if (holders === undefined) continue; // released meanwhile: try again at once
    const ownStale = (pid: number) => pid === process.pid && !heldLocks.has(absolute);
    const alive = holders.filter((pid) => !ownStale(pid) && isProcessAlive(pid));
    const [owner, ...children] = holders;
    const orphansOnly =
      alive.length > 0 && owner !== undefined && !alive.includes(owner) && alive.every((pid) => children.includes(pid) && isOrphanedChild?.(pid));
    if (orphansOnly) {
      for (const pid of alive) await stopProcess(pid);
      continue;
    }
    if (alive.length === 0) {
      // Stale. Move it aside under a name of our own and look again: when another process replaced the
      // stale lock with its own meanwhile, what was moved is that fresh lock, and it goes back.
      const aside = `${absolute}.${process.pid}.stale`;
      const moved = await rename(absolute, aside).then(
        () => true,
        () => false,
      );
      if (moved) {
        const movedPids = (await readLockPids(aside)) ?? [];
        if (movedPids.some((pid) => !ownStale(pid) && isProcessAlive(pid))) await link(aside, absolute).catch(() => {});
        await unlink(aside).catch(() => {});
      }
      continue;
    }
    if (Date.now() >= deadline) {
      throw new LockedError(`${what} is in use by process ${alive.join(', ')} (another npm start, or an admin command); stop it first.`, alive);
    }
    await sleep(200);
  }
}
