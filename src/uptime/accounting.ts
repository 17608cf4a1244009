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

/** `a − b`: the time between two running totals. */
export function subtractStateMs(a: StateMs, b: StateMs): StateMs {
  return perState((state) => a[state] - b[state]);
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
  /**
   * The state at `createdAt` when the log is read from the middle of a history (the `to` of the
   * last transition before it); by default the first transition's `from`, or `unknown`.
   */
  initialState?: NodeState | null | undefined;
}

/**
 * The contiguous intervals a node spent in each state, from `createdAt` to `until` (or
 * `deletedAt`, if earlier). Interval i runs from transition i to transition i+1; before the first
 * transition the node is in that transition's `from` state (`unknown` for a node that never
 * changed). After that only each transition's `to` is used, so a log whose `from` disagrees with
 * the previous `to` still yields contiguous, non-overlapping time. With `initialState`, the same
 * holds for a suffix of the log starting at `createdAt`.
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
  let state: NodeState = log.initialState ?? log.transitions[0]?.from ?? 'unknown';
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

// ---------------------------------------------------------------------------------------------
// Rollups: closed hours and days stored per node (sql/0003_uptime.sql)
//
// Rollups are recomputed, never incremented: a pass rewrites a span of buckets from the state log,
// so a redelivered event, two passes racing or a rebuild all write the same numbers. A node's
// progress row says what is stored; the functions below decide what a pass rewrites and what a
// query may take from the rows instead of the log.

export interface Span {
  start: number;
  end: number;
}

export interface Retention {
  /** Days of hour rows kept (LIFELINE_UPTIME_HOURLY_RETENTION_DAYS). */
  hourlyDays: number;
  /** Days of day rows kept (LIFELINE_UPTIME_DAILY_RETENTION_DAYS). */
  dailyDays: number;
}

/** A node's `uptime_progress` row, times as epoch ms. */
export interface Progress {
  /** The rows reflect the state log up to this version. */
  stateVersion: number;
  /** On an hour boundary: the rows are complete for all time before it. */
  closedUntil: number;
  /**
   * Hour rows are complete from here up to `closedUntil`: a day boundary, or `closedUntil` itself
   * while none is stored.
   */
  hoursFrom: number;
  /** Day rows are complete from this day boundary up to the day holding `closedUntil`. */
  daysFrom: number;
  /** When the latest transition the rows reflect happened (null: the node never changed state). */
  lastAt: number | null;
  /** The state just before `closedUntil`, as the rows reflect it. */
  closedState: NodeState;
  /** Milliseconds per state over the closed hours of the day holding `closedUntil`. */
  today: StateMs;
  /** Running totals through the day before the one holding `closedUntil` (null: no day stored yet). */
  daysRunning: StateMs | null;
}

/** Where a node's stored runs end and begin: what a pass plans. */
export type StoredRuns = Pick<Progress, 'closedUntil' | 'hoursFrom' | 'daysFrom'>;

/** The end of the stored rows as the progress row keeps it, so a report need not read those rows. */
export type Closing = Pick<Progress, 'closedState' | 'today' | 'daysRunning'>;

/** A node's hours of one UTC day: `hours[i]` is hour i (00:00 is 0), zero where not yet closed. */
export interface HourRow {
  day: number;
  hours: StateMs[];
}

/** A node's closed UTC day, with running totals since the first day of its stored run. */
export interface DayRow {
  day: number;
  ms: StateMs;
  running: StateMs;
}

/** The first day whose hour rows, and the first day whose day rows, are kept at `now`. */
export function retentionHorizons(now: number, retention: Retention): { hours: number; days: number } {
  return {
    hours: bucketStart(now - retention.hourlyDays * DAY_MS, 'day'),
    days: bucketStart(now - retention.dailyDays * DAY_MS, 'day'),
  };
}

/**
 * Until when a node's rows are exact for its log as it is now. Transitions newer than
 * `stateVersion` (committed, not yet rolled up) may be stamped before `closedUntil`: a deadline
 * just before the hour closed, or the start of a coverage gap. The evaluator writes a monotonic
 * log (decide.ts never stamps a transition before the state it leaves), so everything before the
 * hour of the earliest of them is still exact.
 */
export function exactUntil(progress: Progress, pendingFrom: number | null): number {
  if (pendingFrom === null) return progress.closedUntil;
  return Math.min(progress.closedUntil, bucketStart(pendingFrom, 'hour'));
}

export interface RollupInput {
  createdAt: number;
  /** null: nothing is stored for the node yet (or a rebuild starts over). */
  progress: Progress | null;
  /** The earliest `at` among transitions newer than `progress.stateVersion`, if any. */
  pendingFrom: number | null;
  now: number;
  retention: Retention;
}

