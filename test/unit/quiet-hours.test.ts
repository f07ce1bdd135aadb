import { describe, expect, it } from 'vitest';
import { quietUntil } from '../../shared/domain/quiet-hours.js';

const window = { start: '21:00', end: '08:00' };

describe('quiet hours', () => {
  it('holds a message asked for in the evening until the next morning, in the operator\'s zone', () => {
    // 22:30 in Dhaka (UTC+6) is 16:30 UTC; the window ends at 08:00 Dhaka = 02:00 UTC next day.
    expect(quietUntil(new Date('2026-12-01T16:30:00Z'), 'Asia/Dhaka', window)?.toISOString()).toBe('2026-12-02T02:00:00.000Z');
  });

  it('holds one asked for after midnight until the same morning', () => {
    expect(quietUntil(new Date('2026-12-01T21:00:00Z'), 'Asia/Dhaka', window)?.toISOString()).toBe('2026-12-02T02:00:00.000Z');
  });

  it('lets daytime messages go at once, and the window\'s end is not quiet', () => {
    expect(quietUntil(new Date('2026-12-01T06:00:00Z'), 'Asia/Dhaka', window)).toBeUndefined();
    expect(quietUntil(new Date('2026-12-02T02:00:00Z'), 'Asia/Dhaka', window)).toBeUndefined();
    expect(quietUntil(new Date('2026-12-02T14:59:00Z'), 'Asia/Dhaka', window)).toBeUndefined();
  });

  it('handles a window within one day, and the night clocks go back in New York', () => {
    expect(quietUntil(new Date('2026-12-01T13:00:00Z'), 'Asia/Dhaka', { start: '12:00', end: '20:00' })?.toISOString()).toBe('2026-12-01T14:00:00.000Z');
    // 2026-11-01 01:30 EDT is quiet; the window ends at 08:00 EST (13:00 UTC), not 12:00 UTC.
    expect(quietUntil(new Date('2026-11-01T05:30:00Z'), 'America/New_York', window)?.toISOString()).toBe('2026-11-01T13:00:00.000Z');
  });
});
