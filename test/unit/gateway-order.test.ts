import { describe, expect, it } from 'vitest';
import { applyRoutingRules, gatewayOrder } from '../../shared/domain/gateway-order.js';
import type { Gateway } from '../../shared/domain/records.js';

const gateway = (id: string, extra: Partial<Gateway> = {}): Gateway => ({
  id,
  operatorId: 'op',
  channel: 'sms',
  provider: 'sandbox',
  name: id,
  settings: {},
  sealedCredentials: '',
  credentialFields: [],
  createdAt: `2026-01-0${id.length}T00:00:00.000Z`,
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});

const cheap = gateway('cheap', { priority: 1 });
const premium = gateway('premium', { priority: 2 });
const india = gateway('india', { priority: 3 });
const ordered = gatewayOrder([india, premium, cheap], 'sms', undefined);

describe('applyRoutingRules', () => {
  it('keeps the priority order when no rule matches, or there are none', () => {
    expect(ordered.map((g) => g.id)).toEqual(['cheap', 'premium', 'india']);
    expect(applyRoutingRules(ordered, undefined, { to: '+8801711000000', kind: 'bulk' }).map((g) => g.id)).toEqual(['cheap', 'premium', 'india']);
    expect(applyRoutingRules(ordered, [{ gatewayId: 'india', countryPrefix: '+91' }], { to: '+8801711000000', kind: 'bulk' }).map((g) => g.id)).toEqual(['cheap', 'premium', 'india']);
  });

  it('puts the gateway of the first matching rule first, the others behind it in their order', () => {
    const rules = [
      { gatewayId: 'india', countryPrefix: '+91' },
      { gatewayId: 'premium', kind: 'otp' as const },
    ];
    expect(applyRoutingRules(ordered, rules, { to: '+919812345678', kind: 'otp' }).map((g) => g.id)).toEqual(['india', 'cheap', 'premium']);
    expect(applyRoutingRules(ordered, rules, { to: '+8801711000000', kind: 'otp' }).map((g) => g.id)).toEqual(['premium', 'cheap', 'india']);
    expect(applyRoutingRules(ordered, rules, { to: '+8801711000000', kind: 'single' }).map((g) => g.id)).toEqual(['cheap', 'premium', 'india']);
  });

  it('needs every condition of a rule to hold', () => {
    const rules = [{ gatewayId: 'premium', countryPrefix: '+880', kind: 'otp' as const }];
    expect(applyRoutingRules(ordered, rules, { to: '+8801711000000', kind: 'otp' })[0]!.id).toBe('premium');
    expect(applyRoutingRules(ordered, rules, { to: '+8801711000000', kind: 'bulk' })[0]!.id).toBe('cheap');
    expect(applyRoutingRules(ordered, rules, { to: '+919812345678', kind: 'otp' })[0]!.id).toBe('cheap');
  });

  it('skips a rule whose gateway is disabled, deleted or of another channel, and tries the next rule', () => {
    const withDisabled = gatewayOrder([cheap, premium, gateway('off', { enabled: false }), gateway('wa', { channel: 'whatsapp' })], 'sms', undefined);
    const rules = [{ gatewayId: 'off' }, { gatewayId: 'wa' }, { gatewayId: 'gone' }, { gatewayId: 'premium' }];
    expect(applyRoutingRules(withDisabled, rules, { to: '+8801711000000', kind: 'bulk' }).map((g) => g.id)).toEqual(['premium', 'cheap']);
  });
});
