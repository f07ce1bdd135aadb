import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HttpGatewaySettings, httpGatewaySms, urlOriginPart } from '../../shared/adapters/providers/sms/http-gateway.js';
import { GatewayFault, ProviderRejected, ProviderUnavailable } from '../../shared/domain/errors.js';
import { gatewayPresets } from '../../shared/presets/index.js';
import type { ProviderContext } from '../../shared/ports.js';
import type { apiClient } from '../support/api-client.js';
import { startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

// The test environment has no DNS: the presets' hosts resolve to a public address here (saving a
// gateway checks its URL with the outbound guard; nothing is ever sent to them in this file).
const presetHosts = vi.hoisted(() => new Set<string>());
vi.mock('node:dns/promises', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:dns/promises')>();
  const lookup = async (hostname: string, options?: unknown) =>
    presetHosts.has(hostname) ? [{ address: '93.184.216.34', family: 4 }] : (original.lookup as (h: string, o?: unknown) => Promise<unknown>)(hostname, options);
  return { ...original, default: { ...original, lookup }, lookup };
});
for (const preset of gatewayPresets) presetHosts.add(new URL(urlOriginPart(preset.settings.request.url)!).hostname);

const ENV = 'ISPNOTIFY_ALLOW_PRIVATE_URLS';
const ctx: ProviderContext = { fetch: globalThis.fetch, clock: { now: () => new Date('2025-03-01T10:00:00.000Z') } };
const WEBHOOK_SECRET = 'a-webhook-secret-of-32-characters';
const TEXT = 'Your bill of 500 is due & payable <today>';
const MESSAGE_ID = '01JNMSG0000000000000000000';

