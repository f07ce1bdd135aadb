/**
 * SSL Wireless (SSLCommerz) ISMS Plus API v3: one JSON POST per message to /api/v3/send-sms.
 *
 * SOURCES. SSL Wireless's own API reference (a PDF handed out with the account) is not in any public
 * corpus we could search. The request is as SSL Wireless's own published client sends it
 * (github.com/sslw/ismsplus_api: POST {domain}/api/v3/send-sms, JSON body api_token, sid, msisdn,
 * sms, csms_id, content-type and accept application/json; msisdn as 8801XXXXXXXXX); the reply shape
 * ({"status","status_code","error_message","smsinfo":[{"sms_status","status_message","msisdn",
 * "sms_type","csms_id","reference_id"}]}) and the error codes are as integrators quote them
 * (status_code 200 accepted; 4001 unauthorized, 4003 IP blacklisted, 4017 insufficient balance,
 * 4022 invalid MSISDN, and others below). csms_id is unique per day, at most 20 characters.
 * The API has no Unicode flag: it detects Bangla itself (sms_type EN/BN in the reply).
 *
 * DELIVERY RECEIPTS. No public document describes how SSL Wireless pushes delivery reports, so
 * parseWebhook accepts nothing rather than guess a format; `sent` is the last status we record for
 * this provider. verifySignature still checks the gateway's `webhookSecret` as a URL token
 * (`?token=<webhookSecret>` on the URL the operator gives SSL Wireless), so the endpoint is closed.
 *
 * Requests go to SSL Wireless's official host only; tests and staging set
 * ISPNOTIFY_BASE_URL_SSLWIRELESS in the deployment's environment (see ../base-url.ts).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderStatusUpdate, SmsProvider } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { classifyHttpFailure, postJson, verifyUrlToken, type HttpReply } from '../http.js';

/** SSL Wireless ISMS Plus origin. */
export const SSLWIRELESS_API_BASE_URL = 'https://smsplus.sslwireless.com';
const SEND_PATH = '/api/v3/send-sms';

/** csms_id: unique per day, at most 20 characters. */
export const CSMS_ID_MAX_LENGTH = 20;

export const SslWirelessCredentials = z.strictObject({
  apiToken: z
    .string()
    .trim()
    .min(16, 'must be the ISMS API token SSL Wireless issued for the account (at least 16 characters)')
    .max(100, 'must be the ISMS API token SSL Wireless issued (at most 100 characters)')
    .regex(/^[\x21-\x7E]+$/, 'must be the ISMS API token as issued, without spaces'),
  webhookSecret: z
    .string()
    .min(16, 'must be at least 16 characters')
    .describe(
      'A secret of your choice (at least 16 characters). Append ?token=<webhookSecret> to the webhook URL you give SSL Wireless; requests without it are refused.',
    ),
});
export type SslWirelessCredentials = z.infer<typeof SslWirelessCredentials>;

export const SslWirelessSettings = z.strictObject({
  sid: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,20}$/, 'must be the SID SSL Wireless allocated to the account: 1–20 letters, digits, "_" or "-"'),
  // No API base URL: requests go to SSL Wireless's official host (see the top of this file). The
  // object is strict, so a gateway saved with "apiBaseUrl" is refused as an unknown field.
});
export type SslWirelessSettings = z.infer<typeof SslWirelessSettings>;

type Kind = 'recipient' | 'gateway' | 'retry';

/** ISMS status codes and what they mean for us. */
const CODES: Record<string, { kind: Kind; words: string }> = {
  '4001': { kind: 'gateway', words: 'the API token was not accepted (unauthorized); check the gateway\'s API token' },
  '4002': { kind: 'gateway', words: 'the SID is not allocated to this account; check the gateway\'s SID' },
  '4003': { kind: 'gateway', words: 'the sending server\'s IP address is blacklisted or not whitelisted; ask SSL Wireless to whitelist it' },
  '4004': { kind: 'gateway', words: 'the account refused the request; check the account with SSL Wireless' },
  '4005': { kind: 'gateway', words: 'the account refused the request; check the account with SSL Wireless' },
  '4017': { kind: 'gateway', words: 'the account balance is insufficient; recharge the SSL Wireless account' },
  '4030': { kind: 'gateway', words: 'the account\'s sending quota is used up; ask SSL Wireless to raise it' },
  '4022': { kind: 'recipient', words: 'the recipient number (MSISDN) is invalid' },
  '4025': { kind: 'recipient', words: 'the recipient number is invalid' },
  '4026': { kind: 'recipient', words: 'the recipient number is blocked' },
  '4023': { kind: 'recipient', words: 'a message with this csms_id was already taken today (an earlier attempt of this message probably went out)' },
  '4027': { kind: 'recipient', words: 'the message text is too long' },
  '4029': { kind: 'retry', words: 'too many requests; slow down and retry' },
  '4031': { kind: 'retry', words: 'the account\'s TPS limit was exceeded; retry shortly' },
  '5000': { kind: 'retry', words: 'SSL Wireless reported an internal error' },
};

/** Unknown codes whose message plainly names the account rather than the message. */
const GATEWAY_WORDS = /unauthori[sz]ed|token|blacklist|whitelist|balance|inactive|suspend|expired|\bsid\b|mask/i;

/** E.164 (+8801711000001) to the MSISDN SSL Wireless takes (8801711000001): digits, no "+". */
export function sslWirelessMsisdn(to: string): string {
  const digits = to.trim().replace(/^\+/, '');
  if (!/^[1-9]\d{7,14}$/.test(digits)) {
    throw new ProviderRejected(`SSL Wireless needs the recipient as an international number (8801XXXXXXXXX); "${safeExcerpt(to, 20)}" is not one.`, 'invalid-number');
  }
  return digits;
}

