import { LRUCache } from 'lru-cache';
import type { Sql } from '../db/client.ts';
import { findPingNode } from '../nodes/store.ts';

// Bounds memory against a flood of distinct keys: a miss costs one query, at most once a minute per key.
const MAX_KEYS = 200_000;
/**
 * How long an answer is kept, known or unknown. A minute: an unknown key (a typo, a rotated key
 * still in an old crontab, a scanner) costs one query a minute however often it is tried, and a
 * key rotated or a node deleted in another process stops working there within a minute (at once
 * in the process that rotated it, see forget()).
 */
const TTL_MS = 60_000;

/** What ping keys stand for: a node id, or null for a key no node has (a negative entry). */
export class PingKeys {
  private readonly cache = new LRUCache<string, { nodeId: string | null }>({ max: MAX_KEYS, ttl: TTL_MS });
  private readonly inflight = new Map<string, Promise<string | null>>();

  constructor(private readonly sql: Sql) {}

  async nodeId(key: string): Promise<string | null> {
    const hit = this.cache.get(key);
    if (hit) return hit.nodeId;
    let pending = this.inflight.get(key);
    if (!pending) {
      // Concurrent pings of one uncached key share a single query.
      pending = findPingNode(this.sql, key)
        .then((id) => {
          this.cache.set(key, { nodeId: id ?? null });
          return id ?? null;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** A key rotated away from (or whose node was deleted) in this process. */
  forget(key: string): void {
    this.cache.delete(key);
  }
}
