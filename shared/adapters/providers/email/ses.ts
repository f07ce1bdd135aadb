/**
 * Amazon SES, the deployment's own sender: SES API v2 SendEmail, signed with the Lambda's role
 * (no credentials are stored: the gateway's credentials are an empty object), in settings.region
 * or the Lambda's own region.
 *
 * Why API v2 and not v1 (both in the same @aws-sdk family): v2 is the API AWS maintains and
 * documents for new work, and its SendEmail names the things we use plainly (FromEmailAddress,
 * EmailTags, a configuration set) and its errors say what went wrong for a gateway
 * (AccountSuspendedException, SendingPausedException, NotFoundException for a configuration set,
 * TooManyRequestsException) where v1 answers with a handful of generic codes.
 *
 * The call: Content.Simple with the subject, HTML and text parts in UTF-8; Destination.ToAddresses
 * [to]; FromEmailAddress `"Name" <address>` (a non-ASCII name as an RFC 2047 encoded word, as SES
 * requires); ReplyToAddresses; ConfigurationSetName; EmailTags [{ Name: 'messageId', Value: our id }]
 * (SES copies tags into the events of a configuration set). The reply's MessageId is the
 * providerMessageId, which every SES event carries as mail.messageId. maxAttempts 1: SendEmail has
 * no idempotency token, so an SDK retry after a timeout could send twice; our queue retries instead.
 *
 * Errors: MessageRejected → ProviderRejected (the message or recipient; but "Email address is not
 * verified" naming our own From address is the gateway's: GatewayFault, and in the SES sandbox an
 * unverified recipient is ProviderRejected); BadRequestException → ProviderRejected (an address SES
 * cannot use); MailFromDomainNotVerifiedException, AccountSuspendedException, SendingPausedException,
 * NotFoundException (the configuration set), access denied and credential errors → GatewayFault;
 * TooManyRequestsException, LimitExceededException and Throttling → ProviderThrottled, except the
 * daily sending quota used up (GatewayFault: no use retrying for hours; another gateway may send);
 * anything else (5xx, network) → ProviderUnavailable.
 *
 * Events. SES publishes them to an SNS topic: through the configuration set's event destination
 * (records with `eventType`) or the identity's feedback notifications (`notificationType`). The
 * operator sets settings.snsTopicArn and subscribes our webhook URL to that topic over HTTPS, with
 * raw message delivery OFF (the SNS envelope carries the signature). Each request is verified with
 * the SNS signature verifier (../../aws/sns-message.ts: certificate fetched only from an SNS host
 * through ctx.fetch) and must come from exactly that topic. Without snsTopicArn every event is
 * refused: otherwise anyone with an SNS topic of their own could post validly signed "bounces" and
 * get any address suppressed. The subscription is confirmed by `confirmSubscription`.
 *
 * Mapping (providerMessageId = mail.messageId):
 * - Delivery → delivered.
 * - Bounce Permanent → failed, with the sub-type and the diagnostic code, and the address suppressed.
 * - Bounce Transient and Undetermined → failed, not suppressed. SES publishes a soft bounce only after
 *   it has stopped retrying ("Soft bounces are only included when SES fails to deliver the email after
 *   retrying for a period of time"), so the message did not arrive; the address may work another day.
 * - Complaint → delivered (a complaint means it arrived), with the address suppressed (unless the
 *   feedback type is "not-spam").
 * - Reject (SES found a virus), Rendering Failure → failed.
 * - Send, DeliveryDelay (SES still trying), Open, Click (tracking pixels that privacy proxies fetch
 *   on their own: "read" would be a guess), Subscription, anything else → dropped.
 */
import { clientCache } from '../../aws/client-cache.js';
import { SendEmailCommand, SESv2Client, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderThrottled, ProviderUnavailable } from '../../../domain/errors.js';
import type { EmailProvider, ProviderContext, ProviderStatusUpdate, WebhookRequest } from '../../../ports.js';
import { parseSnsMessage, SNS_CERTIFICATE_HOST, verifySnsMessage, type SnsMessage } from '../../aws/sns-message.js';
import { classifyAwsError } from '../../aws-errors.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';

export const SES_ID = 'ses';

const NO_CONTROL = /^[^\u0000-\u001F\u007F]*$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const TOPIC_ARN = /^arn:aws(-cn|-us-gov)?:sns:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):[A-Za-z0-9_-]{1,256}$/;

