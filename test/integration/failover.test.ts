import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deps, type Deps } from '../../shared/deps.js';
import type { Operator } from '../../shared/domain/records.js';
import { deliverMessage } from '../../shared/services/deliver-message.js';
import { saveGateway } from '../../shared/services/gateways.js';
import { sendMessage } from '../../shared/services/messages.js';
import { startDemoStack, type DemoStack } from '../support/demo-stack.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.js';

let demo: DemoStack;
let d: Deps;
let operator: Operator;
let twilio: FakeTwilio;
let twilioGatewayId: string;
let sandboxGatewayId: string;

const accountSid = `AC${'b2'.repeat(16)}`;
const attempt = { receiveCount: 1, maxReceiveCount: 5, maxAttempts: 5, claimMs: 30_000 };
const twilioCalls = () => twilio.requests.filter((r) => r.path.endsWith('/Messages.json') && r.method === 'POST').length;

beforeAll(async () => {
  // No workers: this file drives the sender itself.
  demo = await startDemoStack('failover', { workers: false, liftRateLimit: true });
  d = deps();
  twilio = await startFakeTwilio({ accountSid, authToken: 'the-real-token-0123456789' });
  process.env.ISPNOTIFY_BASE_URL_TWILIO = twilio.baseUrl;
  operator = (await d.operators.get('demo'))!;
  const sandbox = (await d.gateways.list('demo')).find((g) => g.provider === 'sandbox')!;
  sandboxGatewayId = sandbox.id;
  // The sandbox becomes the second choice; a Twilio gateway with a wrong token the first.
  await saveGateway(d, operator, { name: sandbox.name, channel: 'sms', provider: 'sandbox', settings: sandbox.settings, default: true, priority: 2 }, sandbox.id);
  const { view } = await saveGateway(d, operator, {
    name: 'Twilio (token revoked)',
    channel: 'sms',
    provider: 'twilio',
    credentials: { accountSid, authToken: 'a-revoked-token-0123456789' },
    settings: { from: '+15005550006' },
    default: false,
    priority: 1,
  });
  twilioGatewayId = view.id;
  operator = (await d.operators.get('demo'))!;
});

afterAll(async () => {
  delete process.env.ISPNOTIFY_BASE_URL_TWILIO;
  await twilio?.close();
  await demo?.stack.stop();
});

