/**
 * Vonage (formerly Nexmo) SMS API: POST https://rest.nexmo.com/sms/json, form-encoded, with the
 * account's api_key and api_secret in the body; delivery receipts (DLRs) posted to the per-message
 * `callback` URL.
 *
 * Receipts are checked with Vonage's own message signing when the gateway has the account's
 * signature secret (Vonage support enables signed webhooks per account; the DLR then carries
 * `timestamp`, `nonce` and `sig`). Without one, the gateway needs a `webhookSecret` that the
 * operator appends as `?token=<webhookSecret>` to the webhook URL it gives Vonage.
 *
 * Requests go to Vonage's official host only; tests and staging set ISPNOTIFY_BASE_URL_VONAGE in
 * the deployment's environment (see ../base-url.ts).
 */
import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import { measureSms } from '../../../domain/segments.js';
import type { ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { classifyHttpFailure, postForm, timingSafeEqualStrings, verifyUrlToken, type HttpReply } from '../http.js';

/** Vonage's SMS API origin. */
export const VONAGE_API_BASE_URL = 'https://rest.nexmo.com';

const E164 = /^\+[1-9]\d{6,14}$/;
/** Vonage ignores spaces in an alphanumeric sender; letters and digits, at most 11. */
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;

/** The algorithms Vonage's dashboard offers for message signing ("MD5 hash" is its default). */
export const VONAGE_SIGNATURE_METHODS = ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'] as const;
export type VonageSignatureMethod = (typeof VONAGE_SIGNATURE_METHODS)[number];

export const VonageCredentials = z
  .strictObject({
    apiKey: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9]{6,16}$/, 'must be the Vonage API key from the dashboard (letters and digits, usually 8)'),
    apiSecret: z.string().trim().min(6, 'must be the Vonage API secret from the dashboard (at least 6 characters)').max(64, 'must be the Vonage API secret (at most 64 characters)'),
    signatureSecret: z
      .string()
      .trim()
      .min(16, 'must be the Vonage signature secret from the dashboard settings (at least 16 characters)')
      .optional()
      .describe('The account signature secret: set it when Vonage signs your webhooks (receipts then carry a "sig" parameter).'),
    webhookSecret: z
      .string()
      .min(16, 'must be at least 16 characters')
      .optional()
      .describe('Only without signed webhooks: a random secret the operator appends as ?token=<webhookSecret> to the webhook URL it gives Vonage.'),
  })
  .refine((c) => c.signatureSecret !== undefined || c.webhookSecret !== undefined, {
    message: 'set "signatureSecret" (Vonage signed webhooks) or "webhookSecret" (a ?token= on the webhook URL) so that delivery receipts can be verified',
  });
export type VonageCredentials = z.infer<typeof VonageCredentials>;

export const VonageSettings = z.strictObject({
  from: z
    .string()
    .trim()
    .refine((v) => E164.test(v) || ALPHANUMERIC_SENDER.test(v), {
      message: 'must be an E.164 number such as +14155550100, or an alphanumeric sender id of 1–11 letters, digits or spaces (with at least one letter)',
    }),
  signatureMethod: z
    .enum(VONAGE_SIGNATURE_METHODS, { message: `must be one of ${VONAGE_SIGNATURE_METHODS.join(', ')} (the "signature method" chosen in the Vonage dashboard)` })
    .optional(),
  // No API base URL: requests go to Vonage's official host. The object is strict, so a gateway
  // saved with "apiBaseUrl" is refused as an unknown field.
});
export type VonageSettings = z.infer<typeof VonageSettings>;

