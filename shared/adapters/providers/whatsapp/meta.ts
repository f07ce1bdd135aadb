/**
 * Meta WhatsApp Cloud API: POST /{version}/{phone-number-id}/messages to send free-form text or an
 * approved template, webhooks signed with X-Hub-Signature-256 for statuses and inbound messages,
 * and the GET hub.challenge handshake Meta makes when the webhook URL is configured.
 *
 * Requests go to Meta's official Graph API host only. The gateway's settings cannot change it (a
 * tenant could otherwise point the sender, and its bearer token, at any URL); tests and staging set
 * ISPNOTIFY_BASE_URL_META in the deployment's environment (see ../base-url.ts).
 *
 * No `lookup`: the Cloud API has no endpoint to read a sent message's status back (statuses only
 * come through webhooks), so a lost outcome cannot be asked about.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { GatewayFault, ProviderRejected, ProviderThrottled, ProviderUnavailable } from '../../../domain/errors.js';
import type { HandshakeReply, OutboundWhatsApp, WhatsAppProvider } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { classifyHttpFailure, postJson, timingSafeEqualStrings, type HttpReply } from '../http.js';
import { metaErrorReason, parseMetaWebhookBody } from './meta-webhook.js';

/** The Graph API's origin. */
export const META_GRAPH_BASE_URL = 'https://graph.facebook.com';

/**
 * The Graph API version used when a gateway names none. Meta releases a version about every
 * quarter and keeps each for about two years; v24.0 (October 2025) is the one Meta's current
 * WhatsApp references describe. A gateway can pin another with `apiVersion`.
 */
export const META_DEFAULT_API_VERSION = 'v24.0';

const E164 = /^\+[1-9]\d{6,14}$/;

export const MetaCredentials = z.strictObject({
  accessToken: z.string().trim().min(1, 'must be the access token of a system user with the whatsapp_business_messaging permission'),
  appSecret: z.string().trim().min(1, "must be the Meta app's App Secret (App settings > Basic), used to check webhook signatures"),
  /**
   * The verify token Meta echoes in its GET handshake. The gateway service generates one and shows
   * it once with the webhookUrl; the adapter only requires it.
   */
  verifyToken: z
    .string()
    .min(16, 'must be the webhook verify token (at least 16 characters)')
    .optional()
    .describe('Leave it out: the gateway service generates one and shows it once (generatedCredentials).'),
});
export type MetaCredentials = z.infer<typeof MetaCredentials>;

const digitsId = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,30}$/, `must be the ${what}: digits only, as shown in WhatsApp Manager`);

export const MetaSettings = z.strictObject({
  phoneNumberId: digitsId('Phone number ID'),
  businessAccountId: digitsId('WhatsApp Business Account ID'),
  /** Graph API version such as "v24.0"; absent means META_DEFAULT_API_VERSION at send time. */
  apiVersion: z
    .string()
    .trim()
    .regex(/^v\d+\.\d+$/, 'must be a Graph API version such as v24.0')
    .optional(),
  // No base URL: requests go to Meta's official host (see the top of this file). The object is
  // strict, so a gateway saved with "apiBaseUrl" is refused as an unknown field.
});
export type MetaSettings = z.infer<typeof MetaSettings>;

/**
 * How long after `sent` a status webhook normally arrives: Meta posts "sent" within seconds and
 * "delivered" as soon as the phone is online, usually within minutes; an hour leaves room for
 * Meta's webhook retries before a message counts as overdue (there is no lookup to ask).
 */
export const META_RECEIPT_WINDOW_SECONDS = 3600;

// ---- error mapping ----

type ErrorClass = 'rejected' | 'unavailable' | 'gateway';

/**
 * Who answered a Cloud API call, for the errors: Meta itself, or a Business Solution Provider that
 * relays the Cloud API unchanged (360dialog). Shared by ./three-sixty-dialog.ts.
 */
export interface CloudApiSender {
  /** Names the sender in error messages: "Meta", "360dialog". */
  name: string;
  /** What to check when the sender refuses our credentials: "the gateway's access token". */
  credentialHint: string;
  /**
   * true: a rate-limit code (4, 80007, 130429) is ProviderThrottled (the send waits without spending
   * an attempt) rather than plain ProviderUnavailable. Absent or false: ProviderUnavailable.
   */
  rateLimitsThrottle?: boolean;
}

