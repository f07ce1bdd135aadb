/** The public API's shapes: parsed at the edge, typed everywhere else, and the source of /openapi.json. */
import { z } from 'zod';
import { isCountryCode } from './phone.js';
import {
  canonicalTimeZone,
  DEFAULT_MESSAGES_PER_DAY,
  DEFAULT_REQUESTS_PER_SECOND,
  isTimeZone,
  MAX_MESSAGES_PER_DAY,
  MAX_REQUESTS_PER_SECOND,
} from './rate-limit.js';
import { MAX_SMS_SEGMENTS } from './segments.js';
import { PAYMENT_URL_VARIABLES, paymentUrlTemplateProblem } from './payment-url.js';
import { safeText } from './text.js';
// The API's wording for zod issues ("must be a string", "is required"), set before any parse.
import './zod-errors.js';

export const ResourceId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'must be 1-64 letters, digits, "_", "-", "." or ":", starting with a letter or digit');

const shortText = (max: number) => safeText(z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`));
const isoDateOrTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'must be an ISO 8601 date or date-time' });

export const CustomerStatus = z.enum(['active', 'suspended', 'billed', 'expired']);

export const CustomerInput = z
  .strictObject({
    name: shortText(200),
    mobile: shortText(32).describe('Normalised to E.164 with the operator\'s default country.'),
    email: z.email('must be an e-mail address').max(254).optional(),
    whatsapp: shortText(32).optional().describe('WhatsApp number; normalised to E.164 like mobile.'),
    status: CustomerStatus.default('active'),
    zone: shortText(100).optional(),
    package: shortText(100).optional(),
    resellerId: ResourceId.optional(),
    expiresAt: isoDateOrTime.optional().describe('When the subscription expires.'),
  })
  .meta({ id: 'CustomerInput' });

export const Customer = CustomerInput.extend({
  id: ResourceId,
  mobile: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
}).meta({ id: 'Customer' });

export const MAX_IMPORT_ROWS = 1000;

export const CustomerImport = z
  .strictObject({
    // Rows are checked one by one in the service, so one bad row does not reject the others.
    customers: z.array(z.unknown()).min(1, 'must hold at least one customer').max(MAX_IMPORT_ROWS, `must hold at most ${MAX_IMPORT_ROWS} customers per request`),
  })
  .meta({ id: 'CustomerImport', description: 'Each row is a CustomerInput plus its `id`.' });

export const CustomerImportRow = CustomerInput.extend({ id: ResourceId });

export const Limit = z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(25);

export const CustomerQuery = z.strictObject({
  status: CustomerStatus.optional(),
  zone: z.string().min(1).optional(),
  package: z.string().min(1).optional(),
  resellerId: z.string().min(1).optional(),
  q: z.string().trim().min(2, 'must be at least 2 characters').max(100).optional().describe('Text search on name or mobile.'),
  limit: Limit,
  cursor: z.string().max(2048).optional(),
});

export const MAX_VARIABLES = 50;
export const Variables = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names are letters, digits and "_"'),
    z.union([safeText(z.string().max(1000, 'must be at most 1000 characters')), z.number(), z.boolean()]),
  )
  .superRefine((variables, ctx) => {
    const count = Object.keys(variables).length;
    if (count > MAX_VARIABLES) ctx.addIssue({ code: 'custom', message: `must hold at most ${MAX_VARIABLES} variables (got ${count})`, input: variables });
  })
  .default({})
  .describe(`Template variables: at most ${MAX_VARIABLES}, each a string (at most 1,000 characters), a number or true/false. \`customer.*\` (name, mobile, id, zone, package, expiresAt) and \`operator.name\` are filled in for you.`);

const MAX_TEXT = 1600;
const MessageContent = {
  text: safeText(z.string().min(1, 'must not be empty').max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)).optional(),
  templateId: ResourceId.optional(),
  variables: Variables,
};

const oneOf = (a: string, b: string) => (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
  const count = [a, b].filter((k) => value[k] !== undefined).length;
  if (count !== 1) {
    ctx.addIssue({ code: 'custom', path: [a], message: `give exactly one of "${a}" or "${b}"` });
  }
};

