import { describe, expect, it } from 'vitest';
import { chunks, chunksBySize } from '../../shared/domain/chunks.js';

describe('chunks', () => {
  it('cuts a list into runs of the size, in order, the last one shorter', () => {
    expect(chunks([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(chunks([], 25)).toEqual([]);
  });

  it('refuses a size that is not a positive whole number', () => {
    expect(() => chunks([1], 0)).toThrow(RangeError);
    expect(() => chunks([1], 2.5)).toThrow(RangeError);
  });
});

describe('chunksBySize', () => {
  const size = (s: string) => s.length;

  it('closes a run at the count or before the bytes would pass the limit', () => {
    const items = ['aaaa', 'bbbb', 'cccc', 'dd', 'e', 'f', 'g'];
    expect(chunksBySize(items, 3, 10, size)).toEqual([['aaaa', 'bbbb'], ['cccc', 'dd', 'e'], ['f', 'g']]);
  });

  it('fills a run exactly to the limit', () => {
    expect(chunksBySize(['aaaaa', 'bbbbb', 'c'], 10, 10, size)).toEqual([['aaaaa', 'bbbbb'], ['c']]);
  });

  it('puts an item bigger than the limit in a run of its own (the receiver refuses it, not this)', () => {
    expect(chunksBySize(['a', 'x'.repeat(20), 'b'], 10, 10, size)).toEqual([['a'], ['x'.repeat(20)], ['b']]);
  });

  it('keeps every item once, in order, whatever the limits', () => {
    const items = Array.from({ length: 57 }, (_, i) => 'y'.repeat((i * 7) % 13));
    const runs = chunksBySize(items, 4, 20, size);
    expect(runs.flat()).toEqual(items);
    for (const run of runs) {
      expect(run.length).toBeLessThanOrEqual(4);
      if (run.length > 1) expect(run.reduce((n, s) => n + s.length, 0)).toBeLessThanOrEqual(20);
    }
  });
});
