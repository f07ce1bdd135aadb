import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { sandboxSms, signSandboxReceipt, type SandboxSettings } from '../../../shared/adapters/providers/sms/sandbox.js';
import { DomainError, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';

const SECRET = 'sandbox-webhook-secret-0123456789';
const NOW = new Date('2025-03-01T10:00:00.000Z');
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => NOW } };
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
    await sleep(50);
    expect(webhook.received).toHaveLength(0);
  });

  it('rejects numbers ending 1111 for good', async () => {
    const error = await rejection(sandboxSms.send(sms('+8801711001111'), gateway, ctx));
    expect(error).toBeInstanceOf(ProviderRejected);
    expect(error.message).toBe('Sandbox rejected the number (numbers ending 1111 are always rejected)');
  });

  it('retries the receipt while the webhook answers 404 and stops once it answers 200', async () => {
    webhook.replies.push(404, 404, 404);
    const { providerMessageId } = await sandboxSms.send(sms('+8801711000123'), gateway, ctx);

    await waitFor(() => webhook.received.length === 4, 4_000);
    await sleep(700);
    expect(webhook.received).toHaveLength(4);
    const bodies = new Set(webhook.received.map((r) => r.rawBody));
    expect(bodies.size).toBe(1);
    expect(webhook.received.every((r) => sandboxSms.verifySignature(r, gateway))).toBe(true);
    expect(sandboxSms.parseWebhook(webhook.received[3]!)[0]?.providerMessageId).toBe(providerMessageId);
  });

  it('gives up with one warning after ten retries when the webhook cannot be reached', { timeout: 10_000 }, async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const closed = await startWebhookReceiver();
    const unreachable = `${closed.url}/webhooks/sms/sandbox/gw`;
    await closed.close();
    let attempts = 0;
    const counting: ProviderContext = {
      ...ctx,
      fetch: (input, init) => {
        attempts += 1;
        return fetch(input, init);
      },
    };

    await sandboxSms.send({ ...sms('+8801711000123'), statusCallbackUrl: unreachable }, gateway, counting);

    await waitFor(() => warn.mock.calls.length > 0, 8_000);
    expect(attempts).toBe(11);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/gave up.*11 attempts/);
    await sleep(600);
    expect(attempts).toBe(11);
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