export const RequestedChannel = z
  .enum(['auto', 'sms', 'whatsapp', 'email'])
  .default('auto')
  .describe('auto: WhatsApp when the operator has an enabled WhatsApp gateway and the customer a WhatsApp number (or its mobile, with the setting whatsappUsesMobile), else SMS. The reply\'s `routing` says why.');

export const SendMessage = z
  .strictObject({
    customerId: ResourceId.optional(),
    mobile: shortText(32).optional(),
    email: z.email('must be an e-mail address').max(254).optional().describe('With channel "email": an address instead of a customer\'s.'),
    channel: RequestedChannel,
    subject: shortText(200).optional().describe('Email with `text`: the subject (the HTML part is the text, escaped). A template\'s `email` part brings its own.'),
    category: z
      .enum(['transactional', 'marketing'])
      .default('transactional')
      .describe('marketing: refused to numbers on the suppression list (STOP); transactional messages (receipts, reminders, OTPs) still go.'),
    ...MessageContent,
  })
  .superRefine((value, ctx) => {
    const given = ['customerId', 'mobile', 'email'].filter((k) => (value as Record<string, unknown>)[k] !== undefined);
    if (given.length !== 1) ctx.addIssue({ code: 'custom', path: ['customerId'], message: 'give exactly one of "customerId", "mobile" or "email"' });
    if (value.email !== undefined && value.channel !== 'email') ctx.addIssue({ code: 'custom', path: ['email'], message: 'is for channel "email"' });
  })
  .superRefine(oneOf('text', 'templateId'))
  .meta({
    id: 'SendMessage',
    description: `Send one message, by SMS or WhatsApp. By SMS, the rendered text may be at most ${MAX_SMS_SEGMENTS} segments (1,530 GSM-7 or 670 UCS-2 characters).`,
  });

export const PreviewMessage = z
  .strictObject({ customerId: ResourceId.optional(), ...MessageContent })
  .superRefine(oneOf('text', 'templateId'))
  .meta({ id: 'PreviewMessage' });

export const Preview = z
  .object({
    text: z.string(),
    encoding: z.enum(['GSM-7', 'UCS-2']),
    characters: z.number().int().describe('GSM-7 septets (extension characters count two) or UCS-2 UTF-16 code units.'),
    segments: z.number().int(),
    maxSegments: z.number().int(),
    cost: z.object({ amount: z.number().int(), currency: z.string() }).optional().describe('What it costs by SMS (minor units): to the customer\'s mobile, else in the operator\'s country.'),
  })
  .meta({ id: 'Preview' });

export const MessageStatus = z.enum(['queued', 'sent', 'delivered', 'read', 'failed', 'cancelled']);
export const Channel = z.enum(['sms', 'whatsapp', 'email', 'telegram']);

export const MessageQuery = z.strictObject({
  direction: z.enum(['in', 'out']).optional().describe('in: what customers wrote to us.'),
  from: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
  to: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
  customerId: ResourceId.optional(),
  status: MessageStatus.optional(),
  channel: Channel.optional(),
  broadcastId: ResourceId.optional().describe('The messages of one broadcast (a Query on its id prefix).'),
  limit: Limit,
  cursor: z.string().max(2048).optional(),
});

export const StatusChange = z.object({
  status: MessageStatus,
  at: z.string(),
  reason: z.string().optional(),
  providerStatus: z.string().optional(),
  late: z.boolean().optional().describe('A receipt that came after the message had moved past it (out of order or repeated): kept here, the status unchanged.'),
});

const WhatsAppTemplateContent = z.object({ name: z.string(), language: z.string(), parameters: z.array(z.string()), copyCode: z.string().optional() });

