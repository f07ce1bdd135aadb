import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { sandboxSms, signSandboxReceipt, type SandboxSettings } from '../../../shared/adapters/providers/sms/sandbox.js';
import { DomainError, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { DeferredProviderTask, OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { runProviderCallback } from '../../../shared/services/provider-callbacks.js';
import { rejection } from '../../support/expect-error.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';

const SECRET = 'sandbox-webhook-secret-0123456789';
const NOW = new Date('2025-03-01T10:00:00.000Z');
/** An in-memory journal and a `later` that keeps the scheduled callbacks, to run them when the test says. */
function sandboxContext() {
  const records = new Map<string, Record<string, unknown>>();
  const scheduled: { task: DeferredProviderTask; delaySeconds: number }[] = [];
  const context: ProviderContext = {
    fetch: globalThis.fetch,
    clock: { now: () => NOW },
    journal: { get: async (key) => records.get(key), put: async (key, value) => void records.set(key, value) },
    later: async (task, delaySeconds) => void scheduled.push({ task, delaySeconds }),
  };
  /** Runs the scheduled callbacks as the provider-callbacks worker does. */
  const runScheduled = async () => {
    for (const { task } of scheduled.splice(0)) await fetch(task.url, { method: 'POST', headers: task.headers, body: task.body });
  };
  return { context, records, scheduled, runScheduled };
}
let sandbox: ReturnType<typeof sandboxContext>;
let ctx: ProviderContext;
const credentials = { webhookSecret: SECRET };
const settings: SandboxSettings = { deliveryDelayMs: 5 };
const gateway = { credentials, settings };

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Sandbox SMS provider', () => {
  let webhook: WebhookReceiver;
  const sms = (to: string): OutboundSms => ({
    messageId: '01JNMSG0000000000000000000',
    to,
    text: 'Your internet package expires tomorrow.',
    statusCallbackUrl: `${webhook.url}/webhooks/sms/sandbox/01JNGW00000000000000000000`,
  });

  beforeEach(async () => {
    webhook = await startWebhookReceiver();
    sandbox = sandboxContext();
    ctx = sandbox.context;
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await webhook.close();
  });

  it('is registered under the id "sandbox"', () => {
    expect(smsProvider('sandbox')).toBe(sandboxSms);
    expect(smsProvider('nope')).toBeUndefined();
    expect(smsProvider('toString')).toBeUndefined();
  });

  it('accepts a message and posts a signed receipt that verifies with the gateway secret and parses to delivered', async () => {
    const { providerMessageId } = await sandboxSms.send(sms('+8801711000123'), gateway, ctx);
    expect(providerMessageId).toMatch(/^sbx_[0-9a-f]{16}$/);

    await sandbox.runScheduled();
    await waitFor(() => webhook.received.length === 1);
    const receipt = webhook.received[0]!;
    expect(receipt.method).toBe('POST');
    expect(receipt.url).toBe(sms('+8801711000123').statusCallbackUrl);
    expect(receipt.headers['content-type']).toBe('application/json');
    expect(receipt.headers['x-sandbox-signature']).toBe(signSandboxReceipt(SECRET, receipt.rawBody));
    expect(JSON.parse(receipt.rawBody)).toEqual({ id: providerMessageId, status: 'DELIVERED', at: NOW.toISOString() });

    expect(sandboxSms.verifySignature(receipt, gateway)).toBe(true);
    expect(sandboxSms.verifySignature(receipt, { ...gateway, credentials: { webhookSecret: 'some-other-secret-0000' } })).toBe(false);
    expect(sandboxSms.parseWebhook(receipt)).toEqual([{ providerMessageId, status: 'delivered', providerStatus: 'DELIVERED' }]);
  });

  it('reports numbers ending 0000 as failed with the handset reason', async () => {
    const { providerMessageId } = await sandboxSms.send(sms('+8801711000000'), gateway, ctx);

    await sandbox.runScheduled();
    await waitFor(() => webhook.received.length === 1);
    const receipt = webhook.received[0]!;
    expect(sandboxSms.verifySignature(receipt, gateway)).toBe(true);
    expect(sandboxSms.parseWebhook(receipt)).toEqual([
      { providerMessageId, status: 'failed', providerStatus: 'FAILED', reason: 'Handset unreachable (numbers ending 0000 never deliver)' },
    ]);
  });

  it('fails temporarily for numbers ending 9999 and posts no receipt', async () => {
    const error = await rejection(sandboxSms.send(sms('+8801711009999'), gateway, ctx));
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error.message).toBe('Sandbox gateway unavailable (numbers ending 9999 always fail temporarily)');
    expect(sandbox.scheduled).toHaveLength(0);
    expect(await sandboxSms.lookup!({ messageId: sms('+8801711009999').messageId, to: '+8801711009999', text: '', sentAfter: NOW.toISOString() }, gateway, ctx)).toEqual({ found: false });
  });

  it('rejects numbers ending 1111 for good', async () => {
    const error = await rejection(sandboxSms.send(sms('+8801711001111'), gateway, ctx));
    expect(error).toBeInstanceOf(ProviderRejected);
    expect(error.message).toBe('Sandbox rejected the number (numbers ending 1111 are always rejected)');
  });

  it('schedules its receipt through the queue with the configured delay, never a timer of its own', async () => {
    await sandboxSms.send(sms('+8801711000123'), { credentials, settings: { deliveryDelayMs: 2_500 } }, ctx);
    expect(sandbox.scheduled).toHaveLength(1);
    expect(sandbox.scheduled[0]).toMatchObject({ delaySeconds: 2.5, task: { kind: 'post', url: sms('+8801711000123').statusCallbackUrl } });
    await sleep(100);
    expect(webhook.received).toHaveLength(0); // nothing in flight outside the queue
  });

  it('remembers what it accepted, so a lookup after a restart gives the outcome instead of a second send', async () => {
    const delivered = await sandboxSms.send({ ...sms('+8801711000123'), messageId: 'm-delivered' }, gateway, ctx);
    const failed = await sandboxSms.send({ ...sms('+8801711000000'), messageId: 'm-failed' }, gateway, ctx);
    await rejection(sandboxSms.send({ ...sms('+8801711001111'), messageId: 'm-rejected' }, gateway, ctx));
    const ask = (messageId: string, providerMessageId?: string) =>
      sandboxSms.lookup!({ messageId, to: '+8801711000123', text: '', providerMessageId, sentAfter: NOW.toISOString() }, gateway, ctx);
    expect(await ask('m-delivered')).toEqual({
      found: true,
      providerMessageId: delivered.providerMessageId,
      status: { providerMessageId: delivered.providerMessageId, status: 'delivered', providerStatus: 'DELIVERED' },
    });
    expect(await ask('m-failed', failed.providerMessageId)).toMatchObject({ found: true, status: { status: 'failed', reason: expect.stringMatching(/0000/) } });
    expect(await ask('m-rejected')).toEqual({ found: false });
    expect(await ask('m-never-sent')).toEqual({ found: false });
  });

  it('keeps a message accepted when its receipt cannot be scheduled (the reconciler finds it later)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const broken: ProviderContext = { ...ctx, later: async () => Promise.reject(new Error('queue down')) };
    const { providerMessageId } = await sandboxSms.send(sms('+8801711000123'), gateway, broken);
    expect(providerMessageId).toMatch(/^sbx_/);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(await sandboxSms.lookup!({ messageId: sms('').messageId, to: '', text: '', sentAfter: NOW.toISOString() }, gateway, ctx)).toMatchObject({ found: true, providerMessageId });
  });

  it('has its callbacks retried by the queue while the webhook does not take them, and only to our own webhooks', async () => {
    await sandboxSms.send(sms('+8801711000123'), gateway, ctx);
    const { task } = sandbox.scheduled[0]!;
    webhook.replies.push(404);
    const deps = { fetch: globalThis.fetch, publicBaseUrl: webhook.url };
    await expect(runProviderCallback(deps, task)).rejects.toThrow(/HTTP 404.*retried/);
    await runProviderCallback(deps, task);
    expect(webhook.received).toHaveLength(2);
    expect(webhook.received.every((r) => sandboxSms.verifySignature(r, gateway))).toBe(true);
    await expect(runProviderCallback({ ...deps, publicBaseUrl: 'https://notify.example.net' }, task)).rejects.toThrow(/only this deployment's webhooks/);
    expect(webhook.received).toHaveLength(2);
  });

  it('rejects a forged, malformed or missing signature', () => {
    const rawBody = JSON.stringify({ id: 'sbx_0123456789abcdef', status: 'DELIVERED', at: NOW.toISOString() });
    const request = (signature?: string): WebhookRequest => ({
      method: 'POST',
      url: `${webhook.url}/webhooks/sms/sandbox/gw`,
      headers: { 'content-type': 'application/json', ...(signature !== undefined ? { 'x-sandbox-signature': signature } : {}) },
      rawBody,
    });

    expect(sandboxSms.verifySignature(request(signSandboxReceipt(SECRET, rawBody)), gateway)).toBe(true);
    expect(sandboxSms.verifySignature(request(signSandboxReceipt('an-attacker-guessed-secret', rawBody)), gateway)).toBe(false);
    const genuine = signSandboxReceipt(SECRET, rawBody);
    expect(sandboxSms.verifySignature({ ...request(genuine), rawBody: rawBody.replace('DELIVERED', 'FAILED') }, gateway)).toBe(false);
    expect(sandboxSms.verifySignature(request(genuine.slice('sha256='.length)), gateway)).toBe(false);
    expect(sandboxSms.verifySignature(request('sha256=not-hex'), gateway)).toBe(false);
    expect(sandboxSms.verifySignature(request(), gateway)).toBe(false);
  });

  it('refuses a receipt that is not JSON or not shaped like one as invalid input', () => {
    for (const rawBody of ['not json', JSON.stringify({ id: 'sbx_1', status: 'LOST' }), JSON.stringify({ status: 'DELIVERED' })]) {
      let thrown: unknown;
      try {
        sandboxSms.parseWebhook({ method: 'POST', url: 'http://x/', headers: {}, rawBody });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DomainError);
      expect((thrown as DomainError).kind).toBe('Invalid');
    }
  });

  it('validates its credentials and settings, defaulting the delivery delay to 300 ms', () => {
    expect(sandboxSms.settings.parse({})).toEqual({ deliveryDelayMs: 300 });
    expect(sandboxSms.settings.parse({ senderId: 'ISPNet', deliveryDelayMs: 0 })).toEqual({ senderId: 'ISPNet', deliveryDelayMs: 0 });
    expect(sandboxSms.settings.safeParse({ deliveryDelayMs: 60_001 }).error?.issues[0]?.message).toMatch(/60000/);
    expect(sandboxSms.settings.safeParse({ deliveryDelayMs: 1.5 }).error?.issues[0]?.message).toMatch(/whole number/);

    const short = sandboxSms.credentials.safeParse({ webhookSecret: 'short' });
    expect(short.success).toBe(false);
    expect(short.error?.issues[0]).toMatchObject({ path: ['webhookSecret'], message: expect.stringMatching(/at least 16/) });
  });
});