/**
 * Our message id as a csms_id: as it is when it fits (letters and digits, at most 20), else the
 * first 20 hex digits of its SHA-256. Always the same for the same message, so a retry of a send
 * whose reply was lost is recognised by SSL Wireless as the same message.
 */
export function csmsIdFor(messageId: string): string {
  if (/^[A-Za-z0-9]{1,20}$/.test(messageId)) return messageId;
  return createHash('sha256').update(messageId, 'utf8').digest('hex').slice(0, CSMS_ID_MAX_LENGTH);
}

interface IsmsReply {
  status?: unknown;
  status_code?: unknown;
  error_message?: unknown;
  smsinfo?: unknown;
}

interface IsmsSmsInfo {
  sms_status?: unknown;
  status_message?: unknown;
  reference_id?: unknown;
  csms_id?: unknown;
}

const asText = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;

function failureFor(code: string, said: string): GatewayFault | ProviderRejected | ProviderUnavailable {
  const known = CODES[code];
  const quoted = said ? ` ("${said}")` : '';
  if (known) {
    const message = `SSL Wireless error ${code}: ${known.words}${quoted}.`;
    if (known.kind === 'gateway') return new GatewayFault(message, code);
    if (known.kind === 'retry') return new ProviderUnavailable(message, code);
    return new ProviderRejected(message, code);
  }
  if (GATEWAY_WORDS.test(said)) return new GatewayFault(`SSL Wireless error ${code}${quoted}; check the gateway's account, token and SID with SSL Wireless.`, code);
  return new ProviderRejected(`SSL Wireless refused the message with error ${code}${quoted}.`, code);
}

function unexpected(reply: HttpReply): ProviderUnavailable {
  return new ProviderUnavailable(`SSL Wireless answered HTTP ${reply.status} without a result we can read${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
}

/** Reads the reply: the reference id of an accepted message, or the error it means. */
function readReply(reply: HttpReply, csmsId: string): string {
  const body = reply.json !== null && typeof reply.json === 'object' ? (reply.json as IsmsReply) : undefined;
  const code = asText(body?.status_code);
  if (!body || code === undefined) {
    if (reply.status === 401 || reply.status === 403) {
      return fail(new GatewayFault(`SSL Wireless refused the gateway's access (HTTP ${reply.status}); check the API token and the server's whitelisted IP.`, String(reply.status)));
    }
    if (!reply.ok) return fail(classifyHttpFailure(reply.status, `SSL Wireless answered HTTP ${reply.status}${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`));
    return fail(unexpected(reply));
  }
  if (code !== '200') {
    // Rate limits and server trouble at the HTTP level win over any code in the body.
    if (reply.status === 429 || reply.status >= 500) return fail(classifyHttpFailure(reply.status, `SSL Wireless answered HTTP ${reply.status} (error ${code})`, code));
    return fail(failureFor(code, safeExcerpt(asText(body.error_message) ?? '')));
  }
  const info = Array.isArray(body.smsinfo) ? (body.smsinfo[0] as IsmsSmsInfo | undefined) : undefined;
  const smsStatus = asText(info?.sms_status)?.toUpperCase();
  const said = safeExcerpt(asText(info?.status_message) ?? '');
  if (smsStatus && smsStatus !== 'SUCCESS') {
    if (smsStatus === 'DUPLICATE') return fail(failureFor('4023', said));
    return fail(new ProviderRejected(`SSL Wireless did not take the message for this number: ${smsStatus}${said ? ` ("${said}")` : ''}.`, smsStatus.toLowerCase()));
  }
  // Accepted. The reference id is SSL Wireless's own; without one, our csms_id names it there too.
  return asText(info?.reference_id) ?? asText(info?.csms_id) ?? csmsId;
}

function fail(error: Error): never {
  throw error;
}

/**
 * How long after `sent` a receipt normally arrives. We read no receipts from SSL Wireless (see the
 * top of this file), so `sent` is final for it; a short window only marks the message overdue soon.
 */
export const SSLWIRELESS_RECEIPT_WINDOW_SECONDS = 60;

export const sslWirelessSms: SmsProvider<SslWirelessCredentials, SslWirelessSettings> = {
  id: 'sslwireless',
  channel: 'sms',
  displayName: 'SSL Wireless (ISMS Plus)',
  credentials: SslWirelessCredentials,
  settings: SslWirelessSettings,
  receiptWindowSeconds: SSLWIRELESS_RECEIPT_WINDOW_SECONDS,
  // No delivery receipts: sent is final, and the reconciler does not count it overdue.
  receipts: false,

  async send(message, { credentials, settings }, ctx) {
    const msisdn = sslWirelessMsisdn(message.to);
    const csmsId = csmsIdFor(message.messageId);
    const url = `${providerBaseUrl('sslwireless', SSLWIRELESS_API_BASE_URL)}${SEND_PATH}`;
    // No per-message callback URL and no Unicode flag in this API (see the top of this file).
    const reply = await postJson(
      ctx,
      url,
      { api_token: credentials.apiToken, sid: settings.sid, msisdn, sms: message.text, csms_id: csmsId },
      { provider: 'SSL Wireless' },
    );
    return { providerMessageId: readReply(reply, csmsId) };
  },

  /** The operator appends ?token=<webhookSecret> to the webhook URL it gives SSL Wireless. */
  verifySignature(request, { credentials }) {
    return verifyUrlToken(request, credentials.webhookSecret);
  },

  parseWebhook(): ProviderStatusUpdate[] {
    throw invalid('SSL Wireless delivery reports are not supported: their format is not publicly documented.');
  },
};