export const SesCredentials = z.strictObject({}).describe('None: the deployment sends with its own AWS role.');
export type SesCredentials = z.infer<typeof SesCredentials>;

export const SesSettings = z.strictObject({
  fromAddress: z
    .email('must be an email address such as billing@isp.example')
    .max(254, 'must be at most 254 characters')
    .describe('The From address: a verified SES identity (the address or its domain) in the region.'),
  fromName: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters')
    .regex(NO_CONTROL, 'must be one line of text')
    .optional()
    .describe('The name shown with the From address.'),
  replyTo: z.email('must be an email address').max(254, 'must be at most 254 characters').optional(),
  configurationSetName: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an SES configuration set name: 1–64 letters, digits, "_" or "-"')
    .optional()
    .describe('The configuration set whose event destination publishes Delivery, Bounce and Complaint events to snsTopicArn.'),
  region: z
    .string()
    .trim()
    .regex(REGION, 'must be an AWS region id such as ap-south-1 or us-east-1')
    .optional()
    .describe("The SES region; by default the deployment's own."),
  snsTopicArn: z
    .string()
    .trim()
    .regex(TOPIC_ARN, 'must be an SNS topic ARN such as arn:aws:sns:ap-south-1:123456789012:ses-events')
    .optional()
    .describe('The SNS topic SES publishes events to, with our webhook URL subscribed; events from any other topic are refused. Without it, no events are accepted.'),
});
export type SesSettings = z.infer<typeof SesSettings>;

// ---- the client ----

const clients = clientCache<SESv2Client>(16);

/**
 * The client for a region (undefined: the Lambda's, from AWS_REGION) and the deployment's endpoint
 * (ISPNOTIFY_BASE_URL_SES in tests and staging), built once and reused.
 */
export function sesClient(region: string | undefined): SESv2Client {
  const endpoint = providerBaseUrl(SES_ID, '');
  return clients.get([region ?? '', endpoint], () =>
    new SESv2Client({
      ...(region ? { region } : {}),
      ...(endpoint ? { endpoint } : {}),
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 },
    }),
  );
}

/** Forgets the cached clients (tests). */
export function clearSesClients(): void {
  clients.clear();
}

// ---- sending ----

/** `"Name" <address>`: quoted, or an RFC 2047 encoded word (SES's rule for a non-ASCII name). */
export function sesFromAddress(address: string, name?: string): string {
  if (!name) return address;
  if (/^[\x20-\x7E]*$/.test(name)) return `"${name.replace(/[\\"]/g, '\\$&')}" <${address}>`;
  return `=?UTF-8?B?${Buffer.from(name, 'utf8').toString('base64')}?= <${address}>`;
}

/** SES's rule for a tag value: letters, digits, "_" and "-", at most 256. */
const TAG_VALUE = /^[A-Za-z0-9_-]{1,256}$/;

/** The SendEmail input for a message (exported so tests can check it field by field). */
export function sesSendEmailInput(message: { messageId: string; to: string; subject: string; html: string; text: string }, settings: SesSettings): SendEmailCommandInput {
  const input: SendEmailCommandInput = {
    FromEmailAddress: sesFromAddress(settings.fromAddress, settings.fromName),
    Destination: { ToAddresses: [message.to] },
    Content: {
      Simple: {
        Subject: { Data: message.subject, Charset: 'UTF-8' },
        Body: { Html: { Data: message.html, Charset: 'UTF-8' }, Text: { Data: message.text, Charset: 'UTF-8' } },
      },
    },
  };
  if (settings.replyTo) input.ReplyToAddresses = [settings.replyTo];
  if (settings.configurationSetName) input.ConfigurationSetName = settings.configurationSetName;
  if (TAG_VALUE.test(message.messageId)) input.EmailTags = [{ Name: 'messageId', Value: message.messageId }];
  return input;
}

type AwsServiceError = Error & { $fault?: string; $metadata?: { httpStatusCode?: number }; Message?: unknown; code?: unknown };

const AUTH_ERRORS = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'InvalidClientTokenId',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'NotAuthorized',
  'CredentialsProviderError',
]);

