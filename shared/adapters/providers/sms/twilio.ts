/**
 * Twilio Programmable Messaging: the Messages API for sending, form-encoded status callbacks
 * signed with X-Twilio-Signature for delivery receipts.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { classifyHttpFailure, postForm, timingSafeEqualStrings } from '../http.js';

export const TWILIO_DEFAULT_API_BASE_URL = 'https://api.twilio.com';

const E164 = /^\+[1-9]\d{6,14}$/;
const ALPHANUMERIC_SENDER = /^[A-Za-z0-9 ]{1,11}$/;

export const TwilioCredentials = z.strictObject({
  accountSid: z
    .string()
    .trim()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must be a Twilio Account SID: "AC" followed by 32 hexadecimal characters'),
  authToken: z.string().trim().min(16, 'must be the Twilio Auth Token (at least 16 characters)'),
});
export type TwilioCredentials = z.infer<typeof TwilioCredentials>;

export const TwilioSettings = z
  .strictObject({
    from: z
      .string()
      .trim()
      .refine((v) => E164.test(v) || (ALPHANUMERIC_SENDER.test(v) && v.trim() !== ''), {
        message: 'must be an E.164 number such as +14155550100, or an alphanumeric sender id of 1–11 letters, digits or spaces',
      })
      .optional(),
    messagingServiceSid: z
      .string()
      .trim()
      .regex(/^MG[0-9a-fA-F]{32}$/, 'must be a Twilio Messaging Service SID: "MG" followed by 32 hexadecimal characters')
      .optional(),
    apiBaseUrl: z
      .url({ protocol: /^https?$/, message: 'must be an http(s) URL such as https://api.twilio.com' })
      .default(TWILIO_DEFAULT_API_BASE_URL)
      .describe("Twilio's API origin; change it only for a regional edge (e.g. https://api.dublin.ie1.twilio.com)."),
  })
  .refine((s) => (s.from === undefined) !== (s.messagingServiceSid === undefined), {
    message: 'set exactly one of "from" (a sender number or id) or "messagingServiceSid"',
  });
export type TwilioSettings = z.infer<typeof TwilioSettings>;

/** Twilio's delivery error codes that operators meet most, in words. */
const DELIVERY_ERRORS: Record<string, string> = {
  '30001': 'Queue overflow',
  '30002': 'Account suspended',
  '30003': 'Unreachable destination handset',
  '30004': 'Message blocked',
  '30005': 'Unknown destination handset',
  '30006': 'Landline or unreachable carrier',
  '30007': 'Message filtered by the carrier',
  '30008': 'Unknown error',
};

export function twilioErrorReason(code: string): string {
  return DELIVERY_ERRORS[code] ?? `Twilio error ${code}`;
}

