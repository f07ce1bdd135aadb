/**
 * BulkSMSBD (bulksmsbd.net) single SMS API: /api/smsapi with api_key, senderid, number, message and
 * type (text, or unicode for Bangla), GET or POST. We POST the parameters form-encoded, so the API
 * key stays out of URLs and access logs.
 *
 * SOURCES. BulkSMSBD's API page (bulksmsbd.com/bulksms-api-bangladesh.php): the endpoint, the
 * parameters (number as 88017XXXXXXXX), and the codes: 202 SMS Submitted Successfully, 1001
 * Invalid Number, 1002 sender id not correct/disabled, 1003 required fields missing, 1005 Internal
 * Error, 1006 Balance Validity Not Available, 1007 Balance Insufficient, 1011 User Id not found,
 * 1012 Masking SMS must be sent in Bengali, 1013–1021 sender/price/account set-up errors, 1031
 * Account Not Verified, 1032 IP Not whitelisted. The page shows type=text only; "unicode" is the
 * value integrators send for Bangla. The reply is JSON: {"response_code":202,"message_id":…,
 * "success_message":"…","error_message":""}.
 *
 * DELIVERY RECEIPTS. BulkSMSBD documents no delivery-receipt webhook, so `sent` is final for it:
 * parseWebhook accepts nothing, and verifySignature only checks the gateway's `webhookSecret` as a
 * URL token (?token=<webhookSecret>), so nothing unauthenticated reaches it either.
 *
 * Requests go to BulkSMSBD's official host only; tests and staging set ISPNOTIFY_BASE_URL_BULKSMSBD
 * in the deployment's environment (see ../base-url.ts).
 */
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import { measureSms } from '../../../domain/segments.js';
import type { ProviderStatusUpdate, SmsProvider } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { classifyHttpFailure, postForm, verifyUrlToken, type HttpReply } from '../http.js';

/** BulkSMSBD API origin. */
export const BULKSMSBD_API_BASE_URL = 'https://bulksmsbd.net';
const SEND_PATH = '/api/smsapi';

/** A non-masking sender: the number BulkSMSBD allocated (e.g. 8809617611058). */
const NUMERIC_SENDER = /^\d{5,15}$/;
/** A masking sender: the approved brand name, up to 11 letters, digits or spaces. */
const MASKING_SENDER = /^[A-Za-z0-9](?:[A-Za-z0-9 ]{0,9}[A-Za-z0-9])?$/;

export const BulkSmsBdCredentials = z.strictObject({
  apiKey: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{10,64}$/, 'must be the BulkSMSBD API key: 10–64 letters and digits, as shown in the BulkSMSBD panel'),
  webhookSecret: z
    .string()
    .min(16, 'must be at least 16 characters')
    .describe(
      'A secret of your choice (at least 16 characters). BulkSMSBD sends no delivery receipts; should a webhook URL ever be set, append ?token=<webhookSecret> to it: requests without it are refused.',
    ),
});
export type BulkSmsBdCredentials = z.infer<typeof BulkSmsBdCredentials>;

export const BulkSmsBdSettings = z.strictObject({
  senderId: z
    .string()
    .trim()
    .refine((v) => NUMERIC_SENDER.test(v) || MASKING_SENDER.test(v), {
      message: 'must be your approved BulkSMSBD sender id: the allocated number (5–15 digits, e.g. 8809617611058) or a masking name of 1–11 letters, digits or spaces',
    }),
  // No API base URL: requests go to BulkSMSBD's official host (see the top of this file). The
  // object is strict, so a gateway saved with "apiBaseUrl" is refused as an unknown field.
});
export type BulkSmsBdSettings = z.infer<typeof BulkSmsBdSettings>;

type Kind = 'recipient' | 'gateway' | 'retry';

const CODES: Record<string, { kind: Kind; words: string }> = {
  '1001': { kind: 'recipient', words: 'the recipient number is invalid' },
  '1003': { kind: 'recipient', words: 'a required field was missing or empty (is the text empty?)' },
  '1002': { kind: 'gateway', words: 'the sender id is not correct or is disabled; check the gateway\'s sender id' },
  '1005': { kind: 'retry', words: 'BulkSMSBD reported an internal error' },
  '1006': { kind: 'gateway', words: 'the balance validity has expired; recharge the BulkSMSBD account' },
  '1007': { kind: 'gateway', words: 'the balance is insufficient; recharge the BulkSMSBD account' },
  '1011': { kind: 'gateway', words: 'the API key\'s user was not found; check the gateway\'s API key' },
  '1012': { kind: 'gateway', words: 'a masking sender id may only send Bengali text; use a non-masking sender for English' },
  '1013': { kind: 'gateway', words: 'the sender id has no gateway for this API key; check the sender id with BulkSMSBD' },
  '1014': { kind: 'gateway', words: 'the sender type was not found for this sender id; check the sender id with BulkSMSBD' },
  '1015': { kind: 'gateway', words: 'the sender id has no valid gateway; check the sender id with BulkSMSBD' },
  '1016': { kind: 'gateway', words: 'no active price is set for this sender id; ask BulkSMSBD to set it up' },
  '1017': { kind: 'gateway', words: 'no price is set for this sender id; ask BulkSMSBD to set it up' },
  '1018': { kind: 'gateway', words: 'the account is disabled; contact BulkSMSBD' },
  '1019': { kind: 'gateway', words: 'the account\'s price for this sender type is disabled; contact BulkSMSBD' },
  '1020': { kind: 'gateway', words: 'the account\'s parent account was not found; contact BulkSMSBD' },
  '1021': { kind: 'gateway', words: 'the parent account has no active price for this sender type; contact BulkSMSBD' },
  '1031': { kind: 'gateway', words: 'the account is not verified; contact BulkSMSBD' },
  '1032': { kind: 'gateway', words: 'the sending server\'s IP address is not whitelisted; whitelist it in the BulkSMSBD panel' },
};

