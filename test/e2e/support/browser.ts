/**
 * The browser tests' tools: Debian's Chromium driven by playwright-core (Playwright's own browser
 * download is not reachable here), the console built once when console/dist is missing, and axe-core.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildConsole, consoleBuilt, consoleDist } from '../../../shared/local/console-build.js';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    // Headless by playwright; the rest keep Chromium off the (closed) network and quiet.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Builds the console unless it is built; test files building at once wait for the one that builds. */
export async function ensureConsoleBuilt(): Promise<void> {
  if (consoleBuilt()) return;
  const lock = join(consoleDist, '..', '.build-lock');
  try {
    await mkdir(lock);
  } catch {
    // Another file is building it.
    const deadline = Date.now() + 180_000;
    while (!consoleBuilt() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    if (!consoleBuilt()) throw new Error('console/dist did not appear: the build by another test file failed?');
    return;
  }
  try {
    await buildConsole();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

/** axe-core's serious and critical violations on the page as it is (WCAG 2.1 A and AA rules). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const { axe, document } = globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> }; document: unknown };
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
