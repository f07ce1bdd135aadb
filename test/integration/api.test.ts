import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api-client.js';
import { addOperator, startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let other: ReturnType<typeof apiClient>;

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('api', { liftRateLimit: true }));
  // A second operator with its own key: it must never see the demo operator's data.
  other = await addOperator(stack.baseUrl, 'other-isp');
});

afterAll(async () => {
  await stack?.stop();
});

const fields = (reply: { body: { errors?: { field: string }[] } }) => (reply.body.errors ?? []).map((e) => e.field);

describe('authentication', () => {
  it('answers 401 problem+json without a key, with a wrong key and with a malformed header', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer isk_wrongwrongwrongwrongwrong' }, { authorization: 'Basic abc' }];
    for (const headers of attempts) {
      const reply = await apiClient(stack.baseUrl).get('/v1/customers', headers);
      expect(reply.status).toBe(401);
      expect(reply.headers.get('content-type')).toBe('application/problem+json');
      expect(reply.body).toMatchObject({ status: 401, title: 'Unauthorized' });
    }
  });

  it('serves /health and /openapi.json without a key', async () => {
    const client = apiClient(stack.baseUrl);
    expect((await client.get('/health')).body).toEqual({ status: 'ok' });
    const doc = await client.get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/messages', '/v1/customers/{id}', '/v1/messages/preview']));
    expect(doc.body.components.schemas.SendMessage).toBeDefined();
  });

  it('hides another operator\'s customers and messages behind 404', async () => {
    await api.put('/v1/customers/private-1', { name: 'Private', mobile: '01711000999' });
    const sent = await api.post('/v1/messages', { customerId: 'private-1', text: 'hi' });
    expect((await other.get('/v1/customers/private-1')).status).toBe(404);
    expect((await other.get(`/v1/messages/${sent.body.id}`)).status).toBe(404);
    expect((await other.get('/v1/customers')).body.items).toEqual([]);
    const viaOther = await other.post('/v1/messages', { customerId: 'private-1', text: 'hi' });
    expect(viaOther.status).toBe(404);
    expect(fields(viaOther)).toEqual(['customerId']);
  });
});

