/**
 * Wall-clock time in an IANA time zone, through Intl (Node ships the full tz database, so no
 * dependency is needed). Pure: no I/O, no clock.
 */
import { invalid } from './errors.js';

export interface WallTime {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        // h23: midnight is 00, never 24 (hour12: false prints 24 in some ICU versions).
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw invalid(`Unknown time zone "${timeZone}"; use an IANA name such as Asia/Dhaka or America/New_York.`, [{ field: 'timezone', message: 'unknown time zone' }]);
    }
    formatters.set(timeZone, format);
  }
  return format;
}

/** Throws Invalid for a name that is not an IANA time zone. */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

/** The zone's wall clock at `instant` (ms since the epoch), to the second, as if it were UTC. */
function wallMs(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/** Local minus UTC at `instant`, in ms (New York in winter: -5 h). */
export function offsetMs(instant: number, timeZone: string): number {
  const second = Math.floor(instant / 1000) * 1000;
  return wallMs(second, timeZone) - second;
}

export function wallTime(instant: number, timeZone: string): WallTime {
  const wall = new Date(wallMs(instant, timeZone));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate(), hour: wall.getUTCHours(), minute: wall.getUTCMinutes() };
}

const DAY_MS = 86_400_000;

/**
 * The instant a wall time names in a zone. A time that occurs twice (the hour clocks fall back)
 * is its first occurrence; a time that does not exist (the hour clocks spring forward) is the
 * first instant after the gap (02:30 on a New York spring-forward day is 03:00 EDT).
 */
export function instantOf(wall: WallTime, timeZone: string): number {
  const local = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  // Real zones change offset at most once in two days: the offsets a day either side are the candidates.
  const before = offsetMs(local - DAY_MS, timeZone);
  const after = offsetMs(local + DAY_MS, timeZone);
  const valid = [local - before, local - after].filter((t) => offsetMs(t, timeZone) === local - t).sort((a, b) => a - b);
  if (valid.length > 0) return valid[0]!;
  // In the gap: the offset changes from `before` to `after` between these two instants; find the change to the second.
  let lo = Math.floor((local - after) / 1000);
  let hi = Math.ceil((local - before) / 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetMs(mid * 1000, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return hi * 1000;
}
