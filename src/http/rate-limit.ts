// Per-key limits answering 429 `rate_limited` with Retry-After, in the error shape of every other
// refusal. Requests are counted by hono-rate-limiter (a fixed window per key, in this process's
// memory, its map emptied every window); what is not one per request — failed authentications,
// nodes registered — by FixedWindow below. Each limit's key is the caller's choice: a client
// address, a node token, an ingest key.

import type { Context, Env, MiddlewareHandler } from 'hono';
import { rateLimiter } from 'hono-rate-limiter';
import { ApiError, errorBody } from './errors.ts';

export interface RateLimit {
  /** Requests per window and key; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  /** What is counted: a client address, a token… */
  key: (c: Context) => string;
  /** Requests this limit does not count (another kind of caller). */
  skip?: (c: Context) => boolean;
  /** Who is told to slow down, e.g. "this client". */
  who?: string;
}

const limited = (who: string) => errorBody('rate_limited', `Too many requests from ${who}; try again after Retry-After seconds.`);

export function rateLimit<E extends Env>(o: RateLimit): MiddlewareHandler<E> {
  if (o.limit === 0) return async (_c, next) => next();
  const body = limited(o.who ?? 'this client');
  return rateLimiter<E>({
    windowMs: o.windowMs,
    limit: o.limit,
    keyGenerator: o.key,
    ...(o.skip ? { skip: o.skip } : {}),
    // RateLimit-Policy and RateLimit on every answer; Retry-After (seconds until the window
    // resets) on a 429, set before the handler runs.
    standardHeaders: 'draft-7',
    handler: (c) => c.json(body, 429),
  });
}

/** A 429 whose Retry-After says when the window has room again. */
export function rateLimited(message: string, retryAfterMs: number): ApiError {
  return new ApiError(429, 'rate_limited', message, undefined, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) });
}

// Keys are forgotten in bulk once this many are held: an address space is far larger than memory.
const MAX_KEYS = 100_000;

/**
 * Budgets of `limit` per key and window, spent in any amount (a batch registering 300 nodes spends
 * 300). Fixed windows starting at a key's first spending; a key at its limit waits for the window
 * to end. `nowMs` is a parameter so tests and callers share one clock.
 */
export class FixedWindow {
  private windows = new Map<string, { used: number; endsMs: number }>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** 0 when `n` more fit in key's window now (they are not spent); otherwise ms until it resets. */
  waitMs(key: string, n: number, nowMs: number): number {
    if (this.limit === 0) return 0;
    const w = this.windows.get(key);
    if (!w || w.endsMs <= nowMs) return n <= this.limit ? 0 : this.windowMs;
    return w.used + n <= this.limit ? 0 : w.endsMs - nowMs;
  }

  spend(key: string, n: number, nowMs: number): void {
    if (this.limit === 0) return;
    let w = this.windows.get(key);
    if (!w || w.endsMs <= nowMs) {
      if (this.windows.size >= MAX_KEYS) this.sweep(nowMs);
      w = { used: 0, endsMs: nowMs + this.windowMs };
      this.windows.set(key, w);
    }
    w.used += n;
  }

  private sweep(nowMs: number): void {
    for (const [key, w] of this.windows) if (w.endsMs <= nowMs) this.windows.delete(key);
    if (this.windows.size >= MAX_KEYS) this.windows.clear();
  }
}

/**
 * Refuses a key that failed `limit` times in a window before the request costs anything (an
 * unknown secret costs a Postgres query, a sign-in a hash and a query), and counts a request as a
 * failure when `failed` says so once it has been answered. Successes are never counted.
 */
export function failureLimit<E extends Env>(o: {
  budget: FixedWindow;
  key: (c: Context) => string;
  failed: (c: Context) => boolean;
  message: string;
  nowMs: () => number;
}): MiddlewareHandler<E> {
  if (o.budget.limit === 0) return async (_c, next) => next();
  return async (c, next) => {
    const key = o.key(c);
    const wait = o.budget.waitMs(key, 1, o.nowMs());
    if (wait > 0) throw rateLimited(o.message, wait);
    await next();
    if (o.failed(c)) o.budget.spend(key, 1, o.nowMs());
  };
}
