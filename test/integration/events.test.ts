/**
 * Billing events on the local stack (issue 11): an event's id makes it happen once, whatever the
 * retries; its changes (bill paid, expiry, status, a new customer) are applied; its rule's messages
 * go once per channel (SMS and WhatsApp sandboxes, the local mailbox) and its alert to the team's
 * Telegram chat (a local Bot API stand-in); bad input is a 400 that writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps } from '../../shared/deps.js';
import { apiClient, waitFor } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import type { startTestStack } from '../support/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

let stack: Stack;
let api: ReturnType<typeof apiClient>;
let telegram: FakeTelegram;
const teamChat = -1005550001111;

const receipt = {
  name: 'Payment receipt',
  body: 'Dear {{customer.name}}, we received BDT {{amountFormatted}} by {{method}} (receipt {{receiptNumber}}). Service until {{customer.expiresAt}}. {{operator.name}}',
  whatsapp: { name: 'payment_receipt', language: 'en', parameters: ['{{customer.name}}', '{{amountFormatted}}', '{{receiptNumber}}'] },
  email: { subject: 'Receipt {{receiptNumber}}: BDT {{amountFormatted}}', html: '<p>Dear {{customer.name}}, we received BDT {{amountFormatted}} by {{method}} for event {{event.id}}.</p>' },
};

const payment = (id: string, overrides: Record<string, unknown> = {}) => ({
  id,
  type: 'payment.received',
  customerId: 'wa-0001',
  occurredAt: '2026-11-28T10:15:00+06:00',
  data: { amount: 150_000, currency: 'BDT', method: 'mobile', receiptNumber: `R-${id}`, ...overrides },
});

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('events', { liftRateLimit: true }));
  telegram = await startFakeTelegram();
  process.env.ISPNOTIFY_BASE_URL_TELEGRAM = telegram.baseUrl;
  expect((await api.put('/v1/templates/receipt', receipt)).status).toBe(201);
  expect((await api.put('/v1/templates/welcome', { name: 'Welcome', body: 'Welcome to {{operator.name}}, {{customer.name}} ({{package}})!' })).status).toBe(201);
  expect((await api.put('/v1/templates/status', { name: 'Status', body: 'Dear {{customer.name}}, your service is now {{event.type}}.' })).status).toBe(201);
  const bot = await api.post('/v1/gateways', { name: 'Team bot', channel: 'telegram', provider: 'telegram', credentials: { botToken: `7123456780:AAE${'y'.repeat(32)}`, webhookSecret: 'telegram-webhook-secret_0456' } });
  expect(bot.status).toBe(201);
  expect((await api.put('/v1/alert-routes/billing', { chatId: String(teamChat) })).status).toBe(201);
  const rule = await api.put('/v1/event-rules/payment.received', {
    enabled: true,
    channels: [
      { channel: 'sms', templateId: 'receipt' },
      { channel: 'whatsapp', templateId: 'receipt' },
      { channel: 'email', templateId: 'receipt' },
    ],
    alert: { purpose: 'billing', severity: 'info' },
  });
  expect(rule.status).toBe(201);
});

afterAll(async () => {
  delete process.env.ISPNOTIFY_BASE_URL_TELEGRAM;
  await telegram?.close();
  await stack?.stop();
});

const messagesOf = async (customerId: string) => (await api.get(`/v1/messages?customerId=${customerId}&limit=100`)).body.items as Array<Record<string, any>>;
const mailbox = async () => ((await (await fetch(`${stack.baseUrl}/local/mailbox`)).json()) as { items: Array<Record<string, string>> }).items;
const alertsTo = (chatId: number) => telegram.requests.filter((r) => r.apiMethod === 'sendMessage' && (r.json as { chat_id?: unknown }).chat_id === chatId);

describe('POST /v1/events: payment.received', () => {
  it('marks the bill paid, extends the service, and sends its receipt once on every channel, however often and concurrently it is posted', async () => {
    expect((await api.put('/v1/bills/b-evt-1', { customerId: 'wa-0001', amount: 150_000, currency: 'BDT', dueDate: '2026-12-05' })).status).toBe(201);
    const event = payment('evt-pay-1', { billId: 'b-evt-1', newExpiresAt: '2027-01-05' });
    const replies = await Promise.all([1, 2, 3, 4].map(() => api.post('/v1/events', event)));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 202]);
    const first = replies.find((r) => r.status === 202)!.body;
    for (const reply of replies) expect(reply.body).toEqual(first);
    expect(first.messages.map((m: { channel: string }) => m.channel)).toEqual(['sms', 'whatsapp', 'email']);
    expect(first.skipped).toEqual([]);
    expect(first.effects).toEqual([
      { kind: 'bill.paid', applied: true, detail: 'bill b-evt-1 paid at 2026-11-28T10:15:00+06:00' },
      { kind: 'customer.expiresAt', applied: true, detail: 'expiresAt 2027-01-05' },
    ]);
    // Posted again later: the first answer, nothing new.
    const again = await api.post('/v1/events', { ...event, data: { ...event.data } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first);

    expect((await api.get('/v1/bills/b-evt-1')).body).toMatchObject({ status: 'paid', paidAt: '2026-11-28T10:15:00+06:00' });
    expect((await api.get('/v1/customers/wa-0001')).body.expiresAt).toBe('2027-01-05');
    const sent = (await messagesOf('wa-0001')).filter((m) => m.templateId === 'receipt');
    expect(sent.map((m) => m.channel).sort()).toEqual(['email', 'sms', 'whatsapp']);
    const sms = sent.find((m) => m.channel === 'sms')!;
    expect(sms.text).toBe('Dear Jamal Uddin, we received BDT 1,500.00 by mobile (receipt R-evt-pay-1). Service until 2027-01-05. Demo ISP');
    // On the priority queue: a receipt never waits behind a broadcast.
    expect((await deps().messages.get('demo', sms.id))!.lane).toBe('priority');
    expect(sent.find((m) => m.channel === 'whatsapp')!.whatsappTemplate).toEqual({ name: 'payment_receipt', language: 'en', parameters: ['Jamal Uddin', '1,500.00', 'R-evt-pay-1'] });
    for (const m of sent) await waitFor(() => api.get(`/v1/messages/${m.id}`), (r) => ['sent', 'delivered', 'read'].includes(r.body.status));
    const mails = await waitFor(mailbox, (items) => items.some((mail) => mail.subject === 'Receipt R-evt-pay-1: BDT 1,500.00'));
    expect(mails.filter((mail) => mail.subject === 'Receipt R-evt-pay-1: BDT 1,500.00')).toHaveLength(1);
    // The team's alert, once.
    expect(first.alert).toMatchObject({ purpose: 'billing' });
    const alerts = await waitFor(async () => alertsTo(teamChat).filter((r) => JSON.stringify(r.json).includes('evt-pay-1')), (list) => list.length > 0);
    expect(alerts).toHaveLength(1);
    expect((alerts[0]!.json as { text: string }).text).toContain('payment.received · Jamal Uddin (wa-0001, +8801711552211) · BDT 1,500.00 by mobile · event evt-pay-1');
  });

  it('answers 409 to the same id with another body, and changes nothing', async () => {
    const event = payment('evt-pay-2');
    expect((await api.post('/v1/events', event)).status).toBe(202);
    const before = (await messagesOf('wa-0001')).length;
    const changed = await api.post('/v1/events', { ...event, data: { ...event.data, amount: 150_001 } });
    expect(changed.status).toBe(409);
    expect(changed.body.detail).toMatch(/evt-pay-2.*different body/);
    expect((await api.post('/v1/events', { ...event, customerId: 'c-0001' })).status).toBe(409);
    expect((await messagesOf('wa-0001')).length).toBe(before);
    // The same body with its keys in another order is the same event.
    const reordered = await api.post('/v1/events', { data: { receiptNumber: 'R-evt-pay-2', method: 'mobile', currency: 'BDT', amount: 150_000 }, occurredAt: event.occurredAt, customerId: 'wa-0001', type: 'payment.received', id: 'evt-pay-2' });
    expect(reordered.status).toBe(200);
  });

  it('never moves the expiry back, and keeps a paid bill\'s first paidAt', async () => {
    expect((await api.put('/v1/bills/b-evt-3', { customerId: 'c-0001', amount: 50_000, currency: 'BDT', dueDate: '2026-12-01', status: 'paid', paidAt: '2026-11-01T09:00:00Z' })).status).toBe(201);
    const current = (await api.get('/v1/customers/c-0001')).body.expiresAt;
    const reply = await api.post('/v1/events', { ...payment('evt-pay-3', { billId: 'b-evt-3', newExpiresAt: '2020-01-01', currency: 'BDT', amount: 50_000 }), customerId: 'c-0001' });
    expect(reply.status).toBe(202);
    expect(reply.body.effects).toEqual([
      { kind: 'bill.paid', applied: false, detail: 'bill b-evt-3 paid already (at 2026-11-01T09:00:00Z)' },
      { kind: 'customer.expiresAt', applied: false, detail: `expiresAt already ${current}` },
    ]);
    expect((await api.get('/v1/customers/c-0001')).body.expiresAt).toBe(current);
  });
});

describe('POST /v1/events: customer events', () => {
  it('suspends and activates a customer, once, sending the rule\'s message', async () => {
    expect((await api.put('/v1/event-rules/customer.suspended', { enabled: true, channels: [{ channel: 'sms', templateId: 'status' }] })).status).toBe(201);
    const suspended = await api.post('/v1/events', { id: 'evt-susp-1', type: 'customer.suspended', customerId: 'c-0002', occurredAt: '2026-11-28T10:00:00Z', data: { reason: 'unpaid' } });
    expect(suspended.status).toBe(202);
    expect(suspended.body.effects).toEqual([{ kind: 'customer.status', applied: true, detail: 'status suspended' }]);
    expect(suspended.body.messages).toHaveLength(1);
    expect((await api.get('/v1/customers/c-0002')).body.status).toBe('suspended');
    expect((await api.get('/v1/customers?status=suspended&limit=100')).body.items.map((c: { id: string }) => c.id)).toContain('c-0002');
    const text = (await api.get(`/v1/messages/${suspended.body.messages[0].id}`)).body.text;
    expect(text).toBe('Dear Karim Hossain, your service is now customer.suspended.');

    const activated = await api.post('/v1/events', { id: 'evt-act-1', type: 'customer.activated', customerId: 'c-0002', occurredAt: '2026-11-29T10:00:00Z', data: {} });
    expect(activated.status).toBe(202);
    expect(activated.body).toMatchObject({ effects: [{ kind: 'customer.status', applied: true, detail: 'status active' }], messages: [] });
    expect((await api.get('/v1/customers/c-0002')).body.status).toBe('active');
    // The status index moved with the status.
    expect((await api.get('/v1/customers?status=suspended&limit=100')).body.items.map((c: { id: string }) => c.id)).not.toContain('c-0002');
    const again = await api.post('/v1/events', { id: 'evt-act-2', type: 'customer.activated', customerId: 'c-0002', occurredAt: '2026-11-29T11:00:00Z', data: {} });
    expect(again.body.effects).toEqual([{ kind: 'customer.status', applied: false, detail: 'status active' }]);
  });

  it('with a disabled rule, sends nothing but still applies the change', async () => {
    expect((await api.put('/v1/event-rules/customer.suspended', { enabled: false, channels: [{ channel: 'sms', templateId: 'status' }] })).status).toBe(200);
    const before = (await messagesOf('c-0003')).length;
    const reply = await api.post('/v1/events', { id: 'evt-susp-2', type: 'customer.suspended', customerId: 'c-0003', occurredAt: '2026-11-28T10:00:00Z', data: {} });
    expect(reply.status).toBe(202);
    expect(reply.body).toMatchObject({ messages: [], skipped: [], effects: [{ kind: 'customer.status', applied: true }] });
    expect((await api.get('/v1/customers/c-0003')).body.status).toBe('suspended');
    expect((await messagesOf('c-0003')).length).toBe(before);
  });

  it('registers a new customer with a welcome, and leaves an existing one as it is', async () => {
    expect((await api.put('/v1/event-rules/customer.registered', { enabled: true, channels: [{ channel: 'auto', templateId: 'welcome' }] })).status).toBe(201);
    const data = { name: 'Nadia Karim', mobile: '01711998877', package: 'Home 40 Mbps', zone: 'Mirpur' };
    const reply = await api.post('/v1/events', { id: 'evt-reg-1', type: 'customer.registered', customerId: 'c-new-1', occurredAt: '2026-11-28T08:00:00Z', data });
    expect(reply.status).toBe(202);
    expect(reply.body.effects).toEqual([{ kind: 'customer.created', applied: true, detail: 'customer c-new-1 created' }]);
    expect((await api.get('/v1/customers/c-new-1')).body).toMatchObject({ name: 'Nadia Karim', mobile: '+8801711998877', status: 'active', package: 'Home 40 Mbps' });
    const welcome = await api.get(`/v1/messages/${reply.body.messages[0].id}`);
    expect(welcome.body).toMatchObject({ channel: 'sms', to: '+8801711998877', text: 'Welcome to Demo ISP, Nadia Karim (Home 40 Mbps)!' });

    const existing = await api.post('/v1/events', { id: 'evt-reg-2', type: 'customer.registered', customerId: 'c-0004', occurredAt: '2026-11-28T08:00:00Z', data: { ...data, name: 'Someone Else' } });
    expect(existing.status).toBe(202);
    expect(existing.body.effects).toEqual([{ kind: 'customer.created', applied: false, detail: 'customer c-0004 existed already; left as it was' }]);
    expect((await api.get('/v1/customers/c-0004')).body.name).toBe('Nusrat Jahan');
  });

  it('notes a channel it cannot use (no email address) and still sends the others', async () => {
    expect((await api.put('/v1/event-rules/service.expiring', { enabled: true, channels: [{ channel: 'email', templateId: 'receipt' }, { channel: 'sms', templateId: 'status' }] })).status).toBe(400);
    expect((await api.put('/v1/templates/expiring', { name: 'Expiring', body: 'Your service ends {{expiresAt}}.', email: { subject: 'Ends {{expiresAt}}', html: '<p>Ends {{expiresAt}}</p>' } })).status).toBe(201);
    expect((await api.put('/v1/event-rules/service.expiring', { enabled: true, channels: [{ channel: 'email', templateId: 'expiring' }, { channel: 'sms', templateId: 'expiring' }] })).status).toBe(201);
    const reply = await api.post('/v1/events', { id: 'evt-exp-1', type: 'service.expiring', customerId: 'c-0005', occurredAt: '2026-11-28T08:00:00Z', data: { expiresAt: '2026-12-01' } });
    expect(reply.status).toBe(202);
    expect(reply.body.messages).toEqual([expect.objectContaining({ index: 1, channel: 'sms', status: 'queued' })]);
    expect(reply.body.skipped).toEqual([{ index: 0, reason: expect.stringMatching(/email/i) }]);
  });
});

describe('a retry after a crash', () => {
  it('completes what the crashed attempt left undone, and repeats nothing it did', async () => {
    const { handleEvent } = await import('../../shared/services/events.js');
    const { EventInput } = await import('../../shared/domain/event-schemas.js');
    const operator = (await deps().operators.get('demo'))!;
    const event = EventInput.parse(payment('evt-crash-1', { newExpiresAt: '2027-02-01' }));
    // The first attempt dies after its effects and messages, before the result is stored.
    const crashing = { ...deps(), events: { ...deps().events, finish: async () => { throw new Error('process killed'); } } };
    await expect(handleEvent(crashing, operator, event)).rejects.toThrow('process killed');
    expect((await deps().events.get('demo', 'evt-crash-1'))!.state).toBe('pending');
    const made = (await messagesOf('wa-0001')).filter((m) => m.text?.includes('R-evt-crash-1'));
    expect(made).toHaveLength(2); // SMS and WhatsApp (the email's text is its plain part, which has no receipt number)

    const retry = await api.post('/v1/events', payment('evt-crash-1', { newExpiresAt: '2027-02-01' }));
    expect(retry.status).toBe(202);
    expect(retry.body.effects).toEqual([{ kind: 'customer.expiresAt', applied: true, detail: 'expiresAt 2027-02-01' }]);
    expect(retry.body.messages.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining(made.map((m) => m.id)));
    expect((await messagesOf('wa-0001')).filter((m) => m.text?.includes('R-evt-crash-1'))).toHaveLength(2);
    expect((await deps().events.get('demo', 'evt-crash-1'))!.state).toBe('done');
  });
});

describe('bad input', () => {
  it('answers 400 naming the field, and writes nothing (the same id is then accepted)', async () => {
    const customerBefore = (await api.get('/v1/customers/wa-0002')).body;
    expect((await api.put('/v1/bills/b-other', { customerId: 'c-0001', amount: 1000, currency: 'BDT', dueDate: '2026-12-01' })).status).toBe(201);
    const cases: Array<[unknown, string]> = [
      [{ ...payment('evt-bad'), type: 'payment.lost' }, 'type'],
      [{ ...payment('evt-bad'), data: { amount: 10, currency: 'BDT', method: 'cheque', receiptNumber: 'R1' } }, 'data.method'],
      [{ ...payment('evt-bad'), data: { amount: 10.5, currency: 'BDT', method: 'cash', receiptNumber: 'R1' } }, 'data.amount'],
      [{ ...payment('evt-bad'), data: { currency: 'BDT', method: 'cash', receiptNumber: 'R1' } }, 'data.amount'],
      [{ ...payment('evt-bad'), data: { ...payment('x').data, extra: 1 } }, 'data'],
      [{ ...payment('evt-bad'), occurredAt: 'yesterday' }, 'occurredAt'],
      [{ ...payment('evt-bad'), customerId: 'nobody' }, 'customerId'],
      [payment('evt-bad', { billId: 'no-such-bill' }), 'data.billId'],
      [payment('evt-bad', { billId: 'b-other' }), 'data.billId'],
      [{ ...payment('evt-bad', { billId: 'b-other', currency: 'USD' }), customerId: 'c-0001' }, 'data.currency'],
      [{ id: 'evt-bad', type: 'customer.registered', customerId: 'c-bad', occurredAt: '2026-11-28T08:00:00Z', data: { name: 'X', mobile: 'not a number' } }, 'data.mobile'],
      [{ id: 'evt-bad', type: 'bill.due', customerId: 'wa-0002', occurredAt: '2026-11-28T08:00:00Z', data: { billId: 'b1', amount: 1, currency: 'BDT', dueDate: '1 Dec' } }, 'data.dueDate'],
    ];
    for (const [body, field] of cases) {
      const reply = await api.post('/v1/events', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.errors.map((e: { field: string }) => e.field), JSON.stringify(reply.body)).toContain(field);
    }
    expect((await api.get('/v1/customers/c-bad')).status).toBe(404);
    expect((await api.get('/v1/bills/b-other')).body.status).toBe('unpaid');
    expect(await deps().events.get('demo', 'evt-bad')).toBeUndefined();
    // Nothing was recorded under the id: a good event with it is new.
    expect((await api.post('/v1/events', { ...payment('evt-bad'), customerId: 'wa-0002' })).status).toBe(202);
    expect((await api.get('/v1/customers/wa-0002')).body.expiresAt).toBe(customerBefore.expiresAt);
  });
});

describe('event rules', () => {
  it('are listed and read (also with a read-only key), and 404 until set', async () => {
    const listed = await api.get('/v1/event-rules');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((r: { type: string }) => r.type)).toEqual(expect.arrayContaining(['payment.received', 'customer.suspended']));
    expect((await api.get('/v1/event-rules/payment.received')).body).toMatchObject({ type: 'payment.received', enabled: true, alert: { purpose: 'billing', severity: 'info' } });
    expect((await api.get('/v1/event-rules/bill.due')).status).toBe(404);
    expect((await api.get('/v1/event-rules/no.such')).status).toBe(400);
    const key = await api.post('/v1/keys', { role: 'read-only' });
    const reader = apiClient(stack.baseUrl, key.body.apiKey);
    expect((await reader.get('/v1/event-rules/payment.received')).status).toBe(200);
    expect((await reader.put('/v1/event-rules/bill.due', { enabled: false })).status).toBe(403);
    expect((await reader.post('/v1/events', payment('evt-ro'))).status).toBe(403);
  });

  it('refuse what cannot be used: a missing template, an email template without an email part, unknown variables, an unset alert purpose', async () => {
    const problems = async (body: unknown, type = 'bill.due') => {
      const reply = await api.put(`/v1/event-rules/${type}`, body);
      expect(reply.status).toBe(400);
      return reply.body.errors as Array<{ field: string; message: string }>;
    };
    expect(await problems({ enabled: true, channels: [{ channel: 'sms', templateId: 'nope' }] })).toEqual([{ field: 'channels.0.templateId', message: 'no template with id "nope"' }]);
    expect((await problems({ enabled: true, channels: [{ channel: 'email', templateId: 'welcome' }] }))[0]!.message).toMatch(/no email part/);
    // welcome uses {{package}}, which payment events do not give.
    expect((await problems({ enabled: true, channels: [{ channel: 'sms', templateId: 'welcome' }] }, 'payment.failed'))[0]!.message).toMatch(/uses \{\{package\}\}/);
    expect(await problems({ enabled: true, alert: { purpose: 'nobody' } })).toEqual([{ field: 'alert.purpose', message: expect.stringMatching(/no alert route for "nobody"/) }]);
    expect((await problems({ enabled: true, channels: [{ channel: 'telegram', templateId: 'welcome' }] }))[0]!.field).toBe('channels.0.channel');
    expect((await api.get('/v1/event-rules/bill.due')).status).toBe(404);
  });
});

describe('the EventBridge bus', () => {
  const busEvent = (detail: Record<string, unknown>, detailType = 'payment.received', source = 'ispnotify.billing') => ({
    version: '0', id: 'eb-1', 'detail-type': detailType, source, account: '123456789012', time: '2026-11-28T04:15:00Z', region: 'us-east-1', resources: [], detail,
  });

  it('handles a billing event like POST /v1/events, once however often it is delivered', async () => {
    const { handler } = await import('../../functions/events/billing-bus.js');
    const { createLambdaContext } = await import('../../shared/local/lambda-invoke.js');
    const context = () => createLambdaContext({ functionName: 'billing-events', timeoutSeconds: 29 });
    const { id, type: _type, ...rest } = payment('evt-bus-1');
    const first = await handler(busEvent({ operatorId: 'demo', id, ...rest }), context());
    const second = await handler(busEvent({ operatorId: 'demo', id, ...rest }), context());
    expect(second).toEqual(first);
    expect(first).toMatchObject({ id: 'evt-bus-1', messages: [{ channel: 'sms' }, { channel: 'whatsapp' }, { channel: 'email' }] });
    expect((await messagesOf('wa-0001')).filter((m) => m.text?.includes('R-evt-bus-1') && m.channel === 'sms')).toHaveLength(1);
    // A bad event fails the invocation (retried, then kept in the DLQ), having written nothing.
    await expect(handler(busEvent({ operatorId: 'demo', id: 'evt-bus-2', ...rest }, 'payment.lost'), context())).rejects.toThrow(/refused: event evt-bus-2.*type/);
    await expect(handler(busEvent({ operatorId: 'nobody', id: 'evt-bus-3', ...rest }), context())).rejects.toThrow(/no operator "nobody"/);
    await expect(handler(busEvent({ operatorId: 'demo', id: 'evt-bus-4', ...rest }, 'payment.received', 'someone.else'), context())).rejects.toThrow(/source/);
    expect(await deps().events.get('demo', 'evt-bus-2')).toBeUndefined();
  });
});
