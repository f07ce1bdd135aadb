/**
 * Plivo Messaging: POST /v1/Account/{auth_id}/Message/ with HTTP Basic auth (Auth ID, Auth Token)
 * and a JSON body (src, dst, text, url, method); message status callbacks posted as a form to the
 * per-message `url`, signed with X-Plivo-Signature-V3 and X-Plivo-Signature-V3-Nonce.
 *
 * Plivo picks the encoding (GSM or Unicode) itself from the text, so there is no Unicode flag.
 *
 * Requests go to Plivo's official host only; tests and staging set ISPNOTIFY_BASE_URL_PLIVO in
 * the deployment's environment (see ../base-url.ts).
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { postJson, timingSafeEqualStrings, type HttpReply } from '../http.js';

/** Plivo's REST API origin. */
export const PLIVO_API_BASE_URL = 'https://api.plivo.com';

const E164 = /^\+[1-9]\d{6,14}$/;
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/;

export const PlivoCredentials = z.strictObject({
  authId: z
    .string()
    .trim()
    .regex(/^(MA|SA)[A-Z0-9]{18}$/, 'must be the Plivo Auth ID: "MA" (account) or "SA" (subaccount) followed by 18 capital letters or digits'),
  authToken: z.string().trim().min(16, 'must be the Plivo Auth Token (at least 16 characters)'),
});
export type PlivoCredentials = z.infer<typeof PlivoCredentials>;

export const PlivoSettings = z.strictObject({
  src: z
    .string()
    .trim()
    .refine((v) => E164.test(v) || ALPHANUMERIC_SENDER.test(v), {
      message: 'must be a Plivo number in E.164 such as +14155550100, or an alphanumeric sender id of 1–11 letters and digits (with at least one letter)',
    }),
  // No API base URL: requests go to Plivo's official host. The object is strict, so a gateway
  // saved with "apiBaseUrl" is refused as an unknown field.
});
export type PlivoSettings = z.infer<typeof PlivoSettings>;

/** Plivo's message error codes (the ErrorCode of failed/undelivered callbacks), in words. */
const ERROR_CODES: Record<string, string> = {
  '10': 'Invalid message',
  '20': 'Network error',
  '30': 'Spam detected',
  '40': 'Invalid source number',
  '50': 'Invalid destination number',
};

export function plivoErrorReason(code: string | undefined, status: string): string {
  if (code && code !== '000' && code !== '0') return ERROR_CODES[code] ?? `Plivo error ${code}`;
  return `Plivo reported the message ${status}`;
}

// ---- X-Plivo-Signature-V3 ----

/** Every value of every key, keys sorted and each key's values sorted. */
function sortedPairs(pairs: Iterable<[string, string]>): Array<[string, string]> {
  const byKey = new Map<string, string[]>();
  for (const [key, value] of pairs) byKey.set(key, [...(byKey.get(key) ?? []), value]);
  const out: Array<[string, string]> = [];
  for (const key of [...byKey.keys()].sort()) for (const value of byKey.get(key)!.sort()) out.push([key, value]);
  return out;
}

/**
 * The string Plivo signs (V3): the URL without its query, then "?" and the query parameters sorted
 * as "k=v&k=v"; for a POST with parameters, a "." after the query (when there is one) and then the
 * form parameters sorted as "kv" pairs run together; then "." and the nonce.
 */
export function plivoV3SignedString(method: string, url: string, nonce: string, formParams: Iterable<[string, string]> = []): string {
  const parsed = new URL(url);
  let base = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  const query = sortedPairs(parsed.searchParams)
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const form = method.toUpperCase() === 'POST' ? sortedPairs(formParams) : [];
  if (query.length > 0 || form.length > 0) base += `?${query}`;
  if (query.length > 0 && form.length > 0) base += '.';
  for (const [k, v] of form) base += k + v;
  return `${base}.${nonce}`;
}

export function plivoV3Signature(authToken: string, method: string, url: string, nonce: string, formParams: Iterable<[string, string]> = []): string {
  return createHmac('sha256', authToken).update(plivoV3SignedString(method, url, nonce, formParams), 'utf8').digest('base64');
}

/** A callback's parameters: the form (POST) or the query string (GET, when the message asked for GET). */
function callbackParams(request: WebhookRequest): URLSearchParams {
  if (request.method.toUpperCase() === 'GET') {
    try {
      return new URL(request.url).searchParams;
    } catch {
      throw invalid('Plivo callback URL is not a URL.');
    }
  }
  return new URLSearchParams(request.rawBody);
}

// ---- sending ----

const apiBaseUrl = () => providerBaseUrl('plivo', PLIVO_API_BASE_URL);

const authorization = (credentials: PlivoCredentials) =>
  `Basic ${Buffer.from(`${credentials.authId}:${credentials.authToken}`, 'utf8').toString('base64')}`;

