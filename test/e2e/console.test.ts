/**
 * The admin console in a real browser (Debian's Chromium) against the local stack with the demo
 * operator: sign in, send and watch the message reach delivered, create a gateway from the form
 * generated from its provider's schema, a 402 in words, what a read-only key sees, and an axe-core
 * check of every page at desktop and phone width (screenshots under test-results/console/).
 */
import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey } from '../../shared/domain/api-keys.js';
import { deps } from '../../shared/deps.js';
import { apiClient } from '../support/api-client.js';
import { startDemoStack, type DemoStack } from '../support/demo-stack.js';
import { ensureConsoleBuilt, launchBrowser, seriousViolations } from './support/browser.js';

const SCREENSHOTS = 'test-results/console';
/** Each page's path and its link in the menu. */
const pageLinks = [
  ['', 'Dashboard'],
  ['send', 'Send'],
  ['history', 'History'],
  ['broadcasts', 'Broadcasts'],
  ['templates', 'Templates'],
  ['gateways', 'Gateways'],
  ['reminders', 'Reminders & events'],
  ['billing', 'Billing'],
  ['alerts', 'Team alerts'],
  ['settings', 'Settings'],
] as const;

/** The page's storage, as the test reads it (this project's TypeScript has no DOM types). */
type BrowserStorage = { sessionStorage: { getItem(key: string): string | null }; localStorage: object };

let demo: DemoStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let consoleUrl: string;

async function signIn(p: Page, key: string) {
  await p.goto(consoleUrl);
  await p.getByLabel('API key').fill(key);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  // The build (first run only) and the stack start together.
  [, demo] = await Promise.all([ensureConsoleBuilt(), startDemoStack('e2e-console', { liftRateLimit: true })]);
  consoleUrl = `${demo.stack.baseUrl}/console/`;
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  page = await context.newPage();
  await mkdir(SCREENSHOTS, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stack.stop();
});

