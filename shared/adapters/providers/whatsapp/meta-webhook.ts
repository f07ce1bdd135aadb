/**
 * Meta's WhatsApp webhook payload (the `messages` field of a WhatsApp Business Account
 * subscription), and Meta's WhatsApp error codes in words.
 *
 * Kept apart from the Cloud API adapter (./meta.ts) because Business Solution Providers that
 * relay Meta's payload unchanged (360dialog) read the very same shape: they only differ in how
 * the request is authenticated and where messages are sent.
 *
 * The shape (Meta's "messages" webhook reference):
 *   { object: 'whatsapp_business_account',
 *     entry: [{ id: <WABA id>, changes: [{ field: 'messages', value: {
 *       messaging_product: 'whatsapp', metadata: { display_phone_number, phone_number_id },
 *       statuses?: [{ id: <wamid>, status: 'sent'|'delivered'|'read'|'failed'|…, timestamp, recipient_id,
 *                     errors?: [{ code, title, message, error_data: { details } }] }],
 *       contacts?: [...], messages?: [{ from, id, timestamp, type, text?|button?|interactive?|image?… }],
 *       errors?: [...] } }] }] }
 */
import { z } from 'zod';
import { invalid } from '../../../domain/errors.js';
import type { ProviderInboundMessage, ProviderStatusUpdate } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';

// ---- Meta's error codes in words ----

/**
 * What Meta's WhatsApp error codes mean, for a person reading a message's history. Codes from
 * Meta's Cloud API error code reference; the ones operators meet when sending notifications.
 */
const META_ERROR_WORDS: Record<number, string> = {
  0: 'Meta could not authenticate the access token',
  1: 'Meta could not process the request',
  2: "Meta's service is temporarily unavailable or overloaded",
  3: 'The app lacks the capability or permission to use this API',
  4: 'The app reached its Graph API call rate limit',
  10: 'The access token lacks permission to send from this phone number',
  33: 'The business phone number does not exist or was deleted',
  100: 'Meta refused a parameter of the request',
  190: 'The access token has expired or was revoked',
  368: 'The WhatsApp Business Account is temporarily blocked for violating a Meta policy',
  80007: 'The WhatsApp Business Account reached its rate limit',
  130429: "The business phone number reached its sending throughput limit",
  130472: "The customer's number is part of a Meta marketing experiment",
  131000: 'Something went wrong at Meta',
  131005: 'Meta denied access to this phone number',
  131008: 'A required parameter is missing',
  131009: 'A parameter value is not valid',
  131021: "The recipient is the business's own phone number",
  131026: 'The number is not on WhatsApp or cannot receive messages',
  131031: 'The WhatsApp Business Account is locked',
  131042: 'Meta refused to send because of a payment problem on the WhatsApp Business Account',
  131047: 'More than 24 hours have passed since the customer last wrote, so only an approved template can be sent',
  131048: 'This phone number may send fewer messages for now because earlier messages were blocked or reported as spam',
  131049: 'Meta chose not to deliver this marketing message to keep engagement healthy',
  131050: 'The customer has stopped marketing messages from this business',
  131051: 'WhatsApp does not support this message type',
  131053: 'The media could not be uploaded',
  131056: 'Too many messages were sent to this customer in a short time',
  132000: 'The number of template parameters does not match the template',
  132001: 'The template does not exist in this language or is not approved',
  132005: 'The template text is too long once its parameters are filled in',
  132007: "The template's text breaks WhatsApp's formatting or content policy",
  132012: 'The template parameters are not in the format the template expects',
  132015: 'The template is paused because of its low quality',
  132016: 'The template is disabled because of its low quality',
  133010: 'The business phone number is not registered with the WhatsApp Cloud API',
};

/** Meta's words for a code, or undefined when we have none (200–299 are all permission errors). */
export function metaErrorWords(code: number): string | undefined {
  if (code >= 200 && code <= 299) return "The app's permission to send was not granted or was removed";
  return META_ERROR_WORDS[code];
}

