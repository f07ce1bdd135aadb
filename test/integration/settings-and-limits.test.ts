import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../shared/adapters/dynamodb/client.js';
import { config } from '../../shared/config.js';
import { deps } from '../../shared/deps.js';
import { localDay, secondsUntilNextDay } from '../../shared/domain/rate-limit.js';
import { saveGateway } from '../../shared/services/gateways.js';
import { apiClient, type ApiReply } from '../support/api-client.js';
import { addOperator, startDemoStack } from '../support/demo-stack.js';
import type { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let other: ReturnType<typeof apiClient>;

const patch = (client: ReturnType<typeof apiClient>, body: unknown) => client.request('PATCH', '/v1/settings', body);
const fields = (reply: ApiReply) => (reply.body.errors ?? []).map((e: { field: string }) => e.field);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  ({ stack, api } = await startDemoStack('settings-and-limits'));
  other = await addOperator(stack.baseUrl, 'other-isp');
});

afterAll(async () => {
  await stack?.stop();
});

describe('GET /v1/settings', () => {
  it('shows the operator\'s settings with the defaults filled in', async () => {
    const reply = await api.get('/v1/settings');
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      id: 'demo',
      name: 'Demo ISP',
      defaultCountry: 'BD',
      timezone: 'Asia/Dhaka',
      limits: { requestsPerSecond: 10, messagesPerDay: 10_000 },
      destinationCountries: ['BD'],
    });
    expect((await other.get('/v1/settings')).body).toMatchObject({ id: 'other-isp', destinationCountries: ['IN'] });
    expect((await apiClient(stack.baseUrl).get('/v1/settings')).status).toBe(401);
  });

  it('is described in /openapi.json', async () => {
    const doc = await apiClient(stack.baseUrl).get('/openapi.json');
    expect(Object.keys(doc.body.paths['/v1/settings'])).toEqual(expect.arrayContaining(['get', 'patch']));
    expect(doc.body.paths['/v1/customers/{id}'].delete).toBeDefined();
    expect(doc.body.components.schemas.SettingsPatch.additionalProperties).toBe(false);
  });
});

describe('PATCH /v1/settings', () => {
  it('changes only the fields given, merges limits, and null restores a default', async () => {
    const first = await patch(api, { limits: { messagesPerDay: 5000 }, timezone: 'asia/dhaka' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ name: 'Demo ISP', timezone: 'Asia/Dhaka', limits: { requestsPerSecond: 10, messagesPerDay: 5000 } });

    const second = await patch(api, { name: 'Demo ISP Ltd', limits: { requestsPerSecond: 500 }, destinationCountries: ['bd', 'IN', 'BD'] });
    expect(second.body).toMatchObject({
      name: 'Demo ISP Ltd',
      limits: { requestsPerSecond: 500, messagesPerDay: 5000 },
      destinationCountries: ['BD', 'IN'],
    });
    expect((await api.get('/v1/settings')).body).toEqual(second.body);

    const restored = await patch(api, { limits: { messagesPerDay: null }, destinationCountries: null, name: 'Demo ISP' });
    expect(restored.body).toMatchObject({ name: 'Demo ISP', limits: { requestsPerSecond: 500, messagesPerDay: 10_000 }, destinationCountries: ['BD'] });
    expect((await patch(api, {})).body).toMatchObject({ name: 'Demo ISP' });
  });

  it('answers 400 naming each invalid or unknown field, and changes nothing', async () => {
    const before = (await api.get('/v1/settings')).body;
    const cases: [unknown, string[]][] = [
      [{ timezone: 'Mars/Olympus_Mons' }, ['timezone']],
      [{ timezone: '+06:00' }, ['timezone']],
      [{ defaultCountry: 'XX' }, ['defaultCountry']],
      [{ defaultCountry: 'BGD' }, ['defaultCountry']],
      [{ limits: { requestsPerSecond: 0 } }, ['limits.requestsPerSecond']],
      [{ limits: { messagesPerDay: 1.5 } }, ['limits.messagesPerDay']],
      [{ limits: { messagesPerDay: '100' } }, ['limits.messagesPerDay']],
      [{ limits: { perHour: 5 } }, ['limits']],
      [{ destinationCountries: [] }, ['destinationCountries']],
      [{ destinationCountries: ['BD', 'ZZ'] }, ['destinationCountries.1']],
      [{ name: '', timezone: 'Asia/Dhaka' }, ['name']],
      [{ colour: 'red' }, ['colour']],
      [{ id: 'someone-else' }, ['id']],
      [[], ['body']],
    ];
    for (const [body, expected] of cases) {
      const reply = await patch(api, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.headers.get('content-type')).toBe('application/problem+json');
      expect(fields(reply), JSON.stringify(body)).toEqual(expected);
    }
    expect((await patch(api, { limits: { perHour: 5 } })).body.errors[0].message).toMatch(/unknown field\(s\): perHour/);
    expect((await api.get('/v1/settings')).body).toEqual(before);
  });
});