/** Per preset: a number of its country, how the preset must write it, and a success reply as its docs show it (a string: a plain-text body). */
const CASES: Record<string, { to: string; number: string; status?: number; reply: unknown; id: string }> = {
  africastalking: { to: '+254711223344', number: '+254711223344', status: 201, reply: { SMSMessageData: { Message: 'Sent to 1/1 Total Cost: KES 0.8000', Recipients: [{ statusCode: 101, number: '+254711223344', status: 'Success', cost: 'KES 0.8000', messageId: 'ATXid_fabd5d394a3ca5c081d451d2bea93665' }] } }, id: 'ATXid_fabd5d394a3ca5c081d451d2bea93665' },
  bulkgate: { to: '+420777123456', number: '420777123456', reply: { data: { status: 'accepted', number: '420777123456' } }, id: MESSAGE_ID },
  bulksmsbd: { to: '+8801711223344', number: '8801711223344', reply: { response_code: 202, message_id: 75162, success_message: 'SMS Submitted Successfully 1', error_message: '' }, id: '75162' },
  hubtel: { to: '+233241234567', number: '233241234567', status: 201, reply: { rate: 0.0309, messageId: '9c5f3edc-529e-4182-959b-aeb17b9ddad4', status: 0, networkId: '62001', statusDescription: 'request submitted successfully' }, id: '9c5f3edc-529e-4182-959b-aeb17b9ddad4' },
  kaleyra: { to: '+919876543210', number: '+919876543210', status: 202, reply: { id: 'd2b4f1c8-0a1e-4b55-9c5e-2f3a4b5c6d7e', type: 'DEFAULT', total_count: 1 }, id: 'd2b4f1c8-0a1e-4b55-9c5e-2f3a4b5c6d7e' },
  lox24: { to: '+4915112345678', number: '+4915112345678', status: 201, reply: { uuid: '7a1f0e8c-3d5b-4e2a-9f6c-8b7d6e5f4a3b', status_code: 100 }, id: '7a1f0e8c-3d5b-4e2a-9f6c-8b7d6e5f4a3b' },
  notifylk: { to: '+94711234567', number: '94711234567', reply: { status: 'success', data: 'Sent' }, id: MESSAGE_ID },
  semaphore: { to: '+639171234567', number: '09171234567', reply: [{ message_id: 1234567, recipient: '09171234567', message: TEXT, sender_name: 'MyISP', network: 'Globe', status: 'Queued', type: 'Single', source: 'Api' }], id: '1234567' },
  smsapi: { to: '+48500100200', number: '48500100200', reply: { count: 1, list: [{ id: '5A4E7E5C3535E5A25A4E7E5C', points: 0.16, number: '48500100200', status: 'QUEUE' }] }, id: '5A4E7E5C3535E5A25A4E7E5C' },
  sparrow: { to: '+9779841234567', number: '9841234567', reply: { count: 1, response_code: 200, response: '1 mesages has been queued for delivery' }, id: MESSAGE_ID },
  termii: { to: '+2348031234567', number: '2348031234567', reply: { message_id: '9122821270554876574', message: 'Successfully Sent', balance: 9, user: 'Peter Mcleish' }, id: '9122821270554876574' },
  textbelt: { to: '+12025550123', number: '+12025550123', reply: { success: true, textId: '2861516228856794', quotaRemaining: 249 }, id: '2861516228856794' },
  textlk: { to: '+94771234567', number: '94771234567', reply: { status: 'success', data: 'sms reports with all details' }, id: MESSAGE_ID },
  textlocal: { to: '+919876543210', number: '919876543210', reply: { balance: 1162, batch_id: 123456789, cost: 1, num_messages: 1, messages: [{ id: '1151346216', recipient: 919876543210 }], status: 'success' }, id: '1151346216' },
  unecast: { to: '+233241234567', number: '233241234567', reply: { status: 'success', data: [{ message_id: '1ff9c6c0000a1487af1c', message_count: 1 }] }, id: '1ff9c6c0000a1487af1c' },
  unifonic: { to: '+966501234567', number: '966501234567', reply: { success: true, message: '', errorCode: 'ER-00', data: { MessageID: 42000348806924, Status: 'Sent' } }, id: '42000348806924' },
  zenvia: { to: '+5511987654321', number: '5511987654321', reply: { id: '0b8e1d42-5c3a-4f6e-8d9b-1a2b3c4d5e6f', direction: 'OUT', channel: 'sms' }, id: '0b8e1d42-5c3a-4f6e-8d9b-1a2b3c4d5e6f' },
  smsnetbd: { to: '+8801711223344', number: '8801711223344', reply: { error: 0, msg: 'Request successfully submitted', data: { request_id: 12345 } }, id: '12345' },
  d7networks: { to: '+971501234567', number: '+971501234567', reply: { request_id: 'd9835609-a4e0-10ea-a26a-eeafbe700fef', status: 'accepted', created_at: '2001-08-05T12:52:38.393Z' }, id: 'd9835609-a4e0-10ea-a26a-eeafbe700fef' },
  vonage: { to: '+447700900000', number: '447700900000', reply: { 'message-count': '1', messages: [{ to: '447700900000', 'message-id': '0C000000217B7F02', status: '0', 'remaining-balance': '15.53590000', 'message-price': '0.03330000', network: '23410' }] }, id: '0C000000217B7F02' },
  esms: { to: '+84901888484', number: '0901888484', reply: { CodeResult: '100', CountRegenerate: 0, SMSID: 'd533459ee42b2b9525ba9eabf6a8156' }, id: 'd533459ee42b2b9525ba9eabf6a8156' },
  mocean: { to: '+60123456789', number: '60123456789', reply: { messages: [{ status: 0, receiver: '60123456789', msgid: 'CPASS_restapi_C0000002737000000.0001' }] }, id: 'CPASS_restapi_C0000002737000000.0001' },
  mobizon: { to: '+77012345678', number: '77012345678', reply: { code: 0, data: { campaignId: '1759377', messageId: '12111324', status: 1 }, message: '' }, id: '12111324' },
  smsglobal: { to: '+61409317436', number: '61409317436', reply: 'OK: 0; Sent queued message ID: 941596d028699601 SMSGlobalMsgID:6764842339385521', id: '6764842339385521' },
  textmagic: { to: '+447860021130', number: '447860021130', status: 201, reply: { id: 49576009, href: '/api/v2/messages/49576009', type: 'message', sessionId: 34436600, bulkId: null, messageId: 49576009, scheduleId: null }, id: '49576009' },
};

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
let reply: { status: number; body: string } = { status: 200, body: '{}' };
const envBefore = process.env[ENV];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  if (envBefore === undefined) delete process.env[ENV];
  else process.env[ENV] = envBefore;
});

/** Every value the gateway received: path, query, headers and body fields. */
function receivedValues(req: Seen, contentType: string): string[] {
  const values = [decodeURIComponent(req.path), ...req.query.values(), ...Object.values(req.headers).flat().map(String)];
  if (contentType === 'json' && req.body) {
    const walk = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(walk) : v && typeof v === 'object' ? Object.values(v).flatMap(walk) : []);
    values.push(...walk(JSON.parse(req.body)));
  } else if (req.body) {
    values.push(...new URLSearchParams(req.body).values());
  }
  return values;
}

