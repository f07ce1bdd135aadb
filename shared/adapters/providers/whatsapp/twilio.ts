/**
 * Twilio WhatsApp: Programmable Messaging's Messages API with `whatsapp:` addresses. Free-form text
 * goes as Body; an approved template goes as a Content Template (ContentSid, "HX…", with its body
 * parameters as ContentVariables {"1": …, "2": …}). Status callbacks and inbound messages are
 * form-encoded POSTs signed with X-Twilio-Signature, exactly like Twilio SMS.
 *
 * Everything that is the same as Twilio SMS is the SMS adapter's own code (../sms/twilio.ts): the
 * credentials, the official host (ISPNOTIFY_BASE_URL_TWILIO in tests and staging, never a gateway
 * setting), Basic auth and the Messages path, the signature check, the status mapping and the
 * lookup by sid. This file adds WhatsApp's addresses, content templates, error codes and inbound
 * messages.
 *
 * `lookup` answers only for a message whose sid we know (a missing receipt). Without a sid (a send
 * whose reply was lost) it cannot search, unlike SMS: a template goes out as a ContentSid and Twilio
 * stores the text it rendered from the approved template, which we cannot reproduce, so "not in
 * Twilio's list" would not prove the message was never sent, and answering { found: false } could
 * send the customer a second WhatsApp. It throws ProviderUnavailable ('lookup-unsupported') instead:
 * the message ends "outcome unknown" rather than risk a double send.
 */
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderThrottled, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderInboundMessage, ProviderStatusUpdate, WhatsAppProvider } from '../../../ports.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import type { HttpReply } from '../http.js';
import {
  postTwilioMessage,
  TWILIO_RECEIPT_WINDOW_SECONDS,
  TwilioCredentials,
  twilioErrorReason,
  twilioFailure,
  twilioLookupBySid,
  twilioReplyError,
  TwilioSettings,
  twilioStatusUpdate,
  verifyTwilioSignature,
} from '../sms/twilio.js';

export { TwilioCredentials as TwilioWhatsAppCredentials };

const E164 = /^\+[1-9]\d{6,14}$/;
const WHATSAPP_PREFIX = 'whatsapp:';
/** A Content Template's SID, as the Content API and Content Template Builder show it. */
const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;
/** Twilio accepts up to 100 ContentVariables per send. */
const MAX_CONTENT_VARIABLES = 100;

export const TwilioWhatsAppSettings = z
  .strictObject({
    /** The WhatsApp-enabled sender, E.164; "whatsapp:+…" as Twilio's console shows it is accepted too. */
    from: z
      .string()
      .trim()
      .regex(/^(whatsapp:)?\+[1-9]\d{6,14}$/, 'must be the WhatsApp sender number in E.164 form, such as +14155550100 (or whatsapp:+14155550100)')
      .transform((v) => (v.startsWith(WHATSAPP_PREFIX) ? v.slice(WHATSAPP_PREFIX.length) : v))
      .optional(),
    messagingServiceSid: TwilioSettings.shape.messagingServiceSid,
    /**
     * Our template names → Twilio Content SIDs of the approved WhatsApp templates. A template whose
     * name is itself a Content SID needs no entry. A Content SID is for one language.
     */
    contentTemplates: z
      .record(
        z.string().min(1, 'template names must not be empty').max(512, 'template names must be at most 512 characters'),
        z.string().trim().regex(CONTENT_SID, 'must be a Twilio Content SID: "HX" followed by 32 hexadecimal characters'),
      )
      .refine((m) => Object.keys(m).length <= 1000, { message: 'at most 1000 content templates' })
      .optional(),
    // No API base URL: requests go to Twilio's official host. The object is strict, so a gateway
    // saved with "apiBaseUrl" is refused as an unknown field.
  })
  .refine((s) => (s.from === undefined) !== (s.messagingServiceSid === undefined), {
    message: 'set exactly one of "from" (the WhatsApp sender number) or "messagingServiceSid"',
  });
