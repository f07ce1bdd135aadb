/**
 * 360dialog WhatsApp (its Cloud API hosting, "Messaging API"): POST https://waba-v2.360dialog.io/messages
 * with the number's API key in the D360-API-KEY header and a Meta Cloud API message body (no phone
 * number id in the path: one API key is one WhatsApp number, and 360dialog adds the id when it
 * relays the call to Meta). Replies and Meta's errors come back in the Cloud API's own shape, so
 * the body, the reply and the error codes are read by the code shared with ./meta.ts; webhooks carry
 * Meta's payload unchanged and are read by ./meta-webhook.ts.
 *
 * Webhook authenticity. 360dialog does not sign the webhooks of a number's Messaging API: the URL is
 * set through the API (POST {base}/v1/configs/webhook with { url, headers? }) or in the 360dialog
 * Hub, and the only protection it offers is custom headers sent with every call. The signed webhook
 * (x-360dialog-signature, HMAC-SHA256 with the partner's "platform secret") is the Partner Hub's
 * webhook for partner events, which an ISP using its own API key neither has nor receives. So the
 * operator registers our webhook URL with `?token=<webhookSecret>` appended, and verifySignature
 * checks that token in constant time. (Checked against 360dialog's docs: "Webhook URL", "Set Webhook
 * URL" and "Signature Validation", the last scoped to the partner webhook URL.)
 *
 * No handshake: 360dialog makes no GET challenge (unlike Meta). No `lookup`: like the Cloud API,
 * 360dialog has no endpoint to read a sent message's status back.
 *
 * Requests go to 360dialog's official host only; tests and staging set ISPNOTIFY_BASE_URL_360DIALOG
 * in the deployment's environment (see ../base-url.ts).
 */
import { z } from 'zod';
import { GatewayFault, ProviderThrottled } from '../../../domain/errors.js';
import type { WhatsAppProvider } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { postJson, verifyUrlToken, type HttpReply } from '../http.js';
import { cloudApiMessageBody, cloudApiSendResult, META_RECEIPT_WINDOW_SECONDS, type CloudApiSender } from './meta.js';
import { parseMetaWebhookBody } from './meta-webhook.js';

/** 360dialog's Cloud API origin (the older On-Premise API, waba.360dialog.io/v1, is not supported). */
export const THREE_SIXTY_DIALOG_BASE_URL = 'https://waba-v2.360dialog.io';

const E164 = /^\+[1-9]\d{6,14}$/;

export const ThreeSixtyDialogCredentials = z.strictObject({
  apiKey: z
    .string()
    .trim()
    .regex(/^[\x21-\x7E]{1,512}$/, "must be the number's 360dialog API key (D360-API-KEY), as generated in the 360dialog Hub: no spaces")
    .describe("The WhatsApp number's API key from the 360dialog Hub; sent as the D360-API-KEY header."),
  webhookSecret: z
    .string()
    .min(16, 'must be at least 16 characters')
    .describe(
      'A random secret of at least 16 characters. 360dialog does not sign webhooks: append ?token=<this secret> to the webhook URL you set for the number in 360dialog.',
    ),
});
export type ThreeSixtyDialogCredentials = z.infer<typeof ThreeSixtyDialogCredentials>;

export const ThreeSixtyDialogSettings = z.strictObject({
  phoneNumber: z
    .string()
    .trim()
    .regex(E164, 'must be the WhatsApp number in E.164 form, e.g. +8801711000000')
    .optional()
    .describe('The WhatsApp number this API key sends from, shown in the console only (the API key alone picks the number).'),
  // No base URL: requests go to 360dialog's official host (see the top of this file). The object is
  // strict, so a gateway saved with "apiBaseUrl" is refused as an unknown field.
});
export type ThreeSixtyDialogSettings = z.infer<typeof ThreeSixtyDialogSettings>;

const SENDER: CloudApiSender = {
  name: '360dialog',
  credentialHint: "the gateway's 360dialog API key (D360-API-KEY)",
  rateLimitsThrottle: true,
};

/** 360dialog's own words in an error of its own (not one relayed from Meta), wherever its body puts them. */
function ownErrorText(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const body = json as { meta?: { developer_message?: unknown }; error?: unknown; message?: unknown; detail?: unknown };
  const candidates = [body.meta?.developer_message, body.error, body.message, body.detail];
  return candidates.find((t): t is string => typeof t === 'string' && t.trim() !== '');
}

/**
 * 360dialog's own errors (not Meta's, relayed) that their HTTP 400 would misread as "this message
 * is wrong", from its documented error reference: its endpoint rate limit, and a Messaging API that
 * is disabled or unpaid. Undefined for anything else.
 */
function ownFailure(reply: HttpReply): ProviderThrottled | GatewayFault | undefined {
  const text = reply.status === 400 ? ownErrorText(reply.json) : undefined;
  if (text === undefined) return undefined;
  const detail = `360dialog answered HTTP ${reply.status}: ${safeExcerpt(text)}`;
  if (/rate limit/i.test(text)) return new ProviderThrottled(detail);
  if (/has been disabled|lack of payment|overdue invoice/i.test(text)) return new GatewayFault(`${detail}; the 360dialog account cannot send.`);
  return undefined;
}

/** 360dialog's host, or the deployment's ISPNOTIFY_BASE_URL_360DIALOG (tests, staging). */
const apiBaseUrl = () => providerBaseUrl('360dialog', THREE_SIXTY_DIALOG_BASE_URL);

export const threeSixtyDialogWhatsApp: WhatsAppProvider<ThreeSixtyDialogCredentials, ThreeSixtyDialogSettings> = {
  id: '360dialog',
  channel: 'whatsapp',
  displayName: '360dialog',
  credentials: ThreeSixtyDialogCredentials,
  settings: ThreeSixtyDialogSettings,
  /** Statuses are Meta's, relayed as they come: the same window as Meta's. */
  receiptWindowSeconds: META_RECEIPT_WINDOW_SECONDS,

  async send(message, { credentials }, ctx) {
    const body = cloudApiMessageBody(message);
    const reply = await postJson(ctx, `${apiBaseUrl()}/messages`, body, { provider: '360dialog', headers: { 'D360-API-KEY': credentials.apiKey } });
    // A Cloud API error object is Meta's, relayed (its code decides); the rest is 360dialog's own.
    const own = reply.ok ? undefined : ownFailure(reply);
    if (own) throw own;
    return cloudApiSendResult(reply, SENDER);
  },

  /** 360dialog signs nothing: the `token` query parameter must be the gateway's webhookSecret. */
  verifySignature(request, { credentials }) {
    return verifyUrlToken(request, credentials.webhookSecret);
  },

  /** Meta's payload, relayed; not filtered by phone number id, since this URL gets one number's events only. */
  parseWebhook(request) {
    return parseMetaWebhookBody(request.rawBody, undefined, '360dialog');
  },
};
