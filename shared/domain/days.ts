/** Calendar days as YYYY-MM-DD (an operator's day: see localDay in rate-limit.ts). */

/** `date` plus `days` (negative: before), across months and years. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}
