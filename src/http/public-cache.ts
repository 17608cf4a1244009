// What the public routes (status pages, badges) keep in memory so that a page that goes viral costs
// one computation per period, whatever the number of readers.

import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.ts';

/**
 * A value per key for `ttlMs`, computed by `load` on a miss. Concurrent misses for one key share a
 * single load (lru-cache's fetch), so a thousand readers arriving as a page expires start one
 * computation, not a thousand. Nothing is served past its time: an entry that expired is loaded
 * afresh, never returned stale meanwhile. A key that loads nothing (an unknown page) is not kept.
 * Expiry follows the engine's clock, so tests move it by hand.
 */
export class PublicCache<V extends {}> {
  private readonly lru: LRUCache<string, V>;

  constructor(o: { ttlMs: number; max: number; clock: Clock; load: (key: string) => Promise<V | undefined> }) {
    this.lru = new LRUCache<string, V>({
      max: o.max,
      ttl: o.ttlMs,
      // Check expiry against the clock every time (the default caches "now" for 1 ms of real time).
      ttlResolution: 0,
      perf: { now: () => o.clock.now().getTime() },
      fetchMethod: (key) => o.load(key),
      // clear() would otherwise abort loads under way and fail their waiting requests. Such a load
      // still answers them, but its result is not kept: lru-cache writes it only while the entry
      // that started it is still there, so the next request after a clear loads afresh.
      ignoreFetchAbort: true,
    });
  }

  get(key: string): Promise<V | undefined> {
    // A kept value is read without fetch()'s machinery for loads under way (~5 µs of a page
    // request's CPU in profiles); a miss, a load under way or an expired entry goes through fetch.
    const kept = this.kept(key);
    return kept === undefined ? this.lru.fetch(key) : Promise.resolve(kept);
  }

  /** The value when it is kept and current, at once; undefined for a miss, a load under way or an expired entry. */
  kept(key: string): V | undefined {
    return this.lru.get(key);
  }

  /** After a change that any entry may show (a page edited, a badge id rotated), here or, by NOTIFY, in another process. */
  clear(): void {
    this.lru.clear();
  }
}