/** Rate limits of the app, the account or the number: waiting is all it takes. */
const RATE_LIMITED = new Set([4, 80007, 130429]);

/** Wrong about this message: retrying it, or sending it through another gateway, cannot help. */
const REJECTED = new Set([100, 131008, 131009, 131021, 131026, 131047, 131051, 131053, 132000, 132001, 132005, 132007, 132012, 132015, 132016]);
/** Meta cannot take it now (throughput, rate limits, its own trouble): retry later. */
const UNAVAILABLE = new Set([2, 4, 80007, 130429, 131000, 131048, 131056]);
/** The gateway itself cannot send (token, permissions, account state): alarm, try the next gateway. */
const GATEWAY = new Set([0, 3, 10, 33, 190, 368, 131005, 131031, 131042, 133010]);

function classify(code: number, subcode: number | undefined, httpStatus: number): ErrorClass | undefined {
  // Graph's "object with ID ... does not exist": the phone number id is wrong for this token.
  if (code === 100 && subcode === 33) return 'gateway';
  if (code === 1) return httpStatus >= 500 ? 'unavailable' : 'rejected';
  if (GATEWAY.has(code) || (code >= 200 && code <= 299)) return 'gateway';
  if (UNAVAILABLE.has(code)) return 'unavailable';
  if (REJECTED.has(code)) return 'rejected';
  return undefined;
}

const MetaErrorReply = z.object({
  error: z.object({
    message: z.string().optional(),
    type: z.string().optional(),
    code: z.number().int(),
    error_subcode: z.number().int().optional(),
    error_data: z.object({ details: z.string().optional() }).optional(),
    fbtrace_id: z.string().optional(),
  }),
});

/**
 * The error a failed Cloud API reply means: ProviderRejected, ProviderUnavailable (or
 * ProviderThrottled) or GatewayFault, from Meta's error code when the body is a Cloud API error
 * object, otherwise from the HTTP status (401/403 being the sender refusing our credentials).
 */
export function cloudApiFailure(reply: HttpReply, sender: CloudApiSender): ProviderRejected | ProviderUnavailable | GatewayFault {
  const parsed = MetaErrorReply.safeParse(reply.json);
  if (!parsed.success) {
    const quoted = safeExcerpt(reply.text);
    const detail = `${sender.name} answered HTTP ${reply.status}${quoted ? `: ${quoted}` : ''}`;
    if (reply.status === 401 || reply.status === 403) return new GatewayFault(`${detail}; check ${sender.credentialHint}.`);
    return classifyHttpFailure(reply.status, detail);
  }
  const { code, error_subcode: subcode, message, error_data: data } = parsed.data.error;
  const reason =
    code === 100 && subcode === 33
      ? `The phone number ID does not exist or the access token cannot use it (Meta error 100/33)${message ? `: ${safeExcerpt(message)}` : ''}`
      : metaErrorReason({ code, message, details: data?.details });
  const codeText = String(code);
  switch (classify(code, subcode, reply.status)) {
    case 'rejected':
      return new ProviderRejected(reason, codeText);
    case 'unavailable':
      if (sender.rateLimitsThrottle && RATE_LIMITED.has(code)) return new ProviderThrottled(reason, codeText);
      return new ProviderUnavailable(reason, codeText);
    case 'gateway':
      return new GatewayFault(reason, codeText);
    default:
      // A code we do not know: its HTTP status decides, as for any provider.
      if (reply.status === 401 || reply.status === 403) return new GatewayFault(reason, codeText);
      return classifyHttpFailure(reply.status, reason, codeText);
  }
}

const SendReply = z.object({ messages: z.array(z.object({ id: z.string().min(1) })).min(1) });

