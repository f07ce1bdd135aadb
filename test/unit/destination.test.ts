import { describe, expect, it } from 'vitest';
import { assertDestination, destinationCountries, destinationRefusal } from '../../shared/domain/destination.js';
import { maskPhoneNumber } from '../../shared/domain/erasure.js';
import { caught } from '../support/expect-error.js';

describe('destinationRefusal: only mobile-capable numbers', () => {
  // Every number here is valid for its country: only its type decides.
  const table: [string, string, string | undefined][] = [
    ['+8801711223344', 'BD mobile', undefined],
    ['+14155552671', 'US fixed line or mobile (the plan cannot tell)', undefined],
    ['+16135550123', 'CA fixed line or mobile', undefined],
    ['+447400123456', 'GB mobile', undefined],
    ['+19005550199', 'US premium rate', 'is a premium-rate number; only mobile numbers can receive SMS'],
    ['+33812345678', 'FR premium rate', 'is a premium-rate number; only mobile numbers can receive SMS'],
    ['+8802223344556', 'BD fixed line', 'is a fixed-line number; only mobile numbers can receive SMS'],
    ['+442079460000', 'GB fixed line', 'is a fixed-line number; only mobile numbers can receive SMS'],
    ['+33810123456', 'FR shared cost', 'is a shared-cost number; only mobile numbers can receive SMS'],
    ['+18005550199', 'US toll free', 'is a toll-free number; only mobile numbers can receive SMS'],
    ['+448001111111', 'GB toll free', 'is a toll-free number; only mobile numbers can receive SMS'],
    ['+8809612345678', 'BD VoIP', 'is a VoIP number; only mobile numbers can receive SMS'],
    ['+445612345678', 'GB VoIP', 'is a VoIP number; only mobile numbers can receive SMS'],
    ['+15005550006', 'US personal number', 'is a personal (call-forwarding) number; only mobile numbers can receive SMS'],
    ['+447012345678', 'GB personal number', 'is a personal (call-forwarding) number; only mobile numbers can receive SMS'],
    ['+447623456789', 'GB pager', 'is a pager number; only mobile numbers can receive SMS'],
    ['+4916990000000', 'DE pager', 'is a pager number; only mobile numbers can receive SMS'],
    ['+443001234567', 'GB UAN', 'is a universal access number (UAN); only mobile numbers can receive SMS'],
    ['+3933123456789', 'IT voicemail', 'is a voicemail access number; only mobile numbers can receive SMS'],
    ['+880961234567', 'not a valid number', 'is a number of unknown type; only mobile numbers can receive SMS'],
    ['+8828888888', 'international network, not valid', 'is a number of unknown type; only mobile numbers can receive SMS'],
  ];
  const everywhere = ['BD', 'US', 'CA', 'GB', 'FR', 'DE', 'IT'];

  it.each(table)('%s (%s)', (number, _what, reason) => {
    expect(destinationRefusal(number, everywhere)?.reason).toBe(reason);
  });

  it('checks the type before the country: a premium-rate number is never allowable', () => {
    expect(destinationRefusal('+19005550199', ['BD'])).toMatchObject({ rule: 'type', type: 'PREMIUM_RATE' });
  });
});

describe('destinationRefusal: only the operator\'s destination countries', () => {
  const table: [string, string[], boolean][] = [
    ['+8801711223344', ['BD'], true],
    ['+8801711223344', ['bd'], true],
    ['+14155552671', ['BD'], false],
    ['+14155552671', ['BD', 'US'], true],
    ['+16135550123', ['US'], false], // +1 is shared: Canada is its own country
    ['+447400123456', ['BD', 'US'], false],
    ['+919812345678', ['IN'], true],
  ];

  it.each(table)('%s to %j: allowed %s', (number, countries, allowed) => {
    expect(destinationRefusal(number, countries) === undefined).toBe(allowed);
  });

  it('names the country, the allowed ones, and how to allow it', () => {
    const refusal = destinationRefusal('+14155552671', ['BD']);
    expect(refusal).toMatchObject({ rule: 'country', country: 'US' });
    expect(refusal?.reason).toMatch(/United States \(US\)/);
    expect(refusal?.reason).toMatch(/only to Bangladesh \(BD\)/);
    expect(refusal?.reason).toMatch(/add "US" to destinationCountries with PATCH \/v1\/settings/);
  });
});

describe('destinationCountries', () => {
  it('defaults to the operator\'s own country', () => {
    expect(destinationCountries({ defaultCountry: 'BD' })).toEqual(['BD']);
    expect(destinationCountries({ defaultCountry: 'bd', destinationCountries: [] })).toEqual(['BD']);
    expect(destinationCountries({ defaultCountry: 'BD', destinationCountries: ['BD', 'IN'] })).toEqual(['BD', 'IN']);
  });
});

describe('assertDestination', () => {
  it('throws Invalid on the given field, with the number and the reason', () => {
    const error = caught(() => assertDestination('+19005550199', { defaultCountry: 'US' }, 'mobile', 'mobile +19005550199'));
    expect(error.kind).toBe('Invalid');
    expect(error.message).toBe('Mobile +19005550199 is a premium-rate number; only mobile numbers can receive SMS.');
    expect(error.fields).toEqual([{ field: 'mobile', message: '+19005550199 is a premium-rate number; only mobile numbers can receive SMS' }]);
  });

  it('passes a mobile number of an allowed country', () => {
    expect(() => assertDestination('+8801711223344', { defaultCountry: 'BD' }, 'customerId')).not.toThrow();
  });
});

describe('maskPhoneNumber (customer erasure)', () => {
  it.each([
    ['+8801711223344', '+88017******44'],
    ['+33612345678', '+3361*****78'],
    ['+14155552671', '+141******71'],
    ['+6512345678', '+6512****78'],
    ['not a number', '+*'],
  ])('%s → %s', (number, masked) => {
    expect(maskPhoneNumber(number)).toBe(masked);
  });
});
