import { describe, it, expect } from 'vitest';
import { isCountryCode, normalizeMobile } from '../../shared/domain/phone.js';
import { caught } from '../support/expect-error.js';

describe('normalizeMobile', () => {
  it('turns a Bangladeshi local number into E.164', () => {
    expect(normalizeMobile('01712345678', 'BD')).toBe('+8801712345678');
  });

  it('accepts a Bangladeshi number already written with its country code', () => {
    expect(normalizeMobile('+8801712345678', 'BD')).toBe('+8801712345678');
    expect(normalizeMobile('+880 1812-345678', 'BD')).toBe('+8801812345678');
  });

  it('keeps an international number from another country as it is, whatever the default country', () => {
    expect(normalizeMobile('+1 415 555 2671', 'BD')).toBe('+14155552671');
    expect(normalizeMobile('+44 7400 123456', 'BD')).toBe('+447400123456');
  });

  it('tolerates spaces, dashes and parentheses', () => {
    expect(normalizeMobile(' 017-1234 5678 ', 'BD')).toBe('+8801712345678');
    expect(normalizeMobile('(415) 555-2671', 'US')).toBe('+14155552671');
  });

  it('accepts the default country in lower case', () => {
    expect(normalizeMobile('01712345678', 'bd')).toBe('+8801712345678');
  });

  it.each(['12', 'abc', '+88017', '', '0171234567'])('refuses %j as not a valid number, on the mobile field', (input) => {
    const error = caught(() => normalizeMobile(input, 'BD'));
    expect(error.kind).toBe('Invalid');
    expect(error.message).toBe(
      `mobile "${input}" is not a valid phone number for BD; ` +
        'enter a local BD number or an international number starting with + and the country code.',
    );
    expect(error.fields).toEqual([{ field: 'mobile', message: error.message }]);
  });

  it('names the field it is given in the error', () => {
    const error = caught(() => normalizeMobile('12', 'BD', 'recipients[3].mobile'));
    expect(error.message.startsWith('recipients[3].mobile "12" is not a valid phone number for BD')).toBe(true);
    expect(error.fields.map((f) => f.field)).toEqual(['recipients[3].mobile']);
  });

  it('refuses an unknown default country on the country field', () => {
    const error = caught(() => normalizeMobile('01712345678', 'XX'));
    expect(error.kind).toBe('Invalid');
    expect(error.fields.map((f) => f.field)).toEqual(['country']);
  });
});

describe('isCountryCode', () => {
  it('knows ISO country codes that have phone numbering', () => {
    expect(isCountryCode('BD')).toBe(true);
    expect(isCountryCode('US')).toBe(true);
    expect(isCountryCode('IN')).toBe(true);
  });

  it('refuses unknown or badly written codes', () => {
    expect(isCountryCode('XX')).toBe(false);
    expect(isCountryCode('bd')).toBe(false);
    expect(isCountryCode('BGD')).toBe(false);
    expect(isCountryCode('')).toBe(false);
  });
});
