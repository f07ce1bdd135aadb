/**
 * Africa's Talking bulk SMS: POST /version1/messaging (form-encoded username, to, message, from;
 * the application's API key in the `apiKey` header; JSON reply with one entry per recipient in
 * SMSMessageData.Recipients), and delivery reports posted form-encoded (id, status, phoneNumber,
 * networkCode, failureReason) to the callback URL registered in the Africa's Talking dashboard.
 *
 * Africa's Talking signs nothing and takes no per-message callback URL: the operator registers
 * our webhook URL with `?token=<webhookSecret>` appended in the dashboard (SMS › SMS Callback
 * URLs › Delivery Reports), and verifySignature checks that token.
 *
 * Unicode: Africa's Talking has no flag for it; it encodes the text itself (a Bangla or Swahili
 * text with non-GSM characters goes out as UCS-2), so the text is sent as it is.
 *
 * Requests go to the official host only; tests and staging set ISPNOTIFY_BASE_URL_AFRICASTALKING
 * in the deployment's environment (see ../base-url.ts).
 */
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';
import { classifyHttpFailure, postForm, verifyUrlToken, type HttpReply } from '../http.js';

/** Africa's Talking's live API origin (the sandbox is api.sandbox.africastalking.com). */
export const AFRICASTALKING_API_BASE_URL = 'https://api.africastalking.com';
export const AFRICASTALKING_MESSAGING_PATH = '/version1/messaging';

const E164 = /^\+[1-9]\d{6,14}$/;
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z0-9])[A-Za-z0-9 ]{1,11}$/;
const SHORT_CODE = /^\d{3,8}$/;

export const AfricasTalkingCredentials = z.strictObject({
  username: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be the Africa's Talking application username (letters, digits, '_', '.', '-'), e.g. \"sandbox\" or your app's name"),
  apiKey: z.string().trim().min(32, "must be the Africa's Talking API key generated for that application (at least 32 characters)"),
  webhookSecret: z
    .string()
    .min(16, 'must be at least 16 characters')
    .describe(
      "A random secret of at least 16 characters. Africa's Talking does not sign delivery reports: append ?token=<this secret> to the delivery-report callback URL you register in the Africa's Talking dashboard.",
    ),
});
export type AfricasTalkingCredentials = z.infer<typeof AfricasTalkingCredentials>;

export const AfricasTalkingSettings = z.strictObject({
  from: z
    .string()
    .trim()
    .refine((v) => ALPHANUMERIC_SENDER.test(v) || SHORT_CODE.test(v) || E164.test(v), {
      message: 'must be your registered alphanumeric sender id (1–11 letters, digits or spaces), a short code of 3–8 digits, or an E.164 long number',
    })
    .optional()
    .describe("Sender id or short code registered with Africa's Talking; when absent Africa's Talking uses its shared sender (AFRICASTKNG)."),
  // No API base URL: requests go to Africa's Talking's official host. The object is strict, so a
  // gateway saved with "apiBaseUrl" is refused as an unknown field.
});
export type AfricasTalkingSettings = z.infer<typeof AfricasTalkingSettings>;

type Outcome = 'success' | 'recipient' | 'gateway' | 'temporary';

/** Africa's Talking's per-recipient status codes: name and what they mean for us. */
const RECIPIENT_CODES: Record<number, { name: string; outcome: Outcome; advice?: string }> = {
  100: { name: 'Processed', outcome: 'success' },
  101: { name: 'Sent', outcome: 'success' },
  102: { name: 'Queued', outcome: 'success' },
  401: { name: 'RiskHold', outcome: 'gateway', advice: "the account's messages are held for a risk review; contact Africa's Talking support" },
  402: { name: 'InvalidSenderId', outcome: 'gateway', advice: "the sender id is not registered or not approved for this application; check the gateway's \"from\"" },
  403: { name: 'InvalidPhoneNumber', outcome: 'recipient', advice: 'the number is not a valid phone number' },
  404: { name: 'UnsupportedNumberType', outcome: 'recipient', advice: 'Africa\'s Talking cannot send to this type of number' },
  405: { name: 'InsufficientBalance', outcome: 'gateway', advice: "the Africa's Talking account has too little balance; top it up" },
  406: { name: 'UserInBlacklist', outcome: 'recipient', advice: 'the subscriber has blocked messages from this sender' },
  407: { name: 'CouldNotRoute', outcome: 'recipient', advice: "Africa's Talking has no route to this number's network" },
  409: { name: 'DoNotDisturbRejection', outcome: 'recipient', advice: 'the subscriber is on the do-not-disturb list' },
  500: { name: 'InternalServerError', outcome: 'temporary', advice: "Africa's Talking had an internal error" },
  501: { name: 'GatewayError', outcome: 'temporary', advice: 'the gateway towards the network failed' },
  502: { name: 'RejectedByGateway', outcome: 'recipient', advice: 'the network gateway rejected this message' },
};

