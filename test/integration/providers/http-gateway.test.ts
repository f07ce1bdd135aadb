import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpGatewayCredentials, HttpGatewaySettings, httpGatewaySms, type HttpGatewaySettingsInput } from '../../../shared/adapters/providers/sms/http-gateway.js';
import { smsProvider } from '../../../shared/adapters/providers/sms/registry.js';
import { GatewayFault, ProviderRejected, ProviderUnavailable } from '../../../shared/domain/errors.js';
import type { OutboundSms, ProviderContext, WebhookRequest } from '../../../shared/ports.js';

const ENV = 'ISPNOTIFY_ALLOW_PRIVATE_URLS';
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
const credentials = { apiKey: 'key-0123456789/&=', account: 'AC 42', webhookSecret: 'a-webhook-secret-of-32-characters' };
const TEXT = 'Bill <500> & "due" \'now\' বিল';
const sms = (to = '+8801711223344', text = TEXT): OutboundSms => ({ messageId: '01JNMSG0000000000000000000', to, text });

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
let seen: Seen[] = [];
let reply: { status: number; body: string; contentType?: string } = { status: 200, body: '{}' };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json' });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const before = process.env[ENV];
beforeEach(() => {
  process.env[ENV] = '1';
  seen = [];
  reply = { status: 200, body: '{}' };
});
afterEach(() => {
  if (before === undefined) delete process.env[ENV];
  else process.env[ENV] = before;
});

function settings(input: Omit<HttpGatewaySettingsInput, 'request'> & { request: Partial<HttpGatewaySettingsInput['request']> }): HttpGatewaySettings {
  return HttpGatewaySettings.parse({ sender: 'MyISP', ...input, request: { method: 'POST', url: `${base}/send`, ...input.request } });
}

