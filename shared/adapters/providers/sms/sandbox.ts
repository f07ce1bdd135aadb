/**
 * A pretend SMS gateway for local demos and tests. It sends nothing, but behaves like a real one:
 * some numbers fail, accepted messages get a signed delivery receipt posted to the webhook a moment
 * later, and it can be asked what became of a message.
 *
 * What it accepted is kept in its journal (storage), and its receipts are scheduled through a queue
 * (ProviderContext.later, retried until the webhook takes them), never a timer: both survive a
 * restart, and a receipt lost anyway is recovered by the reconciler asking `lookup`.
 *
 * Outcomes by the destination's last four digits:
 *   9999  the gateway is "down" (ProviderUnavailable); nothing is accepted
 *   1111  the number is rejected (ProviderRejected)
 *   0000  accepted, then a FAILED receipt
 *   else  accepted, then a DELIVERED receipt
 */
import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { zodFields } from '../../../domain/zod-fields.js';
import { timingSafeEqualStrings } from '../http.js';

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

/** The last four digits of a number, which pick the sandbox's outcome (shared with the WhatsApp sandbox). */
export function lastFourDigits(number: string): string {
  return number.replace(/\D/g, '').slice(-4);
}

/** Whether a sandbox webhook request carries a valid x-sandbox-signature for its raw body (constant-time). */
export function sandboxSignatureValid(secret: string, request: WebhookRequest): boolean {
  const header = request.headers[SANDBOX_SIGNATURE_HEADER];
  if (!header || !/^sha256=[0-9a-f]{64}$/.test(header)) return false;
  return timingSafeEqualStrings(signSandboxReceipt(secret, request.rawBody), header);
}

/** What the sandbox remembers of each message it was given. */
const JournalEntry = z.object({
  outcome: z.enum(['DELIVERED', 'FAILED', 'REJECTED']),
  providerMessageId: z.string().optional(),
  error: z.string().optional(),
  at: z.string(),
});
type JournalEntry = z.infer<typeof JournalEntry>;

const journalKey = (messageId: string) => `msg#${messageId}`;

function statusOf(entry: JournalEntry & { providerMessageId: string }): ProviderStatusUpdate {
  return entry.outcome === 'DELIVERED'
    ? { providerMessageId: entry.providerMessageId, status: 'delivered', providerStatus: 'DELIVERED' }
    : { providerMessageId: entry.providerMessageId, status: 'failed', providerStatus: 'FAILED', reason: entry.error ?? 'Sandbox reported the message failed' };
}

export const sandboxSms: SmsProvider<SandboxCredentials, SandboxSettings> = {
  id: 'sandbox',
  channel: 'sms',
  displayName: 'Sandbox (no real SMS)',
  credentials: SandboxCredentials,
  settings: SandboxSettings,

  receiptWindowSeconds: 60,
  // Posts each receipt to the message's own callback URL, as given.
  callbackPerMessage: true,

  async send(message, { credentials, settings }, ctx) {
    const journal = ctx.journal;
    if (!journal || !ctx.later) throw new ProviderUnavailable('The sandbox gateway needs its journal and a callback queue; run it inside the app.', 'SANDBOX_UNWIRED');
    const ending = lastFourDigits(message.to);
    if (ending === '9999') {
      throw new ProviderUnavailable('Sandbox gateway unavailable (numbers ending 9999 always fail temporarily)', 'SANDBOX_UNAVAILABLE');
    }
    const at = ctx.clock.now().toISOString();
    if (ending === '1111') {
      await journal.put(journalKey(message.messageId), { outcome: 'REJECTED', at });
      throw new ProviderRejected('Sandbox rejected the number (numbers ending 1111 are always rejected)', 'SANDBOX_REJECTED');
    }
    const providerMessageId = `sbx_${randomBytes(8).toString('hex')}`;
    const entry: JournalEntry =
      ending === '0000'
        ? { outcome: 'FAILED', providerMessageId, error: 'Handset unreachable (numbers ending 0000 never deliver)', at }
        : { outcome: 'DELIVERED', providerMessageId, at };
    // Accepted once this is stored: a lookup from now on finds it.
    await journal.put(journalKey(message.messageId), entry);

    if (message.statusCallbackUrl) {
      const receipt: SandboxReceipt = { id: providerMessageId, status: entry.outcome as SandboxReceipt['status'], ...(entry.error ? { error: entry.error } : {}), at };
      const rawBody = JSON.stringify(receipt);
      const headers = { 'content-type': 'application/json', [SANDBOX_SIGNATURE_HEADER]: signSandboxReceipt(credentials.webhookSecret, rawBody) };
      try {
        await ctx.later({ kind: 'post', url: message.statusCallbackUrl, headers, body: rawBody }, (settings.deliveryDelayMs ?? 300) / 1000);
      } catch (error) {
        // The message is accepted: failing now would invite a second send. The reconciler's lookup finds the outcome.
        console.warn(`sandbox sms: could not schedule the receipt for ${providerMessageId}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return { providerMessageId };
  },

  async lookup(query, _gateway, ctx) {
    if (!ctx.journal) throw new ProviderUnavailable('The sandbox gateway has no journal to look in.', 'SANDBOX_UNWIRED');
    const stored = JournalEntry.safeParse(await ctx.journal.get(journalKey(query.messageId)));
    // Never given it, or given it and rejected it: either way it was not accepted, so a send now is the first.
    if (!stored.success || stored.data.outcome === 'REJECTED' || !stored.data.providerMessageId) return { found: false };
    const entry = { ...stored.data, providerMessageId: stored.data.providerMessageId };
    if (query.providerMessageId && query.providerMessageId !== entry.providerMessageId) return { found: false };
    return { found: true, providerMessageId: entry.providerMessageId, status: statusOf(entry) };
  },

  verifySignature(request, { credentials }) {
    return sandboxSignatureValid(credentials.webhookSecret, request);
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
    return [statusOf({ outcome: receipt.status, providerMessageId: receipt.id, error: receipt.error, at: receipt.at ?? '' })];
  },
};