export interface RollupPlan {
  /** Read the log over this span: the state at its start and the transitions inside it. */
  read: Span;
  /** Rewrite the hour rows of the days in this span. */
  hourDays: Span;
  /** Rewrite the day rows of the days in this span. */
  days: Span;
  /** The stored day whose running totals the rewritten days continue; null: they start at zero. */
  baseDay: number | null;
  /** The stored runs afterwards. */
  next: StoredRuns;
}

const span = (start: number, end: number): Span => ({ start, end: Math.max(start, end) });
const isEmpty = (s: Span): boolean => s.start >= s.end;

/**
 * What one rollup pass rewrites for a node at `now`. Time before the latest transition is final;
 * time after it is rolled up as if the state held until the start of the current hour, and the next
 * transition corrects that when it comes (until then it is pending, see `exactUntil`). So a pass
 * rewrites from the first hour whose numbers may have changed — the stored end, the hour of a
 * pending transition, or the node's creation — up to the current hour: the hour rows of every day
 * touched (whole days, one row each) and the day rows of the days that ended.
 */
export function planRollup(input: RollupInput): RollupPlan {
  const { createdAt, progress, now } = input;
  const from = progress ? exactUntil(progress, input.pendingFrom) : bucketStart(createdAt, 'hour');
  const until = Math.max(progress?.closedUntil ?? from, bucketStart(now, 'hour'));
  const horizon = retentionHorizons(now, input.retention);
  const fromDay = bucketStart(from, 'day');

  const hoursLo = Math.max(fromDay, horizon.hours);
  const hourDays = span(hoursLo, from < until ? bucketEnd(until - 1, 'day') : hoursLo);
  const daysLo = Math.max(fromDay, horizon.days);
  const days = span(daysLo, bucketStart(until, 'day'));

  // Where a stored run starts after this pass. Rows below a rewrite stay valid only if the rewrite
  // starts at the day of `from` (rows before it end before `from`); a retention horizon above that
  // day may leave rows holding stale hours below the rewrite, so the run then restarts at the
  // rewrite. A pass that rewrites nothing leaves the run as it was, or empty (starting at its end)
  // for a node with nothing stored yet: no row exists to vouch for even its first hours.
  const runFrom = (storedFrom: number | undefined, lo: number, rewrote: boolean, end: number): number => {
    if (!rewrote) return storedFrom ?? end;
    return storedFrom !== undefined && lo === fromDay ? Math.min(storedFrom, lo) : lo;
  };
  const next = {
    closedUntil: until,
    hoursFrom: runFrom(progress?.hoursFrom, hoursLo, !isEmpty(hourDays), until),
    daysFrom: runFrom(progress?.daysFrom, daysLo, !isEmpty(days), bucketStart(until, 'day')),
  };

  const rewritten = [hourDays, days].filter((s) => !isEmpty(s));
  const readFrom = rewritten.length ? Math.min(...rewritten.map((s) => s.start)) : until;
  return {
    read: span(readFrom, until),
    hourDays,
    days,
    baseDay: !isEmpty(days) && next.daysFrom < days.start ? days.start - DAY_MS : null,
    next,
  };
}

/**
 * The rows a plan rewrites, from the node's intervals over `plan.read` counted up to
 * `plan.next.closedUntil` (hours after it are stored as zero until a later pass closes them), and
 * the new end of the stored rows; what the pass does not rewrite keeps `previous`'s.
 * Running totals continue `base`, the stored row of `plan.baseDay`.
 */
export function rollUp(
  plan: RollupPlan,
  intervals: readonly Interval[],
  base: DayRow | null,
  previous: Progress | null,
): { hourRows: HourRow[]; dayRows: DayRow[]; closing: Closing } {
  if ((plan.baseDay === null) !== (base === null)) throw new Error('rollUp: base row does not match the plan');
  const hourRows: HourRow[] = [];
  for (const hour of splitIntoBuckets(intervals, 'hour', plan.hourDays.start, plan.hourDays.end)) {
    const day = bucketStart(hour.start, 'day');
    let row = hourRows.at(-1);
    if (row?.day !== day) hourRows.push((row = { day, hours: [] }));
    row.hours.push(hour.ms);
  }
  let running = base?.running ?? emptyStateMs();
  const dayRows = splitIntoBuckets(intervals, 'day', plan.days.start, plan.days.end).map((day) => {
    running = addStateMs(running, day.ms);
    return { day: day.start, ms: day.ms, running };
  });

  const until = plan.next.closedUntil;
  const todayRow = hourRows.find((row) => row.day === bucketStart(until, 'day'));
  const last = intervals.at(-1);
  const closing: Closing = {
    closedState: last?.end === until ? last.state : (previous?.closedState ?? 'unknown'),
    today: todayRow ? combine(todayRow.hours) : bucketStart(until, 'day') === until ? emptyStateMs() : (previous?.today ?? emptyStateMs()),
    daysRunning: dayRows.at(-1)?.running ?? previous?.daysRunning ?? null,
  };
  return { hourRows, dayRows, closing };
}

// ---------------------------------------------------------------------------------------------
// Answering a window from rollups plus the log

