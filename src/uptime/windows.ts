// The window a query asks for: a preset ending now, or from/to in RFC 3339, checked and resolved
// to epoch ms.

import { DAY_MS } from './buckets.ts';

export const UPTIME_WINDOWS = {
  '24h': DAY_MS,
  '7d': 7 * DAY_MS,
  '30d': 30 * DAY_MS,
  '90d': 90 * DAY_MS,
  '365d': 365 * DAY_MS,
} as const;
export type UptimeWindow = keyof typeof UPTIME_WINDOWS;
const DEFAULT_WINDOW: UptimeWindow = '30d';

// Bounds the work one request can ask for (about 26k hour buckets). 366-day years make it at least
// any three calendar years, leap day included, comfortably above the largest preset window.
export const MAX_RANGE_MS = 3 * 366 * DAY_MS;

export interface WindowParams {
  window?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export interface Window {
  from: number;
  to: number;
}

export interface WindowError {
  error: { field: 'window' | 'from' | 'to'; message: string };
}

/**
 * Turns the uptime query parameters into a [from, to) range in epoch ms, relative to `now`.
 * Invalid input is returned as a `WindowError` naming the field (not thrown), so the HTTP layer
 * maps it to a 400 `validation_failed` detail without a try/catch. A `to` in the future is clipped
 * to `now`, since time that has not happened cannot be accounted for; the range bound applies to
 * the range after clipping, the one actually computed.
 */
export function resolveWindow(params: WindowParams, now: number): Window | WindowError {
  const { window, from, to } = params;
  if (window !== undefined && (from !== undefined || to !== undefined)) {
    return fail('window', 'give either window or from/to, not both');
  }
  if (from === undefined && to === undefined) {
    const name = window ?? DEFAULT_WINDOW;
    if (!isUptimeWindow(name)) {
      return fail('window', `window must be one of ${Object.keys(UPTIME_WINDOWS).join(', ')}`);
    }
    return { from: now - UPTIME_WINDOWS[name], to: now };
  }
  if (from === undefined) return fail('from', 'from is required when to is given');
  if (to === undefined) return fail('to', 'to is required when from is given');

  const fromMs = parseRfc3339(from);
  if (fromMs === null) return fail('from', 'from must be an RFC 3339 date-time');
  const toMs = parseRfc3339(to);
  if (toMs === null) return fail('to', 'to must be an RFC 3339 date-time');
  if (fromMs >= toMs) return fail('from', 'from must be before to');
  if (fromMs >= now) return fail('from', 'from must be in the past');

  const clippedTo = Math.min(toMs, now);
  if (clippedTo - fromMs > MAX_RANGE_MS) {
    return fail('from', `from and to must be at most ${MAX_RANGE_MS / DAY_MS} days apart`);
  }
  return { from: fromMs, to: clippedTo };
}

function fail(field: WindowError['error']['field'], message: string): WindowError {
  return { error: { field, message } };
}

function isUptimeWindow(name: string): name is UptimeWindow {
  return Object.hasOwn(UPTIME_WINDOWS, name);
}

const RFC3339_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

// A strict parser rather than Date.parse, which accepts formats outside RFC 3339 and silently
// rolls impossible dates over (2026-02-30 becomes March 2). Fractions beyond milliseconds are
// truncated, matching the engine's millisecond resolution. Leap seconds (:60) are rejected
// because epoch milliseconds cannot represent them.
function parseRfc3339(text: string): number | null {
  const match = RFC3339_DATE_TIME.exec(text);
  if (match === null) return null;
  const field = (index: number): number => Number(match[index] ?? 0);
  const year = field(1);
  const month = field(2);
  const day = field(3);
  const hour = field(4);
  const minute = field(5);
  const second = field(6);
  const millis = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);

  // Date.UTC normalises out-of-range fields, so a round trip exposes any that were out of range.
  const check = new Date(local);
  const valid =
    check.getUTCFullYear() === year &&
    check.getUTCMonth() === month - 1 &&
    check.getUTCDate() === day &&
    check.getUTCHours() === hour &&
    check.getUTCMinutes() === minute &&
    check.getUTCSeconds() === second;
  const offsetHours = field(9);
  const offsetMinutes = field(10);
  if (!valid || offsetHours > 23 || offsetMinutes > 59) return null;

  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000;
  return match[8] === '-' ? local + offsetMs : local - offsetMs;
}
