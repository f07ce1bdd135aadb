/**
 * Reading Amazon SES events (as SES publishes them to SNS, shaped after the SES developer guide's
 * "Examples of event data that Amazon SES publishes to Amazon SNS") into our statuses. The SNS
 * signature is checked before parsing (test/integration/providers/ses.test.ts); here the
 * envelopes are unsigned.
 */
import { describe, expect, it } from 'vitest';
import { sesEmail, SesSettings } from '../../shared/adapters/providers/email/ses.js';
import { DomainError } from '../../shared/domain/errors.js';
import type { WebhookRequest } from '../../shared/ports.js';

const TOPIC = 'arn:aws:sns:ap-south-1:123456789012:ses-events';
const SES_ID = '010f0195a1b2c3d4-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000';
const settings = SesSettings.parse({ fromAddress: 'billing@isp.example', snsTopicArn: TOPIC, configurationSetName: 'ispnotify-events' });

const mail = {
  timestamp: '2025-03-01T10:00:00.000Z',
  source: 'Example ISP Billing <billing@isp.example>',
  sourceArn: 'arn:aws:ses:ap-south-1:123456789012:identity/isp.example',
  sendingAccountId: '123456789012',
  messageId: SES_ID,
  destination: ['rahim@customer.example'],
  headersTruncated: false,
  tags: { 'ses:configuration-set': ['ispnotify-events'], messageId: ['01JNMSG0000000000000000000'] },
};

const envelope = (event: unknown, type = 'Notification'): WebhookRequest => ({
  method: 'POST',
  url: 'https://notify.example.net/webhooks/email/ses/01JNGW0000000000000000000A',
  headers: { 'x-amz-sns-message-type': type },
  rawBody: JSON.stringify({
    Type: type,
    MessageId: '4bd7ec4f-0c77-5cd0-9b3c-3c7f0f0a0e11',
    TopicArn: TOPIC,
    Message: typeof event === 'string' ? event : JSON.stringify(event),
    Timestamp: '2025-03-01T10:00:05.000Z',
    SignatureVersion: '2',
    Signature: 'AAAA',
    SigningCertURL: 'https://sns.ap-south-1.amazonaws.com/SimpleNotificationService-x.pem',
  }),
});

const parse = (event: unknown) => sesEmail.parseWebhook(envelope(event), { settings });

const bounce = (bounceType: string, bounceSubType: string, diagnosticCode?: string) => ({
  eventType: 'Bounce',
  bounce: {
    bounceType,
    bounceSubType,
    bouncedRecipients: [{ emailAddress: 'rahim@customer.example', action: 'failed', status: '5.1.1', ...(diagnosticCode ? { diagnosticCode } : {}) }],
    timestamp: '2025-03-01T10:00:04.000Z',
    feedbackId: '010f0195a1b2c3d4-feedback-000000',
    reportingMTA: 'dsn; a1-2.smtp-out.ap-south-1.amazonses.com',
  },
  mail,
});

