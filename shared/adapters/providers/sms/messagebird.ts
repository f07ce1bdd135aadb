/**
 * MessageBird (now Bird), the classic SMS API: POST /messages on rest.messagebird.com with
 * `Authorization: AccessKey <key>` and a JSON body (originator, recipients, body, reportUrl,
 * datacoding). Status reports come to the reportUrl as query parameters (id, reference,
 * recipient, status, statusDatetime, statusReason, statusErrorCode), signed with the
 * MessageBird-Signature-JWT header: an HS256 (or HS384/HS512) JWT made with the account's signing
 * key, whose claims bind the request URL (url_hash) and body (payload_hash). The JWT is checked
 * here with node:crypto.
 *
 * Requests go to MessageBird's official host only; tests and staging set
 * ISPNOTIFY_BASE_URL_MESSAGEBIRD in the deployment's environment (see ../base-url.ts).
 */
import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import { measureSms } from '../../../domain/segments.js';
import type { ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { classifyHttpFailure, firstListedError, type HttpReply, httpRequest, timingSafeEqualStrings } from '../http.js';

/** MessageBird's REST API origin. */
export const MESSAGEBIRD_API_BASE_URL = 'https://rest.messagebird.com';

/** The header MessageBird signs webhooks with (lower-cased, as WebhookRequest holds headers). */
export const MESSAGEBIRD_SIGNATURE_HEADER = 'messagebird-signature-jwt';

/** Clock difference allowed between MessageBird and us when checking exp and nbf. */
export const MESSAGEBIRD_CLOCK_TOLERANCE_SECONDS = 60;

/**
 * MessageBird calls the reportUrl when the carrier reports (sent, then delivered or
 * delivery_failed), usually within minutes, and retries a report our endpoint failed to take.
 * An hour leaves room for slow carriers and those retries.
 */
export const MESSAGEBIRD_RECEIPT_WINDOW_SECONDS = 3600;

/** A numeric originator: a phone number with country code (or a short code), optional leading "+". */
const NUMERIC_ORIGINATOR = /^\+?[1-9]\d{2,16}$/;
/** An alphanumeric originator: 1–11 letters, digits or spaces, with at least one letter. */
const ALPHANUMERIC_ORIGINATOR = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;

export const MessageBirdCredentials = z.strictObject({
  accessKey: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{20,}$/, 'must be a MessageBird live access key (Dashboard → Developers → API access): at least 20 letters and digits')
    .describe('MessageBird access key, sent as "Authorization: AccessKey <key>"'),
  signingKey: z
    .string()
    .trim()
    .min(16, 'must be the MessageBird signing key (Dashboard → Developers → API settings → Signing key), at least 16 characters')
    .describe('MessageBird signing key: checks the MessageBird-Signature-JWT of status reports'),
});
export type MessageBirdCredentials = z.infer<typeof MessageBirdCredentials>;

export const MessageBirdSettings = z.strictObject({
  originator: z
    .string()
    .trim()
    .refine((v) => NUMERIC_ORIGINATOR.test(v) || ALPHANUMERIC_ORIGINATOR.test(v), {
      message: 'must be a phone number with country code such as +31612345678 (up to 17 digits), or an alphanumeric sender id of 1–11 letters, digits or spaces (with at least one letter)',
    })
    .describe('The sender shown to the subscriber'),
  // No API base URL: requests go to MessageBird's official host (see the top of this file). The
  // object is strict, so a gateway saved with "apiBaseUrl" is refused as an unknown field.
});
export type MessageBirdSettings = z.infer<typeof MessageBirdSettings>;

interface MessageBirdApiError {
  code?: unknown;
  description?: unknown;
  parameter?: unknown;
}

const firstError = (json: unknown) => firstListedError<MessageBirdApiError>(json);

/**
 * The error a failed MessageBird reply means. Its error codes: 2 request not allowed (access
 * key), 9 missing params, 10 invalid params, 20 not found, 21 bad request, 25 not enough balance,
 * 98 API not found, 99 internal error.
 */
