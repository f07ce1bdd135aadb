import { chunks } from '../../domain/chunks.js';
import { batchPut } from './batch-write.js';

/** How long a put waits for others to share its request. */
const WINDOW_MS = 2;
const BATCH_SIZE = 25;

interface Waiting {
  item: Record<string, unknown>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Unconditional puts of many concurrent callers in this process, written together with BatchWriteItem
 * (25 a request): each caller's promise settles once its item is stored (or its batch failed), so a
 * caller that needs the item durable before it goes on still has that. Within one batch the last put
 * of a key wins, as the same puts made one after another would.
 */
export function coalescedPut(keyOf: (item: Record<string, unknown>) => string): (item: Record<string, unknown>) => Promise<void> {
  let waiting: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function flush(): Promise<void> {
    timer = undefined;
    const taken = waiting;
    waiting = [];
    const latest = new Map<string, Waiting[]>();
    for (const entry of taken) {
      const key = keyOf(entry.item);
      const same = latest.get(key);
      if (same) same.push(entry);
      else latest.set(key, [entry]);
    }
    const groups = [...latest.values()];
    await Promise.all(
      chunks(groups, BATCH_SIZE).map(async (batch) => {
        try {
          await batchPut(batch.map((entries) => entries.at(-1)!.item));
          batch.flat().forEach((entry) => entry.resolve());
        } catch (error) {
          batch.flat().forEach((entry) => entry.reject(error));
        }
      }),
    );
  }

  return (item) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (waiting.length >= BATCH_SIZE * 4) {
        if (timer) clearTimeout(timer);
        void flush();
      } else timer ??= setTimeout(() => void flush(), WINDOW_MS);
    });
}
