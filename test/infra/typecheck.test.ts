import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

// tsx, vitest and esbuild strip types without checking them: the compiler is the one check of the whole tree.
it('type-checks the whole project with the strict compiler settings', async () => {
  const result = await promisify(execFile)('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'], { cwd: process.cwd() }).then(
    () => ({ code: 0, output: '' }),
    (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, output: error.stdout ?? '' }),
  );
  expect(result.output).toBe('');
  expect(result.code).toBe(0);
}, 180_000);
