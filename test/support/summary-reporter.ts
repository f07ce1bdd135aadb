import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the plain summary CI reads, `N passed, N failed`, as the last line of the run, and
 * keeps a copy in .test-summary for .ci/run. A module that failed to load counts as a failure.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>) {
    let passed = 0;
    let failed = unhandledErrors.length;
    for (const module of testModules) {
      let tests = 0;
      for (const test of module.children.allTests()) {
        tests++;
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
      }
      if (tests === 0 && module.state() === 'failed') failed++;
    }
    const line = `${passed} passed, ${failed} failed`;
    writeFileSync('.test-summary', `${line}\n`);
    // After vitest's own output, so it is the last line.
    process.on('exit', () => console.log(line));
  }
}
