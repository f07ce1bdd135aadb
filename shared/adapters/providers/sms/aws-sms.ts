/**
 * Amazon End User Messaging SMS (the "pinpoint-sms-voice-v2" API): SendTextMessage through the
 * AWS SDK, signed with the tenant's own IAM user keys, in the tenant's region.
 *
 * - Encoding: the API has no Unicode flag; the service picks GSM-7 or UCS-2 from the text itself
 *   (its events report messageEncoding GSM or Unicode). The text is passed as it is.
 * - Per-message callbacks: none. Delivery events go to the event destinations of the configuration
 *   set named in the send. For receipts the operator gives the gateway a configuration set whose
 *   event destination is an SNS topic (settings `configurationSetName`, `snsTopicArn`) and
 *   subscribes our webhook URL to that topic over HTTPS. The subscription is confirmed by the
 *   operator: SNS posts a SubscriptionConfirmation, which we verify and ignore; the operator opens
 *   its SubscribeURL (shown in the SNS console as a pending subscription; "Request confirmation"
 *   sends another) themselves. We never fetch a URL a message names, except the signing
 *   certificate from an SNS host (../../aws/sns-message.ts).
 * - Each send carries Context { ispnotifyMessageId }, which the service copies into its events.
 *
 * Requests go to the official regional endpoint (https://sms-voice.<region>.amazonaws.com); tests
 * and staging set ISPNOTIFY_BASE_URL_AWS_SMS in the deployment's environment (see ../base-url.ts).
 */
import { clientCache } from '../../aws/client-cache.js';
import { PinpointSMSVoiceV2Client, SendTextMessageCommand, type SendTextMessageCommandInput } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { z } from 'zod';
import { GatewayFault, invalid, ProviderRejected, ProviderUnavailable } from '../../../domain/errors.js';
import type { ProviderStatusUpdate, SmsProvider, WebhookRequest } from '../../../ports.js';
import { parseSnsMessage, verifySnsMessage } from '../../aws/sns-message.js';
import { classifyAwsError } from '../../aws-errors.js';
import { safeExcerpt } from '../../outbound/excerpt.js';
import { providerBaseUrl } from '../base-url.js';

export const AWS_SMS_ID = 'aws-sms';

