import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, isProcessAlive, LockedError } from '../../shared/local/data-dir.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function lockFileHeldBy(pids: number[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ispnotify-lock-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'dynamodb.lock');
  await writeFile(file, `${JSON.stringify({ pids })}\n`, { mode: 0o600 });
  return file;
}

/** A long-lived child standing in for a Java process left behind by a killed `npm start`. */
function orphan() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
  cleanups.push(async () => void child.kill('SIGKILL'));
  return child.pid!;
}

/** A pid that is surely not running: a child that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('the data directory lock', () => {
  it('stops the DynamoDB Local left running by an npm start that was killed, and takes the lock', async () => {
    const child = orphan();
    const file = await lockFileHeldBy([await deadPid(), child]);
    const lock = await acquireLock(file, 'the data', 0, (pid) => pid === child);
    expect(isProcessAlive(child)).toBe(false);
    await lock.release();
  });

  it('never stops a live process it cannot recognise as that orphan, and says who holds the lock', async () => {
    const child = orphan();
    const file = await lockFileHeldBy([await deadPid(), child]);
    const error = await acquireLock(file, 'the data', 0, () => false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockedError);
    expect((error as LockedError).pids).toEqual([child]);
    expect(isProcessAlive(child)).toBe(true);
  });

  it('leaves a lock alone while its owner still runs, even if a child is listed', async () => {
    const owner = orphan();
    const child = orphan();
    const file = await lockFileHeldBy([owner, child]);
    await expect(acquireLock(file, 'the data', 0, () => true)).rejects.toBeInstanceOf(LockedError);
    expect(isProcessAlive(child)).toBe(true);
  });
});
