// Per-key limits answering 429 `rate_limited` with Retry-After, in the error shape of every other
// refusal, all counted in this process's memory by FixedWindow below: requests per node token,
// ping key or client address, nodes registered per ingest key (failed authentications per address
// keep two counts in KeyedWindows: auth-budget.ts).
// Each limit's key is the caller's choice. The counting is synchronous and sets no header on an
// answer that is not refused: on the single-heartbeat path a limiter that awaited a store and set
// the RateLimit headers on every answer cost ~4 µs of the ~50 µs a request took (CPU per request
// under autocannon; a headers object per answer is most of it).

import { ApiError } from './errors.ts';

export interface RateLimit {
  /** Requests per window and key; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  /** Who is told to slow down, e.g. "this client". */
  who?: string;
  nowMs: () => number;
}

/** Counts one request per call under its key (a client address, a token…): throws the 429 unless `key` may make one more request now. */
export function admission(o: RateLimit): (key: string) => void {
  const window = new FixedWindow(o.limit, o.windowMs);
  const message = `Too many requests from ${o.who ?? 'this client'}; try again after Retry-After seconds.`;
  return (key) => {
    const now = o.nowMs();
    const wait = window.waitMs(key, 1, now);
    if (wait > 0) throw rateLimited(message, wait);
    window.spend(key, 1, now);
  };
}

/** Retry-After for a wait: whole seconds, at least 1. */
export const retryAfterSeconds = (waitMs: number): number => Math.max(1, Math.ceil(waitMs / 1000));

/** A 429 whose Retry-After says when the window has room again. */
export function rateLimited(message: string, retryAfterMs: number): ApiError {
  return new ApiError(429, 'rate_limited', message, undefined, { 'retry-after': String(retryAfterSeconds(retryAfterMs)) });
}

// Keys are forgotten, the oldest windows first, once this many running ones are held: an address
// space is far larger than memory.
// Every key counted is short (a client address, an id, a ping key of at most 64 characters: one
// of another shape is refused before it is counted), so the map stays under ~34 MB (335 bytes a
// 64-character key, measured with 100,000 of them).
const MAX_KEYS = 100_000;
// Below the bound, windows that ended are swept whenever the map has doubled since the last sweep:
// each sweep walks at most as many keys as were added since the one before (one visit per key
// added), and the map holds at most twice the keys counted in the last minute (or this many), not
// every key seen up to the bound.
const FIRST_SWEEP_KEYS = 1024;

/**
 * A window of `windowMs` per key, starting at the key's first use, holding whatever the caller
 * counts in it (`fresh` makes a new window's counts). A window is an object: what was counted in
 * one can be given back to that one, never to a later window of the same key.
 */
export class KeyedWindows<S extends object> {
  private windows = new Map<string, S & { endsMs: number }>();
  private sweepAt = FIRST_SWEEP_KEYS;

  constructor(
    readonly windowMs: number,
    private readonly fresh: () => S,
  ) {}

  /** key's window running now, if any. */
  running(key: string, nowMs: number): (S & { endsMs: number }) | undefined {
    const w = this.windows.get(key);
    return w && w.endsMs > nowMs ? w : undefined;
  }

  /** key's window running now, begun if none is. */
  begin(key: string, nowMs: number): S & { endsMs: number } {
    const running = this.running(key, nowMs);
    if (running) return running;
    if (this.windows.size >= this.sweepAt) this.sweep(nowMs);
    const w = { ...this.fresh(), endsMs: nowMs + this.windowMs };
    // Set anew at the end, so the map's order (insertion order) is the order windows began in.
    this.windows.delete(key);
    this.windows.set(key, w);
    return w;
  }

  private sweep(nowMs: number): void {
    for (const [key, w] of this.windows) if (w.endsMs <= nowMs) this.windows.delete(key);
    // Still full of running windows (100,000 keys in one window: a flood of addresses or ping
    // keys): the older half goes, not all. Clearing all gave every key, a real job's and a
    // guesser's failed sign-ins too, a fresh count whenever someone sent 100,000 new keys.
    let over = this.windows.size - MAX_KEYS / 2;
    if (this.windows.size >= MAX_KEYS) {
      for (const key of this.windows.keys()) {
        if (over-- <= 0) break;
        this.windows.delete(key);
      }
    }
    this.sweepAt = Math.min(MAX_KEYS, Math.max(FIRST_SWEEP_KEYS, 2 * this.windows.size));
  }

  /** How many keys are held, running windows or ended ones not yet swept. */
  get size(): number {
    return this.windows.size;
  }
}

/**
 * Budgets of `limit` per key and window, spent in any amount (a batch registering 300 nodes spends
 * 300). Fixed windows starting at a key's first spending; a key at its limit waits for the window
 * to end. `nowMs` is a parameter so tests and callers share one clock.
 */
export class FixedWindow {
  private windows: KeyedWindows<{ used: number }>;

  constructor(
    readonly limit: number,
    windowMs: number,
  ) {
    this.windows = new KeyedWindows(windowMs, () => ({ used: 0 }));
  }

  /** 0 when `n` more fit in key's window now (they are not spent); otherwise ms until it resets. */
  waitMs(key: string, n: number, nowMs: number): number {
    if (this.limit === 0) return 0;
    const w = this.windows.running(key, nowMs);
    if (!w) return n <= this.limit ? 0 : this.windows.windowMs;
    return w.used + n <= this.limit ? 0 : w.endsMs - nowMs;
  }

  spend(key: string, n: number, nowMs: number): void {
    if (this.limit === 0) return;
    this.windows.begin(key, nowMs).used += n;
  }
}
