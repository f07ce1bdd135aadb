/**
 * Sinch SMS REST API (XMS v1): POST /xms/v1/{service_plan_id}/batches, JSON, `Authorization:
 * Bearer <API token>`, one batch per message; per-recipient delivery reports posted as JSON to the
 * batch's callback_url.
 *
 * Requests go to Sinch's official regional host only, https://{region}.sms.api.sinch.com, the
 * region being one of Sinch's enumerated names (never a URL). Tests and staging replace the whole
 * origin with ISPNOTIFY_BASE_URL_SINCH (see ../base-url.ts).
 *
 * Sinch picks the encoding itself: a text outside GSM-7 goes as UCS-2, with no flag to set.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { classifyHttpFailure, postJson, timingSafeEqualStrings, verifyUrlToken, type HttpReply } from '../http.js';

export const SINCH_REGIONS = ['us', 'eu', 'au', 'br', 'ca'] as const;
export const sinchOfficialBaseUrl = (region: (typeof SINCH_REGIONS)[number]) => `https://${region}.sms.api.sinch.com`;

const E164 = /^\+[1-9]\d{6,14}$/;
const SHORT_CODE = /^\d{3,8}$/;
const ALPHANUMERIC_SENDER = /^[A-Za-z0-9 ]{1,11}$/;

export const SinchCredentials = z.strictObject({
  servicePlanId: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{32}$/, 'must be the Sinch service plan ID: 32 letters and digits, from SMS → APIs → REST configuration'),
  apiToken: z.string().trim().regex(/^[A-Za-z0-9]{16,128}$/, 'must be the API token of that service plan (letters and digits, at least 16)'),
  webhookSecret: z
    .string()
    .min(16, 'must be at least 16 characters')
    .describe(
      'Checks Sinch delivery reports. With webhookVerification "token" (the default) ispnotify appends ?token=<webhookSecret> to the callback_url it gives Sinch; with "hmac" it is the HMAC secret Sinch configured for the service plan (x-sinch-webhook-signature). At least 16 characters.',
    ),
});
export type SinchCredentials = z.infer<typeof SinchCredentials>;

export const SinchSettings = z.strictObject({
  region: z.enum(SINCH_REGIONS, { message: 'must be the Sinch SMS region of the service plan: us, eu, au, br or ca' }),
  from: z
    .string()
    .trim()
    .refine((v) => E164.test(v) || SHORT_CODE.test(v) || ALPHANUMERIC_SENDER.test(v), {
      message: 'must be an E.164 number such as +14155550100, a short code of 3–8 digits, or an alphanumeric sender id of 1–11 letters, digits or spaces',
    })
    .optional(),
  /**
   * How delivery reports are checked: "token" (a URL token, works on every account) or "hmac"
   * (Sinch's x-sinch-webhook-signature, once Sinch has enabled HMAC for the service plan).
   */
  webhookVerification: z.enum(['token', 'hmac'], { message: 'must be "token" or "hmac"' }).default('token'),
  // No URL field (see the top of this file); the object is strict, so "apiBaseUrl" is refused.
});
export type SinchSettings = z.infer<typeof SinchSettings>;

const apiBaseUrl = (settings: SinchSettings) => providerBaseUrl('sinch', sinchOfficialBaseUrl(settings.region));

/** 403 codes that concern the recipient; every other 403 (blocked account, region, service plan...) is the gateway's. */
const RECIPIENT_403 = new Set(['illegal_number_type']);

/** The error a failed Sinch reply means. 400 and 403 carry `{ code, text }`. */
function failure(reply: HttpReply): Error {
  const body = reply.json as { code?: unknown; text?: unknown } | undefined;
  const code = typeof body?.code === 'string' && body.code !== '' ? body.code : undefined;
  const quoted = safeExcerpt(typeof body?.text === 'string' && body.text !== '' ? body.text : reply.text);
  const said = quoted ? `: ${quoted}` : '';
  const detail = code ? `Sinch error ${code} (HTTP ${reply.status})${said}` : `Sinch answered HTTP ${reply.status}${said}`;
  if (reply.status === 401) return new GatewayFault(`${detail}; check the service plan ID and API token, and the region.`, code ?? '401');
  if (reply.status === 404) return new GatewayFault(`${detail}; the service plan was not found in this region.`, code ?? '404');
  if (reply.status === 403) {
    if (code && RECIPIENT_403.has(code)) return new ProviderRejected(`${detail}; Sinch will not send to this kind of number.`, code);
    return new GatewayFault(`${detail}; the Sinch account or service plan cannot send this (ask Sinch).`, code ?? '403');
  }
  return classifyHttpFailure(reply.status, detail, code);
}

// ---- delivery reports ----

/**
 * How long after `sent` a delivery report normally arrives: Sinch posts it when the operator's
 * receipt comes, usually within minutes, and retries a callback we failed to take (with doubling
 * delays). An hour leaves room for slow operators before the reconciler counts it as overdue.
 */
export const SINCH_RECEIPT_WINDOW_SECONDS = 3600;

/** Sinch's delivery report codes, in words. */
const REPORT_CODES: Record<number, string> = {
  402: 'Message unroutable',
  403: 'Sinch internal error',
  404: 'Temporary delivery failure',
  405: 'Unmatched parameter',
  406: 'Internal expiry',
  407: 'Cancelled',
  408: 'Internal reject',
  410: 'Unmatched default originator',
  411: 'Exceeded parts limit',
  412: 'Unprovisioned region',
  413: 'Blocked',
};