function failure(reply: HttpReply): ProviderRejected | ProviderUnavailable | GatewayFault {
  const error = firstError(reply.json);
  const code = typeof error?.code === 'number' || (typeof error?.code === 'string' && error.code !== '') ? String(error.code) : undefined;
  const parameter = typeof error?.parameter === 'string' ? error.parameter : undefined;
  const quoted = safeExcerpt(typeof error?.description === 'string' && error.description !== '' ? error.description : reply.text);
  const said = quoted ? `: ${quoted}` : '';
  const detail = code ? `MessageBird error ${code}${parameter ? ` (${safeExcerpt(parameter, 40)})` : ''}${said}` : `MessageBird answered HTTP ${reply.status}${said}`;

  if (reply.status === 401 || code === '2') {
    return new GatewayFault(`MessageBird refused the gateway's access key (${detail}); check the live access key in the MessageBird dashboard.`, code ?? '2');
  }
  if (code === '25') return new GatewayFault(`${detail}. Top up the MessageBird balance.`, code);
  if (reply.status === 429) return new ProviderUnavailable(detail, code ?? '429');
  if ((code === '9' || code === '10') && parameter === 'originator') {
    return new GatewayFault(`${detail}. Fix the gateway's originator (sender id).`, code);
  }
  if (code === '9' || code === '10' || code === '21') return new ProviderRejected(detail, code);
  if (code === '98' || code === '99') return new ProviderUnavailable(detail, code);
  if (reply.status === 402 || reply.status === 403) return new GatewayFault(detail, code ?? String(reply.status));
  return classifyHttpFailure(reply.status, detail, code);
}

/** MessageBird's API host, or the deployment's ISPNOTIFY_BASE_URL_MESSAGEBIRD (tests, staging). */
const apiBaseUrl = () => providerBaseUrl('messagebird', MESSAGEBIRD_API_BASE_URL);

// ---- MessageBird-Signature-JWT ----

const HMAC_ALGORITHMS: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  if (!BASE64URL.test(segment)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

/** The URL as MessageBird may have hashed it: exactly as given, and as the WHATWG parser writes it. */
function urlVariants(url: string): string[] {
  const variants = [url];
  try {
    variants.push(new URL(url).href);
  } catch {
    // Only the exact string.
  }
  return [...new Set(variants)];
}

/**
 * Checks a MessageBird-Signature-JWT: an HMAC signature with the signing key (HS256/384/512, the
 * algorithm "none" and any other refused), issuer "MessageBird", a jti, exp and nbf against the
 * clock (with MESSAGEBIRD_CLOCK_TOLERANCE_SECONDS), url_hash = SHA-256 of the full URL (query
 * included: a GET report's parameters are bound by it), and payload_hash = SHA-256 of the body
 * (required whenever the body is not empty).
 */
export function verifyMessageBirdJwt(jwt: string, signingKey: string, url: string, rawBody: string, nowMs: number): boolean {
  const parts = jwt.trim().split('.');
  if (parts.length !== 3) return false;
  const [headerPart, claimsPart, signaturePart] = parts as [string, string, string];
  const header = decodeSegment(headerPart);
  const claims = decodeSegment(claimsPart);
  if (!header || !claims || !BASE64URL.test(signaturePart)) return false;
  const hash = typeof header.alg === 'string' ? HMAC_ALGORITHMS[header.alg] : undefined;
  if (!hash) return false;
  const expected = createHmac(hash, Buffer.from(signingKey, 'utf8')).update(`${headerPart}.${claimsPart}`, 'ascii').digest('base64url');
  if (!timingSafeEqualStrings(expected, signaturePart)) return false;

  if (claims.iss !== 'MessageBird') return false;
  if (typeof claims.jti !== 'string' || claims.jti === '') return false;
  const now = nowMs / 1000;
  if (typeof claims.exp !== 'number' || now > claims.exp + MESSAGEBIRD_CLOCK_TOLERANCE_SECONDS) return false;
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || now < claims.nbf - MESSAGEBIRD_CLOCK_TOLERANCE_SECONDS)) return false;
  if (claims.iat !== undefined && (typeof claims.iat !== 'number' || now < claims.iat - MESSAGEBIRD_CLOCK_TOLERANCE_SECONDS)) return false;

  const urlHash = claims.url_hash;
  if (typeof urlHash !== 'string' || !urlVariants(url).some((u) => timingSafeEqualStrings(sha256Hex(u), urlHash.toLowerCase()))) return false;

  const payloadHash = claims.payload_hash;
  if (payloadHash === undefined) return rawBody.length === 0;
  return typeof payloadHash === 'string' && timingSafeEqualStrings(sha256Hex(rawBody), payloadHash.toLowerCase());
}