export type TwilioWhatsAppSettings = z.infer<typeof TwilioWhatsAppSettings>;

// ---- Twilio's WhatsApp error codes ----

type ErrorClass = 'rejected' | 'gateway' | 'unavailable' | 'throttled';

/**
 * Twilio's WhatsApp (63xxx) and Content Template (216xx) error codes: what each means, in words for
 * a message's history, and what it means for the send. From Twilio's error reference and its table
 * of Twilio and WhatsApp error codes (twilio.com/docs/api/errors, /docs/whatsapp/api/error-code-mapping).
 *
 *   rejected     this message cannot go as it is (recipient, content, template): no retry, no failover
 *   gateway      the WhatsApp sender or account cannot send at all: alarm, next gateway
 *   unavailable  Twilio or WhatsApp cannot take it now: retry later
 *   throttled    a rate limit: wait and go again without spending an attempt
 *
 * Most arrive in status callbacks (failed/undelivered with ErrorCode) rather than as the send's
 * reply; the words serve both.
 */
const WHATSAPP_ERRORS: Record<string, { words: string; class: ErrorClass }> = {
  '21655': { class: 'rejected', words: 'The Content SID does not exist in this Twilio account' },
  '21656': { class: 'rejected', words: "Twilio refused the template's ContentVariables" },
  '63001': { class: 'gateway', words: "WhatsApp could not authenticate the gateway's sender; it may need to be reconnected in Twilio" },
  '63003': { class: 'rejected', words: 'The number is not an active WhatsApp account' },
  '63005': { class: 'rejected', words: 'WhatsApp did not accept the message content' },
  '63007': { class: 'gateway', words: 'Twilio has no WhatsApp sender with this From address in the account (not registered, pending approval, or another account)' },
  '63008': { class: 'gateway', words: "The WhatsApp sender's channel is misconfigured in Twilio" },
  '63012': { class: 'unavailable', words: 'WhatsApp had an internal error' },
  '63013': { class: 'rejected', words: "The message breaks WhatsApp's business policy" },
  '63016': { class: 'rejected', words: 'More than 24 hours have passed since the customer last wrote, so only an approved template can be sent' },
  '63018': { class: 'throttled', words: "The WhatsApp sender's rate or messaging limit was reached" },
  '63020': { class: 'gateway', words: "The WhatsApp Business Account has an unresolved problem in Meta's Business Manager" },
  '63021': { class: 'rejected', words: 'WhatsApp refused the content (too long, or unsupported)' },
  '63024': { class: 'rejected', words: 'The number is not on WhatsApp or cannot receive messages' },
  '63027': { class: 'rejected', words: 'The template does not exist in this language or is not approved' },
  '63028': { class: 'rejected', words: 'The number of template parameters does not match the template' },
  '63030': { class: 'rejected', words: 'WhatsApp does not support a parameter of this message' },
  '63032': { class: 'rejected', words: 'WhatsApp does not deliver this message to this customer (a WhatsApp limitation)' },
  '63049': { class: 'rejected', words: 'Meta chose not to deliver this marketing message' },
};

/** A Twilio error code in words: the WhatsApp ones here, then the SMS adapter's, then "Twilio error <code>". */
export function twilioWhatsAppErrorReason(code: string): string {
  return WHATSAPP_ERRORS[code]?.words ?? twilioErrorReason(code);
}

/**
 * The error a failed send reply means. A WhatsApp code decides by itself; otherwise 401 and 403
 * are the gateway's credentials or account (GatewayFault), and anything else means what it means
 * for Twilio SMS (429 throttled, 5xx retry, other 4xx rejected).
 */
