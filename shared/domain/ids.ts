import { decodeTime, encodeTime, incrementBase32, TIME_MAX, ulid } from 'ulid';

/**
 * Ids are ULIDs: unique, and sorted by creation time, so "newest first" is a key order.
 *
 * Monotonic only within one millisecond (a burst in the same ms still sorts in creation order).
 * The only state kept is the last id made, and it moves only with the clock: no caller input
 * (a query bound, a request field) ever reaches it, and an id's time is always the `at` it was
 * made for, even when the clock goes back (a test clock, a corrected host clock).
 */
let last: { time: number; id: string } | undefined;

export function newId(at: Date = new Date()): string {
  const time = at.getTime();
  if (!Number.isInteger(time) || time < 0 || time > TIME_MAX) throw new RangeError(`Cannot make an id for time ${String(at)}.`);
  if (last && last.time === time) {
    try {
      const id = last.id.slice(0, 10) + incrementBase32(last.id.slice(10));
      last = { time, id };
      return id;
    } catch {
      // The random part overflowed (2^80 ids in one ms): a fresh random id is still unique.
    }
  }
  const id = ulid(time);
  last = { time, id };
  return id;
}

const clampTime = (ms: number) => Math.min(Math.max(Math.trunc(ms), 0), TIME_MAX);

/**
 * The smallest and largest possible ULIDs for a span of creation times, both inclusive to the
 * millisecond, for key ranges by time. Pure: computed from the times alone.
 */
export function idRange(from: Date | undefined, to: Date | undefined): { min: string; max: string } {
  return {
    min: from ? `${encodeTime(clampTime(from.getTime()))}${'0'.repeat(16)}` : '0'.repeat(26),
    max: to ? `${encodeTime(clampTime(to.getTime()))}${'Z'.repeat(16)}` : 'Z'.repeat(26),
  };
}

export function idTime(id: string): Date {
  return new Date(decodeTime(id));
}