const stringOf = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The error a failed SendEmail means, in words an operator can act on. */
export function sesFailure(error: unknown, settings: Pick<SesSettings, 'fromAddress' | 'configurationSetName'>): GatewayFault | ProviderRejected | ProviderUnavailable {
  const e = (error ?? {}) as AwsServiceError;
  const name = stringOf(e.name) ?? 'Error';
  const text = stringOf(e.Message) ?? stringOf(e.message) ?? '';
  const quoted = safeExcerpt(text, 200);
  const said = quoted ? `: ${quoted}` : '';
  const isServiceError = e.$fault !== undefined || typeof e.$metadata?.httpStatusCode === 'number';

  switch (name) {
    case 'MessageRejected': {
      const fromDomain = settings.fromAddress.split('@').pop()?.toLowerCase() ?? '';
      const lower = text.toLowerCase();
      if (/not verified/.test(lower) && (lower.includes(settings.fromAddress.toLowerCase()) || (fromDomain && lower.includes(fromDomain)))) {
        return new GatewayFault(`Amazon SES refused the sender: ${settings.fromAddress} (or its domain) is not a verified identity in this region (MessageRejected${said}).`, name);
      }
      if (/not verified/.test(lower)) {
        return new ProviderRejected(
          `Amazon SES refused the recipient: the account is in the SES sandbox, which sends only to verified addresses (MessageRejected${said}).`,
          name,
        );
      }
      return new ProviderRejected(`Amazon SES refused the message (MessageRejected${said}).`, name);
    }
    case 'BadRequestException':
      return new ProviderRejected(`Amazon SES refused the request (BadRequestException${said}).`, name);
    case 'MailFromDomainNotVerifiedException':
      return new GatewayFault(`Amazon SES cannot send from this address: its custom MAIL FROM domain is not verified (${name}${said}).`, name);
    case 'AccountSuspendedException':
      return new GatewayFault(`Amazon SES has suspended the account's sending (${name}${said}).`, name);
    case 'SendingPausedException':
      return new GatewayFault(`Sending is paused for the SES account or the configuration set (${name}${said}).`, name);
    case 'NotFoundException':
      return new GatewayFault(
        `Amazon SES does not know a resource the gateway names${settings.configurationSetName ? ` (is the configuration set "${settings.configurationSetName}" in this region?)` : ''} (${name}${said}).`,
        name,
      );
    case 'TooManyRequestsException':
    case 'LimitExceededException':
    case 'Throttling':
    case 'ThrottlingException':
      if (/daily (message|sending) quota/i.test(text)) {
        return new GatewayFault(`The SES account's daily sending quota is used up (${name}${said}).`, 'daily-quota');
      }
      return new ProviderThrottled(`Amazon SES throttled the send (${name}${said}); it will go again shortly.`, name);
    default:
      break;
  }
  if (AUTH_ERRORS.has(name)) {
    return new GatewayFault(`Amazon SES denied access: the deployment's role needs ses:SendEmail on the identity and configuration set (${name}${said}).`, name);
  }
  if (!isServiceError) {
    const cause = stringOf(e.code);
    return new ProviderUnavailable(`Could not reach Amazon SES (${cause ?? name}${said}).`, 'network');
  }
  if (classifyAwsError(error) === 'temporary' || e.$fault === 'server' || (e.$metadata?.httpStatusCode ?? 0) >= 500) {
    return new ProviderUnavailable(`Amazon SES could not take the message now (${name}${said}); it will be retried.`, name);
  }
  return new ProviderUnavailable(`Amazon SES did not send the message (${name}${said}).`, name);
}

// ---- events ----

export type SesEventUpdate = ProviderStatusUpdate & { suppress?: { address: string; reason: string } };

const Recipient = z.object({ emailAddress: z.string().min(1), diagnosticCode: z.string().optional(), status: z.string().optional() });

const SesEvent = z.object({
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  mail: z.object({ messageId: z.string().min(1).max(200), destination: z.array(z.string()).optional() }),
  bounce: z
    .object({ bounceType: z.string().optional(), bounceSubType: z.string().optional(), bouncedRecipients: z.array(Recipient).optional() })
    .optional(),
  complaint: z
    .object({
      complainedRecipients: z.array(z.object({ emailAddress: z.string().min(1) })).optional(),
      complaintFeedbackType: z.string().optional(),
      complaintSubType: z.string().nullable().optional(),
    })
    .optional(),
  reject: z.object({ reason: z.string().optional() }).optional(),
  failure: z.object({ errorMessage: z.string().optional(), templateName: z.string().optional() }).optional(),
});
type SesEvent = z.infer<typeof SesEvent>;