export const MessageView = z
  .object({
    id: z.string(),
    channel: Channel,
    direction: z.enum(['out', 'in']).default('out').describe('in: a customer wrote to us (from a provider\'s webhook).'),
    customerId: z.string().optional(),
    to: z.string().describe('E.164; for an inbound message, the name of the gateway that received it.'),
    from: z.string().optional().describe('Inbound messages: the customer\'s number.'),
    text: z.string().describe('For a one-time password, with the code masked.'),
    encoding: z.enum(['GSM-7', 'UCS-2']).optional().describe('SMS only.'),
    characters: z.number().int().optional().describe('SMS only.'),
    segments: z.number().int().optional().describe('SMS only.'),
    whatsappTemplate: WhatsAppTemplateContent.optional().describe('WhatsApp: sent as this approved template, its body parameters rendered in order.'),
    routing: z.string().optional().describe('Why this channel was chosen.'),
    kind: z.enum(['otp', 'alert', 'reply']).optional().describe('otp: a one-time code; alert: a Telegram alert; reply: a team member\'s answer to a customer.'),
    subject: z.string().optional().describe('Email: the subject.'),
    html: z.string().optional().describe('Email: the HTML part (`text` is the plain-text part).'),
    threadId: z.number().int().optional().describe('Telegram: the forum topic.'),
    forwardOf: z.string().optional().describe('Telegram: the customer message this forwards to the support chat.'),
    alert: z.object({ purpose: z.string(), severity: z.enum(['info', 'warning', 'critical']), repeats: z.number().int().optional() }).optional(),
    category: z.enum(['transactional', 'marketing']).optional(),
    cost: z.object({ amount: z.number().int(), currency: z.string() }).optional().describe('What it costs, in minor units: held when accepted, debited when a provider accepts it, released if it fails before.'),
    resellerId: z.string().optional().describe('Sent with this reseller\'s key: its debit names the reseller.'),
    templateId: z.string().optional(),
    gatewayId: z.string(),
    provider: z.string(),
    status: MessageStatus,
    providerMessageId: z.string().optional(),
    attempts: z.number().int(),
    lastError: z.string().optional().describe('The last temporary error while the message is being retried.'),
    resendOf: z.string().optional(),
    resentAs: z.string().optional().describe('The one resend of this failed message.'),
    fallbackOf: z.string().optional().describe('This SMS was sent because that WhatsApp message failed.'),
    fallbackMessageId: z.string().optional().describe('The SMS sent instead of this failed WhatsApp message.'),
    broadcastId: z.string().optional().describe('The broadcast (or reminder run) it is part of.'),
    billId: z.string().optional().describe('The customer bill it is about.'),
    paymentLinkId: z.string().optional().describe('The payment link it carries.'),
    tries: z
      .array(
        z.object({
          gatewayId: z.string(),
          provider: z.string(),
          outcome: z.enum(['accepted', 'rejected', 'gateway-fault', 'unavailable']),
          at: z.string(),
          detail: z.string().optional(),
        }),
      )
      .optional()
      .describe('Every provider call for this message: the gateway, and what came of it (the provider\'s id, or its reason).'),
    erasedAt: z.string().optional().describe('Set when the customer\'s personal data was erased: `to` is masked and `text` is "[erased]".'),
    history: z.array(StatusChange),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Message' });

export const WhatsAppLanguage = z
  .string()
  .trim()
  .regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a WhatsApp template language code such as bn, en or en_US');

export const TemplateInput = z
  .strictObject({
    name: shortText(200),
    channel: Channel.default('sms'),
    body: safeText(z.string().min(1, 'must not be empty').max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)).describe('Mustache: {{customer.name}}, {{amount}}, ... The text of SMS and of free-form WhatsApp.'),
    whatsapp: z
      .strictObject({
        name: z
          .string()
          .trim()
          .regex(/^[a-z0-9_]{1,512}$/, 'must be an approved template name: lower-case letters, digits and "_"')
          .or(z.string().regex(/^HX[0-9a-f]{32}$/, 'must be a template name or a Twilio Content SID')),
        language: WhatsAppLanguage,
        parameters: z.array(safeText(z.string().min(1, 'must not be empty').max(1000))).max(20, 'must hold at most 20 parameters').default([]),
      })
      .optional()
      .describe('The approved WhatsApp template this one sends as: each parameter is Mustache ({{customer.name}}, {{amount}}), rendered per message into the template\'s body parameters, in order.'),
    email: z
      .strictObject({
        subject: safeText(z.string().min(1, 'must not be empty').max(200)),
        html: z.string().min(1, 'must not be empty').max(100_000, 'must be at most 100,000 characters'),
        text: z.string().min(1).max(100_000).optional(),
      })
      .optional()
      .describe('Email: Mustache `subject`, `html` (values HTML-escaped; {{{name}}} writes one as it is) and optional `text` (made from the HTML when absent). Subject and text are not escaped.'),
  })
  .meta({ id: 'TemplateInput' });

export const TemplateView = TemplateInput.extend({
  id: z.string(),
  variables: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
}).meta({ id: 'Template' });

export const GatewayInput = z
  .strictObject({
    name: shortText(100),
    channel: Channel.default('sms'),
    provider: z.string().min(1),
    credentials: z.record(z.string(), z.unknown()).optional().describe('Secret fields for the provider; required on create, kept when omitted on update. Never returned.'),
    settings: z.record(z.string(), z.unknown()).default({}),
    preset: z
      .string()
      .min(1)
      .max(40)
      .optional()
      .describe('With provider "http": a preset id from GET /v1/gateway-presets; the preset supplies the settings but the sender, and names the credential fields.'),
    default: z.boolean().default(false).describe('Make this the operator\'s default gateway of its channel (first among gateways of the same priority).'),
    enabled: z.boolean().default(true).describe('A disabled gateway is never used, nor failed over to.'),
    priority: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(100, 'must be at most 100')
      .default(1)
      .describe('1 is tried first. A send that fails because of the gateway (credentials, balance, blocked sender) moves to the next enabled gateway at once.'),
    maxPerSecond: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(10_000, 'must be at most 10000')
      .optional()
      .describe('Messages per second through this gateway, all workers together (default: the provider\'s documented rate, else 30). A send over it waits for the next second without spending an attempt.'),
  })
  .meta({ id: 'GatewayInput' });

export const GatewayView = z
  .object({
    id: z.string(),
    name: z.string(),
    channel: Channel,
    provider: z.string(),
    settings: z.record(z.string(), z.unknown()),
    credentials: z.record(z.string(), z.string()).describe('Which secret fields are set, masked.'),
    webhookUrl: z.string().describe('Give this URL to the provider for delivery receipts.'),
    default: z.boolean(),
    enabled: z.boolean(),
    priority: z.number().int(),
    maxPerSecond: z.number().int(),
    circuitOpenUntil: z.string().optional().describe('Set while the gateway is skipped after repeated gateway faults (a circuit breaker); it is tried again after this time.'),
    slowedDown: z
      .object({ maxPerSecond: z.number().int(), until: z.string() })
      .optional()
      .describe('Set while the gateway is held to a lower rate because its provider throttled us (429): each throttle lowers the rate by a fifth, which returns to maxPerSecond 15 s after the last one.'),
    generatedCredentials: z
      .record(z.string(), z.string())
      .optional()
      .describe('Secrets made for you (Meta\'s webhook verify token), shown once in the reply that created them: give them to the provider with webhookUrl.'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Gateway' });

export const GatewayTest = z
  .strictObject({
    to: shortText(32).describe('The number to send the test to; normalised to E.164 with the operator\'s default country, and within its destinationCountries.'),
    text: safeText(z.string().min(1, 'must not be empty').max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)).describe(`At most ${MAX_SMS_SEGMENTS} SMS segments, like a message.`),
  })
  .meta({ id: 'GatewayTest', description: 'A real test message, sent through the gateway now; it is not recorded in the message history.' });

export const GatewayTestResult = z
  .union([
    z.object({ ok: z.literal(true), providerMessageId: z.string(), detail: z.string() }),
    z.object({
      ok: z.literal(false),
      kind: z.enum(['rejected', 'gateway', 'unavailable']).describe('rejected: the provider refused this message for good (e.g. the number); gateway: the gateway itself cannot send (credentials, balance, sender); unavailable: it could not take it now.'),
      detail: z.string().describe('The provider\'s reason.'),
    }),
  ])
  .meta({ id: 'GatewayTestResult', description: 'What the provider said to the test message.' });

export const ProviderView = z
  .object({
    id: z.string(),
    channel: z.string(),
    displayName: z.string(),
    credentials: z.record(z.string(), z.unknown()).describe('JSON Schema of the provider\'s credentials (every field writeOnly: sent on setup, never returned).'),
    settings: z.record(z.string(), z.unknown()).describe('JSON Schema of the provider\'s settings.'),
  })
  .meta({ id: 'Provider' });

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    limit: z
      .object({ name: z.enum(['requestsPerSecond', 'messagesPerDay', 'otpPerNumber']), value: z.number().int() })
      .optional()
      .describe('On a 429: the limit that was reached and its value (see GET /v1/settings).'),
    retryAfterSeconds: z.number().int().optional().describe('On a 429: the same as the Retry-After header.'),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details.' });

// ---- operator settings (GET/PATCH /v1/settings) ----

const CountryCode = z
  .string()
  .trim()
  .toUpperCase()
  .refine((code) => /^[A-Z]{2}$/.test(code) && isCountryCode(code), 'must be an ISO 3166-1 alpha-2 country code such as BD');

const TimeZone = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64)
  // Offsets ("+06:00") are not time zones: a named zone follows its daylight-saving rules.
  .refine((zone) => /^[A-Za-z]/.test(zone) && isTimeZone(zone), 'must be an IANA time zone such as Asia/Dhaka')
  .transform((zone) => canonicalTimeZone(zone));

const wholeNumber = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min.toLocaleString('en')}`)
    .max(max, `must be at most ${max.toLocaleString('en')}`);

export const SettingsLimits = z
  .strictObject({
    requestsPerSecond: wholeNumber(1, MAX_REQUESTS_PER_SECOND)
      .nullable()
      .optional()
      .describe(`API requests per second (a token bucket per operator in each API process; its burst is one second's worth). Default ${DEFAULT_REQUESTS_PER_SECOND}; null restores it.`),
    messagesPerDay: wholeNumber(1, MAX_MESSAGES_PER_DAY)
      .nullable()
      .optional()
      .describe(`Messages created per day in the operator's time zone, exact across processes. Default ${DEFAULT_MESSAGES_PER_DAY.toLocaleString('en')}; null restores it.`),
  })
  .meta({ id: 'SettingsLimits' });