/** The official regional endpoint of the API (the China partition has its own domain). */
export function awsSmsOfficialEndpoint(region: string): string {
  return `https://sms-voice.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** Where this deployment sends a region's requests: the official endpoint, or ISPNOTIFY_BASE_URL_AWS_SMS. */
export function awsSmsEndpoint(region: string): string {
  return providerBaseUrl(AWS_SMS_ID, awsSmsOfficialEndpoint(region));
}

const E164 = /^\+[1-9]\d{6,14}$/;
/** PhoneNumberId / PoolId as the service issues them. */
const RESOURCE_ID = /^(phone|pool)-[0-9a-f]{32}$/;
/** A phone number, pool or sender id ARN (needed for resources shared from another account). */
const IDENTITY_ARN = /^arn:aws(-cn|-us-gov)?:sms-voice:[a-z]{2}(-[a-z]+)+-\d{1,2}:\d{12}:(phone-number|pool|sender-id)\/[A-Za-z0-9_:/+-]+$/;
/** A sender id: 1–11 letters, digits, "-" or "_", with at least one letter (the service's RequestSenderId rule). */
const SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9_-]{1,11}$/;

export const AwsSmsCredentials = z.strictObject({
  accessKeyId: z
    .string()
    .trim()
    .regex(/^AKIA[A-Z0-9]{16}$/, 'must be the access key id of an IAM user: "AKIA" followed by 16 capital letters or digits (temporary "ASIA" keys expire and cannot be stored)')
    .describe('Access key id of an IAM user of your own AWS account allowed sms-voice:SendTextMessage.'),
  secretAccessKey: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9/+]{40}$/, 'must be the secret access key that goes with the access key id: 40 letters, digits, "/" or "+"')
    .describe('The secret access key of that IAM user.'),
});
export type AwsSmsCredentials = z.infer<typeof AwsSmsCredentials>;

export const AwsSmsSettings = z
  .strictObject({
    region: z
      .string()
      .trim()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region id such as ap-south-1 or us-east-1')
      .describe('The AWS region where the origination identity (number, sender id or pool) lives.'),
    originationIdentity: z
      .string()
      .trim()
      .max(256, 'must be at most 256 characters')
      .refine((v) => E164.test(v) || RESOURCE_ID.test(v) || IDENTITY_ARN.test(v) || SENDER_ID.test(v), {
        message:
          'must be a phone number in E.164 (+14155550100), a phone number id (phone-…) or pool id (pool-…), a phone number, pool or sender id ARN, or a sender id of 1–11 letters, digits, "-" or "_"',
      })
      .describe('OriginationIdentity of SendTextMessage: phone number, phone number id, pool id, sender id, or one of their ARNs.'),
    configurationSetName: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_:/-]{1,256}$/, 'must be a configuration set name or ARN: 1–256 letters, digits, "_", ":", "/" or "-"')
      .optional()
      .describe('The configuration set whose event destination publishes delivery events to snsTopicArn.'),
    maxPrice: z
      .string()
      .trim()
      .regex(/^[0-9]{0,2}\.[0-9]{1,5}$/, 'must be a price in US dollars such as 0.05 (up to 2 digits, a dot, then 1–5 digits)')
      .optional()
      .describe('The most a message may cost, in US dollars; dearer messages are refused by AWS.'),
    messageType: z
      .enum(['TRANSACTIONAL', 'PROMOTIONAL'], { message: 'must be TRANSACTIONAL or PROMOTIONAL' })
      .default('TRANSACTIONAL'),
    snsTopicArn: z
      .string()
      .trim()
      .regex(/^arn:aws(-cn|-us-gov)?:sns:[a-z]{2}(-[a-z]+)+-\d{1,2}:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be an SNS topic ARN such as arn:aws:sns:ap-south-1:123456789012:sms-events')
      .optional()
      .describe('The SNS topic our webhook is subscribed to; receipts from any other topic are refused. Without it, receipts are refused.'),
    // No endpoint or URL field: requests go to the official endpoint (see the top of this file).
  })
  .refine((s) => s.snsTopicArn === undefined || s.configurationSetName !== undefined, {
    message: 'set "configurationSetName" too: delivery events reach the SNS topic only through a configuration set',
    path: ['configurationSetName'],
  });
export type AwsSmsSettings = z.infer<typeof AwsSmsSettings>;

// ---- clients ----

/** Clients kept for reuse (their connections and signing keys), least recently used first. */
const clients = clientCache<PinpointSMSVoiceV2Client>(64);

/**
 * The client for a gateway's keys, region and the deployment's endpoint, built once and reused.
 *
 * maxAttempts 1: SendTextMessage has no idempotency token, so an SDK retry after a timeout or a
 * 5xx could send the text twice; our queue retries instead, after it has recorded the attempt.
 */
export function awsSmsClient(credentials: AwsSmsCredentials, region: string): PinpointSMSVoiceV2Client {
  const endpoint = awsSmsEndpoint(region);
  return clients.get([credentials.accessKeyId, credentials.secretAccessKey, region, endpoint ?? ''], () =>
    new PinpointSMSVoiceV2Client({
      region,
      endpoint,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 },
    }),
  );
}

// ---- errors ----

type AwsServiceError = Error & {
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  Reason?: unknown;
  Message?: unknown;
  Fields?: unknown;
  ResourceType?: unknown;
  ResourceId?: unknown;
};

/** Fields of our request that come from the gateway's settings: a problem with one is the gateway's. */
const SETTINGS_FIELDS = new Set(['OriginationIdentity', 'ConfigurationSetName', 'MaxPrice', 'MessageType']);

/** ValidationException reasons that mean this gateway cannot send (fix its settings or AWS account). */
const GATEWAY_VALIDATION_REASONS: Record<string, string> = {
  SENDER_ID_NOT_REGISTERED: 'the sender id is not registered for the destination country',
  SENDER_ID_NOT_SUPPORTED: 'the destination country does not support sender ids',
  SENDER_ID_REQUIRES_REGISTRATION: 'the sender id must be registered before it can send to this country',
  INVALID_IDENTITY_FOR_DESTINATION_COUNTRY: 'the origination identity cannot send to the destination country',
  COUNTRY_CODE_MISMATCH: "the origination identity's country does not match the destination's",
  INTERNATIONAL_SENDING_NOT_SUPPORTED: 'the origination identity cannot send internationally',
  COUNTRY_NOT_ENABLED: 'the AWS account is not enabled to send to the destination country',
  CHANNEL_NOT_ENABLED: 'the SMS channel is not enabled for the origination identity',
  INVALID_ARN: 'an ARN in the gateway settings is not valid',
  RESOURCE_NOT_ACCESSIBLE: 'the origination identity or configuration set is not accessible to these keys',
  PARAMETERS_CANNOT_BE_USED_TOGETHER: 'the gateway settings combine parameters AWS does not accept together',
};

/** ValidationException reasons that mean this message or recipient cannot be sent. */
const MESSAGE_VALIDATION_REASONS: Record<string, string> = {
  DESTINATION_COUNTRY_BLOCKED: "the recipient's country is blocked for this account",
  PRICE_OVER_THRESHOLD: "the message would cost more than the gateway's maxPrice",
  MAXIMUM_SIZE_EXCEEDED: 'the message is longer than AWS accepts',
};

/** ConflictException reasons about the recipient (everything else is the gateway's state). */
const RECIPIENT_CONFLICT_REASONS: Record<string, string> = {
  DESTINATION_PHONE_NUMBER_OPTED_OUT: 'the recipient has opted out of messages from this sender (replied STOP)',
  DESTINATION_PHONE_NUMBER_NOT_VERIFIED: 'the account is in the SMS sandbox and the recipient is not a verified destination number',
  DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION: "the recipient's country is blocked by a protect configuration",
  DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE: 'the recipient is blocked by a protect configuration number override',
};

/** Errors the AWS front door answers for keys or signatures it does not accept. */
const AUTH_ERRORS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'InvalidClientTokenId',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'NotAuthorized',
]);

const stringOf = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

function fieldNames(fields: unknown): string[] {
  if (!Array.isArray(fields)) return [];
  return fields.map((f) => stringOf((f as { Name?: unknown } | null)?.Name)).filter((n): n is string => n !== undefined);
}

/** The error a failed SendTextMessage means, in words an operator can act on (never the keys). */
export function awsSmsFailure(error: unknown): GatewayFault | ProviderRejected | ProviderUnavailable {
  const e = (error ?? {}) as AwsServiceError;
  const name = stringOf(e.name) ?? 'Error';
  const reason = stringOf(e.Reason);
  const quoted = safeExcerpt(stringOf(e.Message) ?? stringOf(e.message) ?? '');
  const said = quoted ? `: ${quoted}` : '';
  const code = reason ? `${name}/${reason}` : name;
  /** An answer from AWS (the SDK also puts $metadata on network failures, without a status). */
  const isServiceError = e.$fault !== undefined || typeof e.$metadata?.httpStatusCode === 'number';

  if (name === 'ThrottlingException') {
    return new ProviderUnavailable(`AWS End User Messaging throttled the send (ThrottlingException${said}); it will be retried.`, code);
  }
  if (name === 'InternalServerException' || name === 'ServiceUnavailableException') {
    return new ProviderUnavailable(`AWS End User Messaging had an internal error (${name}${said}); it will be retried.`, code);
  }
  if (!isServiceError) {
    // No answer from AWS at all: connection refused or reset, DNS, timeout.
    const cause = (e as { code?: unknown }).code;
    return new ProviderUnavailable(`Could not reach AWS End User Messaging (${typeof cause === 'string' ? cause : name}${said}).`, 'network');
  }
  if (classifyAwsError(error) === 'temporary' || e.$fault === 'server' || (e.$metadata?.httpStatusCode ?? 0) >= 500) {
    return new ProviderUnavailable(`AWS End User Messaging could not take the message now (${code}${said}); it will be retried.`, code);
  }

  switch (name) {
    case 'ValidationException': {
      const fields = fieldNames(e.Fields);
      if (reason && GATEWAY_VALIDATION_REASONS[reason]) {
        return new GatewayFault(`AWS End User Messaging refused the gateway's settings: ${GATEWAY_VALIDATION_REASONS[reason]} (${code}${said}).`, code);
      }
      if (reason && MESSAGE_VALIDATION_REASONS[reason]) {
        return new ProviderRejected(`AWS End User Messaging refused the message: ${MESSAGE_VALIDATION_REASONS[reason]} (${code}${said}).`, code);
      }
      if (fields.includes('DestinationPhoneNumber')) {
        return new ProviderRejected(`AWS End User Messaging refused the recipient's number (${code}${said}).`, code);
      }
      if (fields.some((f) => SETTINGS_FIELDS.has(f))) {
        return new GatewayFault(`AWS End User Messaging refused the gateway's ${fields.filter((f) => SETTINGS_FIELDS.has(f)).join(', ')} (${code}${said}).`, code);
      }
      return new ProviderRejected(`AWS End User Messaging refused the message (${code}${said}).`, code);
    }
    case 'ConflictException': {
      if (reason && RECIPIENT_CONFLICT_REASONS[reason]) {
        return new ProviderRejected(`AWS End User Messaging did not send: ${RECIPIENT_CONFLICT_REASONS[reason]} (${code}${said}).`, code);
      }
      return new GatewayFault(
        `AWS End User Messaging cannot send with this gateway's origination identity or configuration set in its current state (${code}${said}).`,
        code,
      );
    }
    case 'AccessDeniedException': {
      const why =
        reason === 'ACCOUNT_DISABLED'
          ? 'the AWS account is disabled for End User Messaging'
          : reason === 'INSUFFICIENT_ACCOUNT_REPUTATION'
            ? "the AWS account's sending reputation is too low"
            : 'the IAM user is not allowed to send (it needs sms-voice:SendTextMessage on the origination identity and configuration set)';
      return new GatewayFault(`AWS End User Messaging denied access: ${why} (${code}${said}).`, code);
    }
    case 'ServiceQuotaExceededException': {
      const why = reason?.startsWith('MONTHLY_SPEND_LIMIT_REACHED')
        ? 'the monthly SMS spend limit of the AWS account is reached (raise it in the End User Messaging console)'
        : 'a service quota of the AWS account is reached';
      return new GatewayFault(`AWS End User Messaging cannot send: ${why} (${code}${said}).`, code);
    }
    case 'ResourceNotFoundException': {
      const what = stringOf(e.ResourceType) ?? 'resource';
      const id = stringOf(e.ResourceId);
      return new GatewayFault(
        `AWS End User Messaging has no ${what}${id ? ` "${safeExcerpt(id, 80)}"` : ''} in the gateway's region: check originationIdentity, configurationSetName and region (${code}${said}).`,
        code,
      );
    }
    default:
      break;
  }
  if (AUTH_ERRORS.has(name) || e.$metadata?.httpStatusCode === 401 || e.$metadata?.httpStatusCode === 403) {
    return new GatewayFault(`AWS rejected the gateway's keys (${name}${said}); check the access key id and secret access key.`, name);
  }
  return new ProviderRejected(`AWS End User Messaging refused the message (${code}${said}).`, code);
}