describe('gateway presets', () => {
  it('are at least 10, with unique ids, a country, https docs and valid http settings', () => {
    expect(gatewayPresets.length).toBeGreaterThanOrEqual(10);
    expect(new Set(gatewayPresets.map((p) => p.id)).size).toBe(gatewayPresets.length);
    expect(Object.keys(CASES).sort()).toEqual(gatewayPresets.map((p) => p.id).sort());
    for (const preset of gatewayPresets) {
      expect(preset.country).toMatch(/^[A-Z]{2}$/);
      expect(preset.docs).toMatch(/^https?:\/\//);
      expect(preset.settings.request.url).toMatch(/^https:\/\//);
      expect(HttpGatewaySettings.safeParse({ ...preset.settings, sender: 'MyISP' }).success).toBe(true);
    }
  });

  it.each(gatewayPresets.map((p) => [p.id, p] as const))('%s: the adapter builds the request the preset describes', async (id, preset) => {
    process.env[ENV] = '1';
    const c = CASES[id]!;
    const origin = urlOriginPart(preset.settings.request.url)!;
    const settings = HttpGatewaySettings.parse({ ...preset.settings, sender: 'MyISP', request: { ...preset.settings.request, url: preset.settings.request.url.replace(origin, base) } });
    const credentials: Record<string, string> = { webhookSecret: WEBHOOK_SECRET };
    for (const name of preset.credentials) credentials[name] = `secret-${name}-0123`;
    seen = [];
    // A string reply is a plain-text gateway's body as it is (SMSGlobal); the rest are JSON.
    reply = { status: c.status ?? 200, body: typeof c.reply === 'string' ? c.reply : JSON.stringify(c.reply) };

    const result = await httpGatewaySms.send({ messageId: MESSAGE_ID, to: c.to, text: TEXT }, { credentials, settings }, ctx);
    expect(result).toEqual({ providerMessageId: c.id });

    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    const expectedPath = new URL(preset.settings.request.url.replace(/\{\{credentials\.(\w+)\}\}/g, (_, name: string) => credentials[name]!)).pathname;
    expect(req.method).toBe(preset.settings.request.method);
    expect(req.path).toBe(expectedPath);
    if (preset.settings.request.method === 'POST') {
      expect(req.headers['content-type']).toBe(preset.settings.request.contentType === 'json' ? 'application/json' : 'application/x-www-form-urlencoded');
    }
    const values = receivedValues(req, preset.settings.request.contentType ?? 'form');
    for (const name of preset.credentials) expect(values.some((v) => v.includes(credentials[name]!)), `credential ${name}`).toBe(true);
    expect(values.some((v) => v.includes(WEBHOOK_SECRET))).toBe(false);
    expect(values).toContain(c.number);
    expect(values).toContain(TEXT);
    expect(values).toContain('MyISP');
  });
});

/**
 * Documented refusals of the presets that map their gateway's error replies: each must end as the
 * failure kind its docs mean (a bad key, no balance or a bad sender id is the gateway's; a bad
 * number is the recipient's; a passing fault is temporary). Where the docs give only the code (D7's
 * 402), the body is illustrative: the rule reads the code.
 */
const REFUSALS: Array<{ preset: string; what: string; status?: number; reply: unknown; error: typeof GatewayFault | typeof ProviderRejected | typeof ProviderUnavailable }> = [
  { preset: 'smsnetbd', what: 'insufficient balance (417)', reply: { error: 417, msg: 'Insufficient account balance' }, error: GatewayFault },
  { preset: 'smsnetbd', what: 'unapproved sender id (413)', reply: { error: 413, msg: 'Invalid or unapproved Sender ID' }, error: GatewayFault },
  { preset: 'smsnetbd', what: 'no valid recipient (416)', reply: { error: 416, msg: 'No valid recipient number found' }, error: ProviderRejected },
  { preset: 'smsnetbd', what: 'unknown server error (409)', reply: { error: 409, msg: 'Unknown error occurred on Server end' }, error: ProviderUnavailable },
  { preset: 'd7networks', what: 'insufficient credit (402)', status: 402, reply: { detail: { message: 'Insufficient credit' } }, error: GatewayFault },
  { preset: 'd7networks', what: 'bad token (401)', status: 401, reply: { detail: { code: 'ACCESS_TOKEN_SIGNATURE_VERIFICATION_FAILED', message: 'Access token signature verification failed' } }, error: GatewayFault },
  { preset: 'vonage', what: 'invalid credentials (4)', reply: { 'message-count': '1', messages: [{ status: '4', 'error-text': 'Bad Credentials' }] }, error: GatewayFault },
  { preset: 'vonage', what: 'no credit (9)', reply: { 'message-count': '1', messages: [{ status: '9', 'error-text': 'Partner quota exceeded' }] }, error: GatewayFault },
  { preset: 'vonage', what: 'number barred (7)', reply: { 'message-count': '1', messages: [{ status: '7', 'error-text': 'Number barred' }] }, error: ProviderRejected },
  { preset: 'vonage', what: 'throttled (1)', reply: { 'message-count': '1', messages: [{ status: '1', 'error-text': 'Throughput Rate Exceeded' }] }, error: ProviderUnavailable },
  { preset: 'esms', what: 'wrong ApiKey or SecretKey (101)', reply: { CodeResult: '101', ErrorMessage: 'Incorrect ApiKey or SecretKey.' }, error: GatewayFault },
  { preset: 'esms', what: 'not enough balance (103)', reply: { CodeResult: '103', ErrorMessage: 'Not enough balance to send message.' }, error: GatewayFault },
  { preset: 'esms', what: 'phone number format (108)', reply: { CodeResult: '108', ErrorMessage: 'Phone number is not in correct format.' }, error: ProviderRejected },
  { preset: 'mocean', what: 'authorization failed', reply: { status: 1, err_msg: 'Authorization failed' }, error: GatewayFault },
  { preset: 'mobizon', what: 'login failed (8)', reply: { code: 8, data: [], message: 'Login failed' }, error: GatewayFault },
  { preset: 'mobizon', what: 'saving error (10)', reply: { code: 10, data: [], message: 'Server saving data error' }, error: ProviderUnavailable },
  { preset: 'smsglobal', what: 'an ERROR reply', reply: 'ERROR: Missing parameter: from', error: ProviderRejected },
  { preset: 'textmagic', what: 'unauthorized (401)', status: 401, reply: { code: 401, message: 'Unauthorized', errors: null }, error: GatewayFault },
];

describe('gateway presets: documented refusals', () => {
  it.each(REFUSALS.map((r) => [r.preset, r.what, r] as const))('%s: %s', async (id, _what, refusal) => {
    process.env[ENV] = '1';
    const preset = gatewayPresets.find((p) => p.id === id)!;
    const origin = urlOriginPart(preset.settings.request.url)!;
    const settings = HttpGatewaySettings.parse({ ...preset.settings, sender: 'MyISP', request: { ...preset.settings.request, url: preset.settings.request.url.replace(origin, base) } });
    const credentials: Record<string, string> = { webhookSecret: WEBHOOK_SECRET };
    for (const name of preset.credentials) credentials[name] = `secret-${name}-0123`;
    seen = [];
    reply = { status: refusal.status ?? 200, body: typeof refusal.reply === 'string' ? refusal.reply : JSON.stringify(refusal.reply) };

    const sent = httpGatewaySms.send({ messageId: MESSAGE_ID, to: CASES[id]!.to, text: TEXT }, { credentials, settings }, ctx);
    const error = await sent.then(() => undefined, (e: unknown) => e);
    expect(seen).toHaveLength(1);
    expect(error).toBeInstanceOf(refusal.error);
    // The failure quotes the reply but never a credential.
    expect((error as Error).message).toContain(`HTTP ${refusal.status ?? 200}`);
    for (const name of preset.credentials) expect((error as Error).message).not.toContain(credentials[name]);
  });

  it('smsnetbd, d7networks, vonage, esms, mocean and mobizon map error replies, each covered by a refusal above', () => {
    const mapped = gatewayPresets.filter((p) => p.settings.errors?.length && REFUSALS.some((r) => r.preset === p.id)).map((p) => p.id);
    for (const id of ['smsnetbd', 'd7networks', 'vonage', 'esms', 'mocean', 'mobizon']) expect(mapped).toContain(id);
  });
});

describe('presets through the API', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let api: ReturnType<typeof apiClient>;
  const fields = (r: { body: { errors?: { field: string }[] } }) => (r.body.errors ?? []).map((e) => e.field).sort();

  beforeAll(async () => {
    ({ stack, api } = await startDemoStack('presets', { liftRateLimit: true }));
  });
  afterAll(async () => {
    await stack?.stop();
  });
  beforeEach(() => {
    delete process.env[ENV];
  });

  it('GET /v1/gateway-presets lists every preset with its credential fields and operator settings', async () => {
    const r = await api.get('/v1/gateway-presets');
    expect(r.status).toBe(200);
    expect(r.body.items).toHaveLength(gatewayPresets.length);
    const termii = r.body.items.find((p: { id: string }) => p.id === 'termii');
    expect(termii).toEqual({
      id: 'termii',
      name: 'Termii',
      country: 'NG',
      docs: 'https://developers.termii.com/messaging-api',
      provider: 'http',
      credentials: ['apiKey', 'webhookSecret'],
      settings: ['sender'],
    });
    expect((await fetch(`${stack.baseUrl}/v1/gateway-presets`)).status).toBe(401);
  });

  it('creates a gateway from a preset with only credentials and sender; GET shows the preset\'s settings', async () => {
    const created = await api.post('/v1/gateways', {
      name: 'Kaleyra',
      provider: 'http',
      preset: 'kaleyra',
      credentials: { sid: 'HXAP16XXXXXX97IN', apiKey: 'Ac4XXXXX21f', webhookSecret: WEBHOOK_SECRET },
      settings: { sender: 'KLRHXA' },
    });
    expect(created.status).toBe(201);
    const got = await api.get(`/v1/gateways/${created.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ provider: 'http', credentials: { sid: '********', apiKey: '********', webhookSecret: '********' } });
    const preset = gatewayPresets.find((p) => p.id === 'kaleyra')!;
    expect(got.body.settings).toMatchObject({ sender: 'KLRHXA', request: preset.settings.request, numberFormat: 'e164', messageId: { jsonPath: '$.id' } });
    expect(JSON.stringify(got.body)).not.toContain('Ac4XXXXX21f');
  });

  it('refuses wrong credential fields with a 400 naming the missing and unknown ones', async () => {
    const r = await api.post('/v1/gateways', {
      name: 'Termii',
      provider: 'http',
      preset: 'termii',
      credentials: { api_key: 'x', webhookSecret: WEBHOOK_SECRET },
      settings: { sender: 'MyISP' },
    });
    expect(r.status).toBe(400);
    expect(fields(r)).toEqual(['credentials.apiKey', 'credentials.api_key']);
  });

  it('refuses settings the preset supplies, a missing sender and an unknown preset', async () => {
    const base = { name: 'T', provider: 'http', credentials: { apiKey: 'x', webhookSecret: WEBHOOK_SECRET } };
    const overriding = await api.post('/v1/gateways', { ...base, preset: 'termii', settings: { sender: 'A', numberFormat: 'e164' } });
    expect(overriding.status).toBe(400);
    expect(fields(overriding)).toEqual(['settings.numberFormat']);
    const noSender = await api.post('/v1/gateways', { ...base, preset: 'termii', settings: {} });
    expect(fields(noSender)).toEqual(['settings.sender']);
    const unknown = await api.post('/v1/gateways', { ...base, preset: 'nope', settings: { sender: 'A' } });
    expect(unknown.status).toBe(400);
    expect(fields(unknown)).toEqual(['preset']);
    const notHttp = await api.post('/v1/gateways', { ...base, provider: 'sandbox', preset: 'termii', settings: { sender: 'A' } });
    expect(fields(notHttp)).toEqual(['provider']);
  });

  it('refuses an http gateway with a loopback URL without ISPNOTIFY_ALLOW_PRIVATE_URLS (400 naming settings.request.url)', async () => {
    const r = await api.post('/v1/gateways', {
      name: 'Local',
      provider: 'http',
      credentials: { apiKey: 'x', webhookSecret: WEBHOOK_SECRET },
      settings: { sender: 'A', request: { method: 'POST', url: 'https://127.0.0.1:8443/send', body: { key: '{{credentials.apiKey}}', to: '{{to}}' } } },
    });
    expect(r.status).toBe(400);
    expect(fields(r)).toEqual(['settings.request.url']);
    expect(JSON.stringify(r.body)).toMatch(/loopback/);
  });

  it('refuses a templated host and a template credential the gateway does not have', async () => {
    const templatedHost = await api.post('/v1/gateways', {
      name: 'H',
      provider: 'http',
      credentials: { host: 'x', webhookSecret: WEBHOOK_SECRET },
      settings: { request: { method: 'GET', url: 'https://{{credentials.host}}/send' } },
    });
    expect(templatedHost.status).toBe(400);
    expect(fields(templatedHost)).toEqual(['settings.request.url']);
    const missing = await api.post('/v1/gateways', {
      name: 'M',
      provider: 'http',
      credentials: { apiKey: 'x', webhookSecret: WEBHOOK_SECRET },
      settings: { request: { method: 'GET', url: 'https://api.kaleyra.io/send', query: { k: '{{credentials.token}}' } } },
    });
    expect(missing.status).toBe(400);
    expect(fields(missing)).toEqual(['credentials.token']);
  });
});