/** The SMS API's `messages[].status` codes, with what each means for us. */
type Outcome = 'recipient' | 'gateway' | 'temporary';
const SEND_STATUS: Record<string, { text: string; outcome: Outcome; action?: string }> = {
  '1': { text: 'Throttled: sending faster than the account limit', outcome: 'temporary' },
  '2': { text: 'Missing parameters', outcome: 'recipient' },
  '3': { text: 'Invalid parameters', outcome: 'recipient' },
  '4': { text: 'Invalid credentials', outcome: 'gateway', action: 'check the API key and secret in the Vonage dashboard' },
  '5': { text: 'Internal error', outcome: 'temporary' },
  '6': { text: 'Invalid message (for example an unrecognised number prefix)', outcome: 'recipient' },
  '7': { text: 'Number barred', outcome: 'recipient' },
  '8': { text: 'Partner account barred: the Vonage account is suspended', outcome: 'gateway', action: 'contact Vonage support' },
  '9': { text: 'Partner quota violation: not enough credit', outcome: 'gateway', action: 'top up the Vonage account' },
  '10': { text: 'Too many existing binds', outcome: 'temporary' },
  '11': { text: 'Account not enabled for HTTP', outcome: 'gateway', action: 'ask Vonage to enable the SMS API for this account' },
  '12': { text: 'Message too long', outcome: 'recipient' },
  '14': { text: 'Invalid signature', outcome: 'gateway', action: 'the account requires signed requests; check its settings in the Vonage dashboard' },
  '15': { text: 'Invalid sender address', outcome: 'gateway', action: 'use a sender id or number authorised for this account and destination' },
  '22': { text: 'Invalid network code', outcome: 'recipient' },
  '23': { text: 'Invalid callback URL', outcome: 'recipient' },
  '29': { text: 'Non-whitelisted destination: the account is in demo mode', outcome: 'gateway', action: 'top up the Vonage account, or add the number to its test numbers' },
  '32': { text: 'Signature and API secret disallowed', outcome: 'gateway', action: 'check the account signing settings in the Vonage dashboard' },
  '33': { text: 'Number de-activated', outcome: 'recipient' },
};

/** The DLR `err-code` values Vonage documents. */
const DLR_ERRORS: Record<string, string> = {
  '1': 'Unknown',
  '2': 'Absent subscriber (temporary)',
  '3': 'Absent subscriber (permanent)',
  '4': 'Call barred by user',
  '5': 'Portability error',
  '6': 'Anti-spam rejection',
  '7': 'Handset busy',
  '8': 'Network error',
  '9': 'Illegal number (the user opted out of this service)',
  '10': 'Illegal message',
  '11': 'Unroutable',
  '12': 'Destination unreachable',
  '13': 'Subscriber age restriction',
  '14': 'Number blocked by carrier',
  '15': 'Prepaid insufficient funds',
  '99': 'General error',
};

export function vonageDlrReason(errCode: string | undefined, status: string): string {
  if (errCode && errCode !== '0') return DLR_ERRORS[errCode] ?? `Vonage error ${errCode}`;
  return `Vonage reported the message ${status}`;
}

/**
 * Vonage's signature over a set of parameters (`sig` excluded): "&key=value" for each parameter
 * sorted by key, with "&" and "=" in values replaced by "_"; then MD5 of that string followed by
 * the secret ("md5hash"), or the HMAC of the string keyed with the secret. Lower-case hex.
 */
export function vonageSignature(params: Record<string, string>, secret: string, method: VonageSignatureMethod = 'md5hash'): string {
  const data = Object.keys(params)
    .filter((key) => key !== 'sig')
    .sort()
    .map((key) => `&${key}=${params[key]!.replace(/[&=]/g, '_')}`)
    .join('');
  if (method === 'md5hash') return createHash('md5').update(data + secret, 'utf8').digest('hex');
  return createHmac(method, secret).update(data, 'utf8').digest('hex');
}

/** A receipt's parameters: the query string (GET), a form or a JSON object (POST, per the account's webhook setting). */
function receiptParams(request: WebhookRequest): Record<string, string> {
  const contentType = (request.headers['content-type'] ?? '').toLowerCase();
  const body = request.rawBody.trim();
  if (request.method.toUpperCase() === 'GET' || body === '') {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw invalid('Vonage delivery receipt URL is not a URL.');
    }
    const params: Record<string, string> = {};
    for (const [key, value] of url.searchParams) if (key !== 'token') params[key] = value;
    return params;
  }
  if (contentType.includes('json') || body.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw invalid('Vonage delivery receipt is not valid JSON.');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('Vonage delivery receipt is not a JSON object.');
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof value === 'string') params[key] = value;
      else if (typeof value === 'number' || typeof value === 'boolean') params[key] = String(value);
    }
    return params;
  }
  return Object.fromEntries(new URLSearchParams(body));
}

const apiBaseUrl = () => providerBaseUrl('vonage', VONAGE_API_BASE_URL);

interface VonageMessagePart {
  status?: unknown;
  'message-id'?: unknown;
  'error-text'?: unknown;
}

function parts(reply: HttpReply): VonageMessagePart[] | undefined {
  const messages = (reply.json as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(messages) || messages.length === 0) return undefined;
  return messages.filter((m): m is VonageMessagePart => m !== null && typeof m === 'object');
}