/** One of Meta's errors, as the API answers it and as status webhooks carry it. */
export interface MetaErrorDetail {
  code: number;
  title?: string | undefined;
  message?: string | undefined;
  details?: string | undefined;
}

/**
 * A reason in words: "The number is not on WhatsApp or cannot receive messages (Meta error
 * 131026): Message Undeliverable." — our words, the code, and Meta's own (most specific first:
 * error_data.details, then message, then title), sanitized and short.
 */
export function metaErrorReason(error: MetaErrorDetail): string {
  const words = metaErrorWords(error.code);
  const theirs = [error.details, error.message, error.title].find((t): t is string => typeof t === 'string' && t.trim() !== '');
  const said = theirs ? safeExcerpt(theirs) : '';
  const base = words ? `${words} (Meta error ${error.code})` : `Meta error ${error.code}`;
  return said ? `${base}: ${said}` : base;
}

// ---- the payload ----

const UnixSeconds = z.union([z.string().regex(/^\d{1,12}$/), z.number().int().nonnegative()]);

const WebhookError = z.object({
  code: z.number().int(),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.object({ details: z.string().optional() }).optional(),
});

const WebhookStatus = z.object({
  id: z.string().min(1),
  status: z.string().min(1),
  timestamp: UnixSeconds.optional(),
  recipient_id: z.string().optional(),
  errors: z.array(WebhookError).optional(),
});

const WebhookMessage = z.object({
  id: z.string().min(1),
  /** The customer's number, digits only (as the API's `to`). */
  from: z.string().regex(/^\+?[1-9]\d{5,14}$/, 'must be a phone number in digits'),
  timestamp: UnixSeconds,
  type: z.string().min(1),
  text: z.object({ body: z.string() }).optional(),
  /** A tapped quick-reply button of a template. */
  button: z.object({ text: z.string().optional(), payload: z.string().optional() }).optional(),
  /** A tapped reply button or list row of an interactive message. */
  interactive: z
    .object({
      type: z.string(),
      button_reply: z.object({ id: z.string().optional(), title: z.string() }).optional(),
      list_reply: z.object({ id: z.string().optional(), title: z.string(), description: z.string().optional() }).optional(),
    })
    .optional(),
  reaction: z.object({ emoji: z.string().optional() }).optional(),
  image: z.object({ caption: z.string().optional() }).optional(),
  video: z.object({ caption: z.string().optional() }).optional(),
  document: z.object({ caption: z.string().optional(), filename: z.string().optional() }).optional(),
});
type WebhookMessage = z.infer<typeof WebhookMessage>;

const MessagesValue = z.object({
  messaging_product: z.string().optional(),
  metadata: z.object({ phone_number_id: z.string().min(1), display_phone_number: z.string().optional() }),
  statuses: z.array(WebhookStatus).optional(),
  messages: z.array(WebhookMessage).optional(),
});
/** When the webhook URL already names the one number (360dialog: one API key, one number), metadata is not needed. */
const OneNumberMessagesValue = MessagesValue.extend({ metadata: MessagesValue.shape.metadata.optional() });

const WebhookPayload = z.object({
  object: z.string().optional(),
  entry: z.array(
    z.object({
      id: z.string().optional(),
      changes: z.array(z.object({ field: z.string(), value: z.unknown() })),
    }),
  ),
});