export const RoutingSettingsPatch = z
  .strictObject({
    whatsappUsesMobile: z.boolean().nullable().optional().describe('auto routing may send by WhatsApp to a mobile number when the customer has no WhatsApp number. Default false.'),
    fallbackToSms: z.boolean().nullable().optional().describe('A WhatsApp message that fails for good is sent again by SMS. Default true.'),
    fallbackAfterSeconds: wholeNumber(60, 86_400)
      .nullable()
      .optional()
      .describe('Also fall back when a WhatsApp message is not delivered this many seconds after it was created. Default: never (null).'),
    rules: z
      .array(
        z.strictObject({
          gatewayId: z.string().min(1).max(64),
          countryPrefix: z
            .string()
            .regex(/^\+[1-9]\d{0,5}$/, 'must be an E.164 prefix such as +91 or +8801')
            .optional(),
          kind: z.enum(['otp', 'single', 'bulk']).optional(),
        }),
      )
      .max(20, 'must hold at most 20 rules')
      .nullable()
      .optional()
      .describe('Which gateway goes first, by destination prefix and kind of traffic (otp, single: POST /v1/messages, bulk); in order, the first rule that matches and whose gateway is enabled wins; the others stay behind it for failover. null removes them.'),
  })
  .meta({ id: 'RoutingSettingsPatch' });

