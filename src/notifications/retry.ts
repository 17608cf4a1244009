import { DeliveryError } from '../../alerting/errors.ts';

/**
 * Attempts per delivery, single or digested: with the default schedule the 11 waits between them
 * are 1, 2, 4 … 512 s and then 600 s, about 27 minutes from the first attempt to the last.
 */
export const DELIVERY_ATTEMPTS = 12;

/** The retry delay doubles from `baseMs` after each failed attempt, up to `capMs`. */
export interface RetrySchedule {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetrySchedule = { baseMs: 1000, capMs: 600_000 };

/**
 * How long to wait after the `attempts`-th failed attempt (1 = the first). A receiver's longer
 * Retry-After wins, within the cap, so a throttled receiver is not hammered.
 */
export function retryDelayMs(attempts: number, err: Error | undefined, s: RetrySchedule): number {
  const doubled = Math.min(s.capMs, s.baseMs * 2 ** Math.max(0, attempts - 1));
  const asked = err instanceof DeliveryError ? (err.retryAfterMs ?? 0) : 0;
  return Math.min(s.capMs, Math.max(doubled, asked));
}
