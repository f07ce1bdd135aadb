/**
 * Quiet hours: reminders and marketing broadcasts are not sent between `start` and `end` (HH:MM,
 * the operator's time zone; a window past midnight such as 21:00-08:00 wraps). A message asked for
 * inside the window waits until it ends.
 */
import { instantOf, wallTime } from './zoned-time.js';

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
};

/** When the quiet window that `now` falls in ends, or undefined when `now` is not quiet. */
export function quietUntil(now: Date, timeZone: string, window: { start: string; end: string }): Date | undefined {
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (start === end) return undefined;
  const wall = wallTime(now.getTime(), timeZone);
  const minute = wall.hour * 60 + wall.minute;
  const wraps = start > end;
  const quiet = wraps ? minute >= start || minute < end : minute >= start && minute < end;
  if (!quiet) return undefined;
  // The end is today, or (a window that wraps, asked before midnight) tomorrow.
  const endsTomorrow = wraps && minute >= start;
  const day = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + (endsTomorrow ? 1 : 0)));
  return new Date(instantOf({ year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour: Math.floor(end / 60), minute: end % 60 }, timeZone));
}
