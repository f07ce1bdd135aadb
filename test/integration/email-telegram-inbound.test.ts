/**
 * Issue 8 end to end on the local stack: an email through the demo's SMTP gateway into the local
 * mailbox; the suppression list; an alert to a Telegram chat (a local Bot API stand-in), collapsed
 * when repeated; a customer's WhatsApp reply recorded, linked to the customer, forwarded to the
 * support chat and answered from Telegram; STOP and START.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxWhatsAppPost } from '../../shared/adapters/providers/whatsapp/sandbox.js';
import { deps } from '../../shared/deps.js';
import { apiClient, waitFor } from '../support/api-client.js';
import { addOperator, startDemoStack } from '../support/demo-stack.js';
import { messageJson, startFakeTelegram, updateJson, type FakeTelegram } from '../support/fake-telegram.js';
import type { startTestStack } from '../support/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

let stack: Stack;
let api: ReturnType<typeof apiClient>;
let telegram: FakeTelegram;

const botToken = '7123456789:AAE' + 'x'.repeat(32);
const telegramSecret = 'telegram-webhook-secret_0123';
const whatsappSecret = 'whatsapp-sandbox-secret-0123456789';
const supportChat = -1001234567890;

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('email-telegram-inbound', { liftRateLimit: true }));
  telegram = await startFakeTelegram();
  process.env.ISPNOTIFY_BASE_URL_TELEGRAM = telegram.baseUrl;
});

afterAll(async () => {
  delete process.env.ISPNOTIFY_BASE_URL_TELEGRAM;
  await telegram?.close();
  await stack?.stop();
});

const reaches = (client: ReturnType<typeof apiClient>, id: string, status: string) =>
  waitFor(() => client.get(`/v1/messages/${id}`), (reply) => reply.body?.status === status).then((reply) => reply.body);

describe('email', () => {
  it('renders the template\'s email part (values escaped in HTML only) and lands in the local mailbox', async () => {
    const sent = await api.post('/v1/messages', {
      customerId: 'wa-0001',
      channel: 'email',
      templateId: 'due-reminder',
      variables: { amount: '1,200', dueDate: '5 Dec', payLink: 'https://pay.example/j?a=1&b=2' },
    });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ channel: 'email', to: 'jamal@example.com', provider: 'smtp', subject: 'Your Home 20 Mbps bill of BDT 1,200 is due on 5 Dec' });
    const done = await reaches(api, sent.body.id, 'sent');
    expect(done.history.at(-1).reason).toMatch(/sends no delivery receipts: sent is final/);
    const mailbox = await waitFor(() => fetch(`${stack.baseUrl}/local/mailbox`).then((r) => r.json() as Promise<{ items: Record<string, string>[] }>), (m) => m.items.length > 0);
    const mail = mailbox.items[0]!;
    expect(mail).toMatchObject({ to: 'jamal@example.com', from: '"Demo ISP" <billing@demo-isp.example>', subject: 'Your Home 20 Mbps bill of BDT 1,200 is due on 5 Dec' });
    expect(mail.html).toContain('href="https://pay.example/j?a=1&amp;b=2"');
    expect(mail.text).toContain('Pay now (https://pay.example/j?a=1&b=2)');
    expect(mail.text).toContain('Dear Jamal Uddin,');
  });

  it('sends a text with a subject to a raw address, and refuses one on the suppression list with the reason', async () => {
    const plain = await api.post('/v1/messages', { email: 'Someone@Example.com', channel: 'email', subject: 'Hello', text: 'Line one <b>not bold</b>\nLine two' });
    expect(plain.status).toBe(202);
    expect(plain.body).toMatchObject({ to: 'someone@example.com', html: 'Line one &lt;b&gt;not bold&lt;/b&gt;<br>\nLine two' });
    await deps().suppressions.put('demo', { kind: 'email', address: 'bounced@example.com', reason: 'hard bounce: 550 5.1.1 user unknown', scope: 'all', createdAt: new Date().toISOString() });
    const refused = await api.post('/v1/messages', { email: 'bounced@example.com', channel: 'email', subject: 'Hello', text: 'Hi' });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/suppression list \(hard bounce: 550 5.1.1 user unknown/);
    const listed = await api.get('/v1/suppressions');
    expect(listed.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'email', address: 'bounced@example.com', scope: 'all' })]));
    expect((await api.request('DELETE', '/v1/suppressions/bounced%40example.com')).status).toBe(204);
    expect((await api.request('DELETE', '/v1/suppressions/bounced%40example.com')).status).toBe(404);
    expect((await api.post('/v1/messages', { email: 'bounced@example.com', channel: 'email', subject: 'Hello', text: 'Hi' })).status).toBe(202);
  });

  it('refuses an email without a subject, and an email field on another channel', async () => {
    const noSubject = await api.post('/v1/messages', { email: 'a@example.com', channel: 'email', text: 'Hi' });
    expect(noSubject.status).toBe(400);
    expect((await api.post('/v1/messages', { email: 'a@example.com', text: 'Hi' })).status).toBe(400);
  });

  it('reads the seed\'s single-brace placeholders in every template', async () => {
    expect((await api.put('/v1/templates/legacy', { name: 'Legacy', body: 'Dear {customer_name}, pay {amount} by {due_date}: {payment_link}' })).status).toBe(201);
    const preview = await api.post('/v1/messages/preview', { customerId: 'c-0001', templateId: 'legacy', variables: { amount: '500', dueDate: '5 Dec', paymentLink: 'https://pay.example/1' } });
    expect(preview.status).toBe(200);
    expect(preview.body.text).toBe('Dear Rahim Uddin, pay 500 by 5 Dec: https://pay.example/1');
  });
});

describe('alerts, inbound messages and team replies', () => {
  let isp: ReturnType<typeof apiClient>;
  let telegramGateway: Record<string, any>;
  let whatsappGateway: Record<string, any>;

  beforeAll(async () => {
    isp = await addOperator(stack.baseUrl, 'inbox-isp', 'BD', 'Asia/Dhaka');
    await deps().operators.update('inbox-isp', { requestsPerSecond: 1000 });
    expect((await isp.post('/v1/gateways', { name: 'SMS', provider: 'sandbox', credentials: { webhookSecret: 'an-sms-sandbox-secret-0123' } })).status).toBe(201);
    whatsappGateway = (await isp.post('/v1/gateways', { name: 'WhatsApp', channel: 'whatsapp', provider: 'sandbox', credentials: { webhookSecret: whatsappSecret } })).body;
    telegramGateway = (await isp.post('/v1/gateways', { name: 'NOC bot', channel: 'telegram', provider: 'telegram', credentials: { botToken, webhookSecret: telegramSecret } })).body;
    expect(telegramGateway.id).toBeDefined();
    await isp.put('/v1/customers/k-1', { name: 'Karim <Hossain>', mobile: '01711660011', whatsapp: '01811660011' });
  });

  const sentTo = (chatId: number) => telegram.requests.filter((r) => r.apiMethod === 'sendMessage' && (r.json as { chat_id?: unknown }).chat_id === chatId);

  it('sends an alert to its purpose\'s chat, and collapses the same alert repeated within a minute', async () => {
    expect((await isp.post('/v1/alerts', { purpose: 'emergency', text: 'Uplink down' })).status).toBe(409);
    expect((await isp.request('PUT', '/v1/alert-routes/emergency', { chatId: '-1009876543210', threadId: 7 })).status).toBe(201);
    expect((await isp.request('PUT', '/v1/alert-routes/Bad Purpose', { chatId: '-1' })).status).toBe(400);
    const first = await isp.post('/v1/alerts', { purpose: 'emergency', text: 'Uplink <down> at POP-3', severity: 'critical' });
    expect(first.status).toBe(202);
    expect(first.body.collapsed).toBe(false);
    const sent = await reaches(isp, first.body.messageId, 'sent');
    expect(sent).toMatchObject({ channel: 'telegram', to: '-1009876543210', kind: 'alert', alert: { purpose: 'emergency', severity: 'critical' } });
    const request = await waitFor(async () => sentTo(-1009876543210)[0], (r) => r !== undefined);
    expect(request!.json).toMatchObject({ parse_mode: 'HTML', message_thread_id: 7 });
    expect((request!.json as { text: string }).text).toContain('Uplink &lt;down&gt; at POP-3');

    const again = await isp.post('/v1/alerts', { purpose: 'emergency', text: 'Uplink <down> at POP-3', severity: 'critical' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ messageId: first.body.messageId, collapsed: true, repeats: 1 });
    await isp.post('/v1/alerts', { purpose: 'emergency', text: 'Uplink <down> at POP-3', severity: 'critical' });
    expect((await isp.get(`/v1/messages/${first.body.messageId}`)).body.alert.repeats).toBe(2);
    expect(sentTo(-1009876543210)).toHaveLength(1);
  });

  it('records a customer\'s WhatsApp message linked to the customer, forwards it to the support chat, and sends the team\'s reply back once', async () => {
    expect((await isp.request('PUT', '/v1/alert-routes/customer-support', { chatId: String(supportChat), gatewayId: telegramGateway.id })).status).toBe(201);
    const inbound = sandboxWhatsAppPost(whatsappSecret, whatsappGateway.webhookUrl, { type: 'inbound', id: 'wamid.IN-k1', from: '+8801811660011', text: 'I already paid', at: new Date().toISOString() });
    expect((await fetch(inbound.url, { method: 'POST', headers: inbound.headers, body: inbound.body })).status).toBe(200);
    const recorded = (await isp.get('/v1/messages?direction=in')).body.items;
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ direction: 'in', customerId: 'k-1', from: '+8801811660011', text: 'I already paid', channel: 'whatsapp' });
    expect((await isp.get('/v1/messages?direction=out')).body.items.every((m: { direction: string }) => m.direction === 'out')).toBe(true);

    const forward = await waitFor(async () => sentTo(supportChat)[0], (r) => r !== undefined);
    const forwardText = (forward!.json as { text: string }).text;
    expect(forwardText).toContain('Karim &lt;Hossain&gt; (k-1), +8801811660011');
    expect(forwardText).toContain('I already paid');
    const forwardedId = (forward!.replyBody as { result: { message_id: number } }).result.message_id;
    // The forward is recorded as sent (its Telegram id is what a reply points to).
    await waitFor(() => isp.get('/v1/messages?channel=telegram&limit=50'), (r) => r.body.items.some((m: { forwardOf?: string; status: string }) => m.forwardOf === recorded[0].id && m.status === 'sent'));

    const reply = updateJson('message', messageJson({
      messageId: forwardedId + 1,
      chat: { id: supportChat, type: 'supergroup', title: 'Support' },
      from: { id: 42, firstName: 'Nadia' },
      date: Math.floor(Date.now() / 1000),
      text: 'Thanks Karim, we see your payment.',
      replyTo: { messageId: forwardedId, text: forwardText },
    }));
    const post = () => fetch(telegramGateway.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': telegramSecret }, body: JSON.stringify(reply) });
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200); // Telegram retried: answered once
    const replies = await waitFor(
      async () => (await isp.get('/v1/messages?customerId=k-1&limit=50')).body.items.filter((m: { kind?: string }) => m.kind === 'reply'),
      (items: unknown[]) => items.length > 0,
    );
    expect(replies).toHaveLength(1);
    // Within WhatsApp's 24-hour window: back on WhatsApp.
    expect(replies[0]).toMatchObject({ channel: 'whatsapp', to: '+8801811660011', text: 'Thanks Karim, we see your payment.' });
    const forged = await fetch(telegramGateway.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'wrong' }, body: JSON.stringify(reply) });
    expect(forged.status).toBe(401);
  });

  it('puts a number on the suppression list for marketing on STOP (and the operator\'s own words), and off again on START', async () => {
    await isp.request('PATCH', '/v1/settings', { optOutWords: ['বন্ধ'] });
    const say = async (id: string, text: string) => {
      const post = sandboxWhatsAppPost(whatsappSecret, whatsappGateway.webhookUrl, { type: 'inbound', id, from: '+8801811660011', text, at: new Date().toISOString() });
      expect((await fetch(post.url, { method: 'POST', headers: post.headers, body: post.body })).status).toBe(200);
    };
    await say('wamid.STOP-1', ' stop ');
    const marketing = await isp.post('/v1/messages', { customerId: 'k-1', text: 'New 100 Mbps offer!', category: 'marketing' });
    expect(marketing.status).toBe(409);
    expect(marketing.body.detail).toMatch(/suppression list \("stop" by WhatsApp/);
    // A transactional message (a receipt, an OTP) still goes.
    expect((await isp.post('/v1/messages', { customerId: 'k-1', text: 'Payment received, thank you.' })).status).toBe(202);
    await say('wamid.START-1', 'START');
    expect((await isp.post('/v1/messages', { customerId: 'k-1', text: 'New 100 Mbps offer!', category: 'marketing' })).status).toBe(202);
    await say('wamid.STOP-2', 'বন্ধ');
    expect((await isp.post('/v1/messages', { customerId: 'k-1', text: 'Offer', category: 'marketing' })).status).toBe(409);
  });
});
