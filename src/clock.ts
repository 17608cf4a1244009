/** The one seam for time: production reads the wall clock, tests pass a clock they move by hand. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };


/**
 * The `updated_at` a write of a row last written at `before` stamps: `now`, or 1 ms after
 * `before` when the clock has not moved past it (two writes within one millisecond, or a clock
 * stepped back), so each write gives the row a new ETag and a stale If-Match is always refused.
 */
export const writtenAt = (now: Date, before: Date): Date => new Date(Math.max(now.getTime(), before.getTime() + 1));
