/**
 * MSG91 (India): the Flow API, POST /api/v5/flow with the `authkey` header and a JSON body naming
 * the MSG91 template (`template_id`) that carries the DLT-registered content, the DLT header
 * (`sender`), the DLT content template id (`DLT_TE_ID`) and one recipient whose template variable
 * holds our text. MSG91 answers {"type":"success","message":"<request id>"}; that request id is
 * what its delivery reports carry as `requestId`.
 *
 * India's DLT rules: every commercial SMS must match a content template registered on the DLT
 * portal, sent under a registered 6-letter header. So the MSG91 template must be the DLT template
 * with a single variable taking the whole text (or the texts ispnotify sends must fit it exactly);
 * texts that do not match are dropped by the networks.
 *
 * Unicode: `unicode: 1` is sent when the text needs UCS-2 (Hindi, Bangla...), and no flag otherwise.
 *
 * Delivery reports: MSG91 posts them to the webhook URL set in its panel (SMS › Webhook), not per
 * message, and signs nothing: the operator appends `?token=<webhookSecret>` to that URL. Both
 * documented formats are read: version 2 (form-encoded `data` holding a JSON array of
 * {requestId, report: [{number, status, desc, failedReason}]}) and version 3 (one JSON object
 * {requestId, number, status, desc}).
 *
 * Requests go to MSG91's official host only; tests and staging set ISPNOTIFY_BASE_URL_MSG91.
 */
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import { measureSms } from '../../../domain/segments.js';
import type { ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { classifyHttpFailure, postJson, verifyUrlToken, type HttpReply } from '../http.js';

/** MSG91's API origin. */
export const MSG91_API_BASE_URL = 'https://control.msg91.com';
export const MSG91_FLOW_PATH = '/api/v5/flow';

export const Msg91Credentials = z.strictObject({
  authKey: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{20,64}$/, 'must be an MSG91 Authkey (letters and digits, from the Authkey page of the MSG91 panel)'),
  webhookSecret: z
    .string()
    .min(16, 'must be at least 16 characters')
    .describe(
      'A random secret of at least 16 characters. MSG91 does not sign delivery reports: append ?token=<this secret> to the webhook URL you set in the MSG91 panel (SMS › Webhook).',
    ),
});
export type Msg91Credentials = z.infer<typeof Msg91Credentials>;

export const Msg91Settings = z.strictObject({
  senderId: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{6}$/, 'must be your DLT-registered header (sender id): exactly 6 letters, e.g. ISPNET'),
  templateId: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{6,64}$/, 'must be the MSG91 template (flow) id from SMS › Templates, letters and digits such as 608d315c1a91bf72b63ec83a'),
  dltTemplateId: z
    .string()
    .trim()
    .regex(/^\d{15,20}$/, 'must be the DLT Content Template ID registered on the DLT portal: usually 19 digits, e.g. 1107161234567890123'),
  textVariable: z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,29}$/, 'must be the name of the MSG91 template variable that takes the text (letters, digits, "_"), e.g. var1')
    .default('var1')
    .describe('The variable of the MSG91 template that receives the message text; var1 when not set.'),
  // No API base URL: requests go to MSG91's official host; the object is strict, so "apiBaseUrl" is refused.
});
export type Msg91Settings = z.infer<typeof Msg91Settings>;

type Outcome = 'recipient' | 'gateway' | 'temporary';

/** MSG91's API error codes (its alert list and API docs), in words. */
const ERROR_CODES: Record<string, { outcome: Outcome; text: string }> = {
  '101': { outcome: 'recipient', text: 'missing mobile number' },
  '102': { outcome: 'gateway', text: 'missing message' },
  '202': { outcome: 'recipient', text: 'invalid mobile number' },
  '203': { outcome: 'gateway', text: 'invalid sender id or DLT entity id missing; check the senderId and its DLT registration' },
  '207': { outcome: 'gateway', text: 'invalid authentication key; check the Authkey' },
  '208': { outcome: 'gateway', text: "requests from this IP are blocked; whitelist the sender's IP in MSG91" },
  '301': { outcome: 'gateway', text: 'insufficient balance to send SMS; recharge the MSG91 account' },
  '302': { outcome: 'gateway', text: 'the MSG91 user account has expired' },
  '303': { outcome: 'gateway', text: 'the MSG91 user account is banned' },
  '306': { outcome: 'temporary', text: 'this route is unavailable at this time' },
  '311': { outcome: 'recipient', text: 'the same text went to this number within the last 10 seconds; MSG91 sent only the first' },
  '418': { outcome: 'gateway', text: "the sender's IP is not whitelisted for this Authkey; add it in MSG91 (Authkey › Whitelisted IPs)" },
};

