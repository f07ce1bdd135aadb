/** Money is integer minor units; people read it in major units with the currency's own decimals. */

const digitsCache = new Map<string, number>();

/** The currency's minor-unit digits (BDT, USD: 2; JPY: 0), from the platform's Intl data. */
export function currencyDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    digitsCache.set(currency, digits);
  }
  return digits;
}

/** 105000 BDT → "1050.00": no grouping, a dot, the currency's decimals (the same in every message language). */
export function majorUnits(amount: number, currency: string): string {
  const digits = currencyDigits(currency);
  const negative = amount < 0;
  const whole = Math.abs(Math.trunc(amount)).toString().padStart(digits + 1, '0');
  const text = digits === 0 ? whole : `${whole.slice(0, -digits)}.${whole.slice(-digits)}`;
  return negative ? `-${text}` : text;
}
