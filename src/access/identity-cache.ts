import type { Clock } from '../clock.ts';
import { Coalescer, RETRY_LOOKUP_AFTER_MS, type Batching } from '../coalescer.ts';
import type { Sql } from '../db/client.ts';
import type { NodeRef } from '../nodes/model.ts';
import { findNodeRefs } from '../nodes/store.ts';
import { hashSecret } from '../secrets.ts';
import type { Principal } from './model.ts';
import { findPrincipalsByHash, IDENTITY_CHANNEL, NODE_CHANGED, SESSION_ENDED } from './store.ts';

interface Cached<T> {
  value: T;
  expires: number;
}

// Bound memory against floods of distinct valid secrets or names; a miss is only a query.
const MAX_PRINCIPALS = 100_000;
const MAX_NODE_REFS = 200_000;

/**
 * Misses asked in one turn share a query: a revocation makes every open stream with its own key
 * ask at once (1,000 streams: 1,000 queries on the 10-connection pool before, one now), and so do
 * the heartbeats of many nodes arriving just after the cache forgot, and API requests. A failed
 * batch is run once more, whole, 250 ms later (a blip must not fail up to 1,000 unrelated requests,
 * heartbeats and stream checks at once), then fails its callers rather than running 1,000 single
 * lookups against a database that still fails.
 */
const LOOKUP_BATCHING: Batching = { size: 1_000, inFlight: 4, retryAlone: false, retryBatchAfterMs: RETRY_LOOKUP_AFTER_MS };

/**
 * What bearer secrets and node names stand for, cached for the HTTP authenticator and for ingest
 * alike: at 10k heartbeats a second a query per request would cost more than the rest of it.
 * Revocation, token rotation, renames and deletions NOTIFY every process, which forgets the whole
 * cache at once; the 5-minute TTL only bounds staleness if a notification is ever missed (listen()
 * also forgets on every reconnect). Concurrent misses for one secret share a single lookup, and
 * the lookups of one event-loop turn a single query.
 */
export class IdentityCache {
  private principals = new Map<string, Cached<Principal>>();
  private inflight = new Map<string, Promise<Principal | undefined>>();
  /** Node names and ids → node id. */
  private nodes = new Map<string, Cached<string>>();
  /**
   * Told of each key revocation or sign-out heard (not of node changes, which no key or session
   * depends on), after the cache forgot: open event streams checking their secret or session again.
   */
  private readonly watchers = new Set<() => void>();
  // Bumped by forget(): a lookup that started before a revocation or a rename must not cache what it read.
  private generation = 0;
  /**
   * Hashes of secrets whose last lookup found a principal. No authority (the TTL and forget() leave
   * them be): only a claim to a query without a charge to the failed-authentication budget
   * (auth-budget.ts), so a client whose entry expired, or was forgotten on a change elsewhere, is
   * not refused for its neighbours' wrong secrets at the same address, even past the hard cap. A
   * lookup that finds nothing (a revoked key, a rotated token) drops its hash, and that secret is
   * charged again.
   */
  private known = new Set<string>();
  private readonly lookups: Coalescer<string, Principal | undefined>;

  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
    private readonly ttlMs = 5 * 60_000,
  ) {
    this.lookups = new Coalescer(async (hashes) => {
      const found = await findPrincipalsByHash(this.sql, hashes);
      return hashes.map((h) => found.get(h));
    }, LOOKUP_BATCHING);
  }

  /**
   * The API key or node this secret stands for, if any. `beforeQuery` runs, and may throw, before
   * the query for a secret neither cached nor known from an earlier lookup (the failed-authentication
   * budget's charge).
   */
  async principal(secret: string, beforeQuery?: () => void): Promise<Principal | undefined> {
    const hash = hashSecret(secret);
    const nowMs = this.clock.now().getTime();
    const hit = this.fresh(hash, nowMs);
    if (hit) return hit;
    if (!this.known.has(hash)) beforeQuery?.();
    const generation = this.generation;
    let pending = this.inflight.get(hash);
    if (!pending) {
      pending = this.lookups.add(hash).finally(() => {
        if (this.inflight.get(hash) === pending) this.inflight.delete(hash);
      });
      this.inflight.set(hash, pending);
    }
    const principal = await pending;
    if (!principal) this.known.delete(hash);
    // A principal read before a revocation heard during the lookup is answered, never known.
    else if (generation === this.generation && !this.known.has(hash)) {
      if (this.known.size >= MAX_PRINCIPALS) this.known.clear();
      this.known.add(hash);
    }
    if (generation !== this.generation) return principal;
    if (principal) {
      if (this.principals.size > MAX_PRINCIPALS) this.principals.clear();
      this.principals.set(hash, { value: principal, expires: nowMs + this.ttlMs });
    } else {
      this.principals.delete(hash);
    }
    return principal;
  }

  /** The principal of a secret the cache holds, without waiting: undefined when it would take a query. */
  cached(secret: string): Principal | undefined {
    return this.fresh(hashSecret(secret), this.clock.now().getTime());
  }

  private fresh(hash: string, nowMs: number): Principal | undefined {
    const hit = this.principals.get(hash);
    return hit && hit.expires > nowMs ? hit.value : undefined;
  }

  /**
   * The node id of each of these names or ids. Those neither cached nor stored are handed to
   * `unknown`, which may create them (auto-registration) or throw; what it returns is remembered
   * like the rest.
   */
  async nodeIds(refs: string[], unknown: (refs: string[]) => Promise<NodeRef[]>): Promise<Map<string, string>> {
    const nowMs = this.clock.now().getTime();
    const generation = this.generation;
    const known = new Map<string, string>();
    const misses: string[] = [];
    for (const ref of refs) {
      const hit = this.nodes.get(ref);
      if (hit && hit.expires > nowMs) known.set(ref, hit.value);
      else misses.push(ref);
    }
    if (misses.length === 0) return known;
    this.remember(await findNodeRefs(this.sql, misses), known, nowMs, generation);
    const missing = misses.filter((r) => !known.has(r));
    if (missing.length) this.remember(await unknown(missing), known, nowMs, generation);
    return known;
  }

  forget(): void {
    this.generation += 1;
    this.principals.clear();
    this.inflight.clear();
    this.nodes.clear();
  }

  /**
   * Calls `changed` after every key or session change heard (a key revoked, a session ended), and
   * after each (re)connection of the listener, when some may have been missed; returns the way to
   * stop.
   */
  watch(changed: () => void): () => void {
    this.watchers.add(changed);
    return () => void this.watchers.delete(changed);
  }

  /** Forgets on every identity change anywhere in the cluster; returns the way to stop. */
  async listen(): Promise<() => Promise<void>> {
    const l = await this.sql.listen(IDENTITY_CHANNEL, (payload) => this.heard(payload), () => this.heard(''));
    return () => l.unlisten();
  }

  private heard(payload: string): void {
    if (payload !== SESSION_ENDED) this.forget();
    if (payload === NODE_CHANGED) return;
    for (const w of this.watchers) w();
  }

  private remember(found: NodeRef[], known: Map<string, string>, nowMs: number, generation: number): void {
    if (this.nodes.size > MAX_NODE_REFS) this.nodes.clear();
    for (const n of found) {
      for (const key of [n.name, n.id]) {
        known.set(key, n.id);
        if (generation === this.generation) this.nodes.set(key, { value: n.id, expires: nowMs + this.ttlMs });
      }
    }
  }
}
