/**
 * Telnyx Messaging API v2: POST /v2/messages with a Bearer API key and a JSON body (from, to,
 * text, webhook_url, messaging_profile_id); delivery receipts are JSON webhooks (message.sent,
 * message.finalized) signed with Ed25519 over `${telnyx-timestamp}|${rawBody}`, checked with the
 * account's public key (Mission Control → Keys & Credentials → Public Key).
 *
 * Requests go to Telnyx's official host only; tests and staging set ISPNOTIFY_BASE_URL_TELNYX in
 * the deployment's environment (see ../base-url.ts).
 */
import { createPublicKey, verify as verifyEd25519, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { classifyHttpFailure, firstListedError, type HttpReply, postJson } from '../http.js';

/** Telnyx's REST API origin. */
export const TELNYX_API_BASE_URL = 'https://api.telnyx.com';

/** Webhooks signed longer ago than this (or this far in the future) are refused as replays. */
export const TELNYX_SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * Telnyx posts message.sent within seconds and message.finalized when the carrier's delivery
 * receipt comes, usually within minutes; Telnyx retries a webhook we failed to take (up to 3
 * attempts per URL, then the failover URL). An hour covers slow carriers with room to spare.
 */
export const TELNYX_RECEIPT_WINDOW_SECONDS = 3600;

const E164 = /^\+[1-9]\d{6,14}$/;
/** US/CA short codes are 5–6 digits; other countries use 3–8. */
const SHORT_CODE = /^\d{3,8}$/;
/** Alphanumeric sender id: 1–11 letters, digits or spaces, with at least one letter. */
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function decodePublicKey(base64: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const raw = Buffer.from(base64, 'base64');
  return raw.length === 32 ? raw : undefined;
}

export const TelnyxCredentials = z.strictObject({
  apiKey: z
    .string()
    .trim()
    .min(20, 'must be a Telnyx API v2 key (Mission Control → API Keys; it usually starts with "KEY")')
    .regex(/^\S+$/, 'must be a Telnyx API v2 key without spaces')
    .describe('Telnyx API v2 key, sent as "Authorization: Bearer <key>"'),
});
export type TelnyxCredentials = z.infer<typeof TelnyxCredentials>;

export const TelnyxSettings = z
  .strictObject({
    from: z
      .string()
      .trim()
      .refine((v) => E164.test(v) || SHORT_CODE.test(v) || ALPHANUMERIC_SENDER.test(v), {
        message:
          'must be a Telnyx number in E.164 such as +13125550100, a short code of 3–8 digits, or an alphanumeric sender id of 1–11 letters, digits or spaces (with at least one letter)',
      })
      .describe('Sending address: a number on the messaging profile, a short code, or an alphanumeric sender id'),
    messagingProfileId: z
      .string()
      .trim()
      .regex(UUID, 'must be a Telnyx messaging profile id (a UUID such as 16fd2706-8baf-433b-82eb-8c7fada847da)')
      .optional()
      .describe('Messaging profile id; required by Telnyx for an alphanumeric sender id'),
    publicKey: z
      .string()
      .trim()
      .refine((v) => decodePublicKey(v) !== undefined, {
        message: "must be the account's Telnyx public key (Mission Control → Keys & Credentials → Public Key): base64 of 32 bytes",
      })
      .describe('Public key that checks the Ed25519 signature of Telnyx webhooks'),
    // No API base URL: requests go to Telnyx's official host (see the top of this file). The
    // object is strict, so a gateway saved with "apiBaseUrl" is refused as an unknown field.
  })
  .refine((s) => !ALPHANUMERIC_SENDER.test(s.from) || s.messagingProfileId !== undefined, {
    message: 'an alphanumeric sender id needs "messagingProfileId" (Telnyx sends alphanumeric ids only through a messaging profile)',
    path: ['messagingProfileId'],
  });
export type TelnyxSettings = z.infer<typeof TelnyxSettings>;

/** Telnyx error codes that mean this recipient cannot get this message. */
const RECIPIENT_CODES = new Set(['10001', '10002', '10016', '40001', '40012', '40300', '40309', '40310', '40321']);
/** Codes that mean the gateway itself cannot send: credentials, sender, profile, account. */
const GATEWAY_CODES = new Set(['10009', '10010', '40003', '40013', '40305', '40306', '40311', '40312', '40313', '40314', '40315']);
/** Throttling and temporary conditions. */
const TEMPORARY_CODES = new Set(['10007', '10008', '10011', '40006', '40011', '40018', '40318', '40320']);

/** Delivery error codes operators meet most, in words (Telnyx's Messaging Error Code Reference). */
const DELIVERY_ERRORS: Record<string, string> = {
  '40001': 'Not routable: the destination is a landline or a non-routable number',
  '40002': 'Blocked as spam by the carrier (temporary)',
  '40003': 'Blocked as spam by the carrier (the sending number is blocked permanently)',
  '40004': 'Rejected by the destination carrier',
  '40005': 'Expired before it could be delivered',
  '40006': "The recipient's carrier was unavailable",
  '40008': 'Undeliverable: the carrier did not accept the message',
  '40009': 'The carrier rejected the message body',
  '40011': "Over the carrier's throughput limit",
  '40012': 'The carrier rejected the destination number',
  '40013': 'The carrier rejected the sending number',
  '40014': 'Expired in the queue',
  '40015': "Blocked by Telnyx's spam filter",
};

export function telnyxErrorReason(code: string, title?: string): string {
  return DELIVERY_ERRORS[code] ?? (title ? `Telnyx error ${code}: ${safeExcerpt(title)}` : `Telnyx error ${code}`);
}

interface TelnyxApiError {
  code?: unknown;
  title?: unknown;
  detail?: unknown;
}

const firstError = (json: unknown) => firstListedError<TelnyxApiError>(json);

/** The error a failed Telnyx reply means. */
function failure(reply: HttpReply): ProviderRejected | ProviderUnavailable | GatewayFault {
  const error = firstError(reply.json);
  const code = typeof error?.code === 'string' || typeof error?.code === 'number' ? String(error.code) : undefined;
  const words = [error?.title, error?.detail].filter((s): s is string => typeof s === 'string' && s !== '').join(': ');
  const quoted = safeExcerpt(words || reply.text);
  const said = quoted ? `: ${quoted}` : '';
  const detail = code ? `Telnyx error ${code}${said}` : `Telnyx answered HTTP ${reply.status}${said}`;

  if (reply.status === 401 || code === '10009') {
    return new GatewayFault(`Telnyx rejected the gateway's API key (${detail}); check the API v2 key in Mission Control → API Keys.`, code ?? '10009');
  }
  if (code && GATEWAY_CODES.has(code)) {
    return new GatewayFault(`${detail}. The gateway cannot send until its Telnyx account, number or messaging profile is fixed.`, code);
  }
  if (reply.status === 402) {
    return new GatewayFault(`${detail}. Top up the Telnyx account balance.`, code ?? 'payment-required');
  }
  if (reply.status === 403) {
    return new GatewayFault(`${detail}. The Telnyx account or API key is not allowed to send this message.`, code ?? '403');
  }
  if (reply.status === 429 || (code && TEMPORARY_CODES.has(code))) return new ProviderUnavailable(detail, code ?? '429');
  if (code && RECIPIENT_CODES.has(code)) return new ProviderRejected(detail, code);
  return classifyHttpFailure(reply.status, detail, code);
}

/** Telnyx's API host, or the deployment's ISPNOTIFY_BASE_URL_TELNYX (tests, staging). */
const apiBaseUrl = () => providerBaseUrl('telnyx', TELNYX_API_BASE_URL);

function publicKeyObject(base64: string): KeyObject | undefined {
  const raw = decodePublicKey(base64);
  if (!raw) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

const WebhookEvent = z.object({
  data: z.object({
    event_type: z.string().min(1),
    payload: z
      .object({
        id: z.string().min(1),
        to: z.array(z.object({ phone_number: z.string().nullish(), status: z.string().nullish() }).passthrough()).nullish(),
        errors: z
          .array(z.object({ code: z.union([z.string(), z.number()]).nullish(), title: z.string().nullish(), detail: z.string().nullish() }).passthrough())
          .nullish(),
      })
      .passthrough(),
  }),
});

/** Our status for a Telnyx recipient status; undefined for those we do not record. */
function statusUpdate(id: string, rawStatus: string, errors: Array<{ code?: string | number | null; title?: string | null }>): ProviderStatusUpdate | undefined {
  const status = rawStatus.toLowerCase();
  const first = errors[0];
  const code = first?.code === null || first?.code === undefined || first.code === '' ? undefined : String(first.code);
  const providerStatus = code ? `${status}/${code}` : status;
  switch (status) {
    case 'sent':
      return { providerMessageId: id, status: 'sent', providerStatus };
    case 'delivered':
      return { providerMessageId: id, status: 'delivered', providerStatus };
    case 'delivery_failed':
    case 'sending_failed':
    case 'expired':
      return {
        providerMessageId: id,
        status: 'failed',
        providerStatus,
        reason: code ? telnyxErrorReason(code, first?.title ?? undefined) : `Telnyx reported the message ${status.replace('_', ' ')}`,
      };
    default:
      // queued, sending, delivery_unconfirmed (no receipt from the carrier), webhook_delivered...
      return undefined;
  }
}

export const telnyxSms: SmsProvider<TelnyxCredentials, TelnyxSettings> = {
  id: 'telnyx',
  channel: 'sms',
  displayName: 'Telnyx',
  credentials: TelnyxCredentials,
  settings: TelnyxSettings,
  receiptWindowSeconds: TELNYX_RECEIPT_WINDOW_SECONDS,

  /**
   * Telnyx picks the encoding itself (GSM-7 when it can, else UCS-2): the Messages API has no
   * Unicode flag, so a Bangla text goes as it is.
   */
  async send(message, { credentials, settings }, ctx) {
    const body: Record<string, string> = { from: settings.from, to: message.to, text: message.text };
    if (settings.messagingProfileId) body.messaging_profile_id = settings.messagingProfileId;
    if (message.statusCallbackUrl) body.webhook_url = message.statusCallbackUrl;

    const reply = await postJson(ctx, `${apiBaseUrl()}/v2/messages`, body, {
      provider: 'Telnyx',
      headers: { authorization: `Bearer ${credentials.apiKey}` },
    });
    if (reply.status === 200 || reply.status === 201 || reply.status === 202) {
      const data = reply.json !== null && typeof reply.json === 'object' ? (reply.json as { data?: { id?: unknown } }).data : undefined;
      if (typeof data?.id === 'string' && data.id !== '') return { providerMessageId: data.id };
      throw new ProviderUnavailable(`Telnyx answered HTTP ${reply.status} without a message id${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
    }
    throw failure(reply);
  },

  /**
   * Ed25519 over `${telnyx-timestamp}|${rawBody}` with the account's public key, and a timestamp
   * within five minutes of now (a captured webhook cannot be replayed later).
   */
  verifySignature(request, { settings }) {
    const signature = request.headers['telnyx-signature-ed25519'];
    const timestamp = request.headers['telnyx-timestamp'];
    if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
    const ageSeconds = Math.abs(Date.now() / 1000 - Number(timestamp));
    if (!(ageSeconds <= TELNYX_SIGNATURE_TOLERANCE_SECONDS)) return false;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
    const signatureBytes = Buffer.from(signature, 'base64');
    if (signatureBytes.length !== 64) return false;
    const key = publicKeyObject(settings.publicKey);
    if (!key) return false;
    try {
      return verifyEd25519(null, Buffer.from(`${timestamp}|${request.rawBody}`, 'utf8'), key, signatureBytes);
    } catch {
      return false;
    }
  },

  parseWebhook(request: WebhookRequest): ProviderStatusUpdate[] {
    let json: unknown;
    try {
      json = JSON.parse(request.rawBody);
    } catch {
      throw invalid('Telnyx webhook is not JSON.');
    }
    const parsed = WebhookEvent.safeParse(json);
    if (!parsed.success) {
      throw invalid('Telnyx webhook has no data.event_type or data.payload.id.', [{ field: 'data.payload.id', message: 'is required' }]);
    }
    const { event_type: eventType, payload } = parsed.data.data;
    if (eventType !== 'message.sent' && eventType !== 'message.finalized') return [];
    const recipients = payload.to ?? [];
    if (recipients.length === 0) throw invalid('Telnyx webhook has no recipient status.', [{ field: 'data.payload.to', message: 'is required' }]);
    // One message has one recipient for SMS; its status is the message's.
    const status = recipients[0]?.status;
    if (!status) throw invalid('Telnyx webhook has no recipient status.', [{ field: 'data.payload.to[0].status', message: 'is required' }]);
    const update = statusUpdate(payload.id, status, payload.errors ?? []);
    return update ? [update] : [];
  },
};
