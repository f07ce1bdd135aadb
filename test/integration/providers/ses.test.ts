import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AccountSuspendedException,
  BadRequestException,
  InternalServiceErrorException,
  LimitExceededException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  NotFoundException,
  SendEmailCommand,
  SendingPausedException,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearSnsCertificateCache } from '../../../shared/adapters/aws/sns-message.js';
import { emailProviders } from '../../../shared/adapters/providers/email/registry.js';
import { clearSesClients, sesEmail, SesCredentials, SesSettings, sesFromAddress, type SesSettings as SesSettingsType } from '../../../shared/adapters/providers/email/ses.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderThrottled, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundEmail, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';

const TOPIC = 'arn:aws:sns:ap-south-1:123456789012:ses-events';
const CERT_URL = 'https://sns.ap-south-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';
const MESSAGE_ID = '01JNMSG0000000000000000000';
const SES_ID = '010f0195a1b2c3d4-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000';

const settings: SesSettingsType = SesSettings.parse({
  fromAddress: 'billing@isp.example',
  fromName: 'Example ISP Billing',
  replyTo: 'support@isp.example',
  configurationSetName: 'ispnotify-events',
  region: 'ap-south-1',
  snsTopicArn: TOPIC,
});
const gateway = { credentials: {}, settings };

const email = (overrides: Partial<OutboundEmail> = {}): OutboundEmail => ({
  messageId: MESSAGE_ID,
  to: 'rahim@customer.example',
  subject: 'বিল due — ৳1,200',
  html: '<p>Your bill is <b>BDT 1,200</b> &amp; due on 5 Dec.</p>',
  text: 'Your bill is BDT 1,200 & due on 5 Dec.',
  ...overrides,
});

const meta = { $metadata: { httpStatusCode: 400 } };
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date() } };

describe('the ses provider', () => {
  it('is registered as the email provider "ses"; it has no credentials and sends events only with a topic', () => {
    expect(emailProviders.ses).toBe(sesEmail);
    expect(sesEmail.channel).toBe('email');
    expect(sesEmail.displayName).toBe('Amazon SES');
    expect(SesCredentials.parse({})).toEqual({});
    expect(SesCredentials.safeParse({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }).success).toBe(false);
    expect(sesEmail.sendsReceipts?.(settings)).toBe(true);
    expect(sesEmail.sendsReceipts?.(SesSettings.parse({ fromAddress: 'billing@isp.example' }))).toBe(false);
  });

  it('validates its settings', () => {
    const issues = (input: unknown) => {
      const parsed = SesSettings.safeParse(input);
      return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
    };
    expect(issues({ fromAddress: 'billing@isp.example' })).toEqual([]);
    expect(issues({ fromAddress: 'nope' })).toEqual(['fromAddress']);
    expect(issues({ fromAddress: 'billing@isp.example', region: 'mars-1' })).toEqual(['region']);
    expect(issues({ fromAddress: 'billing@isp.example', configurationSetName: 'has space' })).toEqual(['configurationSetName']);
    expect(issues({ fromAddress: 'billing@isp.example', snsTopicArn: 'arn:aws:sqs:ap-south-1:123456789012:q' })).toEqual(['snsTopicArn']);
    expect(issues({ fromAddress: 'billing@isp.example', fromName: 'A\nBcc: x@evil.example' })).toEqual(['fromName']);
    expect(issues({ fromAddress: 'billing@isp.example', endpoint: 'http://169.254.169.254' })).toEqual(['']);
  });

  it('writes the From address with a quoted name, or an RFC 2047 encoded word for a non-ASCII name', () => {
    expect(sesFromAddress('billing@isp.example')).toBe('billing@isp.example');
    expect(sesFromAddress('billing@isp.example', 'Example ISP')).toBe('"Example ISP" <billing@isp.example>');
    expect(sesFromAddress('billing@isp.example', 'The "Best" ISP')).toBe('"The \\"Best\\" ISP" <billing@isp.example>');
    expect(sesFromAddress('billing@isp.example', 'বিল ISP')).toBe(`=?UTF-8?B?${Buffer.from('বিল ISP').toString('base64')}?= <billing@isp.example>`);
  });
});

