/**
 * The admin console's build (console/dist), made on demand: `npm start` on a fresh clone and the
 * browser tests build it once when it is missing. `npm run build:console` generates the API types
 * from shared/openapi.ts, type-checks the console and bundles it with Vite.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const consoleDist = join(root, 'console', 'dist');

const consoleDir = join(root, 'console');

/** The newest modification time of the console's sources (its generated API types aside). */
function newestSource(): number {
  let newest = 0;
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else if (!/[\\/]src[\\/]api[\\/](openapi\.json|schema\.d\.ts)$/.test(path)) newest = Math.max(newest, stat.mtimeMs);
  };
  for (const name of ['src', 'index.html', 'vite.config.ts']) visit(join(consoleDir, name));
  return newest;
}

/** console/dist exists and is newer than every source of the console. */
export function consoleBuilt(): boolean {
  const index = join(consoleDist, 'index.html');
  return existsSync(index) && statSync(index).mtimeMs >= newestSource();
}

/** Runs `npm run build:console`; rejects with its output's tail when it fails. */
export function buildConsole(opts: { echo?: boolean } = {}): Promise<void> {
  return new Promise((resolveBuild, reject) => {
    const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build:console'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      if (opts.echo) process.stdout.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 && consoleBuilt() ? resolveBuild() : reject(new Error(`npm run build:console failed (exit ${code}):\n${output}`))));
  });
}