function statusError(part: VonageMessagePart): Error {
  const code = String(part.status);
  const known = SEND_STATUS[code];
  const said = typeof part['error-text'] === 'string' && part['error-text'] !== '' ? safeExcerpt(part['error-text']) : '';
  const detail = `Vonage status ${code} (${known?.text ?? 'unknown status'}${said ? `: ${said}` : ''})`;
  if (!known) return new ProviderRejected(`${detail}.`, code);
  switch (known.outcome) {
    case 'temporary':
      return new ProviderUnavailable(`${detail}; will retry.`, code);
    case 'gateway':
      return new GatewayFault(`${detail}; ${known.action ?? 'check the Vonage account'}.`, code);
    default:
      return new ProviderRejected(`${detail}.`, code);
  }
}

export const VONAGE_RECEIPT_WINDOW_SECONDS = 3600;

export const vonageSms: SmsProvider<VonageCredentials, VonageSettings> = {
  id: 'vonage',
  channel: 'sms',
  displayName: 'Vonage (Nexmo) SMS API',
  credentials: VonageCredentials,
  settings: VonageSettings,
  /** Carrier DLRs normally come within minutes; handset DLRs of long (concatenated) texts later. An hour covers both. */
  receiptWindowSeconds: VONAGE_RECEIPT_WINDOW_SECONDS,

  async send(message, { credentials, settings }, ctx) {
    const params = new URLSearchParams({
      api_key: credentials.apiKey,
      api_secret: credentials.apiSecret,
      // Vonage wants E.164 digits without the leading "+" for numbers.
      from: E164.test(settings.from) ? settings.from.slice(1) : settings.from,
      to: message.to.replace(/^\+/, ''),
      text: message.text,
      'client-ref': message.messageId.slice(0, 40),
    });
    if (measureSms(message.text).encoding === 'UCS-2') params.set('type', 'unicode');
    if (message.statusCallbackUrl) params.set('callback', message.statusCallbackUrl);

    const reply = await postForm(ctx, `${apiBaseUrl()}/sms/json`, params, { provider: 'Vonage' });

    if (reply.status === 401 || reply.status === 403) {
      throw new GatewayFault(`Vonage refused the gateway's credentials (HTTP ${reply.status}); check the API key and secret.`, String(reply.status));
    }
    if (!reply.ok) {
      const said = safeExcerpt(reply.text);
      throw classifyHttpFailure(reply.status, `Vonage answered HTTP ${reply.status}${said ? `: ${said}` : ''}`, String(reply.status));
    }
    const list = parts(reply);
    if (!list) throw new ProviderUnavailable(`Vonage answered HTTP ${reply.status} without a message list${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
    // A long text is sent as several parts, each with its own id and status. Once any part was
    // accepted the subscriber may get the text, so a retry could duplicate it: the first accepted
    // part's id stands for the message (its DLR is the one we track).
    const accepted = list.find((m) => String(m.status) === '0' && typeof m['message-id'] === 'string' && m['message-id'] !== '');
    if (accepted) return { providerMessageId: accepted['message-id'] as string };
    throw statusError(list[0]!);
  },

  verifySignature(request, { credentials, settings }) {
    if (credentials.signatureSecret) {
      let params: Record<string, string>;
      try {
        params = receiptParams(request);
      } catch {
        return false;
      }
      const sig = params.sig;
      if (!sig || !params.timestamp) return false;
      const expected = vonageSignature(params, credentials.signatureSecret, settings.signatureMethod ?? 'md5hash');
      return timingSafeEqualStrings(sig.toLowerCase(), expected);
    }
    return credentials.webhookSecret !== undefined && verifyUrlToken(request, credentials.webhookSecret);
  },

  parseWebhook(request: WebhookRequest): ProviderStatusUpdate[] {
    const params = receiptParams(request);
    const id = params.messageId;
    if (!id) throw invalid('Vonage delivery receipt has no messageId.', [{ field: 'messageId', message: 'is required' }]);
    const status = (params.status ?? '').toLowerCase();
    if (!status) throw invalid('Vonage delivery receipt has no status.', [{ field: 'status', message: 'is required' }]);
    const errCode = params['err-code'];
    const providerStatus = errCode && errCode !== '0' ? `${status}/${errCode}` : status;
    switch (status) {
      case 'delivered':
        return [{ providerMessageId: id, status: 'delivered', providerStatus }];
      case 'accepted':
      case 'buffered':
        return [{ providerMessageId: id, status: 'sent', providerStatus }];
      case 'expired':
      case 'failed':
      case 'rejected':
        return [{ providerMessageId: id, status: 'failed', providerStatus, reason: vonageDlrReason(errCode, status) }];
      default:
        // "unknown" and anything Vonage adds later: nothing we can record.
        return [];
    }
  },
};