describe('sending (SDK mocked)', () => {
  const aws = mockClient(SESv2Client);
  beforeEach(() => {
    aws.reset();
    clearSesClients();
  });
  afterAll(() => aws.restore());

  it('calls SendEmail with exactly this input and answers SES\'s MessageId', async () => {
    aws.on(SendEmailCommand).resolves({ MessageId: SES_ID });
    const reply = await sesEmail.send(email(), gateway, ctx);
    expect(reply).toEqual({ providerMessageId: SES_ID });
    const calls = aws.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      FromEmailAddress: '"Example ISP Billing" <billing@isp.example>',
      Destination: { ToAddresses: ['rahim@customer.example'] },
      ReplyToAddresses: ['support@isp.example'],
      Content: {
        Simple: {
          Subject: { Data: 'বিল due — ৳1,200', Charset: 'UTF-8' },
          Body: {
            Html: { Data: '<p>Your bill is <b>BDT 1,200</b> &amp; due on 5 Dec.</p>', Charset: 'UTF-8' },
            Text: { Data: 'Your bill is BDT 1,200 & due on 5 Dec.', Charset: 'UTF-8' },
          },
        },
      },
      ConfigurationSetName: 'ispnotify-events',
      EmailTags: [{ Name: 'messageId', Value: MESSAGE_ID }],
    });
  });

  it('leaves out what the settings do not give', async () => {
    aws.on(SendEmailCommand).resolves({ MessageId: SES_ID });
    await sesEmail.send(email(), { credentials: {}, settings: SesSettings.parse({ fromAddress: 'billing@isp.example' }) }, ctx);
    const input = aws.commandCalls(SendEmailCommand)[0]!.args[0].input;
    expect(input.FromEmailAddress).toBe('billing@isp.example');
    expect(input).not.toHaveProperty('ReplyToAddresses');
    expect(input).not.toHaveProperty('ConfigurationSetName');
    expect(input.EmailTags).toEqual([{ Name: 'messageId', Value: MESSAGE_ID }]);
  });

  it('turns an answer without a MessageId into ProviderUnavailable', async () => {
    aws.on(SendEmailCommand).resolves({});
    expect(await rejection(sesEmail.send(email(), gateway, ctx))).toBeInstanceOf(ProviderUnavailable);
  });

  type Kind = typeof ProviderRejected | typeof GatewayFault | typeof ProviderUnavailable | typeof ProviderThrottled;
  const cases: [string, Error, Kind, RegExp][] = [
    ['MessageRejected (content)', new MessageRejected({ ...meta, message: 'Message contains a virus' }), ProviderRejected, /refused the message .*virus/],
    [
      'MessageRejected for an unverified recipient in the sandbox',
      new MessageRejected({ ...meta, message: 'Email address is not verified. The following identities failed the check in region AP-SOUTH-1: rahim@customer.example' }),
      ProviderRejected,
      /sandbox/,
    ],
    [
      'MessageRejected for our own unverified From address',
      new MessageRejected({ ...meta, message: 'Email address is not verified. The following identities failed the check in region AP-SOUTH-1: billing@isp.example' }),
      GatewayFault,
      /billing@isp\.example .*not a verified identity/,
    ],
    ['BadRequestException', new BadRequestException({ ...meta, message: 'Missing final @domain' }), ProviderRejected, /refused the request/],
    ['MailFromDomainNotVerifiedException', new MailFromDomainNotVerifiedException({ ...meta, message: 'MAIL FROM domain not verified' }), GatewayFault, /MAIL FROM domain is not verified/],
    ['AccountSuspendedException', new AccountSuspendedException({ ...meta, message: 'suspended' }), GatewayFault, /suspended/],
    ['SendingPausedException', new SendingPausedException({ ...meta, message: 'paused' }), GatewayFault, /paused/],
    ['NotFoundException (configuration set)', new NotFoundException({ $metadata: { httpStatusCode: 404 }, message: 'Configuration set does not exist' }), GatewayFault, /configuration set "ispnotify-events"/],
    ['AccessDeniedException', Object.assign(new Error('User is not authorized to perform ses:SendEmail'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 403 } }), GatewayFault, /ses:SendEmail/],
    ['TooManyRequestsException', new TooManyRequestsException({ $metadata: { httpStatusCode: 429 }, message: 'Maximum sending rate exceeded.' }), ProviderThrottled, /throttled/],
    ['LimitExceededException', new LimitExceededException({ ...meta, message: 'Rate exceeded' }), ProviderThrottled, /throttled/],
    ['Throttling (v1-style name)', Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 } }), ProviderThrottled, /throttled/],
    ['the daily quota used up', new TooManyRequestsException({ $metadata: { httpStatusCode: 429 }, message: 'Daily message quota exceeded.' }), GatewayFault, /daily sending quota/],
    ['InternalServiceErrorException', new InternalServiceErrorException({ $metadata: { httpStatusCode: 500 }, message: 'oops' }), ProviderUnavailable, /could not take the message now/],
    ['a network failure', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED', $metadata: { attempts: 1 } }), ProviderUnavailable, /Could not reach Amazon SES \(ECONNREFUSED/],
  ];

  for (const [what, error, kind, words] of cases) {
    it(`turns ${what} into ${kind.name}`, async () => {
      aws.on(SendEmailCommand).rejects(error);
      const caught = await rejection(sesEmail.send(email(), gateway, ctx));
      expect(caught).toBeInstanceOf(kind);
      // The classes nest (ProviderThrottled is a ProviderUnavailable): check the exact one.
      expect(caught.name).toBe(kind.name);
      expect(caught.message).toMatch(words);
    });
  }
});

