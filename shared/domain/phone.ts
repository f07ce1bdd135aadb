/**
 * Phone numbers are stored and sent in E.164 (+8801712345678). Input may be local to a
 * default country ('01712345678' in BD) or international, with spaces, dashes or parentheses.
 */
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { invalid } from './errors.js';

/** True when `code` is an ISO 3166-1 alpha-2 country code that libphonenumber knows (e.g. 'BD', 'US'). */
export function isCountryCode(code: string): boolean {
  return isSupportedCountry(code);
}

/**
 * The E.164 form of `input`, read as a local number of `defaultCountry` unless it starts with +.
 * Throws Invalid (on `field`) when it is not a valid number.
 */
export function normalizeMobile(input: string, defaultCountry: string, field = 'mobile'): string {
  const country = defaultCountry.trim().toUpperCase();
  if (!isSupportedCountry(country)) {
    const message = `"${defaultCountry}" is not a supported country code; use an ISO 3166-1 alpha-2 code such as BD.`;
    throw invalid(message, [{ field: 'country', message }]);
  }

  const parsed = typeof input === 'string' ? parsePhoneNumberFromString(input, country) : undefined;
  if (!parsed || !parsed.isValid()) {
    const message =
      `${field} "${input}" is not a valid phone number for ${country}; ` +
      `enter a local ${country} number or an international number starting with + and the country code.`;
    throw invalid(message, [{ field, message }]);
  }
  return parsed.number;
}
