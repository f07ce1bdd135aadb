/**
 * Where SMS may go (against SMS pumping: traffic to premium-rate or foreign numbers that earns
 * someone else money). Two rules, both pure:
 *   1. the number must be able to receive SMS: libphonenumber's type MOBILE or FIXED_LINE_OR_MOBILE
 *      (the latter for plans such as the US and Canada, where the two cannot be told apart);
 *   2. its country must be one of the operator's destinationCountries (default: its own country).
 * The type is checked first: a premium-rate number is never allowed, so naming the country
 * (which the operator could allow) would only send them down the wrong path.
 */
import { parsePhoneNumberFromString, type NumberType, type PhoneNumberType } from 'libphonenumber-js/max';
import { invalid } from './errors.js';
import type { Operator } from './records.js';

const SMS_CAPABLE: ReadonlySet<PhoneNumberType> = new Set<PhoneNumberType>(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

/** What each refused number type is, in words. */
const refusedTypes: Record<Exclude<PhoneNumberType, 'MOBILE' | 'FIXED_LINE_OR_MOBILE'>, string> = {
  FIXED_LINE: 'a fixed-line number',
  PREMIUM_RATE: 'a premium-rate number',
  TOLL_FREE: 'a toll-free number',
  SHARED_COST: 'a shared-cost number',
  VOIP: 'a VoIP number',
  PERSONAL_NUMBER: 'a personal (call-forwarding) number',
  PAGER: 'a pager number',
  UAN: 'a universal access number (UAN)',
  VOICEMAIL: 'a voicemail access number',
};

/** The countries an operator's SMS may go to: its setting, or its own country when unset. */
export function destinationCountries(operator: Pick<Operator, 'defaultCountry' | 'destinationCountries'>): string[] {
  return operator.destinationCountries?.length ? operator.destinationCountries : [operator.defaultCountry.toUpperCase()];
}

let regionNames: Intl.DisplayNames | undefined;

/** "Bangladesh (BD)"; the bare code where the runtime has no name for it. */
export function countryLabel(code: string): string {
  try {
    regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' });
    const name = regionNames.of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

export type DestinationRefusal =
  | { rule: 'type'; type: NumberType; reason: string }
  | { rule: 'country'; country: string | undefined; reason: string };

/**
 * Why an E.164 number may not receive this operator's SMS, or undefined when it may. The reason
 * reads after the number: "+19005550199 is a premium-rate number; only mobile numbers can receive SMS".
 */
export function destinationRefusal(e164: string, allowedCountries: readonly string[]): DestinationRefusal | undefined {
  const parsed = parsePhoneNumberFromString(e164);
  const type = parsed?.isValid() ? parsed.getType() : undefined;
  if (!type || !SMS_CAPABLE.has(type)) {
    const what = type ? refusedTypes[type as keyof typeof refusedTypes] : undefined;
    return { rule: 'type', type, reason: `is ${what ?? 'a number of unknown type'}; only mobile numbers can receive SMS` };
  }
  const country = parsed!.country;
  const allowed = allowedCountries.map((c) => c.toUpperCase());
  if (country && allowed.includes(country)) return undefined;
  const where = country ? `a number in ${countryLabel(country)}` : 'not a number of any one country';
  const to = allowed.map(countryLabel).join(', ');
  const howTo = country
    ? `to allow it, add "${country}" to destinationCountries with PATCH /v1/settings`
    : 'only numbers of a country in destinationCountries can be sent to';
  return { rule: 'country', country, reason: `is ${where}, and this operator sends SMS only to ${to}; ${howTo}` };
}

/**
 * Throws Invalid on `field` when the operator may not send SMS to `e164`.
 * `label` is how the number is named in the message (the number itself, or "customer X's mobile ...").
 */
export function assertDestination(
  e164: string,
  operator: Pick<Operator, 'defaultCountry' | 'destinationCountries'>,
  field: string,
  label = e164,
): void {
  const refusal = destinationRefusal(e164, destinationCountries(operator));
  if (!refusal) return;
  const detail = `${label} ${refusal.reason}.`;
  throw invalid(`${detail.charAt(0).toUpperCase()}${detail.slice(1)}`, [{ field, message: `${e164} ${refusal.reason}` }]);
}