/** Plivo error texts that are about the account or the sender, not the recipient. */
const GATEWAY_TEXT = /\bsrc\b|source|sender|credit|balance|funds|suspend|disabled|deactivat|not owned|powerpack|not authori[sz]ed|permission/i;

function failure(reply: HttpReply): Error {
  const body = reply.json !== null && typeof reply.json === 'object' ? (reply.json as { error?: unknown; api_id?: unknown }) : undefined;
  const errorText = typeof body?.error === 'string' ? body.error : typeof body?.error === 'object' && body.error !== null ? JSON.stringify(body.error) : reply.text;
  const said = safeExcerpt(errorText);
  const detail = `Plivo answered HTTP ${reply.status}${said ? `: ${said}` : ''}`;
  const code = String(reply.status);
  if (reply.status === 401) return new GatewayFault(`${detail}; check the Auth ID and Auth Token.`, code);
  if (reply.status === 402 || reply.status === 403 || reply.status === 404) {
    return new GatewayFault(`${detail}; check the Plivo account (credit, status, Auth ID).`, code);
  }
  if (reply.status === 408 || reply.status === 425 || reply.status === 429 || reply.status >= 500) return new ProviderUnavailable(`${detail}; will retry.`, code);
  if (reply.status >= 400 && GATEWAY_TEXT.test(errorText)) return new GatewayFault(`${detail}; check the Plivo account and sender.`, code);
  if (reply.status >= 400) return new ProviderRejected(`${detail}.`, code);
  return new ProviderUnavailable(`${detail}.`, code);
}

export const PLIVO_RECEIPT_WINDOW_SECONDS = 3600;

export const plivoSms: SmsProvider<PlivoCredentials, PlivoSettings> = {
  id: 'plivo',
  channel: 'sms',
  displayName: 'Plivo',
  credentials: PlivoCredentials,
  settings: PlivoSettings,
  /** Plivo calls back "sent" within seconds and "delivered"/"undelivered" when the carrier's report comes, usually minutes; an hour leaves room for slow carriers. */
  receiptWindowSeconds: PLIVO_RECEIPT_WINDOW_SECONDS,

  async send(message, { credentials, settings }, ctx) {
    const url = `${apiBaseUrl()}/v1/Account/${encodeURIComponent(credentials.authId)}/Message/`;
    const body: Record<string, string> = { src: settings.src, dst: message.to, text: message.text };
    if (message.statusCallbackUrl) {
      body.url = message.statusCallbackUrl;
      body.method = 'POST';
    }
    const reply = await postJson(ctx, url, body, { provider: 'Plivo', headers: { authorization: authorization(credentials) } });
    if (reply.status >= 200 && reply.status < 300) {
      const uuids = (reply.json as { message_uuid?: unknown } | undefined)?.message_uuid;
      const uuid = Array.isArray(uuids) ? uuids[0] : uuids;
      if (typeof uuid === 'string' && uuid !== '') return { providerMessageId: uuid };
      throw new ProviderUnavailable(`Plivo answered HTTP ${reply.status} without a message_uuid${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
    }
    throw failure(reply);
  },

  verifySignature(request, { credentials }) {
    const header = request.headers['x-plivo-signature-v3'];
    const nonce = request.headers['x-plivo-signature-v3-nonce'];
    if (!header || !nonce) return false;
    let expected: string;
    try {
      const form = request.method.toUpperCase() === 'POST' ? new URLSearchParams(request.rawBody) : new URLSearchParams();
      expected = plivoV3Signature(credentials.authToken, request.method, request.url, nonce, form);
    } catch {
      return false;
    }
    // The header may carry several signatures, comma-separated (e.g. while a token is rotated).
    return header.split(',').some((candidate) => timingSafeEqualStrings(candidate.trim(), expected));
  },

  parseWebhook(request: WebhookRequest): ProviderStatusUpdate[] {
    const params = callbackParams(request);
    const uuid = params.get('MessageUUID');
    if (!uuid) throw invalid('Plivo message callback has no MessageUUID.', [{ field: 'MessageUUID', message: 'is required' }]);
    const status = (params.get('Status') ?? '').toLowerCase();
    if (!status) throw invalid('Plivo message callback has no Status.', [{ field: 'Status', message: 'is required' }]);
    const errorCode = params.get('ErrorCode') || undefined;
    const providerStatus = errorCode && errorCode !== '000' ? `${status}/${errorCode}` : status;
    switch (status) {
      case 'sent':
      case 'delivered':
      case 'read':
        return [{ providerMessageId: uuid, status, providerStatus }];
      case 'failed':
      case 'undelivered':
      case 'rejected':
        return [{ providerMessageId: uuid, status: 'failed', providerStatus, reason: plivoErrorReason(errorCode, status) }];
      default:
        // queued, received, and anything Plivo adds later.
        return [];
    }
  },
};
