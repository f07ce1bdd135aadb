/**
 * Infobip SMS: "Send SMS message" (POST /sms/2/text/advanced, JSON, `Authorization: App <apiKey>`)
 * and JSON delivery reports (`{ "results": [...] }`) posted to the message's notifyUrl.
 *
 * Infobip gives every account its own API host, https://<subdomain>.api.infobip.com. The gateway
 * stores only that subdomain (letters and digits, checked below), never a URL, so a tenant cannot
 * point the sender (and its API key) anywhere but an Infobip host. Tests and staging replace the
 * whole origin with ISPNOTIFY_BASE_URL_INFOBIP (see ../base-url.ts).
 *
 * Infobip detects the encoding itself: a text outside GSM-7 goes as Unicode with no flag to set.
 * Delivery reports carry no signature, so they are checked with a URL token (see verifySignature).
 */
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { classifyHttpFailure, postJson, verifyUrlToken, type HttpReply } from '../http.js';

export const INFOBIP_SEND_PATH = '/sms/2/text/advanced';

/** The account's official API origin, from its subdomain (e.g. "xk9p2" → https://xk9p2.api.infobip.com). */
export const infobipOfficialBaseUrl = (subdomain: string) => `https://${subdomain}.api.infobip.com`;

const ALPHANUMERIC_SENDER = /^[A-Za-z0-9 ]{1,11}$/;
const NUMERIC_SENDER = /^\+?[1-9]\d{2,14}$/;

export const InfobipCredentials = z.strictObject({
  apiKey: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9-]{20,200}$/, 'must be an Infobip API key (letters, digits and dashes, as shown under Developer Tools → API Keys)'),
  webhookSecret: z
    .string()
    .min(16, 'must be at least 16 characters')
    .describe(
      'Infobip does not sign delivery reports: ispnotify appends ?token=<webhookSecret> to the notifyUrl it gives Infobip and refuses reports without it. At least 16 characters.',
    ),
});
export type InfobipCredentials = z.infer<typeof InfobipCredentials>;

export const InfobipSettings = z.strictObject({
  baseUrlSubdomain: z
    .string()
    .regex(/^[a-z0-9]{1,40}$/, 'must be the subdomain of your Infobip API base URL: the "xxxxx" of xxxxx.api.infobip.com (lowercase letters and digits, at most 40)'),
  from: z
    .string()
    .trim()
    .refine((v) => ALPHANUMERIC_SENDER.test(v) || NUMERIC_SENDER.test(v), {
      message: 'must be an alphanumeric sender id of 1–11 letters, digits or spaces, or a number of 3–15 digits',
    })
    .optional(),
  // No URL field: the host is built from the subdomain above (see the top of this file). The
  // object is strict, so a gateway saved with "apiBaseUrl" is refused as an unknown field.
});
export type InfobipSettings = z.infer<typeof InfobipSettings>;

/** Infobip API base URL of the gateway's account, or the deployment's ISPNOTIFY_BASE_URL_INFOBIP. */
const apiBaseUrl = (settings: InfobipSettings) => providerBaseUrl('infobip', infobipOfficialBaseUrl(settings.baseUrlSubdomain));

/**
 * Message statuses (group REJECTED, or in a report) that say the gateway itself cannot send:
 * credit, sender id, account package or routing of the account. Nothing about the recipient.
 */
const GATEWAY_STATUSES: Record<string, string> = {
  REJECTED_NOT_ENOUGH_CREDITS: 'the Infobip account has not enough credit; top it up',
  REJECTED_SOURCE: 'the sender id is not registered on the Infobip account',
  REJECTED_SENDER: 'the sender id is blocklisted at Infobip',
  REJECTED_PREPAID_PACKAGE_EXPIRED: 'the Infobip prepaid package has expired',
  REJECTED_ROUTE_NOT_AVAILABLE: 'the Infobip account has no route for this traffic; ask Infobip to enable it',
};

/** Rejections that pass: Infobip's flood filter and its own system errors. */
const TEMPORARY_STATUSES = new Set(['REJECTED_FLOODING_FILTER', 'REJECTED_SYSTEM_ERROR']);

