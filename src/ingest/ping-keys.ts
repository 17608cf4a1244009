import { LRUCache } from 'lru-cache';
import type { Sql } from '../db/client.ts';
import { findPingNode, PING_KEY_CHANNEL } from '../nodes/store.ts';

// Bounds memory against a flood of distinct keys: a miss costs one query, at most once a minute per key.
const MAX_KEYS = 200_000;
/**
 * How long an answer is kept, known or unknown. A minute: an unknown key (a typo, a rotated key
 * still in an old crontab, a scanner) costs one query a minute however often it is tried. A key
 * that moves, is rotated, is given to a new node or loses its node is forgotten at once in the
 * process that changed it (forget()) and, as the change commits, in every listening one (listen());
 * the minute bounds staleness only while a listen connection is down and back.
 */
const TTL_MS = 60_000;

/** What ping keys stand for: a node id, or null for a key no node has (a negative entry). */
export class PingKeys {
  private readonly cache = new LRUCache<string, { nodeId: string | null }>({ max: MAX_KEYS, ttl: TTL_MS });
  private readonly inflight = new Map<string, Promise<string | null>>();
  /**
   * Bumped by every forget: a lookup begun before one may have read the row as it was before the
   * change, and keeping its answer would undo the forget for a minute.
   */
  private generation = 0;

  constructor(private readonly sql: Sql) {}

  async nodeId(key: string): Promise<string | null> {
    const hit = this.cache.get(key);
    if (hit) return hit.nodeId;
    let pending = this.inflight.get(key);
    if (!pending) {
      const generation = this.generation;
      // Concurrent pings of one uncached key share a single query.
      const lookup: Promise<string | null> = findPingNode(this.sql, key)
        .then((id) => {
          if (generation === this.generation) this.cache.set(key, { nodeId: id ?? null });
          return id ?? null;
        })
        .finally(() => {
          if (this.inflight.get(key) === lookup) this.inflight.delete(key);
        });
      pending = lookup;
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** A key rotated away from, moved, given, or whose node was deleted, in this process. */
  forget(key: string): void {
    this.generation += 1;
    this.cache.delete(key);
    // A ping after the forget must not share a lookup that may have read the old row.
    this.inflight.delete(key);
  }

  /** Every key: a change elsewhere (its notice says not which key), or notices maybe missed. */
  clear(): void {
    this.generation += 1;
    this.cache.clear();
    this.inflight.clear();
  }

  /**
   * Clears on every ping key change anywhere in the cluster, and on each (re)connection of the
   * listener, when some may have been missed; returns the way to stop.
   */
  async listen(): Promise<() => Promise<void>> {
    const l = await this.sql.listen(PING_KEY_CHANNEL, () => this.clear(), () => this.clear());
    return () => l.unlisten();
  }
}
