/**
 * One-time passwords on the local stack, against local servers that speak Twilio's (SMS) and
 * Meta's (WhatsApp) protocols, so the test reads the code only where a phone would: in the
 * provider request. The API, the history and the store never show it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps } from '../../shared/deps.js';
import { verifyOtp } from '../../shared/services/otp.js';
import { apiClient, waitFor } from '../support/api-client.js';
import { addOperator, startDemoStack } from '../support/demo-stack.js';
import { startFakeMeta, type FakeMeta } from '../support/fake-meta.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.js';
import type { startTestStack } from '../support/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const accountSid = `AC${'c3'.repeat(16)}`;
const authToken = 'twilio-auth-token-otp-0123456789';
const accessToken = 'EAAG' + 'q7'.repeat(30);
const phoneNumberId = '106540352242999';

let stack: Stack;
let isp: ReturnType<typeof apiClient>;
let twilio: FakeTwilio;
let meta: FakeMeta;

beforeAll(async () => {
  ({ stack } = await startDemoStack('otp', { liftRateLimit: true }));
  twilio = await startFakeTwilio({ accountSid, authToken, callbackDelayMs: 20 });
  meta = await startFakeMeta({ accessToken, phoneNumberId, templates: { otp_code: { language: 'en', parameters: 1 } } });
  process.env.ISPNOTIFY_BASE_URL_TWILIO = twilio.baseUrl;
  process.env.ISPNOTIFY_BASE_URL_META = meta.baseUrl;
  isp = await addOperator(stack.baseUrl, 'otp-isp', 'US', 'America/New_York');
  await deps().operators.update('otp-isp', { requestsPerSecond: 1000 });
  expect((await isp.post('/v1/gateways', { name: 'Twilio', provider: 'twilio', credentials: { accountSid, authToken }, settings: { from: '+15005550006' } })).status).toBe(201);
  await isp.put('/v1/customers/u-1', { name: 'Ann Lee', mobile: '+14155552601', whatsapp: '+14155552602' });
});

afterAll(async () => {
  delete process.env.ISPNOTIFY_BASE_URL_TWILIO;
  delete process.env.ISPNOTIFY_BASE_URL_META;
  await twilio?.close();
  await meta?.close();
  await stack?.stop();
});

/** The code as the phone got it: from the provider request to `to`. */
async function smsCodeSentTo(to: string): Promise<string> {
  const request = await waitFor(
    async () => twilio.requests.filter((r) => r.form?.To === to).at(-1),
    (r) => r !== undefined,
  );
  return /\b(\d{4,8})\b/.exec(request!.form.Body!)![1]!;
}

