/** What an erased message keeps of its personal data: pure, so the masking rule is unit-tested. */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** An erased message's text. */
export const ERASED_TEXT = '[erased]';

/**
 * The number with its middle hidden: the country code, the first two digits of the national number
 * (the network prefix) when at least four more digits stay hidden, and the last two digits:
 * +8801711223344 → +88017******44, +33612345678 → +3361*****78. Enough to tell which of a
 * customer's numbers a message went to, not enough to call it.
 */
export function maskPhoneNumber(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  const digits = e164.replace(/\D/g, '');
  const countryCode = parsed?.countryCallingCode ?? '';
  const national = parsed ? String(parsed.nationalNumber) : digits;
  const lead = national.length >= 8 ? national.slice(0, 2) : '';
  const tail = national.length > 2 ? national.slice(-2) : '';
  const hidden = Math.max(national.length - lead.length - tail.length, 1);
  return `+${countryCode}${lead}${'*'.repeat(hidden)}${tail}`;
}