// ---- receipts ----

/** Failure events, in words; the event's messageStatusDescription follows when there is one. */
const FAILURE_EVENTS: Record<string, string> = {
  TEXT_BLOCKED: "Blocked by the recipient's device or carrier",
  TEXT_TTL_EXPIRED: 'Not delivered before its time to live expired',
  TEXT_CARRIER_UNREACHABLE: "The recipient's carrier could not be reached",
  TEXT_INVALID: 'The destination number is not valid',
  TEXT_INVALID_MESSAGE: 'The message body is not valid',
  TEXT_CARRIER_BLOCKED: "Blocked by the recipient's carrier",
  TEXT_UNREACHABLE: "The recipient's device is unreachable",
  TEXT_SPAM: "Blocked as spam by the recipient's carrier",
  TEXT_UNKNOWN: 'Not delivered, for a reason AWS does not know',
  TEXT_PROTECT_BLOCKED: 'Blocked by a protect configuration',
};

const SmsEvent = z.object({
  eventType: z.string().min(1),
  messageId: z.string().min(1),
  isFinal: z.boolean().optional(),
  messageStatus: z.string().optional(),
  messageStatusDescription: z.string().optional(),
});

/**
 * One End User Messaging event as our status, or undefined for events we do not record:
 * - TEXT_DELIVERED: delivered.
 * - TEXT_SUCCESSFUL (the recipient's carrier accepted it): the docs say that depending on the
 *   country it stands in for TEXT_DELIVERED, so when it is the final event (isFinal) it is
 *   delivered; an intermediate one is sent.
 * - TEXT_QUEUED, TEXT_PENDING: dropped (we record sent when AWS accepts the send).
 * - the failure events: failed, with the event in words and AWS's description; an event marked
 *   isFinal false (AWS may still deliver, e.g. a carrier briefly unreachable) is dropped.
 * - anything else (voice, MMS, RCS, registration, events added later): dropped.
 */
