// What one rollup pass rewrites for a node, and the rows it writes.

import { bucketEnd, bucketStart, DAY_MS, splitIntoBuckets } from './buckets.ts';
import type { Interval } from './intervals.ts';
import { exactUntil, span, type Closing, type DayRow, type HourRow, type Progress, type Span, type StoredRuns } from './model.ts';
import { retentionHorizons, type Retention } from './retention.ts';
import { addStateMs, combine, emptyStateMs } from './state-time.ts';

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
