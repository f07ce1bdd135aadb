/**
 * A pretend WhatsApp provider for local demos and tests, the WhatsApp twin of the SMS sandbox
 * (../sms/sandbox.ts). It sends nothing, but behaves like Meta's Cloud API would: some numbers fail,
 * accepted messages get signed "delivered" and "read" receipts posted to the webhook a moment later,
 * and it can be asked what became of a message.
 *
 * What it accepted is kept in its journal (storage), and its receipts are scheduled through a queue
 * (ProviderContext.later, retried until the webhook takes them), never a timer: both survive a
 * restart, and a receipt lost anyway is recovered by the reconciler asking `lookup`.
 *
 * Outcomes by the destination's last four digits:
 *   9999  the gateway is "down" (ProviderUnavailable); nothing is accepted
 *   1111  rejected (ProviderRejected): a template as not existing (Meta's 132001), free text as
 *         outside the 24-hour customer service window (Meta's 131047)
 *   0000  accepted, then a FAILED receipt: not on WhatsApp (Meta's 131026)
 *   2222  accepted, then a DELIVERED receipt only (the customer never reads it)
 *   else  accepted, then a DELIVERED and then a READ receipt
 *
 * Webhook bodies (JSON, signed like the SMS sandbox's: `x-sandbox-signature: sha256=<HMAC-SHA256 hex
 * of the raw body with the gateway's webhookSecret>`):
 *   a receipt   { id: <wamid>, status: 'delivered'|'read'|'failed', error?, code?, at? }
 *   an inbound  { type: 'inbound', id, from: <E.164>, text, at: <ISO date-time> }
 * The sandbox itself only posts receipts. The inbound shape lets tests and the demo simulate a
 * customer writing back: build it with `sandboxWhatsAppPost` (which signs it) and POST it to the
 * gateway's webhook URL.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import { zodFields } from '../../../domain/zod-fields.js';
import type { DeferredProviderTask, ProviderInboundMessage, ProviderStatusUpdate, WhatsAppProvider } from '../../../ports.js';
import { lastFourDigits, SANDBOX_SIGNATURE_HEADER, sandboxSignatureValid, signSandboxReceipt } from '../sms/sandbox.js';

export const SandboxWhatsAppCredentials = z.strictObject({
  webhookSecret: z.string().min(16, 'must be at least 16 characters (it signs the sandbox receipts)'),
});
export type SandboxWhatsAppCredentials = z.infer<typeof SandboxWhatsAppCredentials>;

const delayMs = (defaultMs: number) =>
  z
    .number()
    .int('must be a whole number of milliseconds')
    .min(0, 'must be at least 0')
    .max(60_000, 'must be at most 60000 (one minute)')
    .default(defaultMs);

export const SandboxWhatsAppSettings = z.strictObject({
  /** From the send to the "delivered" (or "failed") receipt. */
  deliveryDelayMs: delayMs(300),
  /** From the "delivered" receipt to the "read" one. */
  readDelayMs: delayMs(1000),
});
export type SandboxWhatsAppSettings = z.infer<typeof SandboxWhatsAppSettings>;

const E164 = /^\+[1-9]\d{6,14}$/;
const isoDateTime = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });

const SandboxWhatsAppReceipt = z.object({
  id: z.string().min(1),
  status: z.enum(['delivered', 'read', 'failed']),
  /** For "failed": the reason in words. */
  error: z.string().optional(),
  /** For "failed": the WhatsApp error code. */
  code: z.string().optional(),
  /** When the status was reached. */
  at: isoDateTime.optional(),
});
export type SandboxWhatsAppReceipt = z.infer<typeof SandboxWhatsAppReceipt>;

const SandboxWhatsAppInbound = z.object({
  type: z.literal('inbound'),
  id: z.string().min(1),
  from: z.string().regex(E164, 'must be a phone number in E.164 form (+ and 7–15 digits)'),
  text: z.string().min(1, 'must not be empty'),
  at: isoDateTime,
});
export type SandboxWhatsAppInbound = z.infer<typeof SandboxWhatsAppInbound>;

/** A signed POST of a sandbox webhook body (a receipt, or a simulated inbound message) to `url`. */
export function sandboxWhatsAppPost(secret: string, url: string, payload: SandboxWhatsAppReceipt | SandboxWhatsAppInbound): DeferredProviderTask {
  const body = JSON.stringify(payload);
  return { kind: 'post', url, headers: { 'content-type': 'application/json', [SANDBOX_SIGNATURE_HEADER]: signSandboxReceipt(secret, body) }, body };
}

/**
 * What the sandbox remembers of each message it was given: an accepted one with the receipts it
 * scheduled (each with when its status is reached), or a rejected one.
 */
const JournalEntry = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('ACCEPTED'), providerMessageId: z.string().min(1), at: z.string(), receipts: z.array(SandboxWhatsAppReceipt) }),
  z.object({ outcome: z.literal('REJECTED'), code: z.string(), error: z.string(), at: z.string() }),
]);
type JournalEntry = z.infer<typeof JournalEntry>;

const journalKey = (messageId: string) => `msg#${messageId}`;

function statusOf(receipt: SandboxWhatsAppReceipt): ProviderStatusUpdate {
  if (receipt.status === 'failed') {
    return {
      providerMessageId: receipt.id,
      status: 'failed',
      providerStatus: receipt.code ?? 'failed',
      reason: receipt.error ?? 'The WhatsApp sandbox reported the message failed',
    };
  }
  return { providerMessageId: receipt.id, status: receipt.status, providerStatus: receipt.status };
}