describe('OTP by SMS', () => {
  it('sends a code, masks it in the history, verifies it once, then refuses it', async () => {
    const sent = await isp.post('/v1/otp', { mobile: '+14155552611' });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ channel: 'sms' });
    expect(Date.parse(sent.body.expiresAt) - Date.now()).toBeGreaterThan(4 * 60_000);
    const code = await smsCodeSentTo('+14155552611');
    expect(code).toMatch(/^\d{6}$/);

    const message = (await isp.get(`/v1/messages/${sent.body.messageId}`)).body;
    expect(message.text).toBe('****** is your otp-isp ISP code. It expires in 5 minutes.');
    expect(message.kind).toBe('otp');
    expect(JSON.stringify(message)).not.toContain(code);
    expect(JSON.stringify(sent.body)).not.toContain(code);
    const stored = await deps().otps.get('otp-isp', sent.body.id);
    expect(JSON.stringify(stored)).not.toContain(code);

    const wrong = code === '000000' ? '111111' : '000000';
    expect((await isp.post('/v1/otp/verify', { id: sent.body.id, code: wrong })).body).toMatchObject({ valid: false, attemptsLeft: 4 });
    expect((await isp.post('/v1/otp/verify', { id: sent.body.id, code })).body).toEqual({ valid: true });
    expect((await isp.post('/v1/otp/verify', { id: sent.body.id, code })).body).toMatchObject({ valid: false, reason: 'This code was already used.' });
    // One-time codes are not resent: a new one is asked for.
    await waitFor(() => isp.get(`/v1/messages/${sent.body.messageId}`), (r) => r.body.status === 'delivered');
  });

  it('ends a code after five wrong tries, even for the right code', async () => {
    const sent = await isp.post('/v1/otp', { mobile: '+14155552612', length: 4 });
    const code = await smsCodeSentTo('+14155552612');
    expect(code).toMatch(/^\d{4}$/);
    const wrong = code === '0000' ? '1111' : '0000';
    const left: number[] = [];
    for (let i = 0; i < 5; i++) left.push((await isp.post('/v1/otp/verify', { id: sent.body.id, code: wrong })).body.attemptsLeft);
    expect(left).toEqual([4, 3, 2, 1, 0]);
    expect((await isp.post('/v1/otp/verify', { id: sent.body.id, code })).body).toMatchObject({ valid: false, attemptsLeft: 0 });
  });

  it('lets exactly one of two concurrent right answers through', async () => {
    const sent = await isp.post('/v1/otp', { mobile: '+14155552613' });
    const code = await smsCodeSentTo('+14155552613');
    const answers = await Promise.all([1, 2, 3].map(() => isp.post('/v1/otp/verify', { id: sent.body.id, code })));
    expect(answers.filter((a) => a.body.valid === true)).toHaveLength(1);
  });

  it('expires after five minutes', async () => {
    const sent = await isp.post('/v1/otp', { mobile: '+14155552614' });
    const code = await smsCodeSentTo('+14155552614');
    const operator = (await deps().operators.get('otp-isp'))!;
    const later = { ...deps(), clock: { now: () => new Date(Date.parse(sent.body.expiresAt) + 1) } };
    expect(await verifyOtp(later, operator, { id: sent.body.id, code })).toMatchObject({ valid: false, reason: /expired/ });
  });

  it('sends at most three codes to a number in ten minutes (429 with Retry-After)', async () => {
    for (let i = 0; i < 3; i++) expect((await isp.post('/v1/otp', { mobile: '+14155552615' })).status).toBe(202);
    const fourth = await isp.post('/v1/otp', { mobile: '+14155552615' });
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(500);
    expect(fourth.body.limit).toEqual({ name: 'otpPerNumber', value: 3 });
    // Another number is not affected.
    expect((await isp.post('/v1/otp', { mobile: '+14155552616' })).status).toBe(202);
  });

  it('refuses bad input with 400 and an unknown id with 404', async () => {
    expect((await isp.post('/v1/otp', { mobile: '+14155552617', length: 3 })).status).toBe(400);
    expect((await isp.post('/v1/otp', {})).status).toBe(400);
    expect((await isp.post('/v1/otp/verify', { id: 'x', code: 'abc' })).status).toBe(400);
    expect((await isp.post('/v1/otp/verify', { id: '01JZZZZZZZZZZZZZZZZZZZZZZZ', code: '123456' })).status).toBe(404);
  });
});

describe('OTP by WhatsApp', () => {
  it('uses the operator\'s authentication template with the code as its parameter, and auto picks WhatsApp', async () => {
    // Without a template, OTPs go by SMS even when WhatsApp could reach the customer.
    expect((await isp.post('/v1/gateways', { name: 'Meta', channel: 'whatsapp', provider: 'meta', credentials: { accessToken, appSecret: 'app-secret-0123456789abcdef' }, settings: { phoneNumberId, businessAccountId: '102290129340399' } })).status).toBe(201);
    const bySms = await isp.post('/v1/otp', { customerId: 'u-1' });
    expect(bySms.body.channel).toBe('sms');
    expect((await isp.post('/v1/otp', { customerId: 'u-1', channel: 'whatsapp' })).status).toBe(409);

    expect((await isp.request('PATCH', '/v1/settings', { otp: { whatsappTemplate: { name: 'otp_code', language: 'en' } } })).status).toBe(200);
    const sent = await isp.post('/v1/otp', { customerId: 'u-1' });
    expect(sent.status).toBe(202);
    expect(sent.body.channel).toBe('whatsapp');
    const request = await waitFor(
      async () => meta.requests.find((r) => (r.json as { to?: string } | undefined)?.to === '14155552602'),
      (r) => r !== undefined,
    );
    const template = (request!.json as { template: { name: string; components: { type: string; parameters: { text: string }[] }[] } }).template;
    expect(template.name).toBe('otp_code');
    const code = template.components[0]!.parameters[0]!.text;
    expect(code).toMatch(/^\d{6}$/);
    // Meta's authentication templates take the code again for their copy-code button.
    expect(template.components[1]).toEqual({ type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] });
    const message = (await isp.get(`/v1/messages/${sent.body.messageId}`)).body;
    expect(message.whatsappTemplate).toMatchObject({ parameters: ['******'], copyCode: '******' });
    expect(JSON.stringify(message)).not.toContain(code);
    expect((await isp.post('/v1/otp/verify', { id: sent.body.id, code })).body).toEqual({ valid: true });
  });
});