describe('gateway priorities and failover', () => {
  it('sends through the gateway of priority 1, and when the gateway itself fails moves to the next at once', async () => {
    const message = await sendMessage(d, operator, { mobile: '01711225501', text: 'failover', variables: {} });
    expect(message.gatewayId).toBe(twilioGatewayId);
    expect(await deliverMessage(d, { operatorId: 'demo', messageId: message.id }, attempt)).toBe('sent');
    const stored = (await d.messages.get('demo', message.id))!;
    expect(stored).toMatchObject({ status: 'sent', gatewayId: sandboxGatewayId, provider: 'sandbox', attempts: 1 });
    expect(stored.tries?.map((t) => [t.provider, t.outcome])).toEqual([
      ['twilio', 'gateway-fault'],
      ['sandbox', 'accepted'],
    ]);
    expect(stored.tries?.[0]?.detail).toMatch(/credentials/);
    // Two gateways tried, one charge (the demo operator is prepaid).
    let debits = 0;
    for await (const entry of d.billing.entries('demo')) if (entry.type === 'debit' && entry.messageId === message.id) debits++;
    expect(debits).toBe(1);
    expect(await d.billing.settle('demo', message.id, new Date().toISOString())).toBe('already');
  });

  it('opens the circuit after repeated gateway faults: the failing gateway is skipped, then tried again after the cool-down', async () => {
    // Two more faults (three in all, within five minutes) open Twilio's circuit.
    for (const mobile of ['01711225502', '01711225503']) {
      const message = await sendMessage(d, operator, { mobile, text: 'failover', variables: {} });
      expect(await deliverMessage(d, { operatorId: 'demo', messageId: message.id }, attempt)).toBe('sent');
    }
    const callsBefore = twilioCalls();
    const gateway = (await demo.api.get(`/v1/gateways/${twilioGatewayId}`)).body;
    expect(gateway).toMatchObject({ priority: 1, enabled: true, circuitOpenUntil: expect.any(String) });

    const skipped = await sendMessage(d, operator, { mobile: '01711225504', text: 'failover', variables: {} });
    expect(await deliverMessage(d, { operatorId: 'demo', messageId: skipped.id }, attempt)).toBe('sent');
    expect(twilioCalls()).toBe(callsBefore); // not called while its circuit is open
    const stored = (await d.messages.get('demo', skipped.id))!;
    expect(stored.gatewayId).toBe(sandboxGatewayId);
    expect(stored.tries?.[0]?.detail).toMatch(/circuit is open/);

    const afterCoolDown = { ...d, clock: { now: () => new Date(Date.now() + 6 * 60_000) } };
    const later = await sendMessage(afterCoolDown, operator, { mobile: '01711225505', text: 'failover', variables: {} });
    expect(await deliverMessage(afterCoolDown, { operatorId: 'demo', messageId: later.id }, attempt)).toBe('sent');
    expect(twilioCalls()).toBe(callsBefore + 1); // tried again, faulted, failed over
  });

  it('never uses a disabled gateway, nor fails over to one', async () => {
    const sandbox = (await d.gateways.get(sandboxGatewayId))!;
    await saveGateway(d, operator, { name: sandbox.name, channel: 'sms', provider: 'sandbox', settings: sandbox.settings, default: true, priority: 2, enabled: false }, sandboxGatewayId);
    const message = await sendMessage(d, operator, { mobile: '01711225506', text: 'nowhere to go', variables: {} });
    await expect(deliverMessage(d, { operatorId: 'demo', messageId: message.id }, attempt)).rejects.toMatchObject({ name: 'RetryLater', gatewayFault: true });
    const stored = (await d.messages.get('demo', message.id))!;
    expect(stored).toMatchObject({ status: 'queued', gatewayId: twilioGatewayId });
    expect(stored.tries?.map((t) => t.provider)).toEqual(['twilio']);
  });
});

