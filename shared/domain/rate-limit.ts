/**
 * Per-operator send limits, pure: the defaults, the token bucket behind requests per second, and
 * the operator's calendar day behind messages per day.
 */
import type { Operator } from './records.js';

/** Sustained API requests per second per operator; a bucket holds one second's worth (the burst). */
export const DEFAULT_REQUESTS_PER_SECOND = 10;
/** Messages (not segments) an operator may create per day, in its own time zone. */
export const DEFAULT_MESSAGES_PER_DAY = 10_000;
export const MAX_REQUESTS_PER_SECOND = 1_000;
export const MAX_MESSAGES_PER_DAY = 10_000_000;

export interface Limits {
  requestsPerSecond: number;
  messagesPerDay: number;
}

/** The operator's limits, defaults filled in. */
export function operatorLimits(operator: Pick<Operator, 'requestsPerSecond' | 'messagesPerDay'>): Limits {
  return {
    requestsPerSecond: operator.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND,
    messagesPerDay: operator.messagesPerDay ?? DEFAULT_MESSAGES_PER_DAY,
  };
}

export type TakeResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms, monotonic). */
  at: number;
  perSecond: number;
}

/**
 * Token buckets by key (the authenticated operator id). A bucket holds up to `perSecond` tokens and
 * refills at `perSecond` tokens a second; a request takes one. At most `maxBuckets` are kept: to make
 * room, a bucket that has refilled completely is dropped (a full bucket and no bucket behave the
 * same, so dropping it changes nothing for its operator). Only when every kept bucket is in use
 * within the last second does the least recently used one go.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(readonly maxBuckets = 10_000) {}

  get size(): number {
    return this.buckets.size;
  }

  take(key: string, perSecond: number, nowMs: number): TakeResult {
    const rate = Math.max(perSecond, Number.MIN_VALUE);
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.refill(bucket, nowMs);
      // A changed limit takes effect at once and keeps what was spent: a raised one adds its extra
      // capacity, a lowered one takes the difference away (never below empty).
      if (rate !== bucket.perSecond) bucket.tokens = Math.min(Math.max(bucket.tokens + rate - bucket.perSecond, 0), rate);
      bucket.perSecond = rate;
      this.buckets.delete(key); // re-inserted below: the map's order is least recently used first
    } else {
      this.makeRoom(nowMs);
      bucket = { tokens: rate, at: nowMs, perSecond: rate };
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)) };
  }

  private refill(bucket: Bucket, nowMs: number): void {
    const elapsed = Math.max(0, nowMs - bucket.at) / 1000;
    bucket.tokens = Math.min(bucket.perSecond, bucket.tokens + elapsed * bucket.perSecond);
    bucket.at = Math.max(bucket.at, nowMs);
  }

  private makeRoom(nowMs: number): void {
    if (this.buckets.size < this.maxBuckets) return;
    for (const [key, bucket] of this.buckets) {
      this.refill(bucket, nowMs);
      if (bucket.tokens >= bucket.perSecond) {
        this.buckets.delete(key);
        return;
      }
    }
    this.buckets.delete(this.buckets.keys().next().value!);
  }
}

// ---- the operator's day ----

const formatters = new Map<string, Intl.DateTimeFormat>();

function dayFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    if (formatters.size >= 500) formatters.delete(formatters.keys().next().value!);
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True when Intl knows `timeZone` (an IANA name such as Asia/Dhaka). */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The IANA name as Intl spells it ("asia/dhaka" → "Asia/Dhaka"). */
export function canonicalTimeZone(timeZone: string): string {
  return isTimeZone(timeZone) ? new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone : timeZone;
}

/** The calendar date (YYYY-MM-DD) at `at` in `timeZone`; UTC when the zone is unknown. */
export function localDay(at: Date, timeZone: string): string {
  const zone = isTimeZone(timeZone) ? timeZone : 'UTC';
  const parts = Object.fromEntries(dayFormatter(zone).formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/**
 * Whole seconds from `at` until the next day begins in `timeZone` (its next midnight, or whenever
 * that day starts where a DST change skips midnight). At least 1.
 */
export function secondsUntilNextDay(at: Date, timeZone: string): number {
  const today = localDay(at, timeZone);
  const base = at.getTime();
  // The first second whose date differs: a day is at most 25 hours long, so it lies within 26.
  let lo = 0;
  let hi = 26 * 3600;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDay(new Date(base + mid * 1000), timeZone) === today) lo = mid;
    else hi = mid;
  }
  return Math.max(1, hi);
}