const problems = (error: z.ZodError, prefix: string) =>
  error.issues.slice(0, 10).map((issue) => ({ field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'), message: issue.message }));

const isoFromSeconds = (value: string | number) => new Date(Number(value) * 1000).toISOString();

/** The status update of one `statuses[]` item; undefined for statuses we do not record. */
function statusUpdate(status: z.infer<typeof WebhookStatus>, provider: string): ProviderStatusUpdate | undefined {
  const raw = status.status.toLowerCase();
  switch (raw) {
    case 'sent':
    case 'delivered':
    case 'read':
      return { providerMessageId: status.id, status: raw, providerStatus: raw };
    case 'failed': {
      const first = status.errors?.[0];
      if (!first) return { providerMessageId: status.id, status: 'failed', providerStatus: 'failed', reason: `${provider} reported the message failed without a reason` };
      return {
        providerMessageId: status.id,
        status: 'failed',
        providerStatus: `failed/${first.code}`,
        reason: metaErrorReason({ code: first.code, title: first.title, message: first.message, details: first.error_data?.details }),
      };
    }
    // "deleted", "warning", "played" and anything Meta adds later: nothing we record.
    default:
      return undefined;
  }
}

/** What a customer wrote, in text: the text itself, a tapped button's label, or a short description. */
function inboundText(message: WebhookMessage): string {
  const withCaption = (label: string, caption: string | undefined) => (caption ? `[${label}] ${caption}` : `[${label}]`);
  switch (message.type) {
    case 'text':
      if (message.text) return message.text.body;
      break;
    case 'button':
      if (message.button) return message.button.text ?? message.button.payload ?? '[button]';
      break;
    case 'interactive': {
      const reply = message.interactive?.button_reply ?? message.interactive?.list_reply;
      if (reply) return reply.title;
      return '[interactive reply]';
    }
    case 'reaction':
      return message.reaction?.emoji ? `[reaction ${message.reaction.emoji}]` : '[reaction removed]';
    case 'image':
      return withCaption('image', message.image?.caption);
    case 'video':
      return withCaption('video', message.video?.caption);
    case 'document':
      return withCaption('document', message.document?.caption ?? message.document?.filename);
    case 'unsupported':
    case 'unknown':
      return '[a message type WhatsApp does not support here]';
    default:
      return `[${safeExcerpt(message.type, 32)}]`;
  }
  throw invalid(`${message.type} message ${message.id} has no ${message.type} object.`, [{ field: message.type, message: 'is required' }]);
}

function inbound(message: WebhookMessage): ProviderInboundMessage {
  return {
    kind: 'inbound',
    providerMessageId: message.id,
    from: message.from.startsWith('+') ? message.from : `+${message.from}`,
    text: inboundText(message),
    at: isoFromSeconds(message.timestamp),
  };
}

/**
 * Status changes and inbound messages in a webhook body with Meta's payload, for one business
 * phone number: `messages` changes of other phone numbers (another gateway on the same app) and
 * every other field are ignored. Throws invalid() (a 400) when the body is not JSON or not that
 * shape; `provider` names the sender in those messages ("Meta", "360dialog").
 *
 * `phoneNumberId` undefined: the sender posts only one number's events to this URL (360dialog),
 * so nothing is filtered and `metadata` may be absent.
 */
export function parseMetaWebhookBody(rawBody: string, phoneNumberId: string | undefined, provider = 'Meta'): Array<ProviderStatusUpdate | ProviderInboundMessage> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw invalid(`${provider} webhook body is not JSON.`);
  }
  const payload = WebhookPayload.safeParse(json);
  if (!payload.success) throw invalid(`${provider} webhook body is not a WhatsApp Business Account notification.`, problems(payload.error, ''));

  const out: Array<ProviderStatusUpdate | ProviderInboundMessage> = [];
  for (const entry of payload.data.entry) {
    for (const change of entry.changes) {
      if (change.field !== 'messages') continue;
      const value = (phoneNumberId === undefined ? OneNumberMessagesValue : MessagesValue).safeParse(change.value);
      if (!value.success) throw invalid(`${provider} webhook has a "messages" change that is not in the documented shape.`, problems(value.error, 'value'));
      if (phoneNumberId !== undefined && value.data.metadata?.phone_number_id !== phoneNumberId) continue;
      for (const status of value.data.statuses ?? []) {
        const update = statusUpdate(status, provider);
        if (update) out.push(update);
      }
      for (const message of value.data.messages ?? []) out.push(inbound(message));
    }
  }
  return out;
}