const send = (s: HttpGatewaySettings, message = sms()) => httpGatewaySms.send(message, { credentials, settings: s }, ctx);

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('the http provider', () => {
  it('is registered under the id "http"', () => {
    expect(smsProvider('http')).toBe(httpGatewaySms);
  });

  it('POSTs a form body with the values encoded by the adapter, not HTML-escaped', async () => {
    const s = settings({ request: { contentType: 'form', body: { key: '{{credentials.apiKey}}', to: '{{to}}', msg: '{{text}}', from: '{{sender}}', ref: '{{messageId}}', fixed: 'a&b' } } });
    await send(s);
    const [req] = seen;
    expect(req!.method).toBe('POST');
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(req!.body);
    expect(Object.fromEntries(form)).toEqual({ key: credentials.apiKey, to: '+8801711223344', msg: TEXT, from: 'MyISP', ref: '01JNMSG0000000000000000000', fixed: 'a&b' });
  });

  it('POSTs JSON with every string leaf templated', async () => {
    const s = settings({ request: { contentType: 'json', headers: { 'X-Api-Key': '{{credentials.apiKey}}' }, body: { recipients: ['{{to}}'], message: { text: '{{text}}', n: 1 }, flash: false } } });
    await send(s);
    const [req] = seen;
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['x-api-key']).toBe(credentials.apiKey);
    expect(JSON.parse(req!.body)).toEqual({ recipients: ['+8801711223344'], message: { text: TEXT, n: 1 }, flash: false });
  });

  it('GETs with query templates and a templated path, each value URL-encoded', async () => {
    const s = settings({ request: { method: 'GET', url: `${base}/v1/{{credentials.account}}/send?fixed=1`, query: { user: '{{credentials.account}}', to: '{{to}}', text: '{{text}}' } } });
    await send(s);
    const [req] = seen;
    expect(req!.method).toBe('GET');
    expect(req!.path).toBe('/v1/AC%2042/send');
    expect(req!.query.get('fixed')).toBe('1');
    expect(req!.query.get('user')).toBe('AC 42');
    expect(req!.query.get('to')).toBe('+8801711223344');
    expect(req!.query.get('text')).toBe(TEXT);
    expect(req!.body).toBe('');
  });

  it.each([
    ['e164', '+8801711223344'],
    ['digits', '8801711223344'],
    ['national', '01711223344'],
  ] as const)('writes the number in the %s format', async (numberFormat, expected) => {
    await send(settings({ numberFormat, request: { query: { to: '{{to}}' } } }));
    expect(seen[0]!.query.get('to')).toBe(expected);
  });

  it('accepts by status code and falls back to our message id', async () => {
    reply = { status: 202, body: 'queued' };
    const s = settings({ success: { statusCodes: [202] }, request: {} });
    await expect(send(s)).resolves.toEqual({ providerMessageId: '01JNMSG0000000000000000000' });
  });

  it('accepts by a JSON path and value, and reads the id by a JSON path', async () => {
    reply = { status: 200, body: JSON.stringify({ status: 'success', data: [{ id: 98765 }] }) };
    const s = settings({ success: { statusCodes: [200], jsonPath: '$.status', equals: 'success' }, messageId: { jsonPath: '$.data[0].id' }, request: {} });
    await expect(send(s)).resolves.toEqual({ providerMessageId: '98765' });

    reply = { status: 200, body: JSON.stringify({ status: 'failure', errors: [{ code: 4 }] }) };
    const refused = await failure(send(s));
    expect(refused).toBeInstanceOf(ProviderRejected);
    expect(refused.message).toContain('failure');
  });

  it('accepts by a regex on the body and reads the id by a capture group', async () => {
    reply = { status: 200, body: 'Ok: SMS Sent Successfully, ID 4711', contentType: 'text/plain' };
    const s = settings({ success: { regex: '^Ok:' }, messageId: { regex: 'ID (\\d+)' }, request: {} });
    await expect(send(s)).resolves.toEqual({ providerMessageId: '4711' });

    reply = { status: 200, body: 'Error: invalid number', contentType: 'text/plain' };
    expect(await failure(send(s))).toBeInstanceOf(ProviderRejected);
  });

  it('classifies failures: 4xx recipient, 401/403 gateway, 5xx temporary, 429 throttled', async () => {
    const s = settings({ request: {} });
    reply = { status: 400, body: '{"error":"bad number"}' };
    expect(await failure(send(s))).toBeInstanceOf(ProviderRejected);
    reply = { status: 401, body: '{"error":"bad key"}' };
    expect(await failure(send(s))).toBeInstanceOf(GatewayFault);
    reply = { status: 403, body: '' };
    expect(await failure(send(s))).toBeInstanceOf(GatewayFault);
    reply = { status: 503, body: 'down' };
    expect(await failure(send(s))).toBeInstanceOf(ProviderUnavailable);
    reply = { status: 429, body: 'slow down' };
    const throttled = await failure(send(s));
    expect(throttled).toBeInstanceOf(ProviderUnavailable);
    expect((throttled as ProviderUnavailable).code).toBe('throttled');
  });

  it('lets errors rules classify by status code and body', async () => {
    const s = settings({
      success: { statusCodes: [200], jsonPath: '$.code', equals: '202' },
      errors: [
        { match: { regex: '"code":1007' }, kind: 'gateway' },
        { match: { statusCode: 400 }, kind: 'temporary' },
      ],
      request: {},
    });
    reply = { status: 200, body: '{"code":1007,"error":"balance insufficient"}' };
    expect(await failure(send(s))).toBeInstanceOf(GatewayFault);
    reply = { status: 200, body: '{"code":1001}' };
    expect(await failure(send(s))).toBeInstanceOf(ProviderRejected);
    reply = { status: 400, body: '{}' };
    expect(await failure(send(s))).toBeInstanceOf(ProviderUnavailable);
  });

  it('never quotes a credential the gateway echoes', async () => {
    reply = { status: 401, body: `{"error":"unknown key ${credentials.apiKey}"}` };
    const error = await failure(send(settings({ request: {} })));
    expect(error.message).not.toContain(credentials.apiKey);
    expect(error.message).toContain('***');
  });

  it('refuses a loopback URL without ISPNOTIFY_ALLOW_PRIVATE_URLS, as a gateway fault', async () => {
    const s = settings({ request: {} });
    delete process.env[ENV];
    const error = await failure(send(s));
    expect(error).toBeInstanceOf(GatewayFault);
    expect(error.message).toMatch(/refused/);
    expect(seen).toHaveLength(0);
  });

  it('refuses the cloud metadata address even with ISPNOTIFY_ALLOW_PRIVATE_URLS=1', async () => {
    const s = settings({ request: { url: 'http://169.254.169.254/latest/meta-data/' } });
    const error = await failure(send(s));
    expect(error).toBeInstanceOf(GatewayFault);
    expect(error.message).toMatch(/metadata|link-local/i);
  });

  it('does not follow redirects (secrets in headers stay with the configured host)', async () => {
    reply = { status: 302, body: '' };
    expect(await failure(send(settings({ request: {} })))).toBeInstanceOf(GatewayFault);
  });
});

