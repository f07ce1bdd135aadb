import { monotonicFactory, decodeTime } from 'ulid';

const next = monotonicFactory();

/** Ids are ULIDs: unique, and sorted by creation time, so "newest first" is a key order. */
export function newId(at: Date = new Date()): string {
  return next(at.getTime());
}

/** The smallest / largest ULID for a moment, for key ranges by time. */
export function idRangeAt(at: Date): { min: string; max: string } {
  const time = next(at.getTime()).slice(0, 10);
  return { min: `${time}0000000000000000`, max: `${time}ZZZZZZZZZZZZZZZZ` };
}

export function idTime(id: string): Date {
  return new Date(decodeTime(id));
}