function inboundOf(message: SandboxWhatsAppInbound): ProviderInboundMessage {
  return { kind: 'inbound', providerMessageId: message.id, from: message.from, text: message.text, at: message.at };
}

const NOT_ON_WHATSAPP = 'Not on WhatsApp: the number is not a WhatsApp account (numbers ending 0000 are never on WhatsApp)';

export const sandboxWhatsApp: WhatsAppProvider<SandboxWhatsAppCredentials, SandboxWhatsAppSettings> = {
  id: 'sandbox',
  channel: 'whatsapp',
  displayName: 'WhatsApp sandbox (no real WhatsApp)',
  credentials: SandboxWhatsAppCredentials,
  settings: SandboxWhatsAppSettings,

  receiptWindowSeconds: 60,

  async send(message, { credentials, settings }, ctx) {
    const journal = ctx.journal;
    if (!journal || !ctx.later) throw new ProviderUnavailable('The WhatsApp sandbox needs its journal and a callback queue; run it inside the app.', 'SANDBOX_UNWIRED');
    const ending = lastFourDigits(message.to);
    if (ending === '9999') {
      throw new ProviderUnavailable('WhatsApp sandbox unavailable (numbers ending 9999 always fail temporarily)', 'SANDBOX_UNAVAILABLE');
    }
    const now = ctx.clock.now();
    const at = now.toISOString();
    if (ending === '1111') {
      const rejected =
        message.content.kind === 'template'
          ? { code: '132001', error: 'Template does not exist (numbers ending 1111 always reject templates)' }
          : { code: '131047', error: 'Outside the 24-hour customer service window (numbers ending 1111 always reject free text)' };
      await journal.put(journalKey(message.messageId), { outcome: 'REJECTED', ...rejected, at } satisfies JournalEntry);
      throw new ProviderRejected(rejected.error, rejected.code);
    }

    const providerMessageId = `wamid.SBX${randomBytes(16).toString('hex')}`;
    const deliveryDelayMs = settings.deliveryDelayMs ?? 300;
    const readDelayMs = settings.readDelayMs ?? 1000;
    const reachedAt = (ms: number) => new Date(now.getTime() + ms).toISOString();
    const scheduled: { receipt: SandboxWhatsAppReceipt; delayMs: number }[] =
      ending === '0000'
        ? [{ receipt: { id: providerMessageId, status: 'failed', code: '131026', error: NOT_ON_WHATSAPP, at: reachedAt(deliveryDelayMs) }, delayMs: deliveryDelayMs }]
        : [
            { receipt: { id: providerMessageId, status: 'delivered', at: reachedAt(deliveryDelayMs) }, delayMs: deliveryDelayMs },
            ...(ending === '2222'
              ? []
              : [{ receipt: { id: providerMessageId, status: 'read' as const, at: reachedAt(deliveryDelayMs + readDelayMs) }, delayMs: deliveryDelayMs + readDelayMs }]),
          ];
    // Accepted once this is stored: a lookup from now on finds it.
    const entry: JournalEntry = { outcome: 'ACCEPTED', providerMessageId, at, receipts: scheduled.map((s) => s.receipt) };
    await journal.put(journalKey(message.messageId), entry);

    if (message.statusCallbackUrl) {
      for (const { receipt, delayMs } of scheduled) {
        try {
          await ctx.later(sandboxWhatsAppPost(credentials.webhookSecret, message.statusCallbackUrl, receipt), delayMs / 1000);
        } catch (error) {
          // The message is accepted: failing now would invite a second send. The reconciler's lookup finds the outcome.
          console.warn(
            `sandbox whatsapp: could not schedule the ${receipt.status} receipt for ${providerMessageId}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
    }
    return { providerMessageId };
  },

  async lookup(query, _gateway, ctx) {
    if (!ctx.journal) throw new ProviderUnavailable('The WhatsApp sandbox has no journal to look in.', 'SANDBOX_UNWIRED');
    const stored = JournalEntry.safeParse(await ctx.journal.get(journalKey(query.messageId)));
    // Never given it, or given it and rejected it: either way it was not accepted, so a send now is the first.
    if (!stored.success || stored.data.outcome !== 'ACCEPTED') return { found: false };
    const { providerMessageId, receipts } = stored.data;
    if (query.providerMessageId && query.providerMessageId !== providerMessageId) return { found: false };
    // The last status reached by now (each receipt's `at`); before the first, it is only sent.
    const now = ctx.clock.now().getTime();
    const reached = receipts.filter((receipt) => receipt.at === undefined || Date.parse(receipt.at) <= now).at(-1);
    return {
      found: true,
      providerMessageId,
      status: reached ? statusOf(reached) : { providerMessageId, status: 'sent', providerStatus: 'sent' },
    };
  },

  verifySignature(request, { credentials }) {
    return sandboxSignatureValid(credentials.webhookSecret, request);
  },

  parseWebhook(request) {
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody);
    } catch {
      throw invalid('WhatsApp sandbox webhook body is not JSON.');
    }
    if (typeof body === 'object' && body !== null && 'type' in body) {
      const inbound = SandboxWhatsAppInbound.safeParse(body);
      if (!inbound.success) throw invalid('WhatsApp sandbox inbound message is not valid.', zodFields(inbound.error, 'body'));
      return [inboundOf(inbound.data)];
    }
    const receipt = SandboxWhatsAppReceipt.safeParse(body);
    if (!receipt.success) throw invalid('WhatsApp sandbox receipt is not valid.', zodFields(receipt.error, 'body'));
    return [statusOf(receipt.data)];
  },
};