function eventUpdate(event: z.infer<typeof SmsEvent>): ProviderStatusUpdate | undefined {
  const type = event.eventType;
  const providerStatus = event.messageStatus ? `${type}/${event.messageStatus}` : type;
  const id = event.messageId;
  if (type === 'TEXT_DELIVERED') return { providerMessageId: id, status: 'delivered', providerStatus };
  if (type === 'TEXT_SUCCESSFUL') return { providerMessageId: id, status: event.isFinal === true ? 'delivered' : 'sent', providerStatus };
  const words = FAILURE_EVENTS[type];
  if (!words) return undefined;
  if (event.isFinal === false) return undefined;
  const description = event.messageStatusDescription ? safeExcerpt(event.messageStatusDescription) : '';
  return { providerMessageId: id, status: 'failed', providerStatus, reason: description ? `${words} (${type}): ${description}` : `${words} (${type})` };
}

/**
 * How long after `sent` an event normally arrives: carriers' receipts usually come within minutes,
 * though AWS waits up to 72 hours before giving up with UNKNOWN; an hour flags the lost ones without
 * waiting three days (the API cannot be asked about a message, so there is no lookup).
 */
export const AWS_SMS_RECEIPT_WINDOW_SECONDS = 3600;

export const awsSms: SmsProvider<AwsSmsCredentials, AwsSmsSettings> = {
  id: AWS_SMS_ID,
  channel: 'sms',
  displayName: 'Amazon End User Messaging SMS',
  credentials: AwsSmsCredentials,
  settings: AwsSmsSettings,
  receiptWindowSeconds: AWS_SMS_RECEIPT_WINDOW_SECONDS,

  async send(message, { credentials, settings }) {
    const input: SendTextMessageCommandInput = {
      DestinationPhoneNumber: message.to,
      OriginationIdentity: settings.originationIdentity,
      MessageBody: message.text,
      MessageType: settings.messageType ?? 'TRANSACTIONAL',
      Context: { ispnotifyMessageId: message.messageId },
    };
    if (settings.configurationSetName) input.ConfigurationSetName = settings.configurationSetName;
    if (settings.maxPrice) input.MaxPrice = settings.maxPrice;

    let output;
    try {
      output = await awsSmsClient(credentials, settings.region).send(new SendTextMessageCommand(input));
    } catch (error) {
      throw awsSmsFailure(error);
    }
    const id = output?.MessageId;
    if (typeof id === 'string' && id !== '') return { providerMessageId: id };
    throw new ProviderUnavailable('AWS End User Messaging answered without a MessageId.');
  },

  /**
   * An SNS message signed by SNS (SignatureVersion 1 or 2, certificate fetched through ctx.fetch
   * from an SNS host only) from the gateway's own topic. No topic set, no context: refused.
   */
  async verifySignature(request, { settings }, ctx) {
    if (!settings.snsTopicArn || !ctx) return false;
    return verifySnsMessage(request.rawBody, { fetch: ctx.fetch, expectedTopicArn: settings.snsTopicArn, now: ctx.clock.now() });
  },

  parseWebhook(request: WebhookRequest): ProviderStatusUpdate[] {
    const sns = parseSnsMessage(request.rawBody);
    if (!sns) throw invalid('The body is not an Amazon SNS message.');
    // The operator confirms the subscription by opening its SubscribeURL; we never fetch it.
    if (sns.Type !== 'Notification') return [];
    let json: unknown;
    try {
      json = JSON.parse(sns.Message);
    } catch {
      throw invalid('The SNS notification does not carry an End User Messaging event (its Message is not JSON).');
    }
    const event = SmsEvent.safeParse(json);
    if (!event.success) {
      throw invalid('The SNS notification does not carry an End User Messaging event.', [
        ...event.error.issues.map((issue) => ({ field: issue.path.join('.') || 'Message', message: issue.message })),
      ]);
    }
    const update = eventUpdate(event.data);
    return update ? [update] : [];
  },
};