describe('the http settings', () => {
  const issues = (input: unknown) => {
    const parsed = HttpGatewaySettings.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('refuses a templated scheme, host or port, allowing the path and query', () => {
    expect(issues({ request: { method: 'POST', url: 'https://{{credentials.host}}/send' } }).join()).toMatch(/request\.url: must not use templates/);
    expect(issues({ request: { method: 'POST', url: 'https://api.example.com:{{credentials.port}}/send' } }).join()).toMatch(/request\.url/);
    expect(issues({ request: { method: 'POST', url: 'https://api.example.com/{{credentials.sid}}/send?x={{to}}' } })).toEqual([]);
    expect(issues({ request: { method: 'POST', url: 'not a url' } }).join()).toMatch(/request\.url/);
  });

  it('refuses unknown template variables, bodies on GET, forbidden headers and bad JSON paths', () => {
    expect(issues({ request: { method: 'POST', url: 'https://a.example/s', body: { x: '{{customer}}' } } }).join()).toMatch(/request\.body\.x: uses \{\{customer\}\}/);
    expect(issues({ request: { method: 'GET', url: 'https://a.example/s', body: { x: '1' } } }).join()).toMatch(/request\.body/);
    expect(issues({ request: { method: 'POST', url: 'https://a.example/s', headers: { Host: 'x' } } }).join()).toMatch(/request\.headers\.Host/);
    expect(issues({ request: { method: 'POST', url: 'https://a.example/s' }, messageId: { jsonPath: '$..id' } }).join()).toMatch(/messageId/);
    expect(issues({ request: { method: 'POST', url: 'https://a.example/s', contentType: 'form', body: { a: { b: 'c' } } } }).join()).toMatch(/request\.body/);
  });

  it('takes 1 to 10 free-form secret fields plus webhookSecret', () => {
    expect(HttpGatewayCredentials.safeParse(credentials).success).toBe(true);
    expect(HttpGatewayCredentials.safeParse({ webhookSecret: credentials.webhookSecret }).success).toBe(false);
    expect(HttpGatewayCredentials.safeParse({ apiKey: 'x' }).success).toBe(false);
    expect(HttpGatewayCredentials.safeParse({ 'bad-name': 'x', webhookSecret: credentials.webhookSecret }).success).toBe(false);
    expect(HttpGatewayCredentials.safeParse({ apiKey: 'x'.repeat(501), webhookSecret: credentials.webhookSecret }).success).toBe(false);
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, 'x']));
    expect(HttpGatewayCredentials.safeParse({ ...eleven, webhookSecret: credentials.webhookSecret }).success).toBe(false);
  });
});

describe('http receipts', () => {
  const s = () =>
    settings({ request: {}, receipt: { idField: 'msgid', statusField: 'status', delivered: ['DELIVRD', 'delivered'], failed: ['UNDELIV', 'REJECTD'] } });
  const hook = (query: string, rawBody = '', contentType = ''): WebhookRequest => ({
    method: 'POST',
    url: `https://ispnotify.example/webhooks/sms/http/01JN?token=${credentials.webhookSecret}${query}`,
    headers: contentType ? { 'content-type': contentType } : {},
    rawBody,
  });

  it('verifies the URL token', async () => {
    expect(await httpGatewaySms.verifySignature(hook(''), { credentials, settings: s() })).toBe(true);
    const forged = { ...hook(''), url: 'https://ispnotify.example/webhooks/sms/http/01JN?token=wrong' };
    expect(await httpGatewaySms.verifySignature(forged, { credentials, settings: s() })).toBe(false);
  });

  it('reads id and status from a JSON body, a form body or the query', () => {
    const parse = (request: WebhookRequest) => httpGatewaySms.parseWebhook(request, { settings: s() });
    expect(parse(hook('', '{"msgid":"A1","status":"DELIVRD"}', 'application/json'))).toEqual([{ providerMessageId: 'A1', status: 'delivered', providerStatus: 'DELIVRD' }]);
    expect(parse(hook('', 'msgid=A2&status=UNDELIV', 'application/x-www-form-urlencoded'))).toMatchObject([{ providerMessageId: 'A2', status: 'failed', providerStatus: 'UNDELIV' }]);
    expect(parse(hook('&msgid=A3&status=delivered'))).toMatchObject([{ providerMessageId: 'A3', status: 'delivered' }]);
    expect(parse(hook('&msgid=A4&status=ENROUTE'))).toEqual([]);
  });

  it('refuses a receipt for a gateway without a receipt mapping, and says it sends none (sent is final)', () => {
    const { receipt: _receipt, ...withoutMapping } = s();
    const request = hook('', '{"msgid":"B1","status":"REJECTD"}', 'application/json');
    expect(() => httpGatewaySms.parseWebhook(request, { settings: withoutMapping as HttpGatewaySettings })).toThrow(/no receipt mapping/);
    expect(httpGatewaySms.sendsReceipts?.(withoutMapping as HttpGatewaySettings)).toBe(false);
    expect(httpGatewaySms.sendsReceipts?.(s())).toBe(true);
  });

});
