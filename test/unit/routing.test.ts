/**
 * chooseRoute: which channel a message goes by and to which number, and the words that say why.
 * Pure: no stack, no clock.
 */
import { describe, expect, it } from 'vitest';
import { chooseRoute, type Recipient } from '../../shared/domain/routing.js';
import { caught } from '../support/expect-error.js';

const MOBILE = '+8801711223344';
const WHATSAPP = '+8801819990123';
const RAW = '+8801911000111';

const withWhatsApp: Recipient = { customer: { id: 'c-wa', mobile: MOBILE, whatsapp: WHATSAPP } };
const withoutWhatsApp: Recipient = { customer: { id: 'c-sms', mobile: MOBILE } };
const raw: Recipient = { number: RAW };

const usesMobileOff = { whatsappUsesMobile: false };
const usesMobileOn = { whatsappUsesMobile: true };
/** An operator that never set the switch: the default is off. */
const usesMobileUnset = {};

describe('chooseRoute: an explicit sms', () => {
  it('is kept, to the mobile, even when the customer has a WhatsApp number and the operator a WhatsApp gateway', () => {
    expect(chooseRoute('sms', usesMobileOn, withWhatsApp, true)).toEqual({ channel: 'sms', to: MOBILE, reason: 'SMS was asked for.' });
  });

  it('goes to a raw number as given', () => {
    expect(chooseRoute('sms', usesMobileOff, raw, false)).toEqual({ channel: 'sms', to: RAW, reason: 'SMS was asked for.' });
  });
});

describe('chooseRoute: an explicit whatsapp', () => {
  it("goes to the customer's WhatsApp number when the operator has an enabled WhatsApp gateway", () => {
    expect(chooseRoute('whatsapp', usesMobileOff, withWhatsApp, true)).toEqual({ channel: 'whatsapp', to: WHATSAPP, reason: 'WhatsApp was asked for.' });
  });

  it('goes to the mobile when the customer has no WhatsApp number, whatever whatsappUsesMobile says', () => {
    for (const operator of [usesMobileOff, usesMobileOn, usesMobileUnset]) {
      const route = chooseRoute('whatsapp', operator, withoutWhatsApp, true);
      expect(route).toEqual({ channel: 'whatsapp', to: MOBILE, reason: 'WhatsApp was asked for.' });
    }
  });

  it('goes to a raw number as given', () => {
    expect(chooseRoute('whatsapp', usesMobileOff, raw, true)).toMatchObject({ channel: 'whatsapp', to: RAW });
  });

  it('is refused with a 409 Conflict naming the fix when the operator has no enabled WhatsApp gateway', () => {
    for (const recipient of [withWhatsApp, withoutWhatsApp, raw]) {
      const error = caught(() => chooseRoute('whatsapp', usesMobileOn, recipient, false));
      expect(error.kind).toBe('Conflict');
      expect(error.message).toMatch(/no enabled WhatsApp gateway/);
      expect(error.message).toContain('POST /v1/gateways');
      expect(error.message).toMatch(/send by SMS/);
      expect(error.fields).toEqual([]);
    }
  });
});

describe('chooseRoute: auto', () => {
  it('sends by SMS to the mobile when the operator has no enabled WhatsApp gateway, even to a customer with a WhatsApp number', () => {
    const route = chooseRoute('auto', usesMobileOn, withWhatsApp, false);
    expect(route).toEqual({ channel: 'sms', to: MOBILE, reason: 'auto: SMS, because this operator has no enabled WhatsApp gateway.' });
    expect(chooseRoute('auto', usesMobileOff, raw, false)).toMatchObject({ channel: 'sms', to: RAW, reason: expect.stringMatching(/no enabled WhatsApp gateway/) });
  });

  it("sends by WhatsApp to the customer's WhatsApp number, not the mobile, and says which number", () => {
    for (const operator of [usesMobileOff, usesMobileOn]) {
      const route = chooseRoute('auto', operator, withWhatsApp, true);
      expect(route.channel).toBe('whatsapp');
      expect(route.to).toBe(WHATSAPP);
      expect(route.reason).toBe("auto: WhatsApp, because this operator has an enabled WhatsApp gateway and the customer's WhatsApp number is known.");
    }
  });

  it('sends by SMS, naming the customer and the setting, when the customer has no WhatsApp number and whatsappUsesMobile is off', () => {
    for (const operator of [usesMobileOff, usesMobileUnset]) {
      const route = chooseRoute('auto', operator, withoutWhatsApp, true);
      expect(route.channel).toBe('sms');
      expect(route.to).toBe(MOBILE);
      expect(route.reason).toBe('auto: SMS, because customer "c-sms" has no WhatsApp number and the setting whatsappUsesMobile is off.');
    }
  });

  it('sends by WhatsApp to the mobile when the customer has no WhatsApp number and whatsappUsesMobile is on', () => {
    const route = chooseRoute('auto', usesMobileOn, withoutWhatsApp, true);
    expect(route.channel).toBe('whatsapp');
    expect(route.to).toBe(MOBILE);
    expect(route.reason).toBe('auto: WhatsApp, because this operator has an enabled WhatsApp gateway and the mobile number (whatsappUsesMobile is on) is known.');
  });

  it('sends a raw number by SMS while whatsappUsesMobile is off, saying raw numbers need the setting', () => {
    for (const operator of [usesMobileOff, usesMobileUnset]) {
      const route = chooseRoute('auto', operator, raw, true);
      expect(route.channel).toBe('sms');
      expect(route.to).toBe(RAW);
      expect(route.reason).toBe('auto: SMS, because a raw number is used on WhatsApp only with the setting whatsappUsesMobile on.');
    }
  });

  it('sends a raw number by WhatsApp when whatsappUsesMobile is on', () => {
    const route = chooseRoute('auto', usesMobileOn, raw, true);
    expect(route.channel).toBe('whatsapp');
    expect(route.to).toBe(RAW);
    expect(route.reason).toMatch(/^auto: WhatsApp, because this operator has an enabled WhatsApp gateway and the mobile number \(whatsappUsesMobile is on\)/);
  });
});
