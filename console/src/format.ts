/**
 * Numbers, dates and money in the operator's locale and time zone (GET /v1/settings) and the
 * console's language: Intl does the work; money arrives in minor units and is shown in major ones.
 */
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useSessionState } from './api/session';

export interface Formatters {
  locale: string;
  timeZone: string;
  number(value: number): string;
  percent(value: number): string;
  money(amount: number, currency: string): string;
  dateTime(iso: string): string;
  date(iso: string): string;
  /** A YYYY-MM-DD day key (as GET /v1/billing/usage groups) shown as a short date. */
  day(key: string): string;
  /** Minor units of a currency per major unit (100 for BDT). */
  minorUnits(currency: string): number;
}

export function localeFor(language: string, country?: string): string {
  const base = language.startsWith('bn') ? 'bn' : 'en';
  return country ? `${base}-${country}` : base;
}

export function formatters(locale: string, timeZone: string): Formatters {
  const minorUnits = (currency: string) => 10 ** (new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2);
  return {
    locale,
    timeZone,
    minorUnits,
    number: (value) => new Intl.NumberFormat(locale).format(value),
    percent: (value) => new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(value),
    money: (amount, currency) => new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount / minorUnits(currency)),
    dateTime: (iso) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium', timeZone }).format(new Date(iso)),
    date: (iso) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone }).format(new Date(iso)),
    day: (key) => new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(`${key}T00:00:00Z`)),
  };
}

export function useFormat(): Formatters {
  const { i18n } = useTranslation();
  const { session } = useSessionState();
  const country = session?.settings?.defaultCountry;
  const timeZone = session?.settings?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  return useMemo(() => formatters(localeFor(i18n.language, country), timeZone), [i18n.language, country, timeZone]);
}

/** The start of today and of this month in a time zone, as ISO instants (for the API's from/to). */
export function startsInZone(timeZone: string, now = new Date()): { today: string; month: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  // The zone's offset now: its wall clock read as UTC, minus the real instant.
  const wall = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!);
  const offset = wall - Math.floor(now.getTime() / 1000) * 1000;
  const today = new Date(Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!) - offset).toISOString();
  const month = new Date(Date.UTC(+parts.year!, +parts.month! - 1, 1) - offset).toISOString();
  return { today, month };
}