describe('customers', () => {
  it('normalises mobile numbers to E.164 with the operator\'s country and keeps createdAt on replace', async () => {
    const created = await api.put('/v1/customers/cust-norm', { name: 'Karim', mobile: '017 1122 3344', whatsapp: '+8801811223344', status: 'billed' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'cust-norm', mobile: '+8801711223344', whatsapp: '+8801811223344', status: 'billed' });
    const replaced = await api.put('/v1/customers/cust-norm', { name: 'Karim H', mobile: '01711223344' });
    expect(replaced.status).toBe(200);
    expect(replaced.body.createdAt).toBe(created.body.createdAt);
    expect(replaced.body.status).toBe('active');
    expect((await api.get('/v1/customers/cust-norm')).body.name).toBe('Karim H');
  });

  it('answers 400 naming the field for an invalid number, a wrong status and unknown fields', async () => {
    const badMobile = await api.put('/v1/customers/c-bad', { name: 'X', mobile: '12345' });
    expect(badMobile.status).toBe(400);
    expect(fields(badMobile)).toEqual(['mobile']);
    const badStatus = await api.put('/v1/customers/c-bad', { name: 'X', mobile: '01711223344', status: 'gone' });
    expect(fields(badStatus)).toEqual(['status']);
    const unknown = await api.put('/v1/customers/c-bad', { name: 'X', mobile: '01711223344', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].message).toMatch(/colour/);
    const missing = await api.put('/v1/customers/c-bad', {});
    expect(fields(missing).sort()).toEqual(['mobile', 'name']);
    expect((await api.get('/v1/customers/c-bad')).status).toBe(404);
  });

  it('answers 400 for malformed JSON and for a path id that is not an id', async () => {
    const malformed = await api.request('PUT', '/v1/customers/c-x', '{"name": "X",', { 'content-type': 'application/json' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.detail).toMatch(/not valid JSON/);
    const badId = await api.get(`/v1/customers/${encodeURIComponent('a b/c')}`);
    expect([400, 404]).toContain(badId.status);
  });

  it('imports valid rows, reports each invalid row with its fields, and keeps nothing of the bad rows', async () => {
    const reply = await api.post('/v1/customers/import', {
      customers: [
        { id: 'imp-1', name: 'One', mobile: '01711000001', zone: 'Uttara' },
        { id: 'imp-2', name: 'Two', mobile: 'not-a-number' },
        { id: 'imp-3', name: 'Three', mobile: '01711000003', zone: 'Uttara', status: 'suspended' },
        { name: 'No id', mobile: '01711000004' },
        { id: 'imp-1', name: 'Duplicate', mobile: '01711000005' },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.received).toBe(5);
    expect(reply.body.imported).toBe(2);
    expect(reply.body.failed.map((f: { index: number }) => f.index)).toEqual([1, 3, 4]);
    expect(reply.body.failed[0].errors[0].field).toBe('mobile');
    expect(reply.body.failed[1].errors[0].field).toBe('id');
    expect((await api.get('/v1/customers/imp-2')).status).toBe(404);
    expect((await api.get('/v1/customers/imp-1')).body.name).toBe('One');
  });

  it('refuses an import of more than 1,000 rows or of only bad rows', async () => {
    const tooMany = await api.post('/v1/customers/import', { customers: Array.from({ length: 1001 }, (_, i) => ({ id: `x${i}`, name: 'x', mobile: '01711000001' })) });
    expect(tooMany.status).toBe(400);
    expect(fields(tooMany)).toEqual(['customers']);
    const allBad = await api.post('/v1/customers/import', { customers: [{ id: 'b1', name: 'B', mobile: '1' }] });
    expect(allBad.status).toBe(400);
    expect(fields(allBad)).toEqual(['customers[0].mobile']);
  });

  it('lists with filters, text search and cursor paging without skipping or repeating anyone', async () => {
    const all = [];
    let cursor: string | undefined;
    do {
      const page = await api.get(`/v1/customers?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(7);
      all.push(...page.body.items);
      cursor = page.body.cursor;
    } while (cursor);
    const ids = all.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.startsWith('c-00'))).toHaveLength(20);

    const suspended = await api.get('/v1/customers?status=suspended&zone=Uttara');
    expect(suspended.body.items.map((c: { id: string }) => c.id)).toContain('imp-3');
    expect(suspended.body.items.every((c: { status: string; zone: string }) => c.status === 'suspended' && c.zone === 'Uttara')).toBe(true);

    const byName = await api.get('/v1/customers?q=fatema');
    expect(byName.body.items.map((c: { name: string }) => c.name)).toContain('Fatema Begum');
    const byMobile = await api.get('/v1/customers?q=01711110000');
    expect(byMobile.body.items.map((c: { id: string }) => c.id)).toEqual(['c-0020']);

    const reseller = await api.get('/v1/customers?resellerId=reseller-north&limit=100');
    expect(reseller.body.items.length).toBe(4);
  });

  it('answers 400 for a bad limit or a tampered cursor', async () => {
    expect(fields(await api.get('/v1/customers?limit=0'))).toEqual(['limit']);
    expect(fields(await api.get('/v1/customers?limit=abc'))).toEqual(['limit']);
    const forged = Buffer.from(JSON.stringify({ pk: 'OP#other-isp', sk: 'CUST#x' })).toString('base64url');
    const reply = await api.get(`/v1/customers?cursor=${forged}`);
    expect(reply.status).toBe(400);
    expect(fields(reply)).toEqual(['cursor']);
    expect((await api.get('/v1/customers?cursor=%%%')).status).toBe(400);
  });
});

describe('messages', () => {
  it('previews Bangla, emoji and extension characters as carriers bill them', async () => {
    const bangla = await api.post('/v1/messages/preview', { text: 'আপনার বিল ৫০০ টাকা বকেয়া' });
    expect(bangla.status).toBe(200);
    expect(bangla.body).toMatchObject({ encoding: 'UCS-2', characters: 25, segments: 1, maxSegments: 10 });
    const gsm = await api.post('/v1/messages/preview', { text: 'Pay {now} €5' });
    expect(gsm.body).toMatchObject({ encoding: 'GSM-7', characters: 15, segments: 1 });
    const long = await api.post('/v1/messages/preview', { text: 'a'.repeat(161) });
    expect(long.body).toMatchObject({ encoding: 'GSM-7', characters: 161, segments: 2 });
    const rendered = await api.post('/v1/messages/preview', { customerId: 'c-0001', templateId: 'due-reminder', variables: { amount: 500, dueDate: '1 Dec', payLink: 'https://p.example/1' } });
    expect(rendered.body.text).toContain('Dear Rahim Uddin');
  });

  it('answers 400 for every wrong send, naming the fields', async () => {
    const cases: [unknown, string[]][] = [
      [{ text: 'hi' }, ['customerId']],
      [{ mobile: '01711223344' }, ['text']],
      [{ mobile: '01711223344', customerId: 'c-0001', text: 'hi' }, ['customerId']],
      [{ mobile: '12', text: 'hi' }, ['mobile']],
      [{ mobile: '01711223344', text: '' }, ['text']],
      [{ mobile: '01711223344', text: 'x'.repeat(1601) }, ['text']],
      [{ mobile: '01711223344', text: '৳'.repeat(700) }, ['text']],
      [{ mobile: '01711223344', templateId: 'due-reminder', variables: {} }, ['variables.amount', 'variables.dueDate', 'variables.payLink']],
      [{ mobile: '01711223344', text: 'hi', extra: 1 }, ['extra']],
      [[1, 2], ['body']],
    ];
    for (const [body, expected] of cases) {
      const reply = await api.post('/v1/messages', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.headers.get('content-type')).toBe('application/problem+json');
      expect(fields(reply).filter((f) => !f.startsWith('variables.customer'))).toEqual(expected);
    }
    const over = await api.post('/v1/messages', { mobile: '01711223344', text: '৳'.repeat(700) });
    expect(over.body.detail).toMatch(/maximum is 10 segments/);
  });

  it('answers 404 for an unknown customer or template, naming the field', async () => {
    const customer = await api.post('/v1/messages', { customerId: 'nobody', text: 'hi' });
    expect(customer.status).toBe(404);
    expect(fields(customer)).toEqual(['customerId']);
    const template = await api.post('/v1/messages', { mobile: '01711223344', templateId: 'nope' });
    expect(template.status).toBe(404);
    expect(fields(template)).toEqual(['templateId']);
  });

  it('lists newest first with filters and validates the date range', async () => {
    const first = await api.post('/v1/messages', { mobile: '01711223388', text: 'first' });
    const second = await api.post('/v1/messages', { mobile: '01711223388', text: 'second' });
    const list = await api.get('/v1/messages?limit=2');
    expect(list.body.items.map((m: { id: string }) => m.id)).toEqual([second.body.id, first.body.id]);
    const from = new Date(Date.parse(second.body.createdAt)).toISOString();
    const since = await api.get(`/v1/messages?from=${from}`);
    expect(since.body.items.map((m: { id: string }) => m.id)).toContain(second.body.id);
    expect(since.body.items.map((m: { id: string }) => m.id)).not.toContain(first.body.id);
    expect(fields(await api.get('/v1/messages?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z'))).toEqual(['from']);
    expect(fields(await api.get('/v1/messages?status=lost'))).toEqual(['status']);
    expect(fields(await api.get('/v1/messages?from=yesterday'))).toEqual(['from']);
  });
});

describe('an operator without a gateway', () => {
  it('gets a 409 that says how to add one, and nothing is stored', async () => {
    const reply = await other.post('/v1/messages', { mobile: '+919812345678', text: 'hi' });
    expect(reply.status).toBe(409);
    expect(reply.body.detail).toMatch(/POST \/v1\/gateways/);
    expect((await other.get('/v1/messages')).body.items).toEqual([]);
  });
});

describe('gateways', () => {
  it('validates credentials with the provider\'s schema and never returns them', async () => {
    const unknown = await api.post('/v1/gateways', { name: 'X', provider: 'carrier-pigeon', credentials: {} });
    expect(unknown.status).toBe(400);
    expect(fields(unknown)).toEqual(['provider']);
    const badCreds = await api.post('/v1/gateways', { name: 'T', provider: 'twilio', credentials: { accountSid: 'nope' }, settings: { from: '+15005550006' } });
    expect(badCreds.status).toBe(400);
    expect(fields(badCreds)).toEqual(expect.arrayContaining(['credentials.accountSid', 'credentials.authToken']));
    const noCreds = await api.post('/v1/gateways', { name: 'T', provider: 'sandbox' });
    expect(fields(noCreds)).toEqual(['credentials']);
    const listed = await api.get('/v1/gateways');
    // The demo's gateways: the SMS and WhatsApp sandboxes and the local mailbox; nothing refused above was stored.
    expect(listed.body.items.map((g: { channel: string; provider: string }) => `${g.channel}/${g.provider}`).sort()).toEqual(['email/smtp', 'sms/sandbox', 'whatsapp/sandbox']);
    for (const gateway of listed.body.items.filter((g: { provider: string }) => g.provider === 'sandbox')) expect(gateway.credentials).toEqual({ webhookSecret: '********' });
    expect(JSON.stringify(listed.body)).not.toMatch(/sealed|local:v1/);
  });
});

describe('no input makes the API answer 500', () => {
  it('answers every route with a 2xx or 4xx for junk bodies, params and queries', async () => {
    const junkBodies = ['', 'null', '[]', '"str"', '{"a":', '{"customers": "x"}', '{"text": 5, "mobile": {}}', '\u0000', '{"__proto__": {"x": 1}}', JSON.stringify({ id: 'x'.repeat(5000) })];
    const paths = [
      ['POST', '/v1/messages'],
      ['POST', '/v1/messages/preview'],
      ['PUT', '/v1/customers/abc'],
      ['PUT', `/v1/customers/${'x'.repeat(2000)}`],
      ['POST', '/v1/customers/import'],
      ['PUT', '/v1/templates/t1'],
      ['POST', '/v1/gateways'],
      ['PUT', `/v1/gateways/${'y'.repeat(1500)}`],
      ['POST', `/v1/messages/${'z'.repeat(1500)}/resend`],
      ['POST', '/webhooks/sms/twilio/whatever'],
      ['POST', `/webhooks/sms/sandbox/${'q'.repeat(1500)}`],
    ];
    for (const [method, path] of paths) {
      for (const body of junkBodies) {
        const reply = await api.request(method!, path!, body, { 'content-type': 'application/json' });
        expect(reply.status, `${method} ${path} ${JSON.stringify(body)}`).toBeLessThan(500);
      }
    }
    for (const query of ['limit=-1', 'cursor=', 'from=2026-13-45T00:00:00Z', 'customerId=%00', 'q=a', `customerId=${'c'.repeat(2000)}`]) {
      expect((await api.get(`/v1/messages?${query}`)).status, query).toBeLessThan(500);
      expect((await api.get(`/v1/customers?${query}`)).status, query).toBeLessThan(500);
    }
    expect((await api.get(`/v1/messages/${'m'.repeat(2000)}`)).status).toBe(400);
  });
});

describe('customer import over existing customers', () => {
  it('replaces an imported customer but keeps when it was first created', async () => {
    const first = await api.put('/v1/customers/reimport-1', { name: 'Before', mobile: '01711000011' });
    const reply = await api.post('/v1/customers/import', { customers: [{ id: 'reimport-1', name: 'After', mobile: '01711000012', status: 'expired' }] });
    expect(reply.body.imported).toBe(1);
    const after = await api.get('/v1/customers/reimport-1');
    expect(after.body).toMatchObject({ name: 'After', mobile: '+8801711000012', status: 'expired', createdAt: first.body.createdAt });
    expect(after.body.updatedAt >= first.body.updatedAt).toBe(true);
  });
});