describe('saving a gateway and changing settings at the same time', () => {
  it('keeps both: the gateway save sets only the default gateway, not a stale copy of the operator', async () => {
    const d = deps();
    // The gateway request loaded the operator, then a settings PATCH changed it, then the gateway is saved.
    const stale = (await d.operators.get('demo'))!;
    expect((await patch(api, { name: 'Renamed ISP', limits: { messagesPerDay: 7000 }, destinationCountries: ['BD', 'NP'] })).status).toBe(200);
    const { view } = await saveGateway(d, stale, {
      name: 'Second sandbox',
      channel: 'sms',
      provider: 'sandbox',
      credentials: { webhookSecret: 'second-sandbox-secret-0123456789' },
      settings: {},
      default: true,
    });
    const stored = (await d.operators.get('demo'))!;
    expect(stored.smsGatewayId).toBe(view.id);
    expect(stored).toMatchObject({ name: 'Renamed ISP', messagesPerDay: 7000, destinationCountries: ['BD', 'NP'] });

    // And the other way round: a PATCH from a stale copy keeps the gateway just saved.
    const staleAgain = { ...stored, smsGatewayId: undefined };
    const { updateSettings } = await import('../../shared/services/settings.js');
    await updateSettings(d, staleAgain, { name: 'Demo ISP', limits: { messagesPerDay: null }, destinationCountries: null });
    expect((await d.operators.get('demo'))!.smsGatewayId).toBe(view.id);
  });
});

describe('requests per second', () => {
  it('answers 429 with Retry-After and the limit over the operator\'s rate, and only for that operator', async () => {
    await sleep(1100);
    expect((await patch(api, { limits: { requestsPerSecond: 2 } })).status).toBe(200);
    await sleep(1100); // a full bucket at the new rate

    const [replies, otherReplies] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, () => api.get('/v1/settings'))),
      Promise.all(Array.from({ length: 5 }, () => other.get('/v1/settings'))),
    ]);
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
    // Another operator's requests neither spend nor suffer from this one's bucket.
    expect(otherReplies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    // Requests without a valid key are 401, never counted against anyone.
    expect((await apiClient(stack.baseUrl, 'isk_wrongwrongwrongwrongwrong').get('/v1/settings')).status).toBe(401);

    const refused = replies.find((r) => r.status === 429)!;
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.body).toMatchObject({ status: 429, title: 'Too Many Requests', limit: { name: 'requestsPerSecond', value: 2 }, retryAfterSeconds: 1 });
    expect(refused.body.detail).toMatch(/at most 2 API requests per second/);

    await sleep(1100);
    expect((await api.get('/v1/settings')).status).toBe(200);
    expect((await patch(api, { limits: { requestsPerSecond: 1000 } })).status).toBe(200);
  });
});

describe('messages per day', () => {
  it('counts exactly under concurrency, never spends quota on a refused request or a repeat, and answers 429 until midnight', async () => {
    const customer = await api.put('/v1/customers/daily-1', { name: 'Daily One', mobile: '01711000301' });
    expect(customer.status, JSON.stringify(customer.body)).toBe(201);
    expect((await patch(api, { limits: { requestsPerSecond: 1000, messagesPerDay: 3 } })).status).toBe(200);

    // Refused for other reasons: none of these spends one of today's 3.
    const refused = [
      await api.post('/v1/messages', { mobile: '+19005550199', text: 'premium' }),
      await api.post('/v1/messages', { mobile: '01711000302', templateId: 'due-reminder', variables: {} }),
      await api.post('/v1/messages', { customerId: 'nobody', text: 'hi' }),
      await api.post('/v1/messages', { mobile: '01711000302', text: '৳'.repeat(700) }),
    ];
    expect(refused.map((r) => r.status)).toEqual([400, 400, 404, 400]);

    const key = { 'idempotency-key': 'daily-limit-repeat' };
    const first = await api.post('/v1/messages', { customerId: 'daily-1', text: 'one' }, key);
    const repeat = await api.post('/v1/messages', { customerId: 'daily-1', text: 'one' }, key);
    expect([first.status, repeat.status]).toEqual([202, 202]);
    expect(repeat.body.id).toBe(first.body.id);
    expect((await api.post('/v1/messages', { mobile: '01711000303', text: 'two' })).status).toBe(202);
    expect((await api.post('/v1/messages', { mobile: '01711000304', text: 'three' })).status).toBe(202);

    // The quota is used up; a repeat still answers with the first message and counts nothing.
    const lateRepeat = await api.post('/v1/messages', { customerId: 'daily-1', text: 'one' }, key);
    expect(lateRepeat.status).toBe(202);
    expect(lateRepeat.body.id).toBe(first.body.id);

    const over = await api.post('/v1/messages', { mobile: '01711000305', text: 'four' });
    expect(over.status).toBe(429);
    expect(over.headers.get('content-type')).toBe('application/problem+json');
    expect(over.body).toMatchObject({ status: 429, limit: { name: 'messagesPerDay', value: 3 } });
    expect(over.body.detail).toMatch(/at most 3 messages a day/);
    const untilMidnight = secondsUntilNextDay(new Date(), 'Asia/Dhaka');
    expect(Math.abs(Number(over.headers.get('retry-after')) - untilMidnight)).toBeLessThanOrEqual(5);
    expect(over.body.retryAfterSeconds).toBe(Number(over.headers.get('retry-after')));
    // Nothing was stored for the refused send.
    expect((await api.get('/v1/messages?limit=100')).body.items.map((m: { text: string }) => m.text)).not.toContain('four');

    // The counter is one item for the operator's date in its time zone, with a TTL.
    const counters = await documentClient().send(
      new QueryCommand({
        TableName: config().TABLE_NAME,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
        ExpressionAttributeValues: { ':pk': 'OP#demo', ':sk': 'COUNT#messagesPerDay#' },
      }),
    );
    expect(counters.Items).toHaveLength(1);
    expect(counters.Items![0]).toMatchObject({ sk: `COUNT#messagesPerDay#${localDay(new Date(), 'Asia/Dhaka')}`, count: 3 });
    expect(counters.Items![0]!.ttl).toBeGreaterThan(Date.now() / 1000 + 2 * 24 * 3600);
  });

  it('lets exactly the limit through when many sends race', async () => {
    // 3 were sent today above: a limit of 8 leaves exactly 5, however many ask at once.
    const used = 3;
    expect((await patch(api, { limits: { messagesPerDay: used + 5 } })).status).toBe(200);
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => api.post('/v1/messages', { mobile: `0171100040${i % 10}`, text: `race ${i}` })));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    expect((await patch(api, { limits: { messagesPerDay: null } })).status).toBe(200);
  });
});

