/**
 * A pretend SMS gateway for local demos and tests. It sends nothing, but behaves like a real one:
 * some numbers fail, accepted messages get a signed delivery receipt posted to the webhook a moment
 * later, and receipts are retried while the webhook does not take them.
 *
 * Outcomes by the destination's last four digits:
 *   9999  the gateway is "down" (ProviderUnavailable)
 *   1111  the number is rejected (ProviderRejected)
 *   0000  accepted, then a FAILED receipt
 *   else  accepted, then a DELIVERED receipt
 */
import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderContext, ProviderStatusUpdate, SmsProvider } from '../../../ports.js';
import { zodFields } from '../../../domain/zod-fields.js';
import { postJson, timingSafeEqualStrings } from '../http.js';

export const SandboxCredentials = z.strictObject({
  webhookSecret: z.string().min(16, 'must be at least 16 characters (it signs the sandbox delivery receipts)'),
});
export type SandboxCredentials = z.infer<typeof SandboxCredentials>;

export const SandboxSettings = z.strictObject({
  senderId: z.string().trim().min(1, 'must not be empty').optional(),
  deliveryDelayMs: z
    .number()
    .int('must be a whole number of milliseconds')
    .min(0, 'must be at least 0')
    .max(60_000, 'must be at most 60000 (one minute)')
    .default(300),
});
export type SandboxSettings = z.infer<typeof SandboxSettings>;

export const SANDBOX_SIGNATURE_HEADER = 'x-sandbox-signature';
/** After the first attempt, a receipt the webhook did not take is posted again this many times. */
export const SANDBOX_RECEIPT_RETRIES = 10;
export const SANDBOX_RECEIPT_RETRY_INTERVAL_MS = 500;

const SandboxReceipt = z.object({
  id: z.string().min(1),
  status: z.enum(['DELIVERED', 'FAILED']),
  error: z.string().optional(),
  at: z.string().optional(),
});
export type SandboxReceipt = z.infer<typeof SandboxReceipt>;

/** The value of the x-sandbox-signature header for a receipt body. */
export function signSandboxReceipt(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

function lastFourDigits(number: string): string {
  return number.replace(/\D/g, '').slice(-4);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Posts the receipt until the webhook answers 2xx or the retries run out. Never throws. */
async function deliverReceipt(url: string, rawBody: string, secret: string, ctx: ProviderContext): Promise<void> {
  const headers = { [SANDBOX_SIGNATURE_HEADER]: signSandboxReceipt(secret, rawBody) };
  let lastProblem = '';
  for (let attempt = 0; attempt <= SANDBOX_RECEIPT_RETRIES; attempt++) {
    if (attempt > 0) await sleep(SANDBOX_RECEIPT_RETRY_INTERVAL_MS);
    try {
      const reply = await postJson(ctx, url, rawBody, { provider: 'the webhook', headers });
      if (reply.ok) return;
      lastProblem = `HTTP ${reply.status}`;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
  }
  console.warn(`sandbox sms: gave up posting a delivery receipt to ${url} after ${SANDBOX_RECEIPT_RETRIES + 1} attempts (last: ${lastProblem})`);
}

export const sandboxSms: SmsProvider<SandboxCredentials, SandboxSettings> = {
  id: 'sandbox',
  channel: 'sms',
  displayName: 'Sandbox (no real SMS)',
  credentials: SandboxCredentials,
  settings: SandboxSettings,

  async send(message, { credentials, settings }, ctx) {
    const ending = lastFourDigits(message.to);
    if (ending === '9999') {
      throw new ProviderUnavailable('Sandbox gateway unavailable (numbers ending 9999 always fail temporarily)', 'SANDBOX_UNAVAILABLE');
    }
    if (ending === '1111') {
      throw new ProviderRejected('Sandbox rejected the number (numbers ending 1111 are always rejected)', 'SANDBOX_REJECTED');
    }
    const providerMessageId = `sbx_${randomBytes(8).toString('hex')}`;

    if (message.statusCallbackUrl) {
      const url = message.statusCallbackUrl;
      const delay = settings.deliveryDelayMs ?? 300;
      // Deliberately not awaited: like a real gateway, the receipt arrives after send returns.
      setTimeout(() => {
        const receipt: SandboxReceipt =
          ending === '0000'
            ? { id: providerMessageId, status: 'FAILED', error: 'Handset unreachable (numbers ending 0000 never deliver)', at: ctx.clock.now().toISOString() }
            : { id: providerMessageId, status: 'DELIVERED', at: ctx.clock.now().toISOString() };
        void deliverReceipt(url, JSON.stringify(receipt), credentials.webhookSecret, ctx);
      }, delay);
    }
    return { providerMessageId };
  },

  verifySignature(request, { credentials }) {
    const header = request.headers[SANDBOX_SIGNATURE_HEADER];
    if (!header || !/^sha256=[0-9a-f]{64}$/.test(header)) return false;
    return timingSafeEqualStrings(signSandboxReceipt(credentials.webhookSecret, request.rawBody), header);
  },

  parseWebhook(request): ProviderStatusUpdate[] {
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody);
    } catch {
      throw invalid('Sandbox receipt is not JSON.');
    }
    const parsed = SandboxReceipt.safeParse(body);
    if (!parsed.success) {
      throw invalid(
        'Sandbox receipt is not valid.',
        zodFields(parsed.error, 'body'),
      );
    }
    const receipt = parsed.data;
    if (receipt.status === 'DELIVERED') return [{ providerMessageId: receipt.id, status: 'delivered', providerStatus: receipt.status }];
    return [{ providerMessageId: receipt.id, status: 'failed', providerStatus: receipt.status, reason: receipt.error ?? 'Sandbox reported the message failed' }];
  },
};