// ---- status reports ----

/** The report's parameters: the query string, and for a POST with a form body, its fields too. */
function reportParams(request: WebhookRequest): URLSearchParams {
  let params: URLSearchParams;
  try {
    params = new URL(request.url).searchParams;
  } catch {
    throw invalid('MessageBird status report URL is not a URL.');
  }
  const contentType = request.headers['content-type'] ?? '';
  if (request.rawBody && (contentType === '' || contentType.startsWith('application/x-www-form-urlencoded'))) {
    for (const [name, value] of new URLSearchParams(request.rawBody)) if (!params.has(name)) params.append(name, value);
  }
  return params;
}

function statusUpdate(id: string, rawStatus: string, errorCode: string | undefined, statusReason: string | undefined): ProviderStatusUpdate | undefined {
  const status = rawStatus.toLowerCase();
  const providerStatus = errorCode ? `${status}/${errorCode}` : status;
  const words = statusReason ? safeExcerpt(statusReason.replace(/_/g, ' '), 120) : undefined;
  switch (status) {
    case 'sent':
      return { providerMessageId: id, status: 'sent', providerStatus };
    case 'delivered':
      return { providerMessageId: id, status: 'delivered', providerStatus };
    case 'delivery_failed':
    case 'expired': {
      const what = status === 'expired' ? 'expired before delivery' : 'delivery failed';
      const extras = [words, errorCode ? `error ${errorCode}` : undefined].filter((s): s is string => !!s).join(', ');
      const reason = `MessageBird: ${what}${extras ? ` (${extras})` : ''}`;
      return { providerMessageId: id, status: 'failed', providerStatus, reason };
    }
    default:
      // scheduled, buffered, and any status MessageBird adds later.
      return undefined;
  }
}

export const messageBirdSms: SmsProvider<MessageBirdCredentials, MessageBirdSettings> = {
  id: 'messagebird',
  channel: 'sms',
  displayName: 'MessageBird (Bird)',
  credentials: MessageBirdCredentials,
  settings: MessageBirdSettings,
  receiptWindowSeconds: MESSAGEBIRD_RECEIPT_WINDOW_SECONDS,

  async send(message, { credentials, settings }, ctx) {
    const body: Record<string, unknown> = {
      originator: settings.originator,
      // MSISDNs: the number with its country code, without the "+".
      recipients: [message.to.replace(/^\+/, '')],
      body: message.text,
      reference: message.messageId,
    };
    if (measureSms(message.text).encoding === 'UCS-2') body.datacoding = 'unicode';
    if (message.statusCallbackUrl) body.reportUrl = message.statusCallbackUrl;

    const reply = await httpRequest(
      ctx,
      `${apiBaseUrl()}/messages`,
      { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', accept: 'application/json' } },
      { provider: 'MessageBird', headers: { authorization: `AccessKey ${credentials.accessKey}` } },
    );
    if (reply.status === 200 || reply.status === 201) {
      const id = reply.json !== null && typeof reply.json === 'object' ? (reply.json as { id?: unknown }).id : undefined;
      if (typeof id === 'string' && id !== '') return { providerMessageId: id };
      throw new ProviderUnavailable(`MessageBird answered HTTP ${reply.status} without a message id${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
    }
    throw failure(reply);
  },

  verifySignature(request, { credentials }) {
    const jwt = request.headers[MESSAGEBIRD_SIGNATURE_HEADER];
    if (!jwt) return false;
    return verifyMessageBirdJwt(jwt, credentials.signingKey, request.url, request.rawBody, Date.now());
  },

  parseWebhook(request: WebhookRequest): ProviderStatusUpdate[] {
    const params = reportParams(request);
    const id = params.get('id');
    if (!id) throw invalid('MessageBird status report has no id.', [{ field: 'id', message: 'is required' }]);
    const status = params.get('status');
    if (!status) throw invalid('MessageBird status report has no status.', [{ field: 'status', message: 'is required' }]);
    const update = statusUpdate(id, status, params.get('statusErrorCode') || undefined, params.get('statusReason') || undefined);
    return update ? [update] : [];
  },
};