describe('destinations (SMS pumping)', () => {
  it('refuses numbers that cannot receive SMS, naming the field and the type', async () => {
    const premium = await api.post('/v1/messages', { mobile: '+19005550199', text: 'hi' });
    expect(premium.status).toBe(400);
    expect(fields(premium)).toEqual(['mobile']);
    expect(premium.body.errors[0].message).toBe('+19005550199 is a premium-rate number; only mobile numbers can receive SMS');

    const landline = await api.post('/v1/messages', { mobile: '02-223344556', text: 'hi' });
    expect(landline.status).toBe(400);
    expect(landline.body.errors[0].message).toMatch(/\+8802223344556 is a fixed-line number/);

    const voip = await api.post('/v1/messages', { mobile: '09612345678', text: 'hi' });
    expect(voip.body.errors[0].message).toMatch(/is a VoIP number/);

    // A number on the customer record is refused on customerId.
    expect((await api.put('/v1/customers/premium-1', { name: 'Premium', mobile: '+19005550199' })).status).toBe(201);
    const viaCustomer = await api.post('/v1/messages', { customerId: 'premium-1', text: 'hi' });
    expect(viaCustomer.status).toBe(400);
    expect(fields(viaCustomer)).toEqual(['customerId']);
    expect(viaCustomer.body.detail).toMatch(/premium-1.*premium-rate number; only mobile numbers can receive SMS/);
  });

  it('sends only to the operator\'s countries until more are allowed with PATCH /v1/settings', async () => {
    const abroad = await api.post('/v1/messages', { mobile: '+14155552671', text: 'hi' });
    expect(abroad.status).toBe(400);
    expect(fields(abroad)).toEqual(['mobile']);
    expect(abroad.body.errors[0].message).toMatch(/United States \(US\).*only to Bangladesh \(BD\).*add "US" to destinationCountries with PATCH \/v1\/settings/);

    expect((await patch(api, { destinationCountries: ['BD', 'US'] })).status).toBe(200);
    const allowed = await api.post('/v1/messages', { mobile: '+14155552671', text: 'hi' });
    expect(allowed.status).toBe(202);
    expect(allowed.body.to).toBe('+14155552671');
    // Allowing a country never allows its premium-rate numbers.
    expect((await api.post('/v1/messages', { mobile: '+19005550199', text: 'hi' })).status).toBe(400);
    // Canada shares +1 but is its own country.
    expect((await api.post('/v1/messages', { mobile: '+16135550123', text: 'hi' })).body.errors[0].message).toMatch(/Canada \(CA\)/);
    expect((await patch(api, { destinationCountries: null })).body.destinationCountries).toEqual(['BD']);
  });

  it('checks a resend against today\'s destinations', async () => {
    expect((await patch(api, { destinationCountries: ['BD', 'US'] })).status).toBe(200);
    const sent = await api.post('/v1/messages', { mobile: '+14155551111', text: 'rejected by the sandbox' });
    expect(sent.status).toBe(202);
    const failed = await waitForStatus(sent.body.id, 'failed');
    expect(failed.status).toBe('failed');
    expect((await patch(api, { destinationCountries: null })).status).toBe(200);
    const resent = await api.post(`/v1/messages/${sent.body.id}/resend`);
    expect(resent.status).toBe(400);
    expect(fields(resent)).toEqual(['id']);
    expect(resent.body.detail).toMatch(/United States \(US\)/);
  });
});

async function waitForStatus(id: string, status: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const reply = await api.get(`/v1/messages/${id}`);
    if (reply.body?.status === status || Date.now() > deadline) return reply.body;
    await sleep(100);
  }
}
