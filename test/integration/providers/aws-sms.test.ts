import { sign, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AccessDeniedException,
  ConflictException,
  InternalServerException,
  PinpointSMSVoiceV2Client,
  ResourceNotFoundException,
  SendTextMessageCommand,
  ServiceQuotaExceededException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearSnsCertificateCache } from '../../../shared/adapters/aws/sns-message.js';
import {
  awsSms,
  awsSmsClient,
  awsSmsEndpoint,
  AwsSmsSettings,
  type AwsSmsCredentials,
} from '../../../shared/adapters/providers/sms/aws-sms.js';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { DomainError, GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';
import { rejection } from '../../support/expect-error.js';

const BASE_URL_VARIABLE = 'ISPNOTIFY_BASE_URL_AWS_SMS';
const credentials: AwsSmsCredentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const TOPIC = 'arn:aws:sns:ap-south-1:123456789012:sms-events';
const settings = AwsSmsSettings.parse({
  region: 'ap-south-1',
  originationIdentity: '+918000000000',
  configurationSetName: 'ispnotify-events',
  snsTopicArn: TOPIC,
});
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date() } };
const MESSAGE_ID = '01JNMSG0000000000000000000';

function sms(to: string, text = 'Your bill of 500 BDT is due on 5 March.'): OutboundSms {
  return { messageId: MESSAGE_ID, to, text, statusCallbackUrl: 'https://notify.example.net/webhooks/sms/aws-sms/01JNGW' };
}

const meta = { $metadata: { httpStatusCode: 400 } };

