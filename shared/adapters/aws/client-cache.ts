/**
 * A small least-recently-used cache of AWS SDK clients (their connections and signing keys are
 * worth reusing across invocations), keyed by a hash of what makes a client different, so no
 * secret is ever a map key. Clients pushed out are destroyed.
 */
import { createHash } from 'node:crypto';

export interface ClientCache<T extends { destroy(): void }> {
  /** The client for these parts (credentials, region, endpoint...), made once by `make`. */
  get(parts: readonly string[], make: () => T): T;
  /** Destroys and forgets every client (tests). */
  clear(): void;
}

export function clientCache<T extends { destroy(): void }>(limit: number): ClientCache<T> {
  const clients = new Map<string, T>();
  return {
    get(parts, make) {
      const key = createHash('sha256').update(parts.join('\0')).digest('base64');
      const cached = clients.get(key);
      if (cached) {
        // Most recently used last.
        clients.delete(key);
        clients.set(key, cached);
        return cached;
      }
      const client = make();
      clients.set(key, client);
      while (clients.size > limit) {
        const oldest = clients.keys().next().value;
        if (oldest === undefined) break;
        clients.get(oldest)?.destroy();
        clients.delete(oldest);
      }
      return client;
    },
    clear() {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    },
  };
}
