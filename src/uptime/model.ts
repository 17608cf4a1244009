// Rollups: closed hours and days stored per node (sql/0003_uptime.sql), as the pure rules see them.
//
// Rollups are recomputed, never incremented: a pass rewrites a span of buckets from the state log,
// so a redelivered event, two passes racing or a rebuild all write the same numbers. A node's
// progress row says what is stored; rollup-plan.ts decides what a pass rewrites and window-plan.ts
// what a query may take from the rows instead of the log.

import { bucketStart } from './buckets.ts';
import type { NodeState, StateMs } from './state-time.ts';

export interface Span {
  start: number;
  end: number;
}

/** [start, end), empty rather than negative when `end` is before `start`. */
export const span = (start: number, end: number): Span => ({ start, end: Math.max(start, end) });

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