const words = (text: string | undefined, max = 200) => (text ? safeExcerpt(text, max) : '');

/** One SES event as our updates (one per recipient named in a bounce or complaint); [] for events we do not record. */
export function sesEventUpdates(event: SesEvent): SesEventUpdate[] {
  const type = event.eventType ?? event.notificationType ?? '';
  const id = event.mail.messageId;
  switch (type) {
    case 'Delivery':
      return [{ providerMessageId: id, status: 'delivered', providerStatus: 'Delivery' }];
    case 'Bounce': {
      const bounceType = event.bounce?.bounceType ?? 'Undetermined';
      const subType = event.bounce?.bounceSubType ?? 'Undetermined';
      const providerStatus = `Bounce/${bounceType}/${subType}`;
      const permanent = bounceType === 'Permanent';
      const recipients = event.bounce?.bouncedRecipients?.length ? event.bounce.bouncedRecipients : [undefined];
      return recipients.map((recipient) => {
        const diagnostic = words(recipient?.diagnosticCode);
        const kind = permanent ? 'Hard bounce' : bounceType === 'Transient' ? 'Soft bounce (SES stopped retrying)' : 'Bounce of undetermined type';
        const reason = `${kind} (${subType})${diagnostic ? `: ${diagnostic}` : ''}`;
        const update: SesEventUpdate = { providerMessageId: id, status: 'failed', providerStatus, reason };
        if (permanent && recipient) update.suppress = { address: recipient.emailAddress, reason: `hard bounce (${subType})${diagnostic ? `: ${diagnostic}` : ''}` };
        return update;
      });
    }
    case 'Complaint': {
      const feedback = event.complaint?.complaintFeedbackType;
      const providerStatus = feedback ? `Complaint/${feedback}` : 'Complaint';
      const recipients = event.complaint?.complainedRecipients?.length ? event.complaint.complainedRecipients : [undefined];
      return recipients.map((recipient) => {
        const update: SesEventUpdate = { providerMessageId: id, status: 'delivered', providerStatus };
        if (recipient && feedback !== 'not-spam') {
          update.suppress = { address: recipient.emailAddress, reason: `complaint: the recipient marked the message as spam${feedback ? ` (${words(feedback, 40)})` : ''}` };
        }
        return update;
      });
    }
    case 'Reject': {
      const why = words(event.reject?.reason);
      return [{ providerMessageId: id, status: 'failed', providerStatus: 'Reject', reason: `Amazon SES rejected the message${why ? `: ${why}` : ''}` }];
    }
    case 'Rendering Failure': {
      const why = words(event.failure?.errorMessage);
      return [{ providerMessageId: id, status: 'failed', providerStatus: 'RenderingFailure', reason: `Amazon SES could not render the message${why ? `: ${why}` : ''}` }];
    }
    default:
      return [];
  }
}

/** The SES event an SNS notification carries; throws invalid() when it carries none. */
function eventOf(sns: SnsMessage): SesEvent {
  let json: unknown;
  try {
    json = JSON.parse(sns.Message);
  } catch {
    throw invalid('The SNS notification does not carry an Amazon SES event (its Message is not JSON).');
  }
  const parsed = SesEvent.safeParse(json);
  if (!parsed.success || (parsed.data.eventType === undefined && parsed.data.notificationType === undefined)) {
    throw invalid('The SNS notification does not carry an Amazon SES event.', [
      ...(parsed.success ? [{ field: 'Message.eventType', message: 'is missing' }] : parsed.error.issues.map((issue) => ({ field: `Message.${issue.path.join('.')}`, message: issue.message }))),
    ]);
  }
  return parsed.data;
}

// ---- subscription confirmation ----

const CONFIRM_TIMEOUT_MS = 5_000;

/**
 * Whether `url` is an SNS ConfirmSubscription URL for `topicArn`: https, an SNS host in the topic's
 * own region, no credentials or port, Action=ConfirmSubscription and the same TopicArn.
 */
export function isSnsSubscribeUrl(url: string, topicArn: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const region = TOPIC_ARN.exec(topicArn)?.[2];
  return (
    parsed.protocol === 'https:' &&
    parsed.username === '' &&
    parsed.password === '' &&
    parsed.port === '' &&
    SNS_CERTIFICATE_HOST.test(parsed.hostname) &&
    region !== undefined &&
    parsed.hostname.split('.')[1] === region &&
    parsed.searchParams.get('Action') === 'ConfirmSubscription' &&
    parsed.searchParams.get('TopicArn') === topicArn
  );
}