/** Delivery report failure reasons in words. */
const FAILURE_REASONS: Record<string, string> = {
  InsufficientCredit: 'The subscriber does not have enough airtime for this premium message',
  InvalidLinkId: 'The message was sent with an invalid linkId',
  UserIsInactive: "The subscriber is inactive or the account was deactivated by the network",
  UserInBlackList: 'The subscriber has blocked messages from this sender',
  UserAccountSuspended: "The subscriber's account is suspended by the network",
  NotNetworkSubcriber: 'The number does not belong to the network the message was sent through',
  NotNetworkSubscriber: 'The number does not belong to the network the message was sent through',
  UserNotSubscribedToProduct: 'The subscriber is not subscribed to this premium product',
  UserDoesNotExist: 'The number does not exist on the network',
  DeliveryFailure: 'The network could not deliver the message and gave no reason',
};

export function africasTalkingFailureReason(reason: string | undefined, status: string): string {
  if (!reason) return `Africa's Talking reported the message ${status} without a reason`;
  return FAILURE_REASONS[reason] ?? `Africa's Talking reported ${safeExcerpt(reason, 60)}`;
}

const RecipientJson = z.object({
  statusCode: z.union([z.number(), z.string()]),
  status: z.string().nullish(),
  number: z.string().nullish(),
  messageId: z.string().nullish(),
});

const SendReplyJson = z.object({
  SMSMessageData: z.object({
    Message: z.string().nullish(),
    Recipients: z.array(RecipientJson),
  }),
});

/** Africa's Talking's official host, or the deployment's ISPNOTIFY_BASE_URL_AFRICASTALKING. */
const apiBaseUrl = () => providerBaseUrl('africastalking', AFRICASTALKING_API_BASE_URL);

/** A reply other than 2xx: Africa's Talking answers these with a short plain-text explanation. */
function httpFailure(reply: HttpReply): Error {
  const quoted = safeExcerpt(reply.text);
  const said = quoted ? `: ${quoted}` : '';
  if (reply.status === 401 || reply.status === 403) {
    return new GatewayFault(
      `Africa's Talking refused the gateway's credentials (HTTP ${reply.status}${said}); check the username and API key (a sandbox key only works with the username "sandbox").`,
      String(reply.status),
    );
  }
  return classifyHttpFailure(reply.status, `Africa's Talking answered HTTP ${reply.status}${said}`, String(reply.status));
}

function recipientFailure(code: number, status: string | undefined): Error {
  const known = RECIPIENT_CODES[code];
  const name = known?.name ?? (status ? safeExcerpt(status, 60) : 'unknown status');
  const detail = `Africa's Talking status ${code} ${name}${known?.advice ? `: ${known.advice}` : ''}.`;
  const outcome: Outcome = known?.outcome ?? (code >= 500 ? 'temporary' : 'recipient');
  if (outcome === 'gateway') return new GatewayFault(detail, String(code));
  if (outcome === 'temporary') return new ProviderUnavailable(detail, String(code));
  return new ProviderRejected(detail, String(code));
}

