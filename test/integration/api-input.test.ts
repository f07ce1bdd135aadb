/**
 * Bad input through the real local API: every mistake a client can make in a body, a header or a
 * path is a 4xx that names the field and says what is wrong, never a 5xx and never a broken SMS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiReply } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  // This file sends many requests in quick succession.
  ({ stack, api } = await startDemoStack('api-input', { liftRateLimit: true }));
});

afterAll(async () => {
  await stack?.stop();
});

const fields = (reply: ApiReply): string[] => (reply.body?.errors ?? []).map((e: { field: string }) => e.field);
const messageFor = (reply: ApiReply, field: string): string | undefined =>
  (reply.body?.errors ?? []).find((e: { field: string }) => e.field === field)?.message;
const label = (reply: ApiReply) => JSON.stringify(reply.body);

describe('template variables resolve on the given data only', () => {
  it('answers 400 naming variables.constructor when a template uses {{constructor}}, and stores no message', async () => {
    expect((await api.put('/v1/templates/t-ctor', { name: 'Constructor', body: 'Hi {{constructor}}' })).status).toBe(201);
    const before = (await api.get('/v1/messages?customerId=c-0002&limit=100')).body.items.length;
    const reply = await api.post('/v1/messages', { customerId: 'c-0002', templateId: 't-ctor' });
    expect(reply.status, label(reply)).toBe(400);
    expect(reply.headers.get('content-type')).toBe('application/problem+json');
    expect(fields(reply)).toEqual(['variables.constructor']);
    expect((await api.get('/v1/messages?customerId=c-0002&limit=100')).body.items.length).toBe(before);
  });

  it('treats names inherited from Object.prototype, String.prototype or the data as unknown variables, never a 500', async () => {
    const names = ['constructor', '__defineGetter__', 'valueOf', 'toString', 'hasOwnProperty', '__proto__', 'customer.constructor', 'customer.name.constructor', 'customer.name.length'];
    for (const [i, name] of names.entries()) {
      const id = `t-proto-${i}`;
      expect((await api.put(`/v1/templates/${id}`, { name, body: `Hi {{${name}}} and {{{${name}}}} and {{&${name}}}` })).status, name).toBe(201);
      const reply = await api.post('/v1/messages/preview', { customerId: 'c-0001', templateId: id });
      expect(reply.status, `${name}: ${label(reply)}`).toBe(400);
      expect(fields(reply), name).toEqual([`variables.${name}`]);
      expect(messageFor(reply, `variables.${name}`)).toBe('is required by the template');
    }
  });

  it('answers 400 for {{customer}} on its own, so "[object Object]" never reaches a text', async () => {
    await api.put('/v1/templates/t-object', { name: 'Object', body: 'Dear {{customer}}, your bill is due.' });
    const reply = await api.post('/v1/messages', { customerId: 'c-0001', templateId: 't-object' });
    expect(reply.status, label(reply)).toBe(400);
    expect(fields(reply)).toEqual(['variables.customer']);
    expect(messageFor(reply, 'variables.customer')).toBe('is an object; use one of its fields, such as customer.name');
  });

  it('keeps sections over an object working', async () => {
    await api.put('/v1/templates/t-section', { name: 'Section', body: '{{#customer}}Dear {{name}} ({{zone}}){{/customer}}, from {{operator.name}}' });
    const reply = await api.post('/v1/messages/preview', { customerId: 'c-0001', templateId: 't-section' });
    expect(reply.status, label(reply)).toBe(200);
    expect(reply.body.text).toBe('Dear Rahim Uddin (Mirpur), from Demo ISP');
  });
});

describe('texts', () => {
  it('answers 400 naming text for a NUL character, with its code point and position', async () => {
    const reply = await api.post('/v1/messages', { customerId: 'c-0001', text: '\u0000hi' });
    expect(reply.status, label(reply)).toBe(400);
    expect(fields(reply)).toEqual(['text']);
    expect(messageFor(reply, 'text')).toBe('contains a control character U+0000 at position 1; only newline and tab are allowed');
  });

  it('answers 400 naming text for a whitespace-only text', async () => {
    for (const text of ['   ', ' \n\t ', '\u00a0\u2003']) {
      const reply = await api.post('/v1/messages', { customerId: 'c-0001', text });
      expect(reply.status, JSON.stringify(text)).toBe(400);
      expect(fields(reply)).toEqual(['text']);
    }
  });

  it('answers 400 naming templateId when a template renders to whitespace only', async () => {
    await api.put('/v1/templates/t-blank', { name: 'Blank', body: '{{note}} {{#late}}Pay now{{/late}}' });
    const reply = await api.post('/v1/messages', { customerId: 'c-0001', templateId: 't-blank', variables: { note: '  ', late: false } });
    expect(reply.status, label(reply)).toBe(400);
    expect(fields(reply)).toEqual(['templateId']);
  });

  it('answers 400 naming the field for control characters in names, zone, package, templates and variables', async () => {
    const customer = { name: 'Rahim', mobile: '01711223344' };
    const cases: [string, string, unknown, string][] = [
      ['PUT', '/v1/customers/cc-1', { ...customer, name: 'Rahim\u0007' }, 'name'],
      ['PUT', '/v1/customers/cc-1', { ...customer, zone: 'Mirpur\u007f' }, 'zone'],
      ['PUT', '/v1/customers/cc-1', { ...customer, package: 'Home\u0085' }, 'package'],
      ['PUT', '/v1/templates/cc-1', { name: 'Due\u001b', body: 'Hi' }, 'name'],
      ['PUT', '/v1/templates/cc-1', { name: 'Due', body: 'Hi\r\n{{name}}' }, 'body'],
      ['POST', '/v1/gateways', { name: 'Sandbox\u0000', provider: 'sandbox', credentials: { webhookSecret: 'x'.repeat(32) } }, 'name'],
      ['POST', '/v1/messages', { customerId: 'c-0001', templateId: 'due-reminder', variables: { amount: '500\u0000', dueDate: '1 Dec', payLink: 'https://p.example/1' } }, 'variables.amount'],
      ['POST', '/v1/messages', { customerId: 'c-0001', text: 'Pay \ud800 now' }, 'text'],
    ];
    for (const [method, path, body, field] of cases) {
      const reply = await api.request(method, path, body);
      expect(reply.status, `${method} ${path} ${JSON.stringify(body)}: ${label(reply)}`).toBe(400);
      expect(fields(reply), JSON.stringify(body)).toEqual([field]);
    }
    expect((await api.get('/v1/customers/cc-1')).status).toBe(404);
    expect((await api.get('/v1/templates/cc-1')).status).toBe(404);
  });

  it('accepts newlines and tabs in a text', async () => {
    const reply = await api.post('/v1/messages/preview', { text: 'Dear Rahim,\n\tyour bill is due.' });
    expect(reply.status, label(reply)).toBe(200);
  });
});

describe('variables', () => {
  const many = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`v${i}`, i]));

  it('answers 400 naming variables for 51 names and accepts 50', async () => {
    const tooMany = await api.post('/v1/messages', { customerId: 'c-0001', templateId: 'due-reminder', variables: { ...many(48), amount: 1, dueDate: 'x', payLink: 'y' } });
    expect(tooMany.status, label(tooMany)).toBe(400);
    expect(fields(tooMany)).toEqual(['variables']);
    const fifty = await api.post('/v1/messages/preview', { customerId: 'c-0001', templateId: 'due-reminder', variables: { ...many(47), amount: 1, dueDate: 'x', payLink: 'y' } });
    expect(fifty.status, label(fifty)).toBe(200);
  });

  it('answers 400 saying what a variable value may be when it is an object', async () => {
    const reply = await api.post('/v1/messages/preview', { text: 'hi', variables: { amount: { value: 1 } } });
    expect(reply.status).toBe(400);
    expect(fields(reply)).toEqual(['variables.amount']);
    expect(messageFor(reply, 'variables.amount')).toBe('must be a string, a number or true or false');
  });
});

describe('field errors say what is wrong', () => {
  it('says "must be a string" for a number where the text belongs, and "is required" only when it is absent', async () => {
    const number = await api.post('/v1/messages', { customerId: 'c-0001', text: 5 });
    expect(number.status).toBe(400);
    expect(number.body.errors).toEqual([{ field: 'text', message: 'must be a string' }]);
    const nullMobile = await api.put('/v1/customers/fe-1', { name: 'X', mobile: null });
    expect(nullMobile.body.errors).toEqual([{ field: 'mobile', message: 'must be a string' }]);
    const missing = await api.put('/v1/customers/fe-1', { name: 'X' });
    expect(missing.body.errors).toEqual([{ field: 'mobile', message: 'is required' }]);
    const flag = await api.post('/v1/gateways', { name: 'G', provider: 'sandbox', default: 'yes' });
    expect(messageFor(flag, 'default')).toBe('must be true or false');
  });

  it('names an import row that is not an object by its index, saying it must be an object', async () => {
    const reply = await api.post('/v1/customers/import', { customers: ['Rahim', { id: 'imp-x', name: 'X', mobile: 5 }] });
    expect(reply.status, label(reply)).toBe(400);
    expect(reply.body.errors).toEqual([
      { field: 'customers[0]', message: 'must be an object' },
      { field: 'customers[1].mobile', message: 'must be a string' },
    ]);
  });

  it('answers 400 naming body "must be a JSON object" for an array, string, number or null body', async () => {
    for (const body of ['[]', '[1,2]', '"text"', '5', 'null', 'true']) {
      const reply = await api.request('POST', '/v1/messages', body, { 'content-type': 'application/json' });
      expect(reply.status, body).toBe(400);
      expect(reply.body.errors, body).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
    }
  });

  it('answers 400 naming body for malformed JSON', async () => {
    const reply = await api.request('POST', '/v1/messages', '{"text":', { 'content-type': 'application/json' });
    expect(reply.status).toBe(400);
    expect(fields(reply)).toEqual(['body']);
  });

  it('answers 415 problem+json for a body that is not sent as JSON', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/json-seq', 'application/jsonx']) {
      const reply = await api.request('POST', '/v1/messages', '{"customerId":"c-0001","text":"hi"}', { 'content-type': contentType });
      expect(reply.status, contentType).toBe(415);
      expect(reply.headers.get('content-type')).toBe('application/problem+json');
      expect(reply.body).toMatchObject({ status: 415, title: 'Unsupported Media Type' });
    }
  });

  it('accepts JSON with a charset and structured +json media types', async () => {
    for (const contentType of ['application/json; charset=utf-8', 'Application/JSON', 'application/merge-patch+json', 'application/vnd.api+json; charset=UTF-8']) {
      const reply = await api.request('POST', '/v1/messages/preview', '{"text":"hi"}', { 'content-type': contentType });
      expect(reply.status, contentType).toBe(200);
    }
  });

  it('names the path parameter id for an id that is too long, on every resource', async () => {
    const long = 'x'.repeat(70);
    for (const path of [`/v1/customers/${long}`, `/v1/templates/${long}`, `/v1/gateways/${long}`, `/v1/messages/${long}`]) {
      const reply = await api.get(path);
      expect(reply.status, path).toBe(400);
      expect(fields(reply), path).toEqual(['id']);
    }
  });
});

describe('idempotency', () => {
  it('returns the first message when the same request repeats with its variables in another order', async () => {
    const headers = { 'idempotency-key': 'reordered-variables-1' };
    const first = await api.post('/v1/messages', { customerId: 'c-0001', templateId: 'due-reminder', variables: { amount: 500, dueDate: '1 Dec', payLink: 'https://p.example/1' } }, headers);
    expect(first.status, label(first)).toBe(202);
    const again = await api.post('/v1/messages', { variables: { payLink: 'https://p.example/1', dueDate: '1 Dec', amount: 500 }, templateId: 'due-reminder', customerId: 'c-0001' }, headers);
    expect(again.status, label(again)).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    const different = await api.post('/v1/messages', { customerId: 'c-0001', templateId: 'due-reminder', variables: { amount: 600, dueDate: '1 Dec', payLink: 'https://p.example/1' } }, headers);
    expect(different.status).toBe(409);
  });
});

describe('gateway settings never choose where we call', () => {
  it('refuses a Twilio gateway whose settings carry an API base URL (an internal address or any other)', async () => {
    for (const apiBaseUrl of ['http://127.0.0.1:4010/reflect', 'http://169.254.169.254/latest/meta-data', 'https://api.twilio.com']) {
      const reply = await api.post('/v1/gateways', {
        name: 'Reflector',
        provider: 'twilio',
        credentials: { accountSid: `AC${'ab'.repeat(16)}`, authToken: 'twilio-auth-token-0123456789' },
        settings: { from: '+15005550006', apiBaseUrl },
      });
      expect(reply.status, apiBaseUrl).toBe(400);
      expect(JSON.stringify(reply.body.errors)).toContain('apiBaseUrl');
    }
    const gateways = (await api.get('/v1/gateways')).body.items as { name: string }[];
    expect(gateways.map((g) => g.name)).not.toContain('Reflector');
  });
});
