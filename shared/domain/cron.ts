/**
 * EventBridge Scheduler's cron: `cron(minutes hours day-of-month month day-of-week year)`, and
 * when it fires in an IANA time zone. The local scheduler fires on these times and the EventBridge
 * adapter refuses what this refuses, so both runtimes agree on what a schedule means.
 *
 * Daylight saving, on a day clocks move (tested for New York, London; Dhaka has none):
 * - a local time that does not exist (spring forward) fires once, at the first instant after the gap
 *   (02:30 and 02:45 in New York on 2026-03-08 both fire as one, at 03:00 EDT);
 * - a local time that occurs twice (fall back) fires once, at its first occurrence (EDT, not EST).
 * So a daily cron fires exactly once on every local day. (EventBridge itself documents that it skips a
 * time in the gap; daily notifiers at business hours never meet a gap, which is between 00:00 and 03:00.)
 */
import { invalid } from './errors.js';
import { assertTimeZone, instantOf, wallTime } from './zoned-time.js';

export interface Cron {
  /** The expression as EventBridge takes it: `cron(30 9 * * ? *)`. */
  expression: string;
  minutes: number[];
  hours: number[];
  /** undefined: `?` (the day is chosen by day-of-week). */
  daysOfMonth?: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 1 = Sunday … 7 = Saturday, as EventBridge counts; undefined: `?`. */
  daysOfWeek?: ReadonlySet<number>;
  years: ReadonlySet<number>;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Day-of-month and day-of-week: one of the two must be `?`. */
  question?: true;
  /** EventBridge allows `/` in every field but day-of-week. */
  noStep?: true;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
/** EventBridge's year range. */
const LAST_YEAR = 2199;

const FIELDS: readonly FieldSpec[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: WEEKDAYS, question: true, noStep: true },
  { name: 'year', min: 1970, max: LAST_YEAR },
];

function cronError(expression: string, why: string) {
  return invalid(`Invalid cron expression "${expression}": ${why}`, [{ field: 'cron', message: why }]);
}

function parseValue(text: string, spec: FieldSpec, expression: string): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  const value = named >= 0 ? named + 1 : /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(value) && /[LW#]/i.test(text)) {
    throw cronError(expression, `${spec.name} "${text}": L, W and # are not supported; list the days instead.`);
  }
  if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
    throw cronError(expression, `${spec.name} "${text}" is not between ${spec.min} and ${spec.max}${spec.names ? ` (or ${spec.names[0]}–${spec.names.at(-1)})` : ''}.`);
  }
  return value;
}

/** One field: `*`, `?`, values, ranges `a-b`, steps `*\/n`, `a/n`, `a-b/n`, comma lists of these. */
function parseField(text: string, spec: FieldSpec, expression: string): Set<number> | undefined {
  if (text === '?') {
    if (!spec.question) throw cronError(expression, `? is only allowed in day-of-month or day-of-week, not ${spec.name}.`);
    return undefined;
  }
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!match) throw cronError(expression, `${spec.name} "${part}" is not a value, range or step.`);
    const [, base, stepText] = match as unknown as [string, string, string | undefined];
    if (stepText !== undefined && spec.noStep) throw cronError(expression, `${spec.name} does not take a / step.`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) throw cronError(expression, `${spec.name} step "${stepText}" must be at least 1.`);
    let from: number;
    let to: number;
    if (base === '*') {
      [from, to] = [spec.min, spec.max];
    } else if (base.includes('-')) {
      const [a, b, ...rest] = base.split('-');
      if (rest.length > 0 || !a || !b) throw cronError(expression, `${spec.name} range "${base}" is not a-b.`);
      [from, to] = [parseValue(a, spec, expression), parseValue(b, spec, expression)];
      if (from > to) throw cronError(expression, `${spec.name} range "${base}" runs backwards.`);
    } else {
      from = parseValue(base, spec, expression);
      // `a/n` runs from a to the field's end; a lone value is just itself.
      to = stepText === undefined ? from : spec.max;
    }
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

/** Parses `cron(m h dom mon dow year)` (the bare six fields are accepted too). Throws Invalid, saying why. */
export function parseCron(text: string): Cron {
  const inner = /^cron\((.*)\)$/.exec(text.trim())?.[1] ?? text;
  const fields = inner.trim().split(/\s+/);
  const expression = `cron(${fields.join(' ')})`;
  if (fields.length !== 6) throw cronError(text, `EventBridge cron has 6 fields (minutes hours day-of-month month day-of-week year), this has ${fields.length}.`);
  const [minutes, hours, daysOfMonth, months, daysOfWeek, years] = fields.map((field, i) => parseField(field, FIELDS[i]!, text));
  if ((daysOfMonth === undefined) === (daysOfWeek === undefined)) {
    throw cronError(text, 'exactly one of day-of-month and day-of-week must be ?.');
  }
  const sorted = (values: Set<number> | undefined) => [...values!].sort((a, b) => a - b);
  return {
    expression,
    minutes: sorted(minutes),
    hours: sorted(hours),
    ...(daysOfMonth ? { daysOfMonth } : {}),
    months: months!,
    ...(daysOfWeek ? { daysOfWeek } : {}),
    years: years!,
  };
}

/** `09:30` → `cron(30 9 * * ? *)`: every day at that local time. */
export function dailyCron(hhmm: string): string {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!match) throw invalid(`"${hhmm}" is not a time of day as HH:MM (00:00–23:59).`, [{ field: 'sendAt', message: 'expected HH:MM' }]);
  return `cron(${Number(match[2])} ${Number(match[1])} * * ? *)`;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function dayMatches(cron: Cron, year: number, month: number, day: number): boolean {
  if (cron.daysOfMonth) return cron.daysOfMonth.has(day);
  // getUTCDay: 0 = Sunday; EventBridge: 1 = Sunday.
  return cron.daysOfWeek!.has(new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1);
}

/**
 * The next `count` times (UTC instants, strictly after `after`) the cron fires in `timezone`, by the
 * daylight-saving rules above. Fewer when the cron's years run out.
 */
export function nextFireTimes(cron: string | Cron, timezone: string, after: Date, count: number): Date[] {
  const parsed = typeof cron === 'string' ? parseCron(cron) : cron;
  assertTimeZone(timezone);
  const fires: Date[] = [];
  let last = after.getTime();
  // Local days from the one `after` falls on: no earlier day has an instant after it.
  let { year, month, day } = wallTime(last, timezone);
  while (fires.length < count && year <= LAST_YEAR) {
    if (!parsed.years.has(year)) {
      [year, month, day] = [year + 1, 1, 1];
      continue;
    }
    if (!parsed.months.has(month) || day > daysInMonth(year, month)) {
      [year, month, day] = month === 12 ? [year + 1, 1, 1] : [year, month + 1, 1];
      continue;
    }
    if (dayMatches(parsed, year, month, day)) {
      for (const hour of parsed.hours) {
        for (const minute of parsed.minutes) {
          const instant = instantOf({ year, month, day, hour, minute }, timezone);
          // Wall times in a spring-forward gap land on one instant: it fires once.
          if (instant > last && fires.length < count) {
            fires.push(new Date(instant));
            last = instant;
          }
        }
      }
    }
    day += 1;
  }
  return fires;
}