describe('the admin console', () => {
  it('signs in with the demo key, keeps it in sessionStorage only, and knows its role', async () => {
    await signIn(page, demo.apiKey);
    await expect(page.getByRole('heading', { name: 'Dashboard' }).waitFor()).resolves.toBeUndefined();
    expect(await page.getByTestId('role').textContent()).toMatch(/admin/i);
    const stored = await page.evaluate(() => {
      const w = globalThis as unknown as BrowserStorage;
      return { session: w.sessionStorage.getItem('ispnotify.apiKey'), local: Object.keys(w.localStorage) };
    });
    expect(stored.session).toBe(demo.apiKey);
    expect(stored.local.filter((k) => k.startsWith('ispnotify'))).toEqual([]);
  });

  it('sends a message to a customer found by name and sees it reach delivered, then on History', { timeout: 45_000 }, async () => {
    await page.getByRole('link', { name: 'Send' }).click();
    await page.locator('input[name="to"]').fill('Rahim');
    await page.getByRole('option', { name: /Rahim Uddin/ }).click();
    await page.getByTestId('picked-customer').waitFor();
    await page.getByRole('textbox', { name: 'Text' }).fill('Your bill of 500 BDT is due on the 10th.');
    await page.getByTestId('segments').waitFor();
    expect(await page.getByTestId('preview').textContent()).toContain('GSM-7');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('[data-testid="sent-status"] [data-status="delivered"]').waitFor({ timeout: 20_000 });

    await page.getByRole('link', { name: 'History' }).click();
    const row = page.getByRole('row').filter({ hasText: 'Your bill of 500 BDT' }).first();
    await row.locator('[data-status="delivered"]').waitFor({ timeout: 10_000 });
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'Status timeline' }).waitFor();
    expect(await page.getByTestId('message-card').textContent()).toContain('Accepted');
  });

  it('creates a gateway from the form generated from its provider\'s schemas, with the secret masked after', async () => {
    await page.getByRole('link', { name: 'Gateways' }).click();
    await page.getByRole('button', { name: 'Add gateway' }).click();
    const form = page.getByRole('form', { name: 'Gateway form' });
    await form.getByRole('combobox', { name: 'Provider' }).click();
    await page.getByRole('option', { name: 'Sandbox (no real SMS)' }).click();
    await form.getByRole('textbox', { name: 'Name', exact: true }).fill('Backup sandbox');
    await form.getByLabel('Webhook secret').fill('a-secret-of-at-least-16');
    await form.getByLabel('Sender id').fill('DEMOISP');
    await form.getByRole('button', { name: 'Save' }).click();
    const card = page.locator('[data-testid^="gateway-"]').filter({ hasText: 'Backup sandbox' });
    await card.waitFor();
    expect(await card.textContent()).toContain('webhookSecret');
    expect(await card.textContent()).not.toContain('a-secret-of-at-least-16');
    const { body } = await demo.api.get('/v1/gateways');
    expect(body.items.find((g: { name: string }) => g.name === 'Backup sandbox')?.settings).toMatchObject({ senderId: 'DEMOISP' });

    await card.getByLabel('Test number').fill('01711223344');
    await card.getByRole('button', { name: 'Send a test' }).click();
    await expect(card.getByTestId('test-result').textContent()).resolves.toContain('The provider accepted the test');
  });

  it('shows a 402 as a clear message with the shortfall and the way to a top-up', async () => {
    // A prepaid operator with nothing on its balance, and an SMS gateway.
    const d = deps();
    await d.operators.put({ id: 'e2e-poor', name: 'Poor ISP', defaultCountry: 'BD', timezone: 'Asia/Dhaka', billing: 'prepaid', createdAt: new Date().toISOString() });
    const key = generateApiKey();
    await d.operators.putApiKey(hashApiKey(key), 'e2e-poor', 'e2e');
    const poor = apiClient(demo.stack.baseUrl, key);
    expect((await poor.post('/v1/gateways', { name: 'SMS', channel: 'sms', provider: 'sandbox', credentials: { webhookSecret: 'another-secret-16chars' }, default: true })).status).toBe(201);

    const other = await context.browser()!.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const p = await other.newPage();
    try {
      await signIn(p, key);
      await p.getByRole('link', { name: 'Send' }).click();
      await p.locator('input[name="to"]').fill('01711223344');
      await p.getByRole('textbox', { name: 'Text' }).fill('Hello');
      await p.getByRole('button', { name: 'Send', exact: true }).click();
      const alert = p.getByRole('alert').filter({ hasText: 'Not enough balance' });
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(/BDT\s?0\.35 more is needed/);
      expect(await alert.getByRole('link', { name: 'Top up' }).count()).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('shows a read-only key no button that would fail', async () => {
    const { body } = await demo.api.post('/v1/keys', { role: 'read-only', label: 'viewer' });
    const other = await context.browser()!.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await other.newPage();
    try {
      await signIn(p, body.apiKey);
      await p.getByRole('heading', { name: 'Dashboard' }).waitFor();
      expect(await p.getByTestId('role').textContent()).toMatch(/read-only/i);
      expect(await p.getByRole('link', { name: 'Send' }).count()).toBe(0);
      await p.getByRole('link', { name: 'Gateways' }).click();
      await p.getByRole('heading', { name: 'Gateways' }).waitFor();
      await p.locator('[data-testid^="gateway-"]').first().waitFor();
      for (const name of ['Add gateway', 'Edit', 'Delete', 'Send a test']) expect(await p.getByRole('button', { name }).count()).toBe(0);
      await p.getByRole('button', { name: 'Sign out' }).click();
      await p.getByLabel('API key').waitFor();
      expect(await p.evaluate(() => (globalThis as unknown as BrowserStorage).sessionStorage.getItem('ispnotify.apiKey'))).toBeNull();
    } finally {
      await other.close();
    }
  });

  it('runs a broadcast to 100% when the API has broadcasts, else says they are not available', async () => {
    const available = (await demo.api.get('/v1/broadcasts')).status !== 404;
    await page.goto(`${consoleUrl}broadcasts`);
    if (!available) {
      await page.getByText('is not offered by this API version yet').waitFor();
      return;
    }
    await page.getByRole('link', { name: 'New broadcast' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('E2E broadcast');
    // A small audience (one zone), so it is done in seconds.
    await page.getByRole('combobox', { name: 'Zones' }).fill('Mirpur');
    await page.keyboard.press('Enter');
    await page.getByRole('textbox', { name: 'Text' }).fill('Maintenance tonight, {{customer.name}}.');
    await page.getByRole('button', { name: 'Estimate (dry run)' }).click();
    await page.getByTestId('broadcast-plan').waitFor();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.locator('[data-testid="broadcast-progress"][data-value="100"]').waitFor({ timeout: 45_000 });
  }, 60_000);

  it('passes axe-core (no serious or critical violations) on every page and in Bangla, with screenshots at desktop and phone width', async () => {
    const found: string[] = [];
    const check = async (p: Page, name: string, axe = true, title?: string) => {
      await p.getByRole('heading', { level: 1, ...(title ? { name: title } : {}) }).first().waitFor();
      // The page's data: its first requests answered.
      await p.waitForLoadState('networkidle', { timeout: 3_000 }).catch(() => {});
      if (axe) for (const v of await seriousViolations(p)) found.push(`${name}: ${v.id} (${v.impact}) ${v.help} ${JSON.stringify(v.nodes.map((n) => n.target))}`);
      await p.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
    };
    // Every page at desktop width, moving through the menu as a user does (no reload per page).
    await page.goto(consoleUrl);
    for (const [path, link] of pageLinks) {
      if (path) await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
      await check(page, `${path || 'dashboard'}-desktop`, true, link);
    }
    // Phone width: the menu behind its button, and the pages with the widest tables.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of ['', 'send', 'history', 'billing']) {
      await page.goto(`${consoleUrl}${path}`);
      await check(page, `${path || 'dashboard'}-phone`, path === '');
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(consoleUrl);
    await page.getByText('বাংলা').click();
    await page.getByRole('heading', { name: 'ড্যাশবোর্ড' }).waitFor();
    await check(page, 'dashboard-bangla');
    const signedOut = await context.browser()!.newPage();
    await signedOut.goto(consoleUrl);
    await check(signedOut, 'sign-in');
    await signedOut.close();
    expect(found).toEqual([]);
  }, 120_000);
});