export const sinchReportReason = (status: string, code: number | undefined) =>
  code !== undefined && REPORT_CODES[code] ? `${REPORT_CODES[code]} (Sinch ${status}, code ${code})` : `Sinch reported ${status}${code !== undefined ? ` (code ${code})` : ''}`;

const FAILED = new Set(['aborted', 'cancelled', 'rejected', 'deleted', 'failed', 'expired']);

function update(batchId: string, status: string, code: number | undefined): ProviderStatusUpdate | undefined {
  const s = status.toLowerCase();
  const providerStatus = code !== undefined ? `${status}/${code}` : status;
  if (s === 'delivered') return { providerMessageId: batchId, status: 'delivered', providerStatus };
  if (s === 'dispatched') return { providerMessageId: batchId, status: 'sent', providerStatus };
  if (FAILED.has(s)) return { providerMessageId: batchId, status: 'failed', providerStatus, reason: sinchReportReason(status, code) };
  return undefined; // Queued, Unknown, and any status Sinch adds later
}

const RecipientReport = z.object({
  type: z.enum(['recipient_delivery_report_sms']),
  batch_id: z.string().min(1),
  status: z.string().min(1),
  code: z.number().int().optional(),
});
const BatchReport = z.object({
  type: z.enum(['delivery_report_sms']),
  batch_id: z.string().min(1),
  statuses: z.array(z.object({ status: z.string().min(1), code: z.number().int().optional() })),
});

/** Sinch's callback signature (SDKs' validate_authentication_header): base64 HMAC-SHA256 of "body.nonce.timestamp". */
export function sinchCallbackSignature(secret: string, rawBody: string, nonce: string, timestamp: string): string {
  return createHmac('sha256', secret).update(`${rawBody}.${nonce}.${timestamp}`, 'utf8').digest('base64');
}

export const sinchSms: SmsProvider<SinchCredentials, SinchSettings> = {
  id: 'sinch',
  channel: 'sms',
  displayName: 'Sinch',
  credentials: SinchCredentials,
  settings: SinchSettings,
  receiptWindowSeconds: SINCH_RECEIPT_WINDOW_SECONDS,

  async send(message, { credentials, settings }, ctx) {
    const url = `${apiBaseUrl(settings)}/xms/v1/${encodeURIComponent(credentials.servicePlanId)}/batches`;
    const body = {
      ...(settings.from ? { from: settings.from } : {}),
      to: [message.to],
      body: message.text,
      type: 'mt_text',
      client_reference: message.messageId,
      // A per-recipient report needs a callback URL (else Sinch answers 403 missing_callback_url).
      ...(message.statusCallbackUrl ? { delivery_report: 'per_recipient', callback_url: message.statusCallbackUrl } : {}),
    };
    const reply = await postJson(ctx, url, body, { provider: 'Sinch', headers: { authorization: `Bearer ${credentials.apiToken}` } });
    if (reply.status !== 200 && reply.status !== 201) throw failure(reply);
    const id = (reply.json as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string' || id === '') {
      throw new ProviderUnavailable(`Sinch answered HTTP ${reply.status} without a batch id${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
    }
    return { providerMessageId: id };
  },

  /**
   * "hmac": Sinch's signature headers (x-sinch-webhook-signature, -nonce, -timestamp, -algorithm
   * HmacSHA256) computed with the service plan's HMAC secret, compared in constant time. "token":
   * Sinch callbacks are otherwise unsigned, so the operator's callback URL ends in
   * ?token=<webhookSecret> and a report without it is refused.
   */
  verifySignature(request, { credentials, settings }) {
    if ((settings.webhookVerification ?? 'token') === 'token') return verifyUrlToken(request, credentials.webhookSecret);
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' && value !== '' ? value : undefined;
    };
    const signature = header('x-sinch-webhook-signature');
    const nonce = header('x-sinch-webhook-signature-nonce');
    const timestamp = header('x-sinch-webhook-signature-timestamp');
    const algorithm = header('x-sinch-webhook-signature-algorithm');
    if (!signature || !nonce || !timestamp) return false;
    if (algorithm !== undefined && algorithm !== 'HmacSHA256') return false;
    return timingSafeEqualStrings(sinchCallbackSignature(credentials.webhookSecret, request.rawBody, nonce, timestamp), signature);
  },

  parseWebhook(request: WebhookRequest): ProviderStatusUpdate[] {
    let json: unknown;
    try {
      json = JSON.parse(request.rawBody);
    } catch {
      throw invalid('Sinch delivery report is not JSON.');
    }
    const type = (json as { type?: unknown } | null)?.type;
    if (type === 'recipient_delivery_report_sms') {
      const parsed = RecipientReport.safeParse(json);
      if (!parsed.success) throw invalid('Sinch recipient delivery report needs batch_id and status.', [{ field: 'batch_id', message: 'and status are required' }]);
      const u = update(parsed.data.batch_id, parsed.data.status, parsed.data.code);
      return u ? [u] : [];
    }
    if (type === 'delivery_report_sms') {
      const parsed = BatchReport.safeParse(json);
      if (!parsed.success) throw invalid('Sinch batch delivery report needs batch_id and statuses.', [{ field: 'statuses', message: 'is required' }]);
      return parsed.data.statuses.flatMap((s) => update(parsed.data.batch_id, s.status, s.code) ?? []);
    }
    if (typeof type === 'string' && type.startsWith('mo_')) return []; // an inbound message: not a receipt
    throw invalid('Sinch callback has no known type.', [{ field: 'type', message: 'must be recipient_delivery_report_sms or delivery_report_sms' }]);
  },
};