/** A 2xx whose Recipients list is empty: the request-level Message says why (e.g. "InsufficientBalance"). */
function emptyRecipients(message: string | undefined | null): Error {
  const quoted = safeExcerpt(message ?? '');
  const entry = Object.entries(RECIPIENT_CODES).find(([, v]) => quoted.replace(/\s/g, '').toLowerCase().includes(v.name.toLowerCase()));
  if (entry) return recipientFailure(Number(entry[0]), entry[1].name);
  return new ProviderUnavailable(`Africa's Talking accepted the request but listed no recipient${quoted ? `: ${quoted}` : ''}`);
}

/**
 * How long after `sent` a delivery report normally arrives: most networks report within minutes,
 * but some hold reports for hours for a handset that is off; six hours covers them.
 */
export const AFRICASTALKING_RECEIPT_WINDOW_SECONDS = 6 * 3600;

/** Our status for an Africa's Talking delivery report status; undefined for statuses we do not record. */
function statusUpdate(id: string, status: string, failureReason: string | undefined): ProviderStatusUpdate | undefined {
  const providerStatus = failureReason ? `${status}/${failureReason}` : status;
  switch (status) {
    case 'Success':
      return { providerMessageId: id, status: 'delivered', providerStatus };
    case 'Sent':
    case 'Submitted':
    case 'Buffered':
      return { providerMessageId: id, status: 'sent', providerStatus };
    case 'Failed':
    case 'Rejected':
      return { providerMessageId: id, status: 'failed', providerStatus, reason: africasTalkingFailureReason(failureReason, status.toLowerCase()) };
    default:
      return undefined;
  }
}

export const africasTalkingSms: SmsProvider<AfricasTalkingCredentials, AfricasTalkingSettings> = {
  id: 'africastalking',
  channel: 'sms',
  displayName: "Africa's Talking",
  credentials: AfricasTalkingCredentials,
  settings: AfricasTalkingSettings,
  receiptWindowSeconds: AFRICASTALKING_RECEIPT_WINDOW_SECONDS,

  async send(message, { credentials, settings }, ctx) {
    const url = `${apiBaseUrl()}${AFRICASTALKING_MESSAGING_PATH}`;
    const params = new URLSearchParams({ username: credentials.username, to: message.to, message: message.text });
    if (settings.from) params.set('from', settings.from);
    // No per-message callback: delivery reports go to the URL registered in the dashboard.

    const reply = await postForm(ctx, url, params, { provider: "Africa's Talking", headers: { apiKey: credentials.apiKey } });
    if (!reply.ok) throw httpFailure(reply);

    const parsed = SendReplyJson.safeParse(reply.json);
    if (!parsed.success) {
      throw new ProviderUnavailable(`Africa's Talking answered HTTP ${reply.status} without SMSMessageData${reply.text ? `: ${safeExcerpt(reply.text)}` : ''}`);
    }
    const data = parsed.data.SMSMessageData;
    const recipient = data.Recipients.find((r) => r.number === message.to) ?? data.Recipients[0];
    if (!recipient) throw emptyRecipients(data.Message);

    const code = Number(recipient.statusCode);
    if (RECIPIENT_CODES[code]?.outcome === 'success') {
      if (recipient.messageId && recipient.messageId !== 'None') return { providerMessageId: recipient.messageId };
      throw new ProviderUnavailable(`Africa's Talking accepted the message (status ${code}) without a messageId.`);
    }
    throw recipientFailure(code, recipient.status ?? undefined);
  },

  /** Africa's Talking signs nothing: the `token` query parameter must be the gateway's webhookSecret. */
  verifySignature(request, { credentials }) {
    return verifyUrlToken(request, credentials.webhookSecret);
  },

  parseWebhook(request: WebhookRequest): ProviderStatusUpdate[] {
    const params = new URLSearchParams(request.rawBody);
    const id = params.get('id');
    if (!id) throw invalid("Africa's Talking delivery report has no id.", [{ field: 'id', message: 'is required' }]);
    const status = params.get('status');
    if (!status) throw invalid("Africa's Talking delivery report has no status.", [{ field: 'status', message: 'is required' }]);
    const update = statusUpdate(id, status, params.get('failureReason') || undefined);
    return update ? [update] : [];
  },
};