function failure(reply: HttpReply): Error {
  const { code, quoted } = twilioReplyError(reply);
  const known = code ? WHATSAPP_ERRORS[code] : undefined;
  if (code && known) {
    const reason = `${known.words} (Twilio error ${code})${quoted ? `: ${quoted}` : ''}`;
    switch (known.class) {
      case 'rejected':
        return new ProviderRejected(reason, code);
      case 'gateway':
        return new GatewayFault(reason, code);
      case 'unavailable':
        return new ProviderUnavailable(reason, code);
      case 'throttled':
        return new ProviderThrottled(reason, code);
    }
  }
  if (reply.status === 403) {
    return new GatewayFault(
      `Twilio refused the gateway's account (HTTP 403${code ? `, error ${code}` : ''}${quoted ? `: ${quoted}` : ''}); check that the account is active and the Auth Token is right.`,
      code,
    );
  }
  return twilioFailure(reply);
}

// ---- sending ----

/** The ContentSid a template goes as: its name when that is a Content SID, else the gateway's mapping. */
function contentSid(name: string, settings: TwilioWhatsAppSettings): string | undefined {
  if (CONTENT_SID.test(name)) return name;
  return settings.contentTemplates && Object.hasOwn(settings.contentTemplates, name) ? settings.contentTemplates[name] : undefined;
}

/** ContentVariables: the parameters in order as {"1": …, "2": …}; Twilio refuses empty values (21656). */
function contentVariables(parameters: string[]): string {
  if (parameters.length > MAX_CONTENT_VARIABLES) {
    throw new ProviderRejected(`The template has ${parameters.length} parameters; Twilio takes at most ${MAX_CONTENT_VARIABLES}.`, 'too-many-parameters');
  }
  const empty = parameters.findIndex((p) => p.trim() === '');
  if (empty >= 0) {
    throw new ProviderRejected(`Template parameter {{${empty + 1}}} is empty; Twilio refuses empty ContentVariables (error 21656).`, 'empty-parameter');
  }
  return JSON.stringify(Object.fromEntries(parameters.map((value, i) => [String(i + 1), value])));
}

// ---- webhooks ----

/** "whatsapp:+8801711…" → "+8801711…"; undefined when it is not a WhatsApp address with an E.164 number. */
function whatsappNumber(address: string | null): string | undefined {
  if (!address?.startsWith(WHATSAPP_PREFIX)) return undefined;
  const number = address.slice(WHATSAPP_PREFIX.length);
  return E164.test(number) ? number : undefined;
}

/** What a customer wrote, in text: the body, a tapped button's label, or a short description of media. */
function inboundText(params: URLSearchParams): string {
  const body = params.get('Body') ?? '';
  const mediaCount = Number(params.get('NumMedia') ?? '0');
  if (Number.isInteger(mediaCount) && mediaCount > 0) {
    const type = (params.get('MediaContentType0') ?? '').split('/')[0];
    const label = type === 'image' || type === 'video' || type === 'audio' ? type : 'document';
    return body ? `[${label}] ${body}` : `[${label}]`;
  }
  if (body) return body;
  const button = params.get('ButtonText') || params.get('ButtonPayload');
  if (button) return button;
  if (params.get('Latitude') && params.get('Longitude')) return '[location]';
  const type = params.get('MessageType');
  return type ? `[${safeExcerpt(type, 32)}]` : '[empty message]';
}

/**
 * Status callbacks and inbound messages in one of Twilio's WhatsApp webhook bodies (form-encoded).
 *
 * A status callback carries MessageStatus: sent, delivered, read, failed and undelivered (with
 * ErrorCode) are recorded; queued, accepted, sending and the like are dropped. An inbound message
 * carries no MessageStatus (SmsStatus "received"), From "whatsapp:+…" and Body; one addressed to
 * another sender than the gateway's `from` (another number's webhook pointed here) is ignored.
 *
 * Twilio's inbound webhook has no timestamp (Meta's carries the customer's send time): Twilio posts
 * it as the message arrives, so `at` is `receivedAt`, when the webhook reached us. Throws invalid()
 * (a 400) for a body that is neither.
 */