interface InfobipStatus {
  groupId?: unknown;
  groupName?: unknown;
  id?: unknown;
  name?: unknown;
  description?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const codeOf = (v: unknown): string | undefined => (typeof v === 'number' || (typeof v === 'string' && v !== '') ? String(v) : undefined);

/** The message Infobip refused in an HTTP 200 reply (its status in group REJECTED), as our error. */
function rejection(status: InfobipStatus): ProviderRejected | ProviderUnavailable | GatewayFault {
  const name = str(status.name) ?? 'REJECTED';
  const description = safeExcerpt(str(status.description) ?? '');
  const said = `Infobip status ${name}${codeOf(status.id) ? ` (${codeOf(status.id)})` : ''}${description ? `: ${description}` : ''}`;
  const gateway = GATEWAY_STATUSES[name];
  if (gateway) return new GatewayFault(`${said}; ${gateway}.`, name);
  if (TEMPORARY_STATUSES.has(name)) return new ProviderUnavailable(`${said}; try again later.`, name);
  return new ProviderRejected(`${said}; Infobip will not send to this recipient.`, name);
}

/** `{ requestError: { serviceException: { messageId, text } } }`, Infobip's API error body. */
function serviceException(json: unknown): { messageId?: string; text?: string } {
  const exception = (json as { requestError?: { serviceException?: { messageId?: unknown; text?: unknown } } } | undefined)?.requestError?.serviceException;
  return { messageId: str(exception?.messageId), text: str(exception?.text) };
}

/** The error a failed HTTP reply from Infobip means. */
function failure(reply: HttpReply): Error {
  const { messageId, text } = serviceException(reply.json);
  const quoted = safeExcerpt(text ?? reply.text);
  const said = quoted ? `: ${quoted}` : '';
  const detail = messageId ? `Infobip error ${messageId} (HTTP ${reply.status})${said}` : `Infobip answered HTTP ${reply.status}${said}`;
  if (reply.status === 401) return new GatewayFault(`${detail}; check the gateway's Infobip API key.`, messageId ?? '401');
  if (reply.status === 403) {
    return new GatewayFault(`${detail}; the API key lacks the SMS permission or the sender's IP address is not allowed.`, messageId ?? '403');
  }
  return classifyHttpFailure(reply.status, detail, messageId);
}

/** Infobip wants the destination in international format without the leading "+". */
const destination = (to: string) => to.replace(/^\+/, '');

// ---- delivery reports ----

/**
 * How long after `sent` Infobip's delivery report normally arrives: it posts it when the operator
 * reports, usually within minutes; Infobip retries a report our endpoint failed to take. An hour
 * leaves room for slow operators before the reconciler counts a receipt as overdue.
 */
export const INFOBIP_RECEIPT_WINDOW_SECONDS = 3600;

const InfobipReport = z.object({
  messageId: z.string().min(1),
  status: z.object({
    groupName: z.string(),
    name: z.string().optional(),
    id: z.union([z.number(), z.string()]).optional(),
    description: z.string().optional(),
  }),
  error: z
    .object({
      id: z.union([z.number(), z.string()]).optional(),
      name: z.string().optional(),
      description: z.string().optional(),
    })
    .nullish(),
});
const InfobipReports = z.object({ results: z.array(InfobipReport) });

function reportUpdate(report: z.infer<typeof InfobipReport>): ProviderStatusUpdate | undefined {
  const group = report.status.groupName.toUpperCase();
  const name = report.status.name ?? group;
  const errorName = report.error?.name && report.error.name !== 'NO_ERROR' ? report.error.name : undefined;
  const providerStatus = errorName ? `${name}/${errorName}` : name;
  switch (group) {
    case 'DELIVERED':
      return { providerMessageId: report.messageId, status: 'delivered', providerStatus };
    case 'PENDING':
      // Only "forwarded to the operator" means it has left Infobip; accepted/waiting are not recorded.
      return name === 'PENDING_ENROUTE' ? { providerMessageId: report.messageId, status: 'sent', providerStatus } : undefined;
    case 'UNDELIVERABLE':
    case 'EXPIRED':
    case 'REJECTED': {
      const why = safeExcerpt(report.error?.description ?? report.status.description ?? '', 120);
      const reason = `Infobip ${errorName ?? name}${why ? `: ${why}` : ''}`;
      return { providerMessageId: report.messageId, status: 'failed', providerStatus, reason };
    }
    default:
      return undefined;
  }
}

export const infobipSms: SmsProvider<InfobipCredentials, InfobipSettings> = {
  id: 'infobip',
  channel: 'sms',
  displayName: 'Infobip',
  credentials: InfobipCredentials,
  settings: InfobipSettings,
  receiptWindowSeconds: INFOBIP_RECEIPT_WINDOW_SECONDS,

  async send(message, { credentials, settings }, ctx) {
    const url = `${apiBaseUrl(settings)}${INFOBIP_SEND_PATH}`;
    const body = {
      messages: [
        {
          destinations: [{ to: destination(message.to) }],
          ...(settings.from ? { from: settings.from } : {}),
          text: message.text,
          ...(message.statusCallbackUrl ? { notifyUrl: message.statusCallbackUrl, notifyContentType: 'application/json' } : {}),
          callbackData: message.messageId,
        },
      ],
    };
    const reply = await postJson(ctx, url, body, { provider: 'Infobip', headers: { authorization: `App ${credentials.apiKey}` } });
    if (reply.status !== 200) throw failure(reply);

    const sent = (reply.json as { messages?: Array<{ messageId?: unknown; status?: InfobipStatus }> } | undefined)?.messages?.[0];
    const status = sent?.status;
    if (status && (status.groupId === 5 || str(status.groupName)?.toUpperCase() === 'REJECTED')) throw rejection(status);
    const messageId = str(sent?.messageId);
    if (!messageId) {
      throw new ProviderUnavailable(`Infobip answered HTTP 200 without a messageId${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
    }
    return { providerMessageId: messageId };
  },

  /**
   * Infobip does not sign delivery reports. The operator gives Infobip (per message, through our
   * notifyUrl) a webhook URL ending in ?token=<webhookSecret>; a report without that token is refused.
   */
  verifySignature(request, { credentials }) {
    return verifyUrlToken(request, credentials.webhookSecret);
  },

  parseWebhook(request: WebhookRequest): ProviderStatusUpdate[] {
    let json: unknown;
    try {
      json = JSON.parse(request.rawBody);
    } catch {
      throw invalid('Infobip delivery report is not JSON.');
    }
    const parsed = InfobipReports.safeParse(json);
    if (!parsed.success) {
      throw invalid('Infobip delivery report is not a "results" list of reports with messageId and status.', [
        { field: 'results', message: 'must be a list of reports, each with messageId and status.groupName' },
      ]);
    }
    return parsed.data.results.flatMap((report) => reportUpdate(report) ?? []);
  },
};
