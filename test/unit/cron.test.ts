import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dailyCron, nextFireTimes, parseCron } from '../../shared/domain/cron.js';
import { DomainError } from '../../shared/domain/errors.js';
import { wallTime } from '../../shared/domain/zoned-time.js';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const fires = (cron: string, zone: string, after: string, count: number) => iso(nextFireTimes(cron, zone, new Date(after), count));

describe('dailyCron', () => {
  it('turns a time of day into an EventBridge daily cron', () => {
    expect(dailyCron('09:30')).toBe('cron(30 9 * * ? *)');
    expect(dailyCron('00:00')).toBe('cron(0 0 * * ? *)');
    expect(dailyCron('23:59')).toBe('cron(59 23 * * ? *)');
  });

  it.each(['9:30', '24:00', '12:60', '09:30:00', ''])('refuses %j', (hhmm) => {
    expect(() => dailyCron(hhmm)).toThrow(/HH:MM/);
  });
});

describe('parseCron', () => {
  it('reads values, ranges, lists, steps and names', () => {
    const cron = parseCron('cron(5/20 8-10,14 ? JAN-MAR,dec MON-FRI 2026-2027)');
    expect(cron.expression).toBe('cron(5/20 8-10,14 ? JAN-MAR,dec MON-FRI 2026-2027)');
    expect(cron.minutes).toEqual([5, 25, 45]);
    expect(cron.hours).toEqual([8, 9, 10, 14]);
    expect(cron.daysOfMonth).toBeUndefined();
    expect([...cron.months].sort((a, b) => a - b)).toEqual([1, 2, 3, 12]);
    expect([...cron.daysOfWeek!].sort()).toEqual([2, 3, 4, 5, 6]);
    expect([...cron.years].sort()).toEqual([2026, 2027]);
  });

  it('accepts the six fields without the cron( ) wrapper and normalises the spacing', () => {
    expect(parseCron('  30  9 * * ? * ').expression).toBe('cron(30 9 * * ? *)');
  });

  it.each([
    ['cron(30 9 * * ?)', /6 fields/],
    ['cron(60 9 * * ? *)', /minutes "60" is not between 0 and 59/],
    ['cron(0 24 * * ? *)', /hours "24"/],
    ['cron(0 9 L * ? *)', /L, W and # are not supported/],
    ['cron(0 9 15W * ? *)', /L, W and # are not supported/],
    ['cron(0 9 ? * 2#1 *)', /L, W and # are not supported/],
    ['cron(0 9 ? * 6L *)', /L, W and # are not supported/],
    ['cron(0 9 * * * *)', /exactly one of day-of-month and day-of-week must be \?/],
    ['cron(0 9 ? * ? *)', /exactly one of day-of-month and day-of-week must be \?/],
    ['cron(? 9 * * ? *)', /\? is only allowed/],
    ['cron(0 9 ? * */2 *)', /day-of-week does not take a \/ step/],
    ['cron(0 9 * * ? 1969)', /year "1969"/],
    ['cron(0 20-10 * * ? *)', /runs backwards/],
    ['cron(0/0 9 * * ? *)', /at least 1/],
    ['cron(0 9 * FOO ? *)', /month "FOO"/],
  ])('refuses %s with a reason', (expression, reason) => {
    let error: unknown;
    try {
      parseCron(expression);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).kind).toBe('Invalid');
    expect((error as DomainError).message).toMatch(reason);
  });
});

describe('nextFireTimes', () => {
  it('fires a daily cron at the local time, every day, strictly after the given instant (Asia/Dhaka, UTC+6, no DST)', () => {
    expect(fires('cron(30 9 * * ? *)', 'Asia/Dhaka', '2026-03-07T03:30:00.000Z', 3)).toEqual([
      '2026-03-08T03:30:00.000Z',
      '2026-03-09T03:30:00.000Z',
      '2026-03-10T03:30:00.000Z',
    ]);
    expect(fires('cron(30 9 * * ? *)', 'Asia/Dhaka', '2026-03-07T03:29:59.999Z', 1)).toEqual(['2026-03-07T03:30:00.000Z']);
  });

  it('starts from the local day of the instant, not its UTC day', () => {
    // 2026-03-07T20:00Z is already 02:00 on the 8th in Dhaka: the 09:30 of the 8th comes next.
    expect(fires('cron(30 9 * * ? *)', 'Asia/Dhaka', '2026-03-07T20:00:00Z', 1)).toEqual(['2026-03-08T03:30:00.000Z']);
    // And 23:00 on the 7th in New York is 04:00Z on the 8th: the 8th's 09:30 EDT.
    expect(fires('cron(0 23 * * ? *)', 'America/New_York', '2026-03-07T12:00:00Z', 2)).toEqual(['2026-03-08T04:00:00.000Z', '2026-03-09T03:00:00.000Z']);
  });

  it('moves a business-hours daily cron with the clocks in New York, skipping and doubling nothing', () => {
    expect(fires('cron(30 9 * * ? *)', 'America/New_York', '2026-03-06T00:00:00Z', 4)).toEqual([
      '2026-03-06T14:30:00.000Z',
      '2026-03-07T14:30:00.000Z',
      '2026-03-08T13:30:00.000Z',
      '2026-03-09T13:30:00.000Z',
    ]);
    expect(fires('cron(30 9 * * ? *)', 'America/New_York', '2026-10-31T00:00:00Z', 3)).toEqual([
      '2026-10-31T13:30:00.000Z',
      '2026-11-01T14:30:00.000Z',
      '2026-11-02T14:30:00.000Z',
    ]);
  });

  it('fires a time that does not exist (spring forward, New York 2026-03-08) once, at the first instant after the gap', () => {
    expect(fires('cron(30 2 * * ? *)', 'America/New_York', '2026-03-07T00:00:00Z', 3)).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT: 02:30 never happened
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
    ]);
    // Every quarter hour of 02:00–03:59: the four in the gap collapse into 03:00, which fires once.
    expect(fires('cron(0/15 2-3 * * ? *)', 'America/New_York', '2026-03-08T05:00:00Z', 5)).toEqual([
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T07:15:00.000Z',
      '2026-03-08T07:30:00.000Z',
      '2026-03-08T07:45:00.000Z',
      '2026-03-09T06:00:00.000Z',
    ]);
  });

  it('fires a time that happens twice (fall back, New York 2026-11-01) once, at its first occurrence', () => {
    expect(fires('cron(30 1 * * ? *)', 'America/New_York', '2026-10-31T00:00:00Z', 3)).toEqual([
      '2026-10-31T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, the first of two
      '2026-11-02T06:30:00.000Z', // 01:30 EST
    ]);
    // Hourly: 01:00 EDT fires, 01:00 EST (the repeat) does not, 02:00 EST follows.
    expect(fires('cron(0 * * * ? *)', 'America/New_York', '2026-11-01T03:30:00Z', 4)).toEqual([
      '2026-11-01T04:00:00.000Z',
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
      '2026-11-01T08:00:00.000Z',
    ]);
  });

  it('applies the same rules in Europe/London (2026-03-29 and 2026-10-25)', () => {
    expect(fires('cron(30 1 * * ? *)', 'Europe/London', '2026-03-28T00:00:00Z', 3)).toEqual([
      '2026-03-28T01:30:00.000Z', // 01:30 GMT
      '2026-03-29T01:00:00.000Z', // 02:00 BST: 01:30 never happened
      '2026-03-30T00:30:00.000Z', // 01:30 BST
    ]);
    expect(fires('cron(30 1 * * ? *)', 'Europe/London', '2026-10-24T00:00:00Z', 3)).toEqual([
      '2026-10-24T00:30:00.000Z', // 01:30 BST
      '2026-10-25T00:30:00.000Z', // 01:30 BST, the first of two
      '2026-10-26T01:30:00.000Z', // 01:30 GMT
    ]);
  });

  it('fires a daily cron exactly once on every local day, whatever the zone, time and start', () => {
    const zones = ['America/New_York', 'Europe/London', 'Asia/Dhaka', 'Australia/Lord_Howe', 'America/Santiago', 'UTC'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 11, 31) }),
        (zone, hour, minute, start) => {
          const times = nextFireTimes(dailyCron(`${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`), zone, new Date(start), 3);
          expect(times).toHaveLength(3);
          const days = times.map((t) => wallTime(t.getTime(), zone)).map((w) => Date.UTC(w.year, w.month - 1, w.day));
          expect(days[1]! - days[0]!).toBe(86_400_000);
          expect(days[2]! - days[1]!).toBe(86_400_000);
          for (const time of times) {
            const wall = wallTime(time.getTime(), zone);
            // At the time asked, or later that day when it fell in a spring-forward gap.
            expect(wall.hour * 60 + wall.minute).toBeGreaterThanOrEqual(hour * 60 + minute);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('takes day-of-week (1 = Sunday), day-of-month, month and year into account', () => {
    // 2026-03-06 is a Friday.
    expect(fires('cron(0 8 ? * MON-FRI *)', 'UTC', '2026-03-06T09:00:00Z', 2)).toEqual(['2026-03-09T08:00:00.000Z', '2026-03-10T08:00:00.000Z']);
    expect(fires('cron(0 8 ? * 1 *)', 'UTC', '2026-03-06T09:00:00Z', 1)).toEqual(['2026-03-08T08:00:00.000Z']);
    expect(fires('cron(0 0 31 * ? *)', 'UTC', '2026-01-31T12:00:00Z', 2)).toEqual(['2026-03-31T00:00:00.000Z', '2026-05-31T00:00:00.000Z']);
    expect(fires('cron(0 0 29 FEB ? *)', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual(['2028-02-29T00:00:00.000Z']);
    expect(fires('cron(0 0 1 1 ? 2027)', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(fires('cron(0 0 30 2 ? *)', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual([]);
  });

  it('refuses an unknown time zone', () => {
    expect(() => nextFireTimes('cron(30 9 * * ? *)', 'Mars/Olympus', new Date(), 1)).toThrow(/Unknown time zone "Mars\/Olympus"/);
  });
});