describe('sending through the real SDK', () => {
  const VARIABLE = 'ISPNOTIFY_BASE_URL_SES';
  const saved = { base: process.env[VARIABLE], key: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  let server: Server;
  let requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ MessageId: SES_ID }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    requests = [];
    clearSesClients();
    process.env[VARIABLE] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Fake keys (AWS's documented example): the role's, in the Lambda.
    process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  });
  afterEach(() => {
    clearSesClients();
    for (const [name, value] of [[VARIABLE, saved.base], ['AWS_ACCESS_KEY_ID', saved.key], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('posts the v2 SendEmail request, signed for ses in the region, to ISPNOTIFY_BASE_URL_SES', async () => {
    expect(await sesEmail.send(email(), gateway, ctx)).toEqual({ providerMessageId: SES_ID });
    expect(requests).toHaveLength(1);
    const request = requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/v2/email/outbound-emails');
    expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/ap-south-1\/ses\/aws4_request/);
    expect(JSON.parse(request.body)).toMatchObject({
      FromEmailAddress: '"Example ISP Billing" <billing@isp.example>',
      Destination: { ToAddresses: ['rahim@customer.example'] },
      ConfigurationSetName: 'ispnotify-events',
      EmailTags: [{ Name: 'messageId', Value: MESSAGE_ID }],
      Content: { Simple: { Subject: { Data: 'বিল due — ৳1,200', Charset: 'UTF-8' } } },
    });
  });
});

// ---- events over SNS ----

let dir: string;
let privateKeyPem: string;
let certificatePem: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ses-sns-'));
  execFileSync(
    '/usr/bin/openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=sns.amazonaws.com', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    { stdio: 'ignore' },
  );
  privateKeyPem = readFileSync(join(dir, 'key.pem'), 'utf8');
  certificatePem = readFileSync(join(dir, 'cert.pem'), 'utf8');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Serves the certificate at https SNS hosts only, answers a ConfirmSubscription, and records every URL asked for. */
function snsFetch(confirmStatus = 200) {
  const urls: string[] = [];
  const fetchStub: typeof fetch = async (input) => {
    const url = String(input);
    urls.push(url);
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' || !/^sns\.[a-z0-9-]+\.amazonaws\.com$/.test(parsed.hostname)) return new Response('not here', { status: 404 });
    if (parsed.pathname.endsWith('.pem')) return new Response(certificatePem, { status: 200 });
    if (parsed.searchParams.get('Action') === 'ConfirmSubscription') {
      return new Response('<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>arn</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>', { status: confirmStatus });
    }
    return new Response('unknown', { status: 400 });
  };
  return { urls, fetch: fetchStub, ctx: { fetch: fetchStub, clock: { now: () => new Date() } } satisfies ProviderContext };
}

function signed(fields: Record<string, string>, key = privateKeyPem): string {
  const message: Record<string, string> = { SignatureVersion: '2', SigningCertURL: CERT_URL, ...fields };
  const names =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', ...('Subject' in message ? ['Subject'] : []), 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const toSign = names.map((n) => `${n}\n${message[n]}\n`).join('');
  return JSON.stringify({ ...message, Signature: sign('RSA-SHA256', Buffer.from(toSign, 'utf8'), key).toString('base64') });
}

const notification = (event: unknown, extra: Record<string, string> = {}) =>
  signed({
    Type: 'Notification',
    MessageId: '4bd7ec4f-0c77-5cd0-9b3c-3c7f0f0a0e11',
    TopicArn: TOPIC,
    Message: JSON.stringify(event),
    Timestamp: '2025-03-01T10:00:05.000Z',
    UnsubscribeURL: `https://sns.ap-south-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:sub`,
    ...extra,
  });

const TOKEN = '2336412f37fb687f5d51e6e2425dacbba13f5f6c0b0c4f6a6d1f6d0a8e0c3d9b';
const subscribeUrl = (topic = TOPIC, host = 'sns.ap-south-1.amazonaws.com') => `https://${host}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topic)}&Token=${TOKEN}`;
const confirmation = (extra: Record<string, string> = {}) =>
  signed({
    Type: 'SubscriptionConfirmation',
    MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
    Token: TOKEN,
    TopicArn: TOPIC,
    Message: `You have chosen to subscribe to the topic ${TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: subscribeUrl(),
    Timestamp: '2025-03-01T10:00:00.000Z',
    ...extra,
  });

const webhook = (rawBody: string): WebhookRequest => ({
  method: 'POST',
  url: 'https://notify.example.net/webhooks/email/ses/01JNGW0000000000000000000A',
  headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-topic-arn': TOPIC },
  rawBody,
});

const deliveryEvent = {
  eventType: 'Delivery',
  mail: { timestamp: '2025-03-01T10:00:00.000Z', source: 'billing@isp.example', messageId: SES_ID, destination: ['rahim@customer.example'], tags: { messageId: [MESSAGE_ID] } },
  delivery: { timestamp: '2025-03-01T10:00:03.000Z', recipients: ['rahim@customer.example'], smtpResponse: '250 2.6.0 Message received' },
};

describe('SES events over SNS: the signature', () => {
  beforeEach(() => clearSnsCertificateCache());

  it('accepts an event SNS signed for the gateway topic, fetching the certificate from the SNS host only', async () => {
    const sns = snsFetch();
    expect(await sesEmail.verifySignature(webhook(notification(deliveryEvent)), gateway, sns.ctx)).toBe(true);
    expect(sns.urls).toEqual([CERT_URL]);
  });

  it('refuses a forged signature, another topic, a tampered event, no topic in the settings, and no context', async () => {
    const sns = snsFetch();
    const forger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const good = notification(deliveryEvent);
    expect(await sesEmail.verifySignature(webhook(signed(JSON.parse(good), forger)), gateway, sns.ctx)).toBe(false);
    expect(await sesEmail.verifySignature(webhook(notification(deliveryEvent, { TopicArn: 'arn:aws:sns:ap-south-1:999999999999:ses-events' })), gateway, sns.ctx)).toBe(false);
    expect(await sesEmail.verifySignature(webhook(good.replace('Delivery', 'Bounce')), gateway, sns.ctx)).toBe(false);
    const noTopic = SesSettings.parse({ fromAddress: 'billing@isp.example' });
    expect(await sesEmail.verifySignature(webhook(good), { credentials: {}, settings: noTopic }, sns.ctx)).toBe(false);
    expect(await sesEmail.verifySignature(webhook(good), gateway)).toBe(false);
  });

  it('refuses a certificate URL outside SNS without fetching it', async () => {
    const sns = snsFetch();
    const body = notification(deliveryEvent, { SigningCertURL: 'https://attacker.example.com/SimpleNotificationService-x.pem' });
    expect(await sesEmail.verifySignature(webhook(body), gateway, sns.ctx)).toBe(false);
    expect(sns.urls).toEqual([]);
  });

  it('reads a verified Delivery notification as delivered under SES\'s message id', async () => {
    const body = notification(deliveryEvent);
    expect(await sesEmail.verifySignature(webhook(body), gateway, snsFetch().ctx)).toBe(true);
    expect(sesEmail.parseWebhook(webhook(body), { settings })).toEqual([{ providerMessageId: SES_ID, status: 'delivered', providerStatus: 'Delivery' }]);
  });
});

describe('SNS subscription confirmation', () => {
  beforeEach(() => clearSnsCertificateCache());

  it('verifies a SubscriptionConfirmation and opens its SubscribeURL on the SNS host', async () => {
    const sns = snsFetch();
    expect(await sesEmail.confirmSubscription(webhook(confirmation()), sns.ctx)).toBe(true);
    expect(sns.urls).toEqual([CERT_URL, subscribeUrl()]);
    // A confirmation is no event.
    expect(sesEmail.parseWebhook(webhook(confirmation()), { settings })).toEqual([]);
  });

  it('with the gateway, confirms only its own topic', async () => {
    const sns = snsFetch();
    expect(await sesEmail.confirmSubscription(webhook(confirmation()), sns.ctx, { settings })).toBe(true);
    const other = 'arn:aws:sns:ap-south-1:999999999999:theirs';
    const theirs = confirmation({ TopicArn: other, SubscribeURL: subscribeUrl(other) });
    const before = sns.urls.length;
    expect(await sesEmail.confirmSubscription(webhook(theirs), sns.ctx, { settings })).toBe(false);
    expect(sns.urls.length).toBe(before);
  });

  it('never fetches a SubscribeURL outside SNS, in another region, or for another topic', async () => {
    for (const url of [
      `https://attacker.example.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=${TOKEN}`,
      `http://sns.ap-south-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=${TOKEN}`,
      `https://sns.ap-south-1.amazonaws.com.attacker.example/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=${TOKEN}`,
      subscribeUrl(TOPIC, 'sns.us-east-1.amazonaws.com'),
      subscribeUrl('arn:aws:sns:ap-south-1:123456789012:other'),
      `https://sns.ap-south-1.amazonaws.com/?Action=Unsubscribe&TopicArn=${encodeURIComponent(TOPIC)}`,
    ]) {
      const sns = snsFetch();
      expect(await sesEmail.confirmSubscription(webhook(confirmation({ SubscribeURL: url })), sns.ctx), url).toBe(false);
      expect(sns.urls, url).toEqual([]);
    }
  });

  it('does not confirm an unsigned or forged confirmation, nor a notification', async () => {
    const sns = snsFetch();
    const forger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await sesEmail.confirmSubscription(webhook(signed(JSON.parse(confirmation()), forger)), sns.ctx)).toBe(false);
    expect(await sesEmail.confirmSubscription(webhook(JSON.stringify({ ...JSON.parse(confirmation()), Signature: 'AAAA' })), sns.ctx)).toBe(false);
    expect(await sesEmail.confirmSubscription(webhook(notification(deliveryEvent)), sns.ctx)).toBe(false);
    expect(await sesEmail.confirmSubscription(webhook('not json'), sns.ctx)).toBe(false);
    expect(sns.urls.filter((u) => u.includes('ConfirmSubscription'))).toEqual([]);
  });

  it('throws ProviderUnavailable when SNS fails, so the confirmation is retried', async () => {
    const sns = snsFetch(503);
    const error = await rejection(sesEmail.confirmSubscription(webhook(confirmation()), sns.ctx));
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error.message).toMatch(/HTTP 503/);
  });

  it('refuses a body that is not an SNS message as a webhook', () => {
    expect(() => sesEmail.parseWebhook(webhook('{}'), { settings })).toThrow(DomainError);
  });
});