/** Twilio's signature base: the URL, then every parameter as name+value, sorted by name (then value). */
export function twilioSignature(authToken: string, url: string, params: URLSearchParams | Record<string, string>): string {
  const pairs = params instanceof URLSearchParams ? [...params.entries()] : Object.entries(params);
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  let data = url;
  for (const [name, value] of pairs) data += name + value;
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * The URL as Twilio may have signed it: exactly as given, and with the scheme's default port
 * dropped or added (proxies and Twilio disagree on whether ":443" is part of the URL).
 */
function urlVariants(url: string): string[] {
  const variants = [url];
  try {
    const parsed = new URL(url);
    variants.push(parsed.href);
    if (parsed.port === '') {
      const port = parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : '';
      if (port) variants.push(`${parsed.protocol}//${parsed.hostname}:${port}${parsed.pathname}${parsed.search}`);
    }
  } catch {
    // Not a URL we can rewrite; the exact string is all there is.
  }
  return [...new Set(variants)];
}

interface TwilioApiError {
  code?: number | string;
  message?: string;
  more_info?: string;
  status?: number;
}

function apiError(json: unknown): TwilioApiError | undefined {
  return json !== null && typeof json === 'object' ? (json as TwilioApiError) : undefined;
}

function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

export const twilioSms: SmsProvider<TwilioCredentials, TwilioSettings> = {
  id: 'twilio',
  channel: 'sms',
  displayName: 'Twilio',
  credentials: TwilioCredentials,
  settings: TwilioSettings,

  async send(message, { credentials, settings }, ctx) {
    const base = (settings.apiBaseUrl ?? TWILIO_DEFAULT_API_BASE_URL).replace(/\/+$/, '');
    const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(credentials.accountSid)}/Messages.json`;
    const params = new URLSearchParams({ To: message.to, Body: message.text });
    if (settings.messagingServiceSid) params.set('MessagingServiceSid', settings.messagingServiceSid);
    else if (settings.from) params.set('From', settings.from);
    if (message.statusCallbackUrl) params.set('StatusCallback', message.statusCallbackUrl);

    const basic = Buffer.from(`${credentials.accountSid}:${credentials.authToken}`, 'utf8').toString('base64');
    const reply = await postForm(ctx, url, params, { provider: 'Twilio', headers: { authorization: `Basic ${basic}` } });

    if (reply.status === 200 || reply.status === 201) {
      const sid = (apiError(reply.json) as { sid?: unknown } | undefined)?.sid;
      if (typeof sid === 'string' && sid !== '') return { providerMessageId: sid };
      throw new ProviderUnavailable(`Twilio answered HTTP ${reply.status} without a message sid: ${snippet(reply.text)}`);
    }

    const error = apiError(reply.json);
    const code = error?.code !== undefined && error.code !== null ? String(error.code) : undefined;
    const said = error?.message ? `: ${error.message}` : reply.text ? `: ${snippet(reply.text)}` : '';
    if (reply.status === 401) {
      throw new ProviderRejected(
        `Twilio rejected the gateway's credentials${code ? ` (error ${code}${said})` : ''}; check the Account SID and Auth Token.`,
        code,
      );
    }
    const detail = code ? `Twilio error ${code}${said}` : `Twilio answered HTTP ${reply.status}${said}`;
    throw classifyHttpFailure(reply.status, detail, code);
  },

  verifySignature(request, { credentials }) {
    const header = request.headers['x-twilio-signature'];
    if (!header) return false;
    const params = new URLSearchParams(request.rawBody);
    return urlVariants(request.url).some((url) => timingSafeEqualStrings(twilioSignature(credentials.authToken, url, params), header));
  },

  parseWebhook(request: WebhookRequest): ProviderStatusUpdate[] {
    const params = new URLSearchParams(request.rawBody);
    const sid = params.get('MessageSid') ?? params.get('SmsSid');
    if (!sid) throw invalid('Twilio status callback has no MessageSid.', [{ field: 'MessageSid', message: 'is required' }]);
    const status = (params.get('MessageStatus') ?? params.get('SmsStatus') ?? '').toLowerCase();
    if (!status) throw invalid('Twilio status callback has no MessageStatus.', [{ field: 'MessageStatus', message: 'is required' }]);
    const errorCode = params.get('ErrorCode') || undefined;
    const providerStatus = errorCode ? `${status}/${errorCode}` : status;

    switch (status) {
      case 'sent':
      case 'delivered':
      case 'read':
        return [{ providerMessageId: sid, status, providerStatus }];
      case 'failed':
      case 'undelivered':
        return [{ providerMessageId: sid, status: 'failed', providerStatus, reason: errorCode ? twilioErrorReason(errorCode) : `Twilio reported the message ${status}` }];
      case 'canceled':
        return [{ providerMessageId: sid, status: 'failed', providerStatus, reason: errorCode ? twilioErrorReason(errorCode) : 'Canceled before sending' }];
      default:
        // accepted, scheduled, queued, sending, receiving, received, partially_delivered, and any
        // status Twilio adds later: nothing we record.
        return [];
    }
  },
};