describe('SES events', () => {
  it('reads Delivery as delivered, under mail.messageId', () => {
    expect(parse({ eventType: 'Delivery', mail, delivery: { timestamp: '2025-03-01T10:00:03.000Z', recipients: ['rahim@customer.example'], smtpResponse: '250 ok' } })).toEqual([
      { providerMessageId: SES_ID, status: 'delivered', providerStatus: 'Delivery' },
    ]);
  });

  it('reads a permanent bounce as failed with its sub-type and diagnostic code, and suppresses the address', () => {
    expect(parse(bounce('Permanent', 'General', 'smtp; 550 5.1.1 user unknown'))).toEqual([
      {
        providerMessageId: SES_ID,
        status: 'failed',
        providerStatus: 'Bounce/Permanent/General',
        reason: 'Hard bounce (General): smtp; 550 5.1.1 user unknown',
        suppress: { address: 'rahim@customer.example', reason: 'hard bounce (General): smtp; 550 5.1.1 user unknown' },
      },
    ]);
    expect(parse(bounce('Permanent', 'OnAccountSuppressionList'))[0]).toMatchObject({
      status: 'failed',
      reason: 'Hard bounce (OnAccountSuppressionList)',
      suppress: { address: 'rahim@customer.example' },
    });
  });

  it('reads a soft bounce (SES stopped retrying) and an undetermined one as failed, without suppressing', () => {
    const soft = parse(bounce('Transient', 'MailboxFull', 'smtp; 452 4.2.2 mailbox full'));
    expect(soft).toEqual([
      { providerMessageId: SES_ID, status: 'failed', providerStatus: 'Bounce/Transient/MailboxFull', reason: 'Soft bounce (SES stopped retrying) (MailboxFull): smtp; 452 4.2.2 mailbox full' },
    ]);
    expect(soft[0]).not.toHaveProperty('suppress');
    const undetermined = parse(bounce('Undetermined', 'Undetermined'));
    expect(undetermined[0]).toMatchObject({ status: 'failed', providerStatus: 'Bounce/Undetermined/Undetermined' });
    expect(undetermined[0]).not.toHaveProperty('suppress');
  });

  it('sanitizes a diagnostic code before it reaches the history', () => {
    const [update] = parse(bounce('Permanent', 'General', 'smtp; 550 <script>alert(1)</script>\nno such user'));
    expect(update?.reason).toBe('Hard bounce (General): smtp; 550 no such user');
  });

  it('reads a complaint as delivered (it arrived), suppressing the address unless the feedback says not-spam', () => {
    const complaint = (feedback?: string) => ({
      eventType: 'Complaint',
      complaint: {
        complainedRecipients: [{ emailAddress: 'rahim@customer.example' }],
        timestamp: '2025-03-01T11:00:00.000Z',
        feedbackId: '010f0195-complaint-000000',
        userAgent: 'Mozilla/5.0',
        ...(feedback ? { complaintFeedbackType: feedback } : {}),
        arrivalDate: '2025-03-01T10:59:00.000Z',
      },
      mail,
    });
    expect(parse(complaint('abuse'))).toEqual([
      {
        providerMessageId: SES_ID,
        status: 'delivered',
        providerStatus: 'Complaint/abuse',
        suppress: { address: 'rahim@customer.example', reason: 'complaint: the recipient marked the message as spam (abuse)' },
      },
    ]);
    expect(parse(complaint())[0]).toMatchObject({ status: 'delivered', providerStatus: 'Complaint', suppress: { address: 'rahim@customer.example' } });
    expect(parse(complaint('not-spam'))[0]).not.toHaveProperty('suppress');
  });

  it('reads Reject and Rendering Failure as failed', () => {
    expect(parse({ eventType: 'Reject', reject: { reason: 'Bad content' }, mail })).toEqual([
      { providerMessageId: SES_ID, status: 'failed', providerStatus: 'Reject', reason: 'Amazon SES rejected the message: Bad content' },
    ]);
    expect(parse({ eventType: 'Rendering Failure', failure: { errorMessage: 'Attribute name is missing', templateName: 't' }, mail })[0]).toMatchObject({
      status: 'failed',
      reason: 'Amazon SES could not render the message: Attribute name is missing',
    });
  });

  it('reads identity feedback notifications (notificationType) the same way', () => {
    expect(parse({ notificationType: 'Delivery', mail, delivery: { recipients: ['rahim@customer.example'] } })).toEqual([
      { providerMessageId: SES_ID, status: 'delivered', providerStatus: 'Delivery' },
    ]);
    expect(parse({ ...bounce('Permanent', 'NoEmail'), eventType: undefined, notificationType: 'Bounce' })[0]).toMatchObject({ status: 'failed', suppress: { address: 'rahim@customer.example' } });
  });

  it('drops Send, DeliveryDelay, Open, Click and Subscription events', () => {
    for (const eventType of ['Send', 'DeliveryDelay', 'Open', 'Click', 'Subscription']) {
      expect(parse({ eventType, mail }), eventType).toEqual([]);
    }
  });

  it('answers nothing for a SubscriptionConfirmation (confirmSubscription handles it)', () => {
    expect(sesEmail.parseWebhook(envelope('You have chosen to subscribe', 'SubscriptionConfirmation'), { settings })).toEqual([]);
  });

  it('refuses a notification whose Message is no SES event', () => {
    for (const event of ['not json', { mail }, { eventType: 'Delivery' }, { eventType: 'Delivery', mail: { messageId: '' } }]) {
      expect(() => parse(event), JSON.stringify(event)).toThrow(DomainError);
    }
    expect(() => sesEmail.parseWebhook({ method: 'POST', url: 'https://x', headers: {}, rawBody: 'nope' }, { settings })).toThrow(/not an Amazon SNS message/);
  });
});