/** Failures MSG91 sometimes names only in words. */
function outcomeFromWords(message: string): Outcome | undefined {
  const m = message.toLowerCase();
  if (/auth|api ?key|unauthori[sz]ed|ip .*whitelist|whitelist|balance|credit|sender|header|template|dlt|suspend|banned|expired|blocked account/.test(m)) return 'gateway';
  if (/too many|rate limit|throttl|try again|temporar/.test(m)) return 'temporary';
  if (/mobile|number|recipient/.test(m)) return 'recipient';
  return undefined;
}

interface Msg91Reply {
  type?: unknown;
  message?: unknown;
  code?: unknown;
  msg?: unknown;
}

const asReply = (json: unknown): Msg91Reply | undefined => (json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Msg91Reply) : undefined);

function failure(reply: HttpReply): Error {
  const body = asReply(reply.json);
  const codeValue = body?.code;
  const code = typeof codeValue === 'number' || (typeof codeValue === 'string' && /^\d+$/.test(codeValue)) ? String(codeValue) : undefined;
  const rawMessage = typeof body?.message === 'string' ? body.message : typeof body?.msg === 'string' ? body.msg : reply.text;
  const quoted = safeExcerpt(rawMessage);
  const said = quoted ? `: ${quoted}` : '';
  const known = code ? ERROR_CODES[code] : undefined;

  if (reply.status === 401 || reply.status === 403) {
    return new GatewayFault(`MSG91 refused the gateway's Authkey (HTTP ${reply.status}${code ? `, code ${code}` : ''}${said}); check the Authkey and its whitelisted IPs.`, code ?? String(reply.status));
  }
  if (reply.status === 429 || reply.status >= 500) {
    return classifyHttpFailure(reply.status, `MSG91 answered HTTP ${reply.status}${said}`, code ?? String(reply.status));
  }
  const outcome = known?.outcome ?? outcomeFromWords(quoted);
  const detail = `MSG91 ${code ? `error ${code}` : 'error'}${known ? ` (${known.text})` : ''}${said}`;
  if (outcome === 'gateway') return new GatewayFault(detail, code);
  if (outcome === 'temporary') return new ProviderUnavailable(detail, code);
  if (outcome === 'recipient') return new ProviderRejected(detail, code);
  // An error we cannot place: a 4xx will not succeed as it is, a 2xx "error" is read the same way.
  return reply.status >= 400 ? classifyHttpFailure(reply.status, detail, code) : new ProviderRejected(detail, code);
}

const apiBaseUrl = () => providerBaseUrl('msg91', MSG91_API_BASE_URL);

/** MSG91 wants the number in international format without "+": 919812345678. */
const msg91Mobile = (e164: string) => e164.replace(/^\+/, '');

/**
 * How long after `sent` a delivery report normally arrives: Indian operators usually report within
 * minutes, but a handset that is off keeps the message pending for hours; six hours covers it.
 */
export const MSG91_RECEIPT_WINDOW_SECONDS = 6 * 3600;

/** MSG91's delivery report statuses (1 delivered, 2 failed, 9 NDNC, 16/25 rejected, 17 blocked). */
const REPORT_FAILURES: Record<string, string> = {
  '2': 'The operator could not deliver the message',
  '9': 'The number is on the National Do Not Call registry (NDNC)',
  '16': 'The operator rejected the message',
  '25': 'The operator rejected the message',
  '17': 'The number is blocked',
};

function reportUpdate(requestId: string, statusValue: unknown, desc: unknown, failedReason: unknown): ProviderStatusUpdate | undefined {
  const status = typeof statusValue === 'number' ? String(statusValue) : typeof statusValue === 'string' ? statusValue.trim() : '';
  const description = typeof desc === 'string' ? desc.trim() : '';
  const providerStatus = description ? `${status}/${description}` : status;
  if (status === '1') return { providerMessageId: requestId, status: 'delivered', providerStatus };
  const base = REPORT_FAILURES[status];
  if (!base) return undefined;
  const why = typeof failedReason === 'string' && failedReason.trim() ? `${base}: ${safeExcerpt(failedReason, 80)}` : base;
  return { providerMessageId: requestId, status: 'failed', providerStatus, reason: `${why} (MSG91 status ${status})` };
}

