import type { GatewayTry } from '../domain/records.js';
import type { Deps } from '../deps.js';
import { settleCost } from './billing.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Tries of a write that records what a provider already did, with backoff (about 1.5 s in all). */
const STORAGE_TRIES = 5;
const FIRST_BACKOFF_MS = 50;

/**
 * Runs a storage write again on any error, with exponential backoff. For writes after a provider
 * call, where giving up early would lose an outcome that cannot be asked for again cheaply.
 */
export async function withStorageRetries<T>(write: () => Promise<T>, tries = STORAGE_TRIES): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= tries) throw error;
      await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1));
    }
  }
}

/**
 * Records that the provider accepted a message: `sent`, its provider id and the pointer receipts
 * use. Forward-only, so recording it twice (a retry, a queued outcome) changes nothing.
 */
export async function recordSent(
  d: Pick<Deps, 'messages' | 'billing' | 'clock' | 'operators' | 'alertRoutes' | 'customers' | 'templates' | 'gateways' | 'counters' | 'queue' | 'cipher' | 'suppressions'>,
  operatorId: string,
  messageId: string,
  accepted: { providerMessageId: string; gatewayId: string; at: string; receiptDueAt?: string; provider?: string; finalNote?: string; pointer?: false },
  message?: { holdId?: string },
): Promise<void> {
  const tried: GatewayTry | undefined = accepted.provider
    ? { gatewayId: accepted.gatewayId, provider: accepted.provider, outcome: 'accepted', at: accepted.at, detail: accepted.providerMessageId }
    : undefined;
  await withStorageRetries(() =>
    d.messages.transition(
      operatorId,
      messageId,
      { status: 'sent', at: accepted.at, providerStatus: 'accepted', ...(accepted.finalNote ? { reason: accepted.finalNote } : {}) },
      {
        providerMessageId: accepted.providerMessageId,
        gatewayId: accepted.gatewayId,
        receiptDueAt: accepted.receiptDueAt,
        tried,
        ...(accepted.pointer === false ? { pointer: false } : {}),
        // A broadcast message's receipt is not chased one by one (the pending index would cost two writes a message).
        ...(message?.holdId !== undefined ? { pending: false } : {}),
      },
    ),
  );
  // Accepted by a provider: its cost is debited (once, keyed by the message id, whatever path records it);
  // a message held with its broadcast page is debited with the page (services/page-billing.ts).
  if (message?.holdId === undefined) await settleCost(d, operatorId, messageId);
}

/** Receipts of providers that do not say otherwise are due within an hour. */
export const DEFAULT_RECEIPT_WINDOW_SECONDS = 60 * 60;

/** When a receipt for a message sent at `at` through `provider` is overdue. */
export function receiptDueAt(provider: { receiptWindowSeconds?: number } | undefined, at: Date): string {
  return new Date(at.getTime() + (provider?.receiptWindowSeconds ?? DEFAULT_RECEIPT_WINDOW_SECONDS) * 1000).toISOString();
}

/** The query parameter of a status callback URL that names our message (providers with callbackPerMessage). */
export const CALLBACK_MESSAGE_PARAM = 'm';

/** The URL a provider is given for a message's receipts: the gateway's webhook, with the message id when the provider calls it per message. */
export function statusCallbackUrl(gatewayWebhookUrl: string, provider: object, messageId: string): string {
  return callsBackPerMessage(provider) ? `${gatewayWebhookUrl}?${CALLBACK_MESSAGE_PARAM}=${encodeURIComponent(messageId)}` : gatewayWebhookUrl;
}

/** Whether a provider calls each message's own status callback URL as given (SmsProvider.callbackPerMessage). */
export const callsBackPerMessage = (provider: object): boolean => 'callbackPerMessage' in provider && provider.callbackPerMessage === true;