/** The message id of a Cloud API send reply ({ messages: [{ id }] }), or the error a failed reply means. */
export function cloudApiSendResult(reply: HttpReply, sender: CloudApiSender): { providerMessageId: string } {
  if (reply.ok) {
    const sent = SendReply.safeParse(reply.json);
    if (sent.success) return { providerMessageId: sent.data.messages[0]!.id };
    throw new ProviderUnavailable(`${sender.name} answered HTTP ${reply.status} without a message id${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
  }
  throw cloudApiFailure(reply, sender);
}

/**
 * The Cloud API body that sends `message`: free-form text, or a template with its body parameters
 * in order (no components when it has none). Throws ProviderRejected when `to` is not E.164.
 */
/**
 * The body parameters, and for an authentication template the copy-code button, which Meta
 * requires as a URL button (index 0) whose one parameter is the code again.
 */
function templateComponents(content: Extract<OutboundWhatsApp['content'], { kind: 'template' }>) {
  return [
    ...(content.parameters.length > 0 ? [{ type: 'body', parameters: content.parameters.map((text) => ({ type: 'text', text })) }] : []),
    ...(content.copyCode !== undefined ? [{ type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: content.copyCode }] }] : []),
  ];
}

export function cloudApiMessageBody(message: OutboundWhatsApp): Record<string, unknown> {
  if (!E164.test(message.to)) {
    throw new ProviderRejected(`The number ${safeExcerpt(message.to, 24)} is not in E.164 form (+ and 7–15 digits).`, 'invalid-number');
  }
  const common = { messaging_product: 'whatsapp', recipient_type: 'individual', to: message.to.slice(1) };
  const content = message.content;
  if (content.kind === 'text') return { ...common, type: 'text', text: { body: content.text, preview_url: false } };
  return {
    ...common,
    type: 'template',
    template: {
      name: content.name,
      language: { code: content.language },
      ...(content.parameters.length > 0 || content.copyCode !== undefined ? { components: templateComponents(content) } : {}),
    },
  };
}

const META_SENDER: CloudApiSender = { name: 'Meta', credentialHint: "the gateway's access token" };

/** Meta's Graph API host, or the deployment's ISPNOTIFY_BASE_URL_META (tests, staging). */
const apiBaseUrl = () => providerBaseUrl('meta', META_GRAPH_BASE_URL);

/** The X-Hub-Signature-256 value Meta sends with a body: "sha256=" and the HMAC-SHA256 in hex. */
export function metaSignature(appSecret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody, 'utf8').digest('hex')}`;
}

const SIGNATURE_HEADER = /^sha256=[0-9a-fA-F]{64}$/;
/** A challenge we echo back: Meta sends a short token; anything else is not Meta. */
const CHALLENGE = /^[\x21-\x7E]{1,256}$/;

const forbidden: HandshakeReply = { status: 403, contentType: 'text/plain', body: 'Forbidden' };

export const metaWhatsApp: WhatsAppProvider<MetaCredentials, MetaSettings> = {
  id: 'meta',
  channel: 'whatsapp',
  displayName: 'Meta WhatsApp Cloud API',
  credentials: MetaCredentials,
  settings: MetaSettings,
  receiptWindowSeconds: META_RECEIPT_WINDOW_SECONDS,

  async send(message, { credentials, settings }, ctx) {
    const body = cloudApiMessageBody(message);
    const version = settings.apiVersion ?? META_DEFAULT_API_VERSION;
    const url = `${apiBaseUrl()}/${version}/${settings.phoneNumberId}/messages`;
    const reply = await postJson(ctx, url, body, { provider: 'Meta', headers: { authorization: `Bearer ${credentials.accessToken}` } });
    return cloudApiSendResult(reply, META_SENDER);
  },

  handshake(request, { credentials }) {
    if (request.method.toUpperCase() !== 'GET') return forbidden;
    let query: URLSearchParams;
    try {
      query = new URL(request.url).searchParams;
    } catch {
      return forbidden;
    }
    const token = query.get('hub.verify_token');
    const challenge = query.get('hub.challenge');
    if (query.get('hub.mode') !== 'subscribe' || token === null || challenge === null) return forbidden;
    if (!credentials.verifyToken || !timingSafeEqualStrings(token, credentials.verifyToken)) return forbidden;
    if (!CHALLENGE.test(challenge)) return forbidden;
    return { status: 200, contentType: 'text/plain', body: challenge };
  },

  verifySignature(request, { credentials }) {
    const header = request.headers['x-hub-signature-256'];
    if (!header || !SIGNATURE_HEADER.test(header)) return false;
    return timingSafeEqualStrings(metaSignature(credentials.appSecret, request.rawBody), `sha256=${header.slice(7).toLowerCase()}`);
  },

  parseWebhook(request, { settings }) {
    return parseMetaWebhookBody(request.rawBody, settings.phoneNumberId, 'Meta');
  },
};