const ReportEntry = z.object({ status: z.union([z.string(), z.number()]), desc: z.string().nullish(), failedReason: z.string().nullish() }).loose();
const V2Request = z.object({ requestId: z.string().min(1), report: z.array(ReportEntry) }).loose();
const V3Report = z.object({ requestId: z.string().min(1), status: z.union([z.string(), z.number()]), desc: z.string().nullish(), failedReason: z.string().nullish(), failureReason: z.string().nullish() }).loose();

function parseJsonOrThrow(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid(`MSG91 delivery report: ${what} is not JSON.`);
  }
}

export const msg91Sms: SmsProvider<Msg91Credentials, Msg91Settings> = {
  id: 'msg91',
  channel: 'sms',
  displayName: 'MSG91',
  credentials: Msg91Credentials,
  settings: Msg91Settings,
  receiptWindowSeconds: MSG91_RECEIPT_WINDOW_SECONDS,

  async send(message, { credentials, settings }, ctx) {
    const body: Record<string, unknown> = {
      template_id: settings.templateId,
      sender: settings.senderId,
      DLT_TE_ID: settings.dltTemplateId,
      short_url: '0',
      recipients: [{ mobiles: msg91Mobile(message.to), [settings.textVariable]: message.text }],
    };
    if (measureSms(message.text).encoding === 'UCS-2') body.unicode = 1;
    // No per-message callback: MSG91 posts reports to the webhook set in its panel.

    const reply = await postJson(ctx, `${apiBaseUrl()}${MSG91_FLOW_PATH}`, body, { provider: 'MSG91', headers: { authkey: credentials.authKey } });
    const parsed = asReply(reply.json);
    if (reply.ok && parsed?.type === 'success') {
      const requestId = parsed.message;
      if (typeof requestId === 'string' && requestId.trim() !== '') return { providerMessageId: requestId.trim() };
      throw new ProviderUnavailable(`MSG91 answered success without a request id${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
    }
    if (reply.ok && parsed?.type !== 'error') {
      throw new ProviderUnavailable(`MSG91 answered HTTP ${reply.status} without a result${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
    }
    throw failure(reply);
  },

  /** MSG91 signs nothing: the `token` query parameter must be the gateway's webhookSecret. */
  verifySignature(request, { credentials }) {
    return verifyUrlToken(request, credentials.webhookSecret);
  },

  parseWebhook(request: WebhookRequest): ProviderStatusUpdate[] {
    const raw = request.rawBody.trim();
    const contentType = (request.headers['content-type'] ?? '').toLowerCase();
    let payload: unknown;
    if (contentType.includes('json') || raw.startsWith('{') || raw.startsWith('[')) {
      payload = parseJsonOrThrow(raw, 'the body');
      // Version 2 sent as JSON ({"data": "<JSON array>"}) is read like the form.
      const data = asReply(payload) && typeof (payload as { data?: unknown }).data === 'string' ? (payload as { data: string }).data : undefined;
      if (data !== undefined) payload = parseJsonOrThrow(data, 'the "data" field');
    } else {
      const data = new URLSearchParams(raw).get('data');
      if (data === null) throw invalid('MSG91 delivery report has no "data" field.', [{ field: 'data', message: 'is required' }]);
      payload = parseJsonOrThrow(data, 'the "data" field');
    }

    const updates: ProviderStatusUpdate[] = [];
    if (Array.isArray(payload)) {
      for (const item of payload) {
        const entry = V2Request.safeParse(item);
        if (!entry.success) throw invalid('MSG91 delivery report entry has no requestId or report.', [{ field: 'requestId', message: 'is required' }]);
        for (const report of entry.data.report) {
          const update = reportUpdate(entry.data.requestId, report.status, report.desc, report.failedReason);
          if (update) updates.push(update);
        }
      }
      return updates;
    }
    const single = V3Report.safeParse(payload);
    if (!single.success) throw invalid('MSG91 delivery report has no requestId or status.', [{ field: 'requestId', message: 'is required' }]);
    const update = reportUpdate(single.data.requestId, single.data.status, single.data.desc, single.data.failedReason ?? single.data.failureReason);
    return update ? [update] : [];
  },
};