/** E.164 (+8801711000001) to the number BulkSMSBD takes (8801711000001): digits, no "+". */
export function bulkSmsBdNumber(to: string): string {
  const digits = to.trim().replace(/^\+/, '');
  if (!/^[1-9]\d{7,14}$/.test(digits)) {
    throw new ProviderRejected(`BulkSMSBD needs the recipient as an international number (8801XXXXXXXXX); "${safeExcerpt(to, 20)}" is not one.`, '1001');
  }
  return digits;
}

interface BulkSmsBdReply {
  response_code?: unknown;
  message_id?: unknown;
  success_message?: unknown;
  error_message?: unknown;
}

const asText = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;

function failureFor(code: string, said: string): GatewayFault | ProviderRejected | ProviderUnavailable {
  const known = CODES[code];
  const quoted = said ? ` ("${said}")` : '';
  if (!known) return new ProviderRejected(`BulkSMSBD refused the message with code ${code}${quoted}.`, code);
  const message = `BulkSMSBD code ${code}: ${known.words}${quoted}.`;
  if (known.kind === 'gateway') return new GatewayFault(message, code);
  if (known.kind === 'retry') return new ProviderUnavailable(message, code);
  return new ProviderRejected(message, code);
}

function readReply(reply: HttpReply, fallbackId: string): string {
  const body = reply.json !== null && typeof reply.json === 'object' ? (reply.json as BulkSmsBdReply) : undefined;
  // Some accounts answer the bare code as the body.
  const code = asText(body?.response_code) ?? (/^\s*\d{3,4}\s*$/.test(reply.text) ? reply.text.trim() : undefined);
  if (reply.status === 429 || reply.status >= 500) {
    throw classifyHttpFailure(reply.status, `BulkSMSBD answered HTTP ${reply.status}${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`, code);
  }
  if (code === undefined) {
    if (!reply.ok) throw classifyHttpFailure(reply.status, `BulkSMSBD answered HTTP ${reply.status}${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
    throw new ProviderUnavailable(`BulkSMSBD answered HTTP ${reply.status} without a response code${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
  }
  if (code !== '202') throw failureFor(code, safeExcerpt(asText(body?.error_message) ?? ''));
  // Accepted. BulkSMSBD's message_id names it in their panel; without one, our own id does.
  return asText(body?.message_id) ?? fallbackId;
}

/**
 * BulkSMSBD sends no delivery receipts, so `sent` is final for it; a short window only marks the
 * message overdue soon instead of waiting for a receipt that never comes.
 */
export const BULKSMSBD_RECEIPT_WINDOW_SECONDS = 60;

export const bulkSmsBdSms: SmsProvider<BulkSmsBdCredentials, BulkSmsBdSettings> = {
  id: 'bulksmsbd',
  channel: 'sms',
  displayName: 'BulkSMSBD',
  credentials: BulkSmsBdCredentials,
  settings: BulkSmsBdSettings,
  receiptWindowSeconds: BULKSMSBD_RECEIPT_WINDOW_SECONDS,
  // No delivery receipts: sent is final, and the reconciler does not count it overdue.
  receipts: false,

  async send(message, { credentials, settings }, ctx) {
    const number = bulkSmsBdNumber(message.to);
    const url = `${providerBaseUrl('bulksmsbd', BULKSMSBD_API_BASE_URL)}${SEND_PATH}`;
    const params = new URLSearchParams({
      api_key: credentials.apiKey,
      senderid: settings.senderId,
      number,
      message: message.text,
      type: measureSms(message.text).encoding === 'UCS-2' ? 'unicode' : 'text',
    });
    // No per-message callback URL: BulkSMSBD has no delivery receipts (see the top of this file).
    const reply = await postForm(ctx, url, params, { provider: 'BulkSMSBD' });
    return { providerMessageId: readReply(reply, message.messageId) };
  },

  /** The operator would append ?token=<webhookSecret> to any webhook URL it gives BulkSMSBD. */
  verifySignature(request, { credentials }) {
    return verifyUrlToken(request, credentials.webhookSecret);
  },

  parseWebhook(): ProviderStatusUpdate[] {
    throw invalid('BulkSMSBD sends no delivery receipts');
  },
};