describe('a provider that throttles', () => {
  it('makes the send wait and go again, without spending an attempt or failing the message', async () => {
    const revoked = (await d.gateways.get(twilioGatewayId))!;
    await saveGateway(d, operator, { name: revoked.name, channel: 'sms', provider: 'twilio', settings: revoked.settings, default: false, priority: 1, enabled: false }, twilioGatewayId);
    await saveGateway(d, operator, {
      name: 'Twilio',
      channel: 'sms',
      provider: 'twilio',
      credentials: { accountSid, authToken: 'the-real-token-0123456789' },
      settings: { from: '+15005550006' },
      default: true,
      priority: 1,
    });
    operator = (await d.operators.get('demo'))!;
    const message = await sendMessage(d, operator, { mobile: '01711225507', text: 'slow down', variables: {} });
    twilio.failNext(1, 429);
    const queued: { tasks: object[]; delaySeconds?: number }[] = [];
    const spy = { ...d, queue: { enqueue: async (_q: string, tasks: object[], options?: { delaySeconds?: number }) => void queued.push({ tasks, ...options }) } };
    expect(await deliverMessage(spy, { operatorId: 'demo', messageId: message.id }, attempt)).toBe('throttled');
    const waiting = (await d.messages.get('demo', message.id))!;
    expect(waiting).toMatchObject({ status: 'queued', attempts: 0 });
    expect(waiting.claimedUntil).toBeUndefined();
    expect(waiting.tries?.at(-1)).toMatchObject({ provider: 'twilio', outcome: 'unavailable' });
    expect(queued).toEqual([{ tasks: [{ operatorId: 'demo', messageId: message.id }], delaySeconds: expect.any(Number) }]);
    expect(queued[0]!.delaySeconds).toBeGreaterThanOrEqual(1);

    expect(await deliverMessage(d, { operatorId: 'demo', messageId: message.id }, attempt)).toBe('sent');
    expect((await d.messages.get('demo', message.id))).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('slows the gateway down for every worker: each throttle burst lowers its rate by a fifth, which returns 15 s after the last', async () => {
    const gateway = (await d.gateways.list('demo')).find((g) => g.name === 'Twilio')!;
    await saveGateway(d, operator, { name: gateway.name, channel: 'sms', provider: 'twilio', settings: gateway.settings, default: true, priority: 1, maxPerSecond: 40 }, gateway.id);
    // The 429 of the test above halved the provider's default rate already: start from a quiet gateway.
    const later = (ms: number) => ({ now: () => new Date(Date.now() + ms) });
    const quiet = { ...d, clock: later(120_000), queue: { enqueue: async () => {} } };
    const message = await sendMessage(d, operator, { mobile: '01711225508', text: 'slower', variables: {} });
    twilio.failNext(1, 429);
    expect(await deliverMessage(quiet, { operatorId: 'demo', messageId: message.id }, attempt)).toBe('throttled');
    const now = () => quiet.clock.now().toISOString();
    expect((await d.circuits.slowedDown([gateway.id], now())).get(gateway.id)?.maxPerSecond).toBe(32);
    // Workers that saw the same burst within the second halve nothing more.
    expect(await d.circuits.recordThrottle(gateway.id, 32, now())).toBe(32);
    // The admin sees it.
    const view = (await demo.api.get(`/v1/gateways/${gateway.id}`)).body;
    expect(view.slowedDown).toMatchObject({ maxPerSecond: 32 });
    expect(view.maxPerSecond).toBe(40);
    // A later burst lowers it again (a fifth of 12.5 → 10); 15 s after the last one the full rate is back.
    const inTwoSeconds = new Date(Date.now() + 122_000).toISOString();
    expect(await d.circuits.recordThrottle(gateway.id, 12.5, inTwoSeconds)).toBe(10);
    expect((await d.circuits.slowedDown([gateway.id], new Date(Date.now() + 122_000 + 16_000).toISOString())).size).toBe(0);
    // The send itself is held to the lowered rate: 10 in that second, the 11th waits.
    const second = new Date(Math.ceil((Date.now() + 123_000) / 1000) * 1000);
    const inSecond = { ...d, clock: { now: () => second }, queue: { enqueue: async () => {} } };
    const burst = [];
    for (let i = 0; i < 11; i++) burst.push(await sendMessage(d, operator, { mobile: `017112257${String(10 + i)}`, text: 'held', variables: {} }));
    const outcomes = [];
    for (const m of burst) outcomes.push(await deliverMessage(inSecond, { operatorId: 'demo', messageId: m.id }, attempt));
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(10);
    expect(outcomes.at(-1)).toBe('throttled');
    expect((await d.messages.get('demo', burst.at(-1)!.id))!.lastError).toMatch(/lowered after the provider throttled it/);
  });
});

describe("a gateway's messages-per-second limit", () => {
  it('holds for every worker together: a send over it waits for the next second, without an attempt or a provider call', async () => {
    const good = (await d.gateways.list('demo')).find((g) => g.name === 'Twilio')!;
    await saveGateway(d, operator, { name: good.name, channel: 'sms', provider: 'twilio', settings: good.settings, default: true, priority: 1, maxPerSecond: 2 }, good.id);
    expect((await demo.api.get(`/v1/gateways/${good.id}`)).body.maxPerSecond).toBe(2);
    // One fixed second, so the test does not depend on when it runs.
    const second = new Date(Math.ceil(Date.now() / 1000) * 1000 + 5_000);
    const inSecond = { ...d, clock: { now: () => second }, queue: { enqueue: async () => {} } };
    const messages = [];
    for (const mobile of ['01711225601', '01711225602', '01711225603']) messages.push(await sendMessage(d, operator, { mobile, text: 'rate', variables: {} }));
    const calls = twilioCalls();
    const outcomes = await Promise.all(messages.map((m) => deliverMessage(inSecond, { operatorId: 'demo', messageId: m.id }, attempt)));
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(2);
    expect(outcomes.filter((o) => o === 'throttled')).toHaveLength(1);
    expect(twilioCalls()).toBe(calls + 2);
    const waiting = messages[outcomes.indexOf('throttled')]!;
    expect(await d.messages.get('demo', waiting.id)).toMatchObject({ status: 'queued', attempts: 0 });
    const nextSecond = { ...inSecond, clock: { now: () => new Date(second.getTime() + 1_000) } };
    expect(await deliverMessage(nextSecond, { operatorId: 'demo', messageId: waiting.id }, attempt)).toBe('sent');
  });
});

describe('routing rules', () => {
  it('sends through the gateway a rule names for the destination or the kind of traffic, the others behind it', async () => {
    // The sandbox was disabled above: enabled again, behind Twilio.
    const disabled = (await d.gateways.get(sandboxGatewayId))!;
    await saveGateway(d, operator, { name: disabled.name, channel: 'sms', provider: 'sandbox', settings: disabled.settings, default: false, priority: 2, enabled: true }, sandboxGatewayId);
    const gateways = await d.gateways.list('demo');
    const twilioGateway = gateways.find((g) => g.name === 'Twilio')!;
    const sandbox = gateways.find((g) => g.id === sandboxGatewayId)!;
    const unknown = await demo.api.request('PATCH', '/v1/settings', { routing: { rules: [{ gatewayId: 'no-such-gateway', kind: 'otp' }] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].field).toBe('routing.rules.0.gatewayId');
    const badPrefix = await demo.api.request('PATCH', '/v1/settings', { routing: { rules: [{ gatewayId: sandbox.id, countryPrefix: '880' }] } });
    expect(badPrefix.status).toBe(400);

    // Twilio is the default (priority 1); a rule sends Bangladeshi Grameenphone numbers (+88017) through the sandbox.
    const saved = await demo.api.request('PATCH', '/v1/settings', { routing: { rules: [{ gatewayId: sandbox.id, countryPrefix: '+88017' }] } });
    expect(saved.status).toBe(200);
    expect(saved.body.routing.rules).toEqual([{ gatewayId: sandbox.id, countryPrefix: '+88017' }]);
    try {
      operator = (await d.operators.get('demo'))!;
      expect((await sendMessage(d, operator, { mobile: '01711225901', text: 'rule', variables: {} })).gatewayId).toBe(sandbox.id);
      expect((await sendMessage(d, operator, { mobile: '01811225901', text: 'no rule', variables: {} })).gatewayId).toBe(twilioGateway.id);
      // By kind: single sends through the sandbox; a disabled or deleted rule gateway is skipped.
      await demo.api.request('PATCH', '/v1/settings', { routing: { rules: [{ gatewayId: sandbox.id, kind: 'single' }] } });
      operator = (await d.operators.get('demo'))!;
      expect((await sendMessage(d, operator, { mobile: '01811225902', text: 'single', variables: {} })).gatewayId).toBe(sandbox.id);
      await saveGateway(d, operator, { name: sandbox.name, channel: 'sms', provider: 'sandbox', settings: sandbox.settings, default: false, priority: 2, enabled: false }, sandbox.id);
      expect((await sendMessage(d, operator, { mobile: '01811225903', text: 'skipped', variables: {} })).gatewayId).toBe(twilioGateway.id);
    } finally {
      await saveGateway(d, operator, { name: sandbox.name, channel: 'sms', provider: 'sandbox', settings: sandbox.settings, default: false, priority: 2, enabled: true }, sandbox.id);
      await demo.api.request('PATCH', '/v1/settings', { routing: { rules: null } });
      operator = (await d.operators.get('demo'))!;
    }
  });
});