describe('Amazon End User Messaging SMS provider', () => {
  const baseUrlBefore = process.env[BASE_URL_VARIABLE];
  afterEach(() => {
    if (baseUrlBefore === undefined) delete process.env[BASE_URL_VARIABLE];
    else process.env[BASE_URL_VARIABLE] = baseUrlBefore;
  });

  it('is registered under the id "aws-sms"', () => {
    expect(smsProvider('aws-sms')).toBe(awsSms);
    expect(awsSms.channel).toBe('sms');
  });

  describe('sending (SDK mocked)', () => {
    const aws = mockClient(PinpointSMSVoiceV2Client);
    beforeEach(() => {
      aws.reset();
      process.env[BASE_URL_VARIABLE] = 'http://127.0.0.1:9';
    });
    afterAll(() => aws.restore());

    it('sends SendTextMessage with exactly the destination, origination identity, body, type, configuration set and our message id as Context', async () => {
      aws.on(SendTextMessageCommand).resolves({ MessageId: 'a1b2c3d4-0000-4000-8000-000000000001' });

      const result = await awsSms.send(sms('+8801711000001'), { credentials, settings }, ctx);

      expect(result).toEqual({ providerMessageId: 'a1b2c3d4-0000-4000-8000-000000000001' });
      const calls = aws.commandCalls(SendTextMessageCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.args[0].input).toEqual({
        DestinationPhoneNumber: '+8801711000001',
        OriginationIdentity: '+918000000000',
        MessageBody: 'Your bill of 500 BDT is due on 5 March.',
        MessageType: 'TRANSACTIONAL',
        ConfigurationSetName: 'ispnotify-events',
        Context: { ispnotifyMessageId: MESSAGE_ID },
      });
    });

    it('passes a Bangla text unchanged, with no encoding flag (AWS picks UCS-2 itself), and sends PROMOTIONAL with MaxPrice when set', async () => {
      aws.on(SendTextMessageCommand).resolves({ MessageId: 'id-2' });
      const bangla = 'আপনার বিল ৫০০ টাকা, ৫ মার্চের মধ্যে পরিশোধ করুন।';
      const promo = AwsSmsSettings.parse({ region: 'ap-south-1', originationIdentity: 'ISPNotify', messageType: 'PROMOTIONAL', maxPrice: '0.05' });

      await awsSms.send(sms('+8801711000001', bangla), { credentials, settings: promo }, ctx);

      expect(aws.commandCalls(SendTextMessageCommand)[0]!.args[0].input).toEqual({
        DestinationPhoneNumber: '+8801711000001',
        OriginationIdentity: 'ISPNotify',
        MessageBody: bangla,
        MessageType: 'PROMOTIONAL',
        MaxPrice: '0.05',
        Context: { ispnotifyMessageId: MESSAGE_ID },
      });
    });

    it('turns an answer without a MessageId into ProviderUnavailable', async () => {
      aws.on(SendTextMessageCommand).resolves({});
      expect(await rejection(awsSms.send(sms('+8801711000001'), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);
    });

    const cases: [string, Error, typeof ProviderRejected | typeof GatewayFault | typeof ProviderUnavailable, string, RegExp][] = [
      ['a blocked destination country (ValidationException DESTINATION_COUNTRY_BLOCKED)', new ValidationException({ ...meta, message: 'Destination country blocked', Reason: 'DESTINATION_COUNTRY_BLOCKED' }), ProviderRejected, 'ValidationException/DESTINATION_COUNTRY_BLOCKED', /country is blocked/],
      ['an invalid destination number (ValidationException on DestinationPhoneNumber)', new ValidationException({ ...meta, message: 'Invalid phone number', Reason: 'INVALID_PARAMETER', Fields: [{ Name: 'DestinationPhoneNumber', Message: 'bad' }] }), ProviderRejected, 'ValidationException/INVALID_PARAMETER', /recipient's number/],
      ['a price over maxPrice (ValidationException PRICE_OVER_THRESHOLD)', new ValidationException({ ...meta, message: 'Price over threshold', Reason: 'PRICE_OVER_THRESHOLD' }), ProviderRejected, 'ValidationException/PRICE_OVER_THRESHOLD', /maxPrice/],
      ['an opted-out recipient (ConflictException DESTINATION_PHONE_NUMBER_OPTED_OUT)', new ConflictException({ ...meta, message: 'opted out', Reason: 'DESTINATION_PHONE_NUMBER_OPTED_OUT', ResourceType: 'opt-out-list', ResourceId: 'Default' }), ProviderRejected, 'ConflictException/DESTINATION_PHONE_NUMBER_OPTED_OUT', /opted out/],
      ['an unregistered sender id (ValidationException SENDER_ID_NOT_REGISTERED)', new ValidationException({ ...meta, message: 'Sender ID not registered', Reason: 'SENDER_ID_NOT_REGISTERED' }), GatewayFault, 'ValidationException/SENDER_ID_NOT_REGISTERED', /not registered/],
      ['a bad origination identity field (ValidationException on OriginationIdentity)', new ValidationException({ ...meta, message: 'bad identity', Reason: 'INVALID_PARAMETER', Fields: [{ Name: 'OriginationIdentity', Message: 'bad' }] }), GatewayFault, 'ValidationException/INVALID_PARAMETER', /OriginationIdentity/],
      ['missing permissions (AccessDeniedException)', new AccessDeniedException({ ...meta, message: 'User is not authorized to perform sms-voice:SendTextMessage' }), GatewayFault, 'AccessDeniedException', /sms-voice:SendTextMessage/],
      ['a disabled account (AccessDeniedException ACCOUNT_DISABLED)', new AccessDeniedException({ ...meta, message: 'disabled', Reason: 'ACCOUNT_DISABLED' }), GatewayFault, 'AccessDeniedException/ACCOUNT_DISABLED', /account is disabled/],
      ['the monthly spend limit (ServiceQuotaExceededException)', new ServiceQuotaExceededException({ ...meta, message: 'limit', Reason: 'MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT' }), GatewayFault, 'ServiceQuotaExceededException/MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT', /spend limit/],
      ['an unknown origination identity (ResourceNotFoundException)', new ResourceNotFoundException({ ...meta, message: 'not found', ResourceType: 'phone-number', ResourceId: '+918000000000' }), GatewayFault, 'ResourceNotFoundException', /no phone-number "\+918000000000"/],
      ['an inactive number (ConflictException RESOURCE_NOT_ACTIVE)', new ConflictException({ ...meta, message: 'not active', Reason: 'RESOURCE_NOT_ACTIVE' }), GatewayFault, 'ConflictException/RESOURCE_NOT_ACTIVE', /current state/],
      ['keys AWS does not know (UnrecognizedClientException)', Object.assign(new Error('The security token included in the request is invalid.'), { name: 'UnrecognizedClientException', $fault: 'client', $metadata: { httpStatusCode: 400 } }), GatewayFault, 'UnrecognizedClientException', /access key id and secret access key/],
      ['throttling (ThrottlingException)', new ThrottlingException({ ...meta, message: 'Rate exceeded' }), ProviderUnavailable, 'ThrottlingException', /throttled/],
      ['an AWS fault (InternalServerException)', new InternalServerException({ $metadata: { httpStatusCode: 500 }, message: 'oops' }), ProviderUnavailable, 'InternalServerException', /internal error/],
      ['a network failure', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED', $metadata: { attempts: 1 } }), ProviderUnavailable, 'network', /ECONNREFUSED/],
    ];

    for (const [what, error, kind, code, words] of cases) {
      it(`turns ${what} into ${kind.name}`, async () => {
        aws.on(SendTextMessageCommand).rejects(error);
        const caught = await rejection(awsSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
        expect(caught).toBeInstanceOf(kind);
        expect((caught as ProviderRejected).code).toBe(code);
        expect(caught.message).toMatch(words);
        expect(caught.message).not.toContain(credentials.secretAccessKey);
      });
    }
  });

  describe('sending through the real SDK', () => {
    let server: Server;
    let requests: { headers: IncomingMessage['headers']; url: string; body: string }[];
    let reply: { status: number; body: unknown };

    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk) => (body += chunk));
        req.on('end', () => {
          requests.push({ headers: req.headers, url: req.url ?? '', body });
          res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify(reply.body));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => {
      requests = [];
      reply = { status: 200, body: { MessageId: 'real-sdk-id' } };
      process.env[BASE_URL_VARIABLE] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    it('posts the JSON 1.0 SendTextMessage call, signed for sms-voice in the region, to ISPNOTIFY_BASE_URL_AWS_SMS', async () => {
      const result = await awsSms.send(sms('+8801711000001'), { credentials, settings }, ctx);

      expect(result.providerMessageId).toBe('real-sdk-id');
      expect(requests).toHaveLength(1);
      const request = requests[0]!;
      expect(request.headers['x-amz-target']).toBe('PinpointSMSVoiceV2.SendTextMessage');
      expect(request.headers['content-type']).toBe('application/x-amz-json-1.0');
      expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/ap-south-1\/sms-voice\/aws4_request, /);
      expect(JSON.parse(request.body)).toEqual({
        DestinationPhoneNumber: '+8801711000001',
        OriginationIdentity: '+918000000000',
        MessageBody: 'Your bill of 500 BDT is due on 5 March.',
        MessageType: 'TRANSACTIONAL',
        ConfigurationSetName: 'ispnotify-events',
        Context: { ispnotifyMessageId: MESSAGE_ID },
      });
    });

    it("reads AWS's own error reply: a ValidationException with its Reason becomes ProviderRejected", async () => {
      reply = { status: 400, body: { __type: 'ValidationException', message: 'The destination country is blocked.', Reason: 'DESTINATION_COUNTRY_BLOCKED' } };
      const error = await rejection(awsSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderRejected);
      expect((error as ProviderRejected).code).toBe('ValidationException/DESTINATION_COUNTRY_BLOCKED');
      expect(error.message).toContain('The destination country is blocked.');
    });

    it('reads a throttling reply as ProviderUnavailable, sending once (no SDK retry that could double-send)', async () => {
      reply = { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } };
      expect(await rejection(awsSms.send(sms('+8801711000001'), { credentials, settings }, ctx))).toBeInstanceOf(ProviderUnavailable);
      expect(requests).toHaveLength(1);
    });

    it('turns a refused connection into ProviderUnavailable', async () => {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const { port } = probe.address() as AddressInfo;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      process.env[BASE_URL_VARIABLE] = `http://127.0.0.1:${port}`;

      const error = await rejection(awsSms.send(sms('+8801711000001'), { credentials, settings }, ctx));
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect((error as ProviderUnavailable).code).toBe('network');
    });

    it('uses the official regional endpoint when no override is set', async () => {
      delete process.env[BASE_URL_VARIABLE];
      expect(awsSmsEndpoint('ap-south-1')).toBe('https://sms-voice.ap-south-1.amazonaws.com');
      expect(awsSmsEndpoint('cn-north-1')).toBe('https://sms-voice.cn-north-1.amazonaws.com.cn');

      // A client of its own (other keys), stopped after signing: nothing leaves the machine.
      const own = { accessKeyId: 'AKIAOFFICIALHOST0001', secretAccessKey: credentials.secretAccessKey };
      const client = awsSmsClient(own, 'ap-south-1');
      let host: string | undefined;
      client.middlewareStack.add(
        () => async (args) => {
          host = (args.request as { hostname?: string }).hostname;
          throw new Error('stopped before sending');
        },
        { step: 'deserialize', name: 'stopBeforeSending' },
      );
      await rejection(client.send(new SendTextMessageCommand({ DestinationPhoneNumber: '+8801711000001', OriginationIdentity: '+918000000000', MessageBody: 'x' })));
      expect(host).toBe('sms-voice.ap-south-1.amazonaws.com');
    });

    it('reuses one client per keys, region and endpoint', () => {
      expect(awsSmsClient(credentials, 'ap-south-1')).toBe(awsSmsClient(credentials, 'ap-south-1'));
      expect(awsSmsClient(credentials, 'ap-south-1')).not.toBe(awsSmsClient(credentials, 'us-east-1'));
    });
  });

  describe('delivery receipts over SNS', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const certUrl = 'https://sns.ap-south-1.amazonaws.com/SimpleNotificationService-test.pem';
    const certFetch: typeof fetch = async (input) =>
      String(input) === certUrl ? new Response(publicKey.export({ type: 'spki', format: 'pem' }).toString()) : new Response('no', { status: 404 });
    const receiptCtx: ProviderContext = { fetch: certFetch, clock: { now: () => new Date() } };

    beforeEach(() => clearSnsCertificateCache());

    function snsBody(event: Record<string, unknown> | string, extra: Record<string, string> = {}, key = privateKey): string {
      const message: Record<string, string> = {
        Type: 'Notification',
        MessageId: 'b3a4c2f0-1111-4222-8333-444455556666',
        TopicArn: TOPIC,
        Message: typeof event === 'string' ? event : JSON.stringify(event),
        Timestamp: '2025-03-01T10:00:00.000Z',
        SignatureVersion: '2',
        SigningCertURL: certUrl,
        ...extra,
      };
      const names = ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Type'];
      const toSign = names.map((n) => `${n}\n${message[n]}\n`).join('');
      return JSON.stringify({ ...message, Signature: sign('RSA-SHA256', Buffer.from(toSign), key).toString('base64') });
    }

    const request = (rawBody: string): WebhookRequest => ({
      method: 'POST',
      url: 'https://notify.example.net/webhooks/sms/aws-sms/01JNGW0000000000000000000A',
      headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification', 'x-amz-sns-topic-arn': TOPIC },
      rawBody,
    });

    const event = (eventType: string, extra: Record<string, unknown> = {}) => ({
      eventType,
      eventVersion: '1.0',
      eventTimestamp: 1686975103470,
      isFinal: true,
      originationPhoneNumber: '+918000000000',
      destinationPhoneNumber: '+8801711000001',
      messageId: '862a8790-60c0-4430-9b2b-658bdexample',
      messageEncoding: 'GSM',
      messageType: 'TRANSACTIONAL',
      context: { ispnotifyMessageId: MESSAGE_ID },
      totalMessageParts: 1,
      ...extra,
    });

    it('verifies a notification SNS signed for the gateway topic', async () => {
      expect(await awsSms.verifySignature(request(snsBody(event('TEXT_DELIVERED'))), { credentials, settings }, receiptCtx)).toBe(true);
    });

    it('refuses a forged signature, another topic, a tampered message, and a gateway without snsTopicArn', async () => {
      const forger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const good = snsBody(event('TEXT_DELIVERED'));
      expect(await awsSms.verifySignature(request(snsBody(event('TEXT_DELIVERED'), {}, forger)), { credentials, settings }, receiptCtx)).toBe(false);
      expect(await awsSms.verifySignature(request(snsBody(event('TEXT_DELIVERED'), { TopicArn: 'arn:aws:sns:ap-south-1:999999999999:x' })), { credentials, settings }, receiptCtx)).toBe(false);
      expect(await awsSms.verifySignature(request(good.replace('TEXT_DELIVERED', 'TEXT_BLOCKED')), { credentials, settings }, receiptCtx)).toBe(false);
      const noTopic = AwsSmsSettings.parse({ region: 'ap-south-1', originationIdentity: '+918000000000' });
      expect(await awsSms.verifySignature(request(good), { credentials, settings: noTopic }, receiptCtx)).toBe(false);
      expect(await awsSms.verifySignature(request(good), { credentials, settings })).toBe(false);
    });

    it('refuses a certificate URL outside SNS without fetching it', async () => {
      const asked: string[] = [];
      const spy: typeof fetch = async (input) => {
        asked.push(String(input));
        return certFetch(input);
      };
      const body = snsBody(event('TEXT_DELIVERED'), { SigningCertURL: 'https://attacker.example.com/SimpleNotificationService-test.pem' });
      expect(await awsSms.verifySignature(request(body), { credentials, settings }, { ...receiptCtx, fetch: spy })).toBe(false);
      expect(asked).toEqual([]);
    });

    it('reads TEXT_DELIVERED as delivered, with the event messageId as the provider id', () => {
      expect(awsSms.parseWebhook(request(snsBody(event('TEXT_DELIVERED', { messageStatus: 'DELIVERED' }))))).toEqual([
        { providerMessageId: '862a8790-60c0-4430-9b2b-658bdexample', status: 'delivered', providerStatus: 'TEXT_DELIVERED/DELIVERED' },
      ]);
    });

    it('reads a final TEXT_SUCCESSFUL as delivered and an intermediate one as sent', () => {
      expect(awsSms.parseWebhook(request(snsBody(event('TEXT_SUCCESSFUL'))))[0]!.status).toBe('delivered');
      expect(awsSms.parseWebhook(request(snsBody(event('TEXT_SUCCESSFUL', { isFinal: false }))))[0]!.status).toBe('sent');
    });

    it('reads failure events as failed with the event and AWS description as the reason', () => {
      const updates = awsSms.parseWebhook(
        request(snsBody(event('TEXT_CARRIER_BLOCKED', { messageStatus: 'CARRIER_BLOCKED', messageStatusDescription: 'Blocked by carrier <b>spam filter</b>' }))),
      );
      expect(updates).toEqual([
        {
          providerMessageId: '862a8790-60c0-4430-9b2b-658bdexample',
          status: 'failed',
          providerStatus: 'TEXT_CARRIER_BLOCKED/CARRIER_BLOCKED',
          reason: "Blocked by the recipient's carrier (TEXT_CARRIER_BLOCKED): Blocked by carrier spam filter",
        },
      ]);
      expect(awsSms.parseWebhook(request(snsBody(event('TEXT_INVALID'))))[0]).toMatchObject({ status: 'failed', reason: 'The destination number is not valid (TEXT_INVALID)' });
    });

    it('drops queued and pending events, non-final failures, and events of other channels', () => {
      for (const e of [event('TEXT_QUEUED'), event('TEXT_PENDING'), event('TEXT_CARRIER_UNREACHABLE', { isFinal: false }), event('VOICE_COMPLETED')]) {
        expect(awsSms.parseWebhook(request(snsBody(e))), e.eventType).toEqual([]);
      }
    });

    it('answers a SubscriptionConfirmation with nothing (the operator opens its SubscribeURL) and fetches nothing', () => {
      const body = JSON.stringify({
        Type: 'SubscriptionConfirmation',
        MessageId: 'm1',
        Token: 'token',
        TopicArn: TOPIC,
        Message: 'You have chosen to subscribe to the topic.',
        SubscribeURL: 'https://sns.ap-south-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=token',
        Timestamp: '2025-03-01T10:00:00.000Z',
        SignatureVersion: '2',
        Signature: 'AAAA',
        SigningCertURL: certUrl,
      });
      expect(awsSms.parseWebhook(request(body))).toEqual([]);
    });

    it('refuses a body that is not an SNS message, or a notification without an event', () => {
      for (const body of ['not json', '{}', snsBody('not json'), snsBody({ eventType: 'TEXT_DELIVERED' })]) {
        expect(() => awsSms.parseWebhook(request(body))).toThrow(DomainError);
      }
    });
  });

  describe('settings and credentials', () => {
    it('accepts every documented kind of origination identity', () => {
      for (const originationIdentity of [
        '+14155550100',
        'phone-0123456789abcdef0123456789abcdef',
        'pool-0123456789abcdef0123456789abcdef',
        'arn:aws:sms-voice:ap-south-1:123456789012:pool/pool-0123456789abcdef0123456789abcdef',
        'arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef0123456789abcdef',
        'arn:aws:sms-voice:us-east-1:123456789012:sender-id/MySender/IN',
        'ISPNotify',
        'My-ISP_01',
      ]) {
        expect(AwsSmsSettings.safeParse({ region: 'ap-south-1', originationIdentity }).success, originationIdentity).toBe(true);
      }
    });

    it('refuses sender ids that are too long, all digits or not E.164, and bad regions, prices and topics', () => {
      const base = { region: 'ap-south-1', originationIdentity: 'ISPNotify' };
      for (const bad of [
        { ...base, originationIdentity: 'TwelveLetter' },
        { ...base, originationIdentity: '12345' },
        { ...base, originationIdentity: 'My ISP' },
        { ...base, originationIdentity: '+0123' },
        { ...base, region: 'Mumbai' },
        { ...base, maxPrice: '5' },
        { ...base, maxPrice: '100.0' },
        { ...base, messageType: 'MARKETING' },
        { ...base, configurationSetName: 'has spaces' },
        { ...base, configurationSetName: 'events', snsTopicArn: 'https://sns.example.com/topic' },
        { ...base, snsTopicArn: TOPIC },
      ]) {
        expect(AwsSmsSettings.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
      }
    });

    it('defaults the message type to TRANSACTIONAL', () => {
      expect(AwsSmsSettings.parse({ region: 'ap-south-1', originationIdentity: 'ISPNotify' }).messageType).toBe('TRANSACTIONAL');
    });

    it('refuses an endpoint or base URL in the settings (strict)', () => {
      for (const extra of [{ apiBaseUrl: 'http://127.0.0.1' }, { endpoint: 'http://169.254.169.254' }]) {
        const result = AwsSmsSettings.safeParse({ region: 'ap-south-1', originationIdentity: 'ISPNotify', ...extra });
        expect(result.success).toBe(false);
      }
    });

    it('accepts IAM user keys and refuses temporary keys, malformed secrets and unknown fields', () => {
      expect(awsSms.credentials.safeParse(credentials).success).toBe(true);
      expect(awsSms.credentials.safeParse({ ...credentials, accessKeyId: 'ASIAIOSFODNN7EXAMPLE' }).success).toBe(false);
      expect(awsSms.credentials.safeParse({ ...credentials, secretAccessKey: 'short' }).success).toBe(false);
      expect(awsSms.credentials.safeParse({ ...credentials, sessionToken: 'x' }).success).toBe(false);
    });
  });
});
