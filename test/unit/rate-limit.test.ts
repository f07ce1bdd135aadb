import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MESSAGES_PER_DAY,
  DEFAULT_REQUESTS_PER_SECOND,
  localDay,
  operatorLimits,
  secondsUntilNextDay,
  TokenBuckets,
} from '../../shared/domain/rate-limit.js';

describe('operatorLimits', () => {
  it('fills in the defaults', () => {
    expect(operatorLimits({})).toEqual({ requestsPerSecond: DEFAULT_REQUESTS_PER_SECOND, messagesPerDay: DEFAULT_MESSAGES_PER_DAY });
    expect(DEFAULT_REQUESTS_PER_SECOND).toBe(10);
    expect(DEFAULT_MESSAGES_PER_DAY).toBe(10_000);
    expect(operatorLimits({ requestsPerSecond: 3 })).toEqual({ requestsPerSecond: 3, messagesPerDay: DEFAULT_MESSAGES_PER_DAY });
  });
});

describe('TokenBuckets', () => {
  it('allows a second\'s worth at once, then refuses with Retry-After, then refills at the rate', () => {
    const buckets = new TokenBuckets();
    for (let i = 0; i < 5; i++) expect(buckets.take('op', 5, 1000)).toEqual({ allowed: true });
    expect(buckets.take('op', 5, 1000)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    // 200 ms at 5/s is one token.
    expect(buckets.take('op', 5, 1200)).toEqual({ allowed: true });
    expect(buckets.take('op', 5, 1200).allowed).toBe(false);
    // A long pause refills to the capacity, never above it.
    for (let i = 0; i < 5; i++) expect(buckets.take('op', 5, 60_000).allowed).toBe(true);
    expect(buckets.take('op', 5, 60_000).allowed).toBe(false);
  });

  it('keeps operators apart: one operator\'s requests never spend another\'s tokens', () => {
    const buckets = new TokenBuckets();
    for (let i = 0; i < 3; i++) buckets.take('noisy', 3, 0);
    expect(buckets.take('noisy', 3, 0).allowed).toBe(false);
    for (let i = 0; i < 3; i++) expect(buckets.take('quiet', 3, 0).allowed).toBe(true);
  });

  it('applies a changed limit at once, keeping what was spent: a lowered one shrinks the bucket, a raised one grows it', () => {
    const buckets = new TokenBuckets();
    expect(buckets.take('op', 100, 0).allowed).toBe(true);
    // One spent of 100; lowered to 2/s, one of 2 is left.
    expect(buckets.take('op', 2, 0).allowed).toBe(true);
    expect(buckets.take('op', 2, 0).allowed).toBe(false);
    // Both of 2 spent; raised to 50/s, 48 more can go right away.
    for (let i = 0; i < 48; i++) expect(buckets.take('op', 50, 0).allowed).toBe(true);
    expect(buckets.take('op', 50, 0).allowed).toBe(false);
  });

  it('stays bounded, and makes room by dropping full buckets, never one in use', () => {
    const buckets = new TokenBuckets(3);
    buckets.take('idle', 10, 0); // full again a second later
    buckets.take('busy-1', 1, 900);
    buckets.take('busy-2', 1, 900);
    expect(buckets.size).toBe(3);
    buckets.take('new', 1, 1000);
    expect(buckets.size).toBe(3);
    // busy-1 kept its empty bucket: its next request within the second is still refused.
    expect(buckets.take('busy-1', 1, 1000).allowed).toBe(false);
    expect(buckets.take('busy-2', 1, 1000).allowed).toBe(false);
  });

  it('drops the least recently used bucket only when none is full', () => {
    const buckets = new TokenBuckets(2);
    buckets.take('a', 1, 0);
    buckets.take('b', 1, 0);
    buckets.take('c', 1, 0);
    expect(buckets.size).toBe(2);
    expect(buckets.take('b', 1, 0).allowed).toBe(false); // b was kept
  });
});

describe('the operator\'s day', () => {
  it('is the calendar date in the operator\'s time zone', () => {
    // 20:00 UTC on 1 June is 02:00 on 2 June in Dhaka (UTC+6).
    const at = new Date('2025-06-01T20:00:00Z');
    expect(localDay(at, 'Asia/Dhaka')).toBe('2025-06-02');
    expect(localDay(at, 'America/New_York')).toBe('2025-06-01');
    expect(localDay(at, 'Not/AZone')).toBe('2025-06-01'); // unknown zones count in UTC
  });

  it('ends at the next local midnight', () => {
    expect(secondsUntilNextDay(new Date('2025-06-01T17:00:00Z'), 'Asia/Dhaka')).toBe(60 * 60); // 23:00 in Dhaka
    expect(secondsUntilNextDay(new Date('2025-06-01T17:59:59.500Z'), 'Asia/Dhaka')).toBe(1);
    expect(secondsUntilNextDay(new Date('2025-06-01T18:00:00Z'), 'Asia/Dhaka')).toBe(24 * 60 * 60); // just after midnight
  });

  it('follows daylight-saving days (23 and 25 hours long)', () => {
    // New York, midnight to midnight: 9 March 2025 has 23 hours, 2 November 2025 has 25.
    expect(secondsUntilNextDay(new Date('2025-03-09T05:00:00Z'), 'America/New_York')).toBe(23 * 3600);
    expect(secondsUntilNextDay(new Date('2025-11-02T04:00:00Z'), 'America/New_York')).toBe(25 * 3600);
  });

  it('starts a day whose midnight is skipped at the first moment of that date', () => {
    // Santiago moved from 24:00 to 01:00 on 7 September 2025: that day begins at 01:00 local (04:00 UTC).
    expect(secondsUntilNextDay(new Date('2025-09-07T03:00:00Z'), 'America/Santiago')).toBe(3600);
    expect(localDay(new Date('2025-09-07T04:00:00Z'), 'America/Santiago')).toBe('2025-09-07');
  });
});
