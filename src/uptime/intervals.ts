// A node's state log as contiguous intervals of time, and the time they spend inside a window.

import { emptyStateMs, type NodeState, type StateMs } from './state-time.ts';

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
