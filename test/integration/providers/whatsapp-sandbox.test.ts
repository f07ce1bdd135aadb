import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { whatsappProvider } from '../../../shared/adapters/providers/whatsapp/registry.js';
import {
  sandboxWhatsApp,
  sandboxWhatsAppPost,
  type SandboxWhatsAppSettings,
} from '../../../shared/adapters/providers/whatsapp/sandbox.js';
import { signSandboxReceipt } from '../../../shared/adapters/providers/sms/sandbox.js';
import { DomainError, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type {
  DeferredProviderTask,
  OutboundWhatsApp,
  ProviderContext,
  ProviderLookupQuery,
  WebhookRequest,
  WhatsAppContent,
} from '../../../shared/ports.js';
import { runProviderCallback } from '../../../shared/services/provider-callbacks.js';
import { rejection } from '../../support/expect-error.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';

const SECRET = 'whatsapp-sandbox-secret-0123456789';
const NOW = new Date('2025-03-01T10:00:00.000Z');
const later = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
const NOT_ON_WHATSAPP = 'Not on WhatsApp: the number is not a WhatsApp account (numbers ending 0000 are never on WhatsApp)';

/** An in-memory journal, a clock the test moves, and a `later` that keeps the scheduled callbacks to run them when the test says. */
function sandboxContext() {
  const records = new Map<string, Record<string, unknown>>();
  const scheduled: { task: DeferredProviderTask; delaySeconds: number }[] = [];
  const clock = { at: NOW };
  const context: ProviderContext = {
    fetch: globalThis.fetch,
    clock: { now: () => clock.at },
    journal: { get: async (key) => records.get(key), put: async (key, value) => void records.set(key, value) },
    later: async (task, delaySeconds) => void scheduled.push({ task, delaySeconds }),
  };
  /** Runs the scheduled callbacks, in order, as the provider-callbacks worker does. */
  const runScheduled = async () => {
    for (const { task } of scheduled.splice(0)) await fetch(task.url, { method: 'POST', headers: task.headers, body: task.body });
  };
  return { context, records, scheduled, clock, runScheduled };
}

let sandbox: ReturnType<typeof sandboxContext>;
let ctx: ProviderContext;
const credentials = { webhookSecret: SECRET };
const settings: SandboxWhatsAppSettings = { deliveryDelayMs: 5, readDelayMs: 20 };
const gateway = { credentials, settings };

const TEXT: WhatsAppContent = { kind: 'text', text: 'Your internet package expires tomorrow.' };
const TEMPLATE: WhatsAppContent = { kind: 'template', name: 'package_expiry', language: 'en', parameters: ['Rahim', '2025-03-02'] };

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WhatsApp sandbox provider', () => {
  let webhook: WebhookReceiver;
  const callbackUrl = () => `${webhook.url}/webhooks/whatsapp/sandbox/01JNGW00000000000000000000`;
  const wa = (to: string, content: WhatsAppContent = TEXT, messageId = '01JNMSG0000000000000000000'): OutboundWhatsApp => ({
    messageId,
    to,
    content,
    statusCallbackUrl: callbackUrl(),
  });
  const ask = (messageId: string, providerMessageId?: string) => {
    const query: ProviderLookupQuery = { messageId, to: '+8801711000123', text: '', sentAfter: NOW.toISOString(), ...(providerMessageId ? { providerMessageId } : {}) };
    return sandboxWhatsApp.lookup!(query, gateway, ctx);
  };

  beforeEach(async () => {
    webhook = await startWebhookReceiver();
    sandbox = sandboxContext();
    ctx = sandbox.context;
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await webhook.close();
  });

  it('is registered under the id "sandbox" for WhatsApp', () => {
    expect(whatsappProvider('sandbox')).toBe(sandboxWhatsApp);
    expect(whatsappProvider('meta')).not.toBe(sandboxWhatsApp);
    expect(sandboxWhatsApp).toMatchObject({ id: 'sandbox', channel: 'whatsapp', displayName: 'WhatsApp sandbox (no real WhatsApp)', receiptWindowSeconds: 60 });
  });

  it('accepts a message and posts signed delivered then read receipts that verify and parse back', async () => {
    const { providerMessageId } = await sandboxWhatsApp.send(wa('+8801711000123'), gateway, ctx);
    expect(providerMessageId).toMatch(/^wamid\.SBX[0-9a-f]{32}$/);

    await sandbox.runScheduled();
    await waitFor(() => webhook.received.length === 2);
    const [delivered, read] = webhook.received as [WebhookRequest, WebhookRequest];
    for (const receipt of [delivered, read]) {
      expect(receipt.method).toBe('POST');
      expect(receipt.url).toBe(callbackUrl());
      expect(receipt.headers['content-type']).toBe('application/json');
      expect(receipt.headers['x-sandbox-signature']).toBe(signSandboxReceipt(SECRET, receipt.rawBody));
      expect(sandboxWhatsApp.verifySignature(receipt, gateway)).toBe(true);
      expect(sandboxWhatsApp.verifySignature(receipt, { ...gateway, credentials: { webhookSecret: 'some-other-secret-0000' } })).toBe(false);
    }
    expect(JSON.parse(delivered.rawBody)).toEqual({ id: providerMessageId, status: 'delivered', at: later(5) });
    expect(JSON.parse(read.rawBody)).toEqual({ id: providerMessageId, status: 'read', at: later(25) });
    expect(sandboxWhatsApp.parseWebhook(delivered, gateway)).toEqual([{ providerMessageId, status: 'delivered', providerStatus: 'delivered' }]);
    expect(sandboxWhatsApp.parseWebhook(read, gateway)).toEqual([{ providerMessageId, status: 'read', providerStatus: 'read' }]);
  });

  it('accepts templates too, with the same receipts', async () => {
    const { providerMessageId } = await sandboxWhatsApp.send(wa('+8801711000123', TEMPLATE), gateway, ctx);
    expect(sandbox.scheduled.map(({ task }) => JSON.parse(task.body).status)).toEqual(['delivered', 'read']);
    expect(sandbox.scheduled.every(({ task }) => JSON.parse(task.body).id === providerMessageId)).toBe(true);
  });

  it('schedules its receipts through the queue with the configured delays, never a timer of its own', async () => {
    await sandboxWhatsApp.send(wa('+8801711000123'), { credentials, settings: { deliveryDelayMs: 2_500, readDelayMs: 4_000 } }, ctx);
    expect(sandbox.scheduled).toHaveLength(2);
    expect(sandbox.scheduled[0]).toMatchObject({ delaySeconds: 2.5, task: { kind: 'post', url: callbackUrl() } });
    expect(sandbox.scheduled[1]).toMatchObject({ delaySeconds: 6.5, task: { kind: 'post', url: callbackUrl() } });
    expect(JSON.parse(sandbox.scheduled[0]!.task.body)).toMatchObject({ status: 'delivered', at: later(2_500) });
    expect(JSON.parse(sandbox.scheduled[1]!.task.body)).toMatchObject({ status: 'read', at: later(6_500) });
    await sleep(100);
    expect(webhook.received).toHaveLength(0); // nothing in flight outside the queue
  });

  it('uses the default delays (300 ms to delivered, 1 s more to read) when the settings are parsed from nothing', async () => {
    await sandboxWhatsApp.send(wa('+8801711000123'), { credentials, settings: sandboxWhatsApp.settings.parse({}) }, ctx);
    expect(sandbox.scheduled.map((s) => s.delaySeconds)).toEqual([0.3, 1.3]);
  });

  it('delivers numbers ending 2222 but never reads them', async () => {
    const { providerMessageId } = await sandboxWhatsApp.send(wa('+8801711002222'), gateway, ctx);
    expect(sandbox.scheduled).toHaveLength(1);
    expect(sandbox.scheduled[0]!.delaySeconds).toBe(0.005);

    await sandbox.runScheduled();
    await waitFor(() => webhook.received.length === 1);
    const receipt = webhook.received[0]!;
    expect(sandboxWhatsApp.verifySignature(receipt, gateway)).toBe(true);
    expect(sandboxWhatsApp.parseWebhook(receipt, gateway)).toEqual([{ providerMessageId, status: 'delivered', providerStatus: 'delivered' }]);
    await sleep(50);
    expect(webhook.received).toHaveLength(1);
  });

  it('accepts numbers ending 0000 and then reports them failed as not on WhatsApp (131026)', async () => {
    const { providerMessageId } = await sandboxWhatsApp.send(wa('+8801711000000'), gateway, ctx);
    expect(sandbox.scheduled).toHaveLength(1);
    expect(sandbox.scheduled[0]!.delaySeconds).toBe(0.005);

    await sandbox.runScheduled();
    await waitFor(() => webhook.received.length === 1);
    const receipt = webhook.received[0]!;
    expect(JSON.parse(receipt.rawBody)).toEqual({ id: providerMessageId, status: 'failed', code: '131026', error: NOT_ON_WHATSAPP, at: later(5) });
    expect(sandboxWhatsApp.verifySignature(receipt, gateway)).toBe(true);
    expect(sandboxWhatsApp.parseWebhook(receipt, gateway)).toEqual([{ providerMessageId, status: 'failed', providerStatus: '131026', reason: NOT_ON_WHATSAPP }]);
  });

  it('fails temporarily for numbers ending 9999, accepting and scheduling nothing', async () => {
    const error = await rejection(sandboxWhatsApp.send(wa('+8801711009999'), gateway, ctx));
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error.message).toBe('WhatsApp sandbox unavailable (numbers ending 9999 always fail temporarily)');
    expect(sandbox.scheduled).toHaveLength(0);
    expect(sandbox.records.size).toBe(0);
    expect(await ask(wa('+8801711009999').messageId)).toEqual({ found: false });
  });

  it('rejects templates to numbers ending 1111 as a template that does not exist (132001)', async () => {
    const error = await rejection(sandboxWhatsApp.send(wa('+8801711001111', TEMPLATE, 'm-template'), gateway, ctx));
    expect(error).toBeInstanceOf(ProviderRejected);
    expect((error as ProviderRejected).code).toBe('132001');
    expect(error.message).toBe('Template does not exist (numbers ending 1111 always reject templates)');
    expect(sandbox.scheduled).toHaveLength(0);
    expect(sandbox.records.get('msg#m-template')).toMatchObject({ outcome: 'REJECTED', code: '132001' });
  });

  it('rejects free text to numbers ending 1111 as outside the 24-hour window (131047)', async () => {
    const error = await rejection(sandboxWhatsApp.send(wa('+8801711001111', TEXT, 'm-text'), gateway, ctx));
    expect(error).toBeInstanceOf(ProviderRejected);
    expect((error as ProviderRejected).code).toBe('131047');
    expect(error.message).toMatch(/^Outside the 24-hour customer service window \(.*1111.*\)$/);
    expect(sandbox.scheduled).toHaveLength(0);
    expect(sandbox.records.get('msg#m-text')).toMatchObject({ outcome: 'REJECTED', code: '131047' });
  });

  it('refuses to run without its journal and callback queue', async () => {
    const { journal: _journal, ...noJournal } = ctx;
    const { later: _later, ...noQueue } = ctx;
    for (const unwired of [noJournal, noQueue]) {
      const error = await rejection(sandboxWhatsApp.send(wa('+8801711000123'), gateway, unwired));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('SANDBOX_UNWIRED');
    }
    const lookupError = await rejection(sandboxWhatsApp.lookup!({ messageId: 'm', to: '', text: '', sentAfter: NOW.toISOString() }, gateway, noJournal));
    expect((lookupError as ProviderUnavailable).code).toBe('SANDBOX_UNWIRED');
    expect(sandbox.records.size).toBe(0);
  });

  it('stores what it accepted before scheduling a receipt', async () => {
    const journalledFirst: boolean[] = [];
    const watching: ProviderContext = {
      ...ctx,
      later: async (task, delaySeconds) => {
        journalledFirst.push(sandbox.records.has('msg#m-order'));
        await ctx.later!(task, delaySeconds);
      },
    };
    await sandboxWhatsApp.send(wa('+8801711000123', TEXT, 'm-order'), gateway, watching);
    expect(journalledFirst).toEqual([true, true]);
  });

  it('remembers what it accepted, so a lookup gives the status reached by now instead of a second send', async () => {
    const read = await sandboxWhatsApp.send(wa('+8801711000123', TEXT, 'm-read'), gateway, ctx);
    const deliveredOnly = await sandboxWhatsApp.send(wa('+8801711002222', TEXT, 'm-delivered'), gateway, ctx);
    const failed = await sandboxWhatsApp.send(wa('+8801711000000', TEMPLATE, 'm-failed'), gateway, ctx);
    await rejection(sandboxWhatsApp.send(wa('+8801711001111', TEMPLATE, 'm-rejected'), gateway, ctx));
    await rejection(sandboxWhatsApp.send(wa('+8801711009999', TEXT, 'm-down'), gateway, ctx));

    // Before the first receipt is due: accepted, only sent.
    expect(await ask('m-read')).toEqual({
      found: true,
      providerMessageId: read.providerMessageId,
      status: { providerMessageId: read.providerMessageId, status: 'sent', providerStatus: 'sent' },
    });

    sandbox.clock.at = new Date(later(5));
    expect(await ask('m-read')).toMatchObject({ found: true, status: { status: 'delivered', providerStatus: 'delivered' } });

    sandbox.clock.at = new Date(later(60_000));
    expect(await ask('m-read', read.providerMessageId)).toEqual({
      found: true,
      providerMessageId: read.providerMessageId,
      status: { providerMessageId: read.providerMessageId, status: 'read', providerStatus: 'read' },
    });
    expect(await ask('m-delivered')).toEqual({
      found: true,
      providerMessageId: deliveredOnly.providerMessageId,
      status: { providerMessageId: deliveredOnly.providerMessageId, status: 'delivered', providerStatus: 'delivered' },
    });
    expect(await ask('m-failed', failed.providerMessageId)).toEqual({
      found: true,
      providerMessageId: failed.providerMessageId,
      status: { providerMessageId: failed.providerMessageId, status: 'failed', providerStatus: '131026', reason: NOT_ON_WHATSAPP },
    });
    expect(await ask('m-rejected')).toEqual({ found: false });
    expect(await ask('m-down')).toEqual({ found: false });
    expect(await ask('m-never-sent')).toEqual({ found: false });
    expect(await ask('m-read', 'wamid.SOMETHINGELSE')).toEqual({ found: false });
  });

  it('journals a test send (no callback URL) without scheduling any receipt', async () => {
    const { providerMessageId } = await sandboxWhatsApp.send({ messageId: 'm-test', to: '+8801711000123', content: TEXT }, gateway, ctx);
    expect(sandbox.scheduled).toHaveLength(0);
    expect(await ask('m-test')).toMatchObject({ found: true, providerMessageId });
  });

  it('keeps a message accepted when its receipts cannot be scheduled (the reconciler finds it later)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const broken: ProviderContext = { ...ctx, later: async () => Promise.reject(new Error('queue down')) };
    const { providerMessageId } = await sandboxWhatsApp.send(wa('+8801711000123'), gateway, broken);
    expect(providerMessageId).toMatch(/^wamid\.SBX/);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(String(warn.mock.calls[0]![0])).toMatch(/queue down/);
    expect(await ask(wa('').messageId)).toMatchObject({ found: true, providerMessageId });
  });

  it('has its receipts retried by the queue while the webhook does not take them, and only to our own webhooks', async () => {
    await sandboxWhatsApp.send(wa('+8801711000123'), gateway, ctx);
    const { task } = sandbox.scheduled[0]!;
    webhook.replies.push(503);
    const deps = { fetch: globalThis.fetch, publicBaseUrl: webhook.url };
    await expect(runProviderCallback(deps, task)).rejects.toThrow(/HTTP 503.*retried/);
    await runProviderCallback(deps, task);
    expect(webhook.received).toHaveLength(2);
    expect(webhook.received.every((r) => sandboxWhatsApp.verifySignature(r, gateway))).toBe(true);
    await expect(runProviderCallback({ ...deps, publicBaseUrl: 'https://notify.example.net' }, task)).rejects.toThrow(/only this deployment's webhooks/);
    expect(webhook.received).toHaveLength(2);
  });

  it('rejects a forged, tampered, malformed or missing signature', () => {
    const rawBody = JSON.stringify({ id: 'wamid.SBX0123', status: 'read', at: NOW.toISOString() });
    const request = (signature?: string): WebhookRequest => ({
      method: 'POST',
      url: `${webhook.url}/webhooks/whatsapp/sandbox/gw`,
      headers: { 'content-type': 'application/json', ...(signature !== undefined ? { 'x-sandbox-signature': signature } : {}) },
      rawBody,
    });
    const genuine = signSandboxReceipt(SECRET, rawBody);

    expect(sandboxWhatsApp.verifySignature(request(genuine), gateway)).toBe(true);
    expect(sandboxWhatsApp.verifySignature(request(signSandboxReceipt('an-attacker-guessed-secret', rawBody)), gateway)).toBe(false);
    expect(sandboxWhatsApp.verifySignature({ ...request(genuine), rawBody: rawBody.replace('read', 'failed') }, gateway)).toBe(false);
    expect(sandboxWhatsApp.verifySignature(request(genuine.slice('sha256='.length)), gateway)).toBe(false);
    expect(sandboxWhatsApp.verifySignature(request('sha256=not-hex'), gateway)).toBe(false);
    expect(sandboxWhatsApp.verifySignature(request(), gateway)).toBe(false);
  });

  it('takes a signed inbound test message as a customer writing back', async () => {
    const inbound = { type: 'inbound' as const, id: 'wamid.SBXIN01', from: '+8801711000123', text: 'Please renew my package', at: NOW.toISOString() };
    const task = sandboxWhatsAppPost(SECRET, callbackUrl(), inbound);
    await runProviderCallback({ fetch: globalThis.fetch, publicBaseUrl: webhook.url }, task);
    await waitFor(() => webhook.received.length === 1);
    const request = webhook.received[0]!;

    expect(sandboxWhatsApp.verifySignature(request, gateway)).toBe(true);
    expect(sandboxWhatsApp.parseWebhook(request, gateway)).toEqual([
      { kind: 'inbound', providerMessageId: 'wamid.SBXIN01', from: '+8801711000123', text: 'Please renew my package', at: NOW.toISOString() },
    ]);
    const forged = { ...request, headers: { ...request.headers, 'x-sandbox-signature': signSandboxReceipt('not-the-gateway-secret!', request.rawBody) } };
    expect(sandboxWhatsApp.verifySignature(forged, gateway)).toBe(false);
  });

  it('refuses a body that is not JSON or not a receipt or inbound message as invalid input, naming the fields', () => {
    const parse = (rawBody: string) => {
      try {
        sandboxWhatsApp.parseWebhook({ method: 'POST', url: 'http://x/', headers: {}, rawBody }, gateway);
      } catch (error) {
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).kind).toBe('Invalid');
        return (error as DomainError).fields.map((f) => f.field);
      }
      throw new Error(`expected ${rawBody} to be refused`);
    };
    expect(parse('not json')).toEqual([]);
    expect(parse(JSON.stringify({ id: 'wamid.SBX1', status: 'DELIVERED' }))).toEqual(['body.status']);
    expect(parse(JSON.stringify({ status: 'read' }))).toEqual(['body.id']);
    expect(parse(JSON.stringify({ id: 'wamid.SBX1', status: 'read', at: 'yesterday' }))).toEqual(['body.at']);
    expect(parse(JSON.stringify({ type: 'inbound', id: 'wamid.SBXIN', from: '8801711000123', text: 'hi', at: NOW.toISOString() }))).toEqual(['body.from']);
    expect(parse(JSON.stringify({ type: 'inbound', id: 'wamid.SBXIN', from: '+8801711000123', at: NOW.toISOString() }))).toEqual(['body.text']);
    expect(parse(JSON.stringify({ type: 'outbound', id: 'wamid.SBXIN', from: '+8801711000123', text: 'hi', at: NOW.toISOString() }))).toEqual(['body.type']);
    expect(parse(JSON.stringify([]))).toEqual(['body']);
  });

  it('validates its credentials and settings, defaulting the delays to 300 ms and 1000 ms', () => {
    expect(sandboxWhatsApp.settings.parse({})).toEqual({ deliveryDelayMs: 300, readDelayMs: 1000 });
    expect(sandboxWhatsApp.settings.parse({ deliveryDelayMs: 0, readDelayMs: 60_000 })).toEqual({ deliveryDelayMs: 0, readDelayMs: 60_000 });
    expect(sandboxWhatsApp.settings.safeParse({ deliveryDelayMs: 60_001 }).error?.issues[0]?.message).toMatch(/60000/);
    expect(sandboxWhatsApp.settings.safeParse({ readDelayMs: -1 }).error?.issues[0]?.message).toMatch(/at least 0/);
    expect(sandboxWhatsApp.settings.safeParse({ readDelayMs: 1.5 }).error?.issues[0]?.message).toMatch(/whole number/);
    expect(sandboxWhatsApp.settings.safeParse({ senderId: 'ISPNet' }).success).toBe(false);

    const short = sandboxWhatsApp.credentials.safeParse({ webhookSecret: 'short' });
    expect(short.success).toBe(false);
    expect(short.error?.issues[0]).toMatchObject({ path: ['webhookSecret'], message: expect.stringMatching(/at least 16/) });
    expect(sandboxWhatsApp.credentials.safeParse({ webhookSecret: SECRET, extra: 1 }).success).toBe(false);
  });
});