export function parseTwilioWhatsAppWebhook(
  rawBody: string,
  settings: Pick<TwilioWhatsAppSettings, 'from'>,
  receivedAt: Date,
): Array<ProviderStatusUpdate | ProviderInboundMessage> {
  const params = new URLSearchParams(rawBody);
  const sid = params.get('MessageSid') || params.get('SmsMessageSid') || params.get('SmsSid');
  if (!sid) throw invalid('Twilio WhatsApp webhook has no MessageSid.', [{ field: 'MessageSid', message: 'is required' }]);

  const messageStatus = (params.get('MessageStatus') ?? '').toLowerCase();
  const smsStatus = (params.get('SmsStatus') ?? '').toLowerCase();
  const isInbound = messageStatus === 'received' || (messageStatus === '' && (smsStatus === '' || smsStatus === 'received'));

  if (!isInbound) {
    const update = twilioStatusUpdate(sid, messageStatus || smsStatus, params.get('ErrorCode') || undefined, twilioWhatsAppErrorReason);
    return update ? [update] : [];
  }

  const from = whatsappNumber(params.get('From'));
  if (!from) {
    throw invalid('Twilio WhatsApp webhook is neither a status callback (no MessageStatus) nor an inbound WhatsApp message (no From "whatsapp:+<E.164>").', [
      { field: 'From', message: 'must be a WhatsApp address such as whatsapp:+8801711000001' },
    ]);
  }
  const to = params.get('To');
  if (settings.from && to && to !== `${WHATSAPP_PREFIX}${settings.from}`) return [];
  return [{ kind: 'inbound', providerMessageId: sid, from, text: inboundText(params), at: receivedAt.toISOString() }];
}

export const twilioWhatsApp: WhatsAppProvider<TwilioCredentials, TwilioWhatsAppSettings> = {
  id: 'twilio',
  channel: 'whatsapp',
  displayName: 'Twilio WhatsApp',
  credentials: TwilioCredentials,
  settings: TwilioWhatsAppSettings,
  receiptWindowSeconds: TWILIO_RECEIPT_WINDOW_SECONDS,

  async send(message, { credentials, settings }, ctx) {
    if (!E164.test(message.to)) {
      throw new ProviderRejected(`The number ${safeExcerpt(message.to, 24)} is not in E.164 form (+ and 7–15 digits).`, 'invalid-number');
    }
    const params = new URLSearchParams({ To: `${WHATSAPP_PREFIX}${message.to}` });
    if (settings.messagingServiceSid) params.set('MessagingServiceSid', settings.messagingServiceSid);
    else if (settings.from) params.set('From', `${WHATSAPP_PREFIX}${settings.from}`);

    const content = message.content;
    if (content.kind === 'text') {
      params.set('Body', content.text);
    } else {
      const sid = contentSid(content.name, settings);
      if (!sid) {
        throw new ProviderRejected(
          `No Twilio Content SID for the WhatsApp template "${safeExcerpt(content.name, 64)}": add it to the gateway's contentTemplates (template name → HX…), or name the template by its Content SID.`,
          'no-content-template',
        );
      }
      params.set('ContentSid', sid);
      if (content.parameters.length > 0) params.set('ContentVariables', contentVariables(content.parameters));
    }
    if (message.statusCallbackUrl) params.set('StatusCallback', message.statusCallbackUrl);
    return postTwilioMessage(ctx, credentials, params, failure);
  },

  verifySignature(request, { credentials }) {
    return verifyTwilioSignature(request, credentials.authToken);
  },

  parseWebhook(request, { settings }) {
    return parseTwilioWhatsAppWebhook(request.rawBody, settings, new Date());
  },

  /** By sid only: see the top of this file for why a send whose reply was lost cannot be searched for. */
  async lookup(query, { credentials }, ctx) {
    if (!query.providerMessageId) {
      throw new ProviderUnavailable(
        "Twilio WhatsApp cannot be searched for a message whose sid was lost (a template's text as Twilio stores it is not ours to compare), so it cannot rule out that it was sent.",
        'lookup-unsupported',
      );
    }
    return twilioLookupBySid(query.providerMessageId, credentials, ctx, twilioWhatsAppErrorReason);
  },
};