/** What a node's rows can answer: hour rows and day rows complete over these spans. */
export interface Stored {
  hours: Span;
  days: Span;
}

export function storedSpans(progress: Progress | null, pendingFrom: number | null): Stored | null {
  if (progress === null) return null;
  const exact = exactUntil(progress, pendingFrom);
  return {
    hours: span(progress.hoursFrom, exact),
    days: span(progress.daysFrom, bucketStart(exact, 'day')),
  };
}

export type Source = 'day' | 'hour' | 'log';

export interface Segment extends Span {
  source: Source;
}

/** Smallest bucket boundary at or after `t`. */
function boundaryAtOrAfter(t: number, size: BucketSize): number {
  return bucketStart(t, size) === t ? t : bucketEnd(t, size);
}

/** The whole `size` buckets inside [start, end) that `stored` covers, or null. */
function storedBuckets(start: number, end: number, size: BucketSize, stored: Span): Span | null {
  const lo = Math.max(boundaryAtOrAfter(start, size), stored.start);
  const hi = Math.min(bucketStart(end, size), stored.end);
  return lo < hi ? { start: lo, end: hi } : null;
}

/**
 * Splits a window into the parts read from day rows, from hour rows and from the state log, in
 * time order: whole stored days, whole stored hours around them, and the rest from the log — the
 * partial hours at the edges, time not rolled up yet, time whose rows retention removed. Time before
 * the node existed counts nothing, so a window reaching back past creation is read from the start
 * of that day, where the rows begin. With `useDays` false day rows are left out (an hour-by-hour
 * breakdown cannot split them).
 */
export function planWindow(window: Window, createdAt: number, stored: Stored | null, useDays: boolean): Segment[] {
  if (window.to <= createdAt) return [];
  const from = window.from > createdAt ? window.from : bucketStart(createdAt, 'day');
  const to = window.to;
  const segments: Segment[] = [];
  const push = (source: Source, start: number, end: number) => {
    if (start < end) segments.push({ source, start, end });
  };
  const hoursAndLog = (start: number, end: number) => {
    const hours = stored && storedBuckets(start, end, 'hour', stored.hours);
    if (!hours) return push('log', start, end);
    push('log', start, hours.start);
    push('hour', hours.start, hours.end);
    push('log', hours.end, end);
  };

  const days = stored && useDays ? storedBuckets(from, to, 'day', stored.days) : null;
  if (!days) {
    hoursAndLog(from, to);
    return segments;
  }
  hoursAndLog(from, days.start);
  push('day', days.start, days.end);
  hoursAndLog(days.end, to);
  return segments;
}

/**
 * A segment the progress row answers by itself, reading no row and no log: the closed hours of the
 * stored end's day, and the time from the stored end on when no transition came after it. Null
 * otherwise, and always while a transition is pending (the rows are then not exact to their end).
 */
export function fromProgress(segment: Segment, progress: Progress, pendingFrom: number | null, createdAt: number, now: number): StateMs | null {
  if (pendingFrom !== null) return null;
  const end = progress.closedUntil;
  if (segment.source === 'hour' && segment.start === bucketStart(end, 'day') && segment.end === end) return progress.today;
  if (segment.source === 'log' && segment.start === end && (progress.lastAt === null || progress.lastAt < end)) {
    const quiet = { state: progress.closedState, start: Math.max(createdAt, end), end: Math.min(now, segment.end) };
    return msInWindow([quiet], segment.start, segment.end);
  }
  return null;
}

/** The running totals before `day` when the progress row holds them (the stored end's day), else null. */
export function runningBefore(day: number, progress: Progress, pendingFrom: number | null): StateMs | null {
  if (pendingFrom !== null || progress.daysRunning === null) return null;
  return day === bucketStart(progress.closedUntil, 'day') ? progress.daysRunning : null;
}

/** The hours of a row inside `within`, each as a bucket at its start. */
export function hoursOf(row: HourRow, within: Span): Bucket[] {
  return row.hours
    .map((ms, i) => ({ start: row.day + i * HOUR_MS, ms }))
    .filter((hour) => hour.start >= within.start && hour.start + HOUR_MS <= within.end);
}

/**
 * The window's `size` buckets (as `splitIntoBuckets` lists them) filled from pieces that each lie
 * inside one bucket: stored hours and days, and the log's time already split at `size`. Pieces
 * before the window's first bucket come only from before the node existed and are all zero.
 */
export function breakdown(window: Window, size: BucketSize, pieces: readonly Bucket[]): Bucket[] {
  const buckets = splitIntoBuckets([], size, window.from, window.to);
  const first = buckets[0]?.start ?? 0;
  for (const piece of pieces) {
    const bucket = buckets[(bucketStart(piece.start, size) - first) / BUCKET_MS[size]];
    if (bucket) bucket.ms = addStateMs(bucket.ms, piece.ms);
  }
  return buckets;
}
