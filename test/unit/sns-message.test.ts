import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  clearSnsCertificateCache,
  isSnsCertificateUrl,
  parseSnsMessage,
  snsStringToSign,
  verifySnsMessage,
} from '../../shared/adapters/aws/sns-message.js';
import { ProviderUnavailable } from '../../shared/domain/errors.js';

const TOPIC = 'arn:aws:sns:ap-south-1:123456789012:sms-events';
const CERT_URL = 'https://sns.ap-south-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem';

let dir: string;
let privateKeyPem: string;
let certificatePem: string;
let otherPrivateKeyPem: string;

/** A self-signed certificate made with openssl, as SNS would serve its signing certificate. */
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sns-test-'));
  execFileSync('/usr/bin/openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=sns.amazonaws.com',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  privateKeyPem = readFileSync(join(dir, 'key.pem'), 'utf8');
  certificatePem = readFileSync(join(dir, 'cert.pem'), 'utf8');
  otherPrivateKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Serves `pem` only at an https sns.<region>.amazonaws.com URL, and records every URL asked for. */
function certificateFetch(pem: () => string = () => certificatePem) {
  const urls: string[] = [];
  const fetchStub: typeof fetch = async (input) => {
    const url = String(input);
    urls.push(url);
    const { protocol, hostname } = new URL(url);
    if (protocol === 'https:' && /^sns\.[a-z0-9-]+\.amazonaws\.com$/.test(hostname)) return new Response(pem(), { status: 200 });
    return new Response('not here', { status: 404 });
  };
  return { urls, fetch: fetchStub };
}

/** The documented string to sign, written out by hand for the two shapes. */
function canonical(m: Record<string, string>): string {
  const names =
    m.Type === 'Notification'
      ? ['Message', 'MessageId', ...('Subject' in m ? ['Subject'] : []), 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return names.map((n) => `${n}\n${m[n]}\n`).join('');
}

function signed(fields: Record<string, string>, options: { version?: '1' | '2'; key?: string; certUrl?: string } = {}): Record<string, string> {
  const version = options.version ?? '2';
  const message = { ...fields, SignatureVersion: version, SigningCertURL: options.certUrl ?? CERT_URL };
  const signature = sign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256', Buffer.from(canonical(message), 'utf8'), options.key ?? privateKeyPem);
  return { ...message, Signature: signature.toString('base64') };
}

const notification = (extra: Record<string, string> = {}) => ({
  Type: 'Notification',
  MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
  TopicArn: TOPIC,
  Message: JSON.stringify({ eventType: 'TEXT_DELIVERED', messageId: 'abc-123', isFinal: true }),
  Timestamp: '2025-03-01T10:00:00.000Z',
  UnsubscribeURL: 'https://sns.ap-south-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x',
  ...extra,
});

const confirmation = () => ({
  Type: 'SubscriptionConfirmation',
  MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
  Token: '2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736',
  TopicArn: TOPIC,
  Message: `You have chosen to subscribe to the topic ${TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
  SubscribeURL: 'https://sns.ap-south-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=y',
  Timestamp: '2025-03-01T10:00:00.000Z',
});

const verifyBody = (body: unknown, fetchFn: typeof fetch, expectedTopicArn = TOPIC) =>
  verifySnsMessage(typeof body === 'string' ? body : JSON.stringify(body), { fetch: fetchFn, expectedTopicArn, now: new Date() });

describe('SNS message signatures', () => {
  beforeEach(() => clearSnsCertificateCache());

  it('accepts a notification signed with SignatureVersion 2 (SHA256withRSA), fetching the certificate from the SNS host', async () => {
    const { fetch, urls } = certificateFetch();
    expect(await verifyBody(signed(notification()), fetch)).toBe(true);
    expect(urls).toEqual([CERT_URL]);
  });

  it('accepts SignatureVersion 1 (SHA1withRSA) and a notification with a Subject', async () => {
    const { fetch } = certificateFetch();
    expect(await verifyBody(signed(notification({ Subject: 'Delivery event' }), { version: '1' }), fetch)).toBe(true);
  });

  it('accepts a SubscriptionConfirmation signed over its own fields (SubscribeURL, Token)', async () => {
    const { fetch } = certificateFetch();
    const message = signed(confirmation());
    expect(await verifyBody(message, fetch)).toBe(true);
    expect(snsStringToSign(parseSnsMessage(JSON.stringify(message))!)).toBe(canonical(message));
  });

  it('accepts a certificate served as a bare public key PEM', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { fetch } = certificateFetch(() => publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await verifyBody(signed(notification(), { key }), fetch)).toBe(true);
  });

  it('fetches a certificate once and reuses it for later messages', async () => {
    const { fetch, urls } = certificateFetch();
    expect(await verifyBody(signed(notification()), fetch)).toBe(true);
    expect(await verifyBody(signed(notification({ MessageId: 'second' })), fetch)).toBe(true);
    expect(urls).toHaveLength(1);
  });

  it('refuses a signature made with another key (forged)', async () => {
    const { fetch } = certificateFetch();
    expect(await verifyBody(signed(notification(), { key: otherPrivateKeyPem }), fetch)).toBe(false);
  });

  it('refuses a message whose Message, Timestamp or Type was changed after signing', async () => {
    const { fetch } = certificateFetch();
    const good = signed(notification());
    expect(await verifyBody({ ...good, Message: good.Message!.replace('TEXT_DELIVERED', 'TEXT_SPAM') }, fetch)).toBe(false);
    expect(await verifyBody({ ...good, Timestamp: '2025-03-01T10:00:01.000Z' }, fetch)).toBe(false);
    expect(await verifyBody({ ...good, Subject: 'added' }, fetch)).toBe(false);
  });

  it('refuses a message from another topic, even when SNS signed it', async () => {
    const { fetch, urls } = certificateFetch();
    const other = signed(notification({ TopicArn: 'arn:aws:sns:ap-south-1:999999999999:someone-else' }));
    expect(await verifyBody(other, fetch)).toBe(false);
    expect(await verifyBody(signed(notification()), fetch, 'arn:aws:sns:ap-south-1:123456789012:other-topic')).toBe(false);
    expect(await verifyBody(signed(notification()), fetch, '')).toBe(false);
    expect(urls).toEqual([]);
  });

  it('never fetches a certificate from a host that is not sns.<region>.amazonaws.com, nor over http', async () => {
    const { fetch, urls } = certificateFetch();
    for (const certUrl of [
      'https://evil.example.com/cert.pem',
      'https://sns.ap-south-1.amazonaws.com.evil.example.com/cert.pem',
      'https://sns.ap-south-1.amazonaws.co/cert.pem',
      'https://s3.amazonaws.com/sns/cert.pem',
      'http://sns.ap-south-1.amazonaws.com/cert.pem',
      'https://sns.ap-south-1.amazonaws.com:8443/cert.pem',
      'https://user:pw@sns.ap-south-1.amazonaws.com/cert.pem',
      'not a url',
    ]) {
      expect(await verifyBody(signed(notification(), { certUrl }), fetch), certUrl).toBe(false);
    }
    expect(urls).toEqual([]);
  });

  it('knows the SNS certificate hosts of every partition', () => {
    expect(isSnsCertificateUrl('https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem')).toBe(true);
    expect(isSnsCertificateUrl('https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem')).toBe(true);
    expect(isSnsCertificateUrl('https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem')).toBe(true);
    expect(isSnsCertificateUrl('https://SNS.evil.com/x.pem')).toBe(false);
  });

  it('refuses an unknown SignatureVersion, a missing or malformed signature, and bodies that are not SNS messages', async () => {
    const { fetch } = certificateFetch();
    const good = signed(notification());
    expect(await verifyBody({ ...good, SignatureVersion: '3' }, fetch)).toBe(false);
    expect(await verifyBody({ ...good, Signature: '' }, fetch)).toBe(false);
    expect(await verifyBody({ ...good, Signature: 'not base64!' }, fetch)).toBe(false);
    const { Signature: _dropped, ...unsigned } = good;
    expect(await verifyBody(unsigned, fetch)).toBe(false);
    expect(await verifyBody('not json', fetch)).toBe(false);
    expect(await verifyBody({ ...good, Type: 'Something' }, fetch)).toBe(false);
    expect(await verifyBody(signed({ ...confirmation(), SubscribeURL: undefined as unknown as string }), fetch)).toBe(false);
  });

  it('refuses what the certificate URL serves when it is not a key, and does not keep it', async () => {
    let served = 'garbage';
    const { fetch, urls } = certificateFetch(() => served);
    expect(await verifyBody(signed(notification()), fetch)).toBe(false);
    served = certificatePem;
    expect(await verifyBody(signed(notification()), fetch)).toBe(true);
    expect(urls).toHaveLength(2);
  });

  it('refuses a certificate outside its validity period', async () => {
    const { fetch } = certificateFetch();
    const body = JSON.stringify(signed(notification()));
    expect(await verifySnsMessage(body, { fetch, expectedTopicArn: TOPIC, now: new Date(Date.now() + 10 * 86_400_000) })).toBe(false);
  });

  it('reports a certificate host it cannot reach as unavailable (so SNS retries), not as a forgery', async () => {
    const failing: typeof fetch = async () => {
      throw new TypeError('fetch failed');
    };
    await expect(verifyBody(signed(notification()), failing)).rejects.toBeInstanceOf(ProviderUnavailable);
  });
});