/**
 * Confirms an SNS subscription: a SubscriptionConfirmation signed by SNS (the same verifier as the
 * events) whose SubscribeURL is an SNS host's, which is then opened with a GET through ctx.fetch.
 * True once SNS answered 200; false for anything refused (nothing is fetched then). Throws
 * ProviderUnavailable when SNS could not be reached, so the caller answers an error SNS retries.
 *
 * With the gateway (a third argument the port does not pass yet), the topic must be the gateway's
 * snsTopicArn; without it, any topic SNS signed for is confirmed: that costs only a GET to SNS, as
 * events from a topic other than the gateway's are refused by verifySignature anyway.
 */
async function confirmSnsSubscription(request: WebhookRequest, ctx: ProviderContext, gateway?: { settings: SesSettings }): Promise<boolean> {
  const sns = parseSnsMessage(request.rawBody);
  if (!sns || sns.Type !== 'SubscriptionConfirmation' || !sns.SubscribeURL) return false;
  if (gateway && sns.TopicArn !== gateway.settings.snsTopicArn) return false;
  if (!TOPIC_ARN.test(sns.TopicArn) || !isSnsSubscribeUrl(sns.SubscribeURL, sns.TopicArn)) return false;
  const signed = await verifySnsMessage(sns, { fetch: ctx.fetch, expectedTopicArn: sns.TopicArn, now: ctx.clock.now() });
  if (!signed) return false;
  let response: Response;
  try {
    response = await ctx.fetch(sns.SubscribeURL, { method: 'GET', redirect: 'error', signal: AbortSignal.timeout(CONFIRM_TIMEOUT_MS) });
    await response.text();
  } catch (error) {
    throw new ProviderUnavailable(
      `Could not confirm the SNS subscription at ${new URL(sns.SubscribeURL).host}: ${error instanceof Error ? error.message : String(error)}`,
      'sns-confirm',
    );
  }
  if (response.status >= 500 || response.status === 429) {
    throw new ProviderUnavailable(`SNS answered HTTP ${response.status} to the subscription confirmation.`, 'sns-confirm');
  }
  return response.status === 200;
}

// ---- the provider ----

/** Delivery events usually come within minutes; a soft bounce only once SES stops retrying. */
export const SES_RECEIPT_WINDOW_SECONDS = 3600;

export const sesEmail: EmailProvider<SesCredentials, SesSettings> & {
  confirmSubscription(request: WebhookRequest, ctx: ProviderContext, gateway?: { settings: SesSettings }): Promise<boolean>;
} = {
  id: SES_ID,
  channel: 'email',
  displayName: 'Amazon SES',
  credentials: SesCredentials,
  settings: SesSettings,
  receiptWindowSeconds: SES_RECEIPT_WINDOW_SECONDS,
  /** SES's default sending rate for an account out of the sandbox. */
  defaultMaxPerSecond: 14,

  /** Events come only through the gateway's SNS topic. */
  sendsReceipts(settings) {
    return settings.snsTopicArn !== undefined;
  },

  async send(message, { settings }) {
    let output;
    try {
      output = await sesClient(settings.region).send(new SendEmailCommand(sesSendEmailInput(message, settings)));
    } catch (error) {
      throw sesFailure(error, settings);
    }
    const id = output?.MessageId;
    if (typeof id === 'string' && id !== '') return { providerMessageId: id };
    throw new ProviderUnavailable('Amazon SES answered without a MessageId.');
  },

  /** An SNS message signed by SNS from the gateway's own topic. No topic set, or no context: refused. */
  async verifySignature(request, { settings }, ctx) {
    if (!settings.snsTopicArn || !ctx) return false;
    return verifySnsMessage(request.rawBody, { fetch: ctx.fetch, expectedTopicArn: settings.snsTopicArn, now: ctx.clock.now() });
  },

  parseWebhook(request) {
    const sns = parseSnsMessage(request.rawBody);
    if (!sns) throw invalid('The body is not an Amazon SNS message.');
    // Confirmations are answered by confirmSubscription.
    if (sns.Type !== 'Notification') return [];
    return sesEventUpdates(eventOf(sns));
  },

  confirmSubscription: confirmSnsSubscription,
};