export const OtpSettingsPatch = z
  .strictObject({
    whatsappTemplate: z
      .strictObject({ name: z.string().trim().regex(/^[a-z0-9_]{1,512}$/, 'must be an approved template name'), language: WhatsAppLanguage })
      .nullable()
      .optional()
      .describe('The approved WhatsApp authentication template OTPs use; its one body parameter is the code. Without one, OTPs go by SMS.'),
    smsText: safeText(z.string().min(1).max(320))
      .refine((text) => text.includes('{{code}}'), 'must contain {{code}}')
      .nullable()
      .optional()
      .describe('The SMS text of an OTP: Mustache with {{code}}, {{minutes}} and {{operator.name}}. Default: "{{code}} is your {{operator.name}} code. It expires in {{minutes}} minutes."'),
  })
  .meta({ id: 'OtpSettingsPatch' });

/** Every field optional: a PATCH changes only what it names. New settings are new optional fields here. */
export const SettingsPatch = z
  .strictObject({
    name: shortText(200).optional(),
    defaultCountry: CountryCode.optional().describe('Local numbers are read as this country\'s (ISO 3166-1 alpha-2).'),
    timezone: TimeZone.optional().describe('IANA time zone, e.g. Asia/Dhaka: the day of messagesPerDay.'),
    limits: SettingsLimits.optional(),
    destinationCountries: z
      .array(CountryCode)
      .min(1, 'must hold at least one country')
      .max(250)
      .transform((codes) => [...new Set(codes)])
      .nullable()
      .optional()
      .describe('ISO 3166-1 alpha-2 countries SMS may be sent to (against SMS pumping). Default: [defaultCountry]; null restores it.'),
    routing: RoutingSettingsPatch.optional(),
    otp: OtpSettingsPatch.optional(),
    optOutWords: z
      .array(safeText(z.string().trim().min(1).max(40)))
      .max(20)
      .nullable()
      .optional()
      .describe('Words (a whole message, any case) that put the sender on the suppression list for marketing, besides STOP and UNSUBSCRIBE; e.g. Bangla ones.'),
    optInWords: z.array(safeText(z.string().trim().min(1).max(40))).max(20).nullable().optional().describe('Words that take the sender off it again, besides START.'),
    systemAlertPurpose: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be an alert purpose such as emergency')
      .nullable()
      .optional()
      .describe('The alert purpose (PUT /v1/alert-routes/{purpose}) system alerts go to, e.g. a gateway whose circuit opened. Default emergency.'),
    paymentUrlTemplate: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(1000, 'must be at most 1,000 characters')
      .superRefine((template, ctx) => {
        const problem = paymentUrlTemplateProblem(template);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .nullable()
      .optional()
      .describe(
        `Where a payment link (GET /p/{token}) sends the customer: a Mustache template that renders to an https URL, with ${PAYMENT_URL_VARIABLES.map((name) => `{{${name}}}`).join(', ')} (each URL-encoded; bill.amount in minor units). e.g. https://portal.example/pay?customer={{customer.id}}&bill={{bill.reference}}. null removes it.`,
      ),
    quietHours: z
      .strictObject({ start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM, 24-hour'), end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM, 24-hour') })
      .refine((window) => window.start !== window.end, { message: 'start and end must differ', path: ['end'] })
      .nullable()
      .optional()
      .describe('Reminders and marketing broadcasts wait while it is this late in the operator\'s time zone, e.g. {"start":"21:00","end":"08:00"}. null removes it.'),
    supportPhone: safeText(z.string().trim().min(3).max(30)).nullable().optional().describe('The ISP\'s support number, for {{operator.phone}} in messages.'),
  })
  .meta({ id: 'SettingsPatch' });

export const Settings = z
  .object({
    id: z.string(),
    name: z.string(),
    defaultCountry: z.string(),
    timezone: z.string(),
    limits: z.object({ requestsPerSecond: z.number().int(), messagesPerDay: z.number().int() }),
    destinationCountries: z.array(z.string()),
    routing: z.object({
      whatsappUsesMobile: z.boolean(),
      fallbackToSms: z.boolean(),
      fallbackAfterSeconds: z.number().int().nullable(),
      rules: z.array(z.object({ gatewayId: z.string(), countryPrefix: z.string().optional(), kind: z.enum(['otp', 'single', 'bulk']).optional() })),
    }),
    otp: z.object({ whatsappTemplate: z.object({ name: z.string(), language: z.string() }).nullable(), smsText: z.string() }),
    optOutWords: z.array(z.string()),
    optInWords: z.array(z.string()),
    systemAlertPurpose: z.string(),
    paymentUrlTemplate: z.string().nullable(),
    quietHours: z.object({ start: z.string(), end: z.string() }).nullable(),
    supportPhone: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string().optional(),
  })
  .meta({ id: 'Settings', description: 'The operator\'s settings, defaults filled in.' });

// ---- one-time passwords ----

export const OtpRequest = z
  .strictObject({
    customerId: ResourceId.optional(),
    mobile: shortText(32).optional(),
    channel: RequestedChannel,
    length: z.number().int('must be a whole number').min(4, 'must be at least 4').max(8, 'must be at most 8').default(6),
  })
  .superRefine(oneOf('customerId', 'mobile'))
  .meta({ id: 'OtpRequest', description: 'Sends a one-time code on the priority queue; the code is stored only as a keyed hash.' });

export const OtpCreated = z
  .object({ id: z.string(), channel: Channel, expiresAt: z.string(), messageId: z.string(), routing: z.string() })
  .meta({ id: 'OtpCreated' });

export const OtpVerify = z
  .strictObject({ id: z.string().min(1).max(64), code: z.string().trim().regex(/^\d{4,8}$/, 'must be the 4-8 digit code') })
  .meta({ id: 'OtpVerify' });

export const OtpVerified = z
  .object({ valid: z.boolean(), attemptsLeft: z.number().int().optional(), reason: z.string().optional() })
  .meta({ id: 'OtpVerified' });

export type SendMessageInput = z.infer<typeof SendMessage>;
export type PreviewMessageInput = z.infer<typeof PreviewMessage>;
export type CustomerInputT = z.infer<typeof CustomerInput>;
export type GatewayInputT = z.infer<typeof GatewayInput>;
export type GatewayTestT = z.infer<typeof GatewayTest>;
export type SettingsPatchT = z.infer<typeof SettingsPatch>;
export type OtpRequestT = z.infer<typeof OtpRequest>;

// ---- alerts to the team, suppressions ----

export const AlertPurpose = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be 1-40 lower-case letters, digits and "-", e.g. emergency');

export const AlertRouteInput = z
  .strictObject({
    chatId: z
      .union([z.string().regex(/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$/, 'must be a Telegram chat id (e.g. -1001234567890) or @channelname'), z.number().int()])
      .transform(String),
    threadId: z.number().int().min(1).optional().describe('A forum topic (message_thread_id).'),
    gatewayId: z.string().min(1).max(64).optional().describe('The Telegram gateway (bot) to send with; default: the operator\'s default Telegram gateway.'),
  })
  .meta({ id: 'AlertRouteInput' });

export const AlertRouteView = z
  .object({ purpose: z.string(), chatId: z.string(), threadId: z.number().int().optional(), gatewayId: z.string().optional(), updatedAt: z.string() })
  .meta({ id: 'AlertRoute' });

export const AlertInput = z
  .strictObject({
    purpose: AlertPurpose,
    text: safeText(z.string().trim().min(1, 'must not be empty').max(3000, 'must be at most 3,000 characters')),
    severity: z.enum(['info', 'warning', 'critical']).default('info'),
  })
  .meta({ id: 'AlertInput' });

export const AlertAccepted = z
  .object({
    messageId: z.string(),
    collapsed: z.boolean().describe('true: the same alert was sent less than a minute ago; this one is counted on it instead of sent again.'),
    repeats: z.number().int().optional(),
  })
  .meta({ id: 'AlertAccepted' });

export const SuppressionView = z
  .object({ kind: z.enum(['email', 'phone']), address: z.string(), reason: z.string(), scope: z.enum(['all', 'marketing']), createdAt: z.string() })
  .meta({ id: 'Suppression' });

export const SuppressionQuery = z.strictObject({ limit: Limit, cursor: z.string().max(2048).optional() });
export type AlertInputT = z.infer<typeof AlertInput>;
