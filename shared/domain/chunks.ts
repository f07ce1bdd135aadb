/** `items` in runs of at most `size`, in order (batch calls: BatchWriteItem 25, SendMessageBatch 10). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * `items` in runs of at most `count` whose sizes add up to at most `maxBytes` (SQS counts a batch's
 * payload as a whole). An item bigger than `maxBytes` goes alone: the receiver says it is too big.
 */
export function chunksBySize<T>(items: readonly T[], count: number, maxBytes: number, sizeOf: (item: T) => number): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (run.length > 0 && (run.length >= count || bytes + size > maxBytes)) {
      out.push(run);
      run = [];
      bytes = 0;
    }
    run.push(item);
    bytes += size;
  }
  if (run.length > 0) out.push(run);
  return out;
}
