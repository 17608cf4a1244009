// Per-key request limits answering 429 `rate_limited` with Retry-After, in the error shape of every
// other refusal. The counting is hono-rate-limiter's (a fixed window per key, in this process's
// memory, its map emptied every window); the key is the caller's choice, so the same middleware
// serves limits per client address today and per node token or per failed authentication later.

import type { Context, Env, MiddlewareHandler } from 'hono';
import { rateLimiter } from 'hono-rate-limiter';
import { errorBody } from './errors.ts';

export interface RateLimit {
  /** Requests per window and key; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  /** What is counted: a client address, a token… */
  key: (c: Context) => string;
}

export function rateLimit<E extends Env>(o: RateLimit): MiddlewareHandler<E> {
  if (o.limit === 0) return async (_c, next) => next();
  return rateLimiter<E>({
    windowMs: o.windowMs,
    limit: o.limit,
    keyGenerator: o.key,
    // RateLimit-Policy and RateLimit on every answer; Retry-After (seconds until the window
    // resets) on a 429, set before the handler runs.
    standardHeaders: 'draft-7',
    handler: (c) => c.json(errorBody('rate_limited', 'Too many requests from this client; try again after Retry-After seconds.'), 429),
  });
}
