// Uptime accounting: turns a node's state log into time spent per state, per window and per
// aligned UTC bucket, and reports it in the shape CONTRACT §7 promises.
//
// Everything here is pure: the current time is always a parameter, so the same code serves the
// exact-to-the-request API answer, the hourly/daily rollups and fixed-clock tests.
//
// Times are integer milliseconds since the epoch (UTC). A JS number holds every integer up to 2^53
// exactly, which as milliseconds is about 285,000 years, so adding up a year of a node's time, or a
// year of 10k nodes' time for the fleet figure (~3 × 10^14 ms), never loses a millisecond.

export const NODE_STATES = ['healthy', 'degraded', 'down', 'maintenance', 'unknown'] as const;
export type NodeState = (typeof NODE_STATES)[number];

/** Milliseconds spent in each state. */
export type StateMs = Record<NodeState, number>;

// Builds a per-state record with keys in the contract's order, so JSON output reads the same
// everywhere and the type checker proves no state is forgotten.
function perState(value: (state: NodeState) => number): StateMs {
  return {
    healthy: value('healthy'),
    degraded: value('degraded'),
    down: value('down'),
    maintenance: value('maintenance'),
    unknown: value('unknown'),
  };
}

export function emptyStateMs(): StateMs {
  return perState(() => 0);
}

export function addStateMs(a: StateMs, b: StateMs): StateMs {
  return perState((state) => a[state] + b[state]);
}

/**
 * Sums pieces of accounting that cover disjoint time, e.g. the stored whole buckets inside a
 * window plus `msInWindow` over the partial buckets at its two edges. Durations simply add, so
 * nothing else is needed to combine rollups with exact edges.
 */
export function combine(parts: readonly StateMs[]): StateMs {
  return parts.reduce(addStateMs, emptyStateMs());
}

// ---------------------------------------------------------------------------------------------
// State log → intervals

/** One row of `node_state_log`, times as epoch ms. */
export interface Transition {
  from: NodeState;
  to: NodeState;
  at: number;
}

/** A half-open span [start, end) spent in one state. */
export interface Interval {
  state: NodeState;
  start: number;
  end: number;
}

export interface StateLog {
  createdAt: number;
  /** In `state_version` order: the version, not the timestamp, is the order of events. */
  transitions: readonly Transition[];
  /** Where the last, still open interval ends: the request time for a query. */
  until: number;
  /** A deleted node's time after its deletion is not counted. */
  deletedAt?: number | null;
}

/**
 * The contiguous intervals a node spent in each state, from `createdAt` to `until` (or
 * `deletedAt`, if earlier). Interval i runs from transition i to transition i+1; before the first
 * transition the node is in that transition's `from` state (`unknown` for a node that never
 * changed). After that only each transition's `to` is used, so a log whose `from` disagrees with
 * the previous `to` still yields contiguous, non-overlapping time.
 *
 * State log times are monotonic in practice, but a transition stamped before `createdAt` or before
 * the previous transition (a hand-edited or restored row) is clamped forward to
 * the earlier bound rather than producing negative or overlapping time; a transition after the end
 * is clamped to the end. Pieces left zero-length by clamping are dropped.
 */
export function intervalsFromLog(log: StateLog): Interval[] {
  const end = log.deletedAt == null ? log.until : Math.min(log.until, log.deletedAt);
  // Nothing to count; returning here also keeps the clamping below within [createdAt, end].
  if (end <= log.createdAt) return [];

  const intervals: Interval[] = [];
  let state: NodeState = log.transitions[0]?.from ?? 'unknown';
  let start = log.createdAt;
  for (const transition of log.transitions) {
    const at = Math.min(Math.max(transition.at, start), end);
    if (at > start) intervals.push({ state, start, end: at });
    state = transition.to;
    start = at;
  }
  if (end > start) intervals.push({ state, start, end });
  return intervals;
}

/** Milliseconds per state that the intervals spend inside [from, to). */
export function msInWindow(intervals: readonly Interval[], from: number, to: number): StateMs {
  const ms = emptyStateMs();
  for (const interval of intervals) {
    const overlap = Math.min(interval.end, to) - Math.max(interval.start, from);
    if (overlap > 0) ms[interval.state] += overlap;
  }
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Aligned UTC buckets

export type BucketSize = 'hour' | 'day';

// UTC has no daylight-saving shifts and epoch milliseconds do not represent leap seconds, so every
// UTC hour and day has the same length and bucket boundaries are plain integer arithmetic.
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const BUCKET_MS: Record<BucketSize, number> = { hour: HOUR_MS, day: DAY_MS };

/** Start of the UTC hour or day containing `t`. */
export function bucketStart(t: number, size: BucketSize): number {
  const length = BUCKET_MS[size];
  // `%` keeps the sign of `t`; the second modulo makes this exact for times before 1970 too.
  return t - (((t % length) + length) % length);
}

/** End (exclusive) of the UTC hour or day containing `t`. */
export function bucketEnd(t: number, size: BucketSize): number {
  return bucketStart(t, size) + BUCKET_MS[size];
}

export interface Bucket {
  start: number;
  ms: StateMs;
}

/**
 * Per-bucket milliseconds for every aligned bucket that overlaps [from, to), in order, with the
 * time counted in each bucket clipped to [from, to). A bucket the intervals do not reach (before
 * the node existed, say) is still returned, all zero: the list of buckets depends on the window
 * alone, so a chart's axis does not shift with a node's age.
 */
export function splitIntoBuckets(
  intervals: readonly Interval[],
  size: BucketSize,
  from: number,
  to: number,
): Bucket[] {
  // An empty window overlaps no bucket, not even the one containing `from`.
  if (to <= from) return [];
  const length = BUCKET_MS[size];
  const first = bucketStart(from, size);
  const buckets: Bucket[] = [];
  for (let start = first; start < to; start += length) buckets.push({ start, ms: emptyStateMs() });

  for (const interval of intervals) {
    let t = Math.max(interval.start, from);
    const end = Math.min(interval.end, to);
    while (t < end) {
      // from <= t < to and buckets cover [first, to), so the index is always in range.
      const bucket = buckets[(bucketStart(t, size) - first) / length]!;
      const cut = Math.min(end, bucket.start + length);
      bucket.ms[interval.state] += cut - t;
      t = cut;
    }
  }
  return buckets;
}

// ---------------------------------------------------------------------------------------------
// Reporting (CONTRACT §7)

export interface UptimeSummary {
  uptime_ratio: number | null;
  up_seconds: number;
  monitored_seconds: number;
  seconds: StateMs;
}

/**
 * Up = healthy + degraded; monitored = total − maintenance − unknown; ratio = up / monitored, or
 * `null` when nothing was monitored (no ratio is more honest than a made-up 0 or 1). The ratio is
 * taken from integer milliseconds so it does not inherit any rounding of the reported seconds,
 * which carry millisecond precision (ms / 1000).
 */
export function summarize(ms: StateMs): UptimeSummary {
  const total = NODE_STATES.reduce((sum, state) => sum + ms[state], 0);
  const up = ms.healthy + ms.degraded;
  const monitored = total - ms.maintenance - ms.unknown;
  return {
    uptime_ratio: monitored === 0 ? null : up / monitored,
    up_seconds: up / 1000,
    monitored_seconds: monitored / 1000,
    seconds: perState((state) => ms[state] / 1000),
  };
}

// ---------------------------------------------------------------------------------------------
// Query window

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
