import type { CronSchedule } from './cron-deadline.ts';
import type { Checks, HeartbeatStatus, ReasonChange, State } from './decide.ts';

// What the evaluator reads about a due node and what it writes back. The rules themselves are
// decide.ts (pure); plan() in machine.ts turns due rows into these writes.

/** Everything the evaluator judges a node on, from its node, health, heartbeat and due rows. */
export interface DueRow {
  node_id: string;
  name: string;
  heartbeat_interval_seconds: number;
  grace_seconds: number;
  failures_for_down: number;
  successes_for_recovery: number;
  /** A scheduled job's schedule; null for a heartbeat node. */
  schedule: CronSchedule | null;
  /**
   * Instants as epoch milliseconds (see dueRows in store.ts); plan makes the Dates decide takes.
   * When the schedule was set (creation, or an edit of its expression or zone) is read only for a
   * scheduled job, the one kind judged on it.
   */
  schedule_since_ms: number | null;
  state: State;
  since_ms: number;
  version: number;
  received_at_entry: number;
  last_heartbeat_at_ms: number | null;
  last_status: HeartbeatStatus | null;
  checks: Checks | null;
  ok_streak: number;
  received: number;
  run_started_at_ms: number | null;
  /** When the last heartbeat was a failure ping: the run it ended (see dueRows in store.ts). */
  failed_run: { exit_code: number | null; tail: string | null } | null;
  /**
   * The first non-ok report a later one of the same flush replaced, if any (sql/0029): when, what
   * it said and, for a failure ping newer than the state, the run it ended.
   */
  hidden_failure_at_ms: number | null;
  hidden_failure_status: HeartbeatStatus | null;
  hidden_failure_checks: Checks | null;
  hidden_failure_run: { exit_code: number | null; tail: string | null } | null;
  /** When the recovery threshold was met (sql/0034), read only while newer than the state. */
  streak_met_at_ms: number | null;
  /** The stored reason, read only for a node down or degraded (decide.ts's Snapshot.reason). */
  reason: string | null;
  wake: number;
  /** Consecutive failed attempts to judge the node; such a node is judged alone. */
  failures: number;
  /**
   * due_at as epoch microseconds, for the pass's cursor. A Date keeps milliseconds, and a cursor
   * cut to the millisecond sorts before every row due within that millisecond, so it would skip
   * none of them: the next batch would read this one again if it is read before this one is
   * written.
   */
  due_us: number;
}

export interface DueCursor {
  dueUs: number;
  nodeId: string;
}

/**
 * A pass that found most of the fleet due walks the rest of it (the nodes due after `from`, in due
 * order) by node id instead, resuming after node `after` (see loadDue in store.ts).
 */
export interface NodeWalk {
  from: DueCursor;
  after: string;
}

export type PassCursor = DueCursor | NodeWalk;

/**
 * A node's new state, its log rows and its events, written as a compare-and-set on `expectedVersion`:
 * its transitions, a new reason for the state it is left in (reasonChange), or both.
 */
export interface HealthWrite {
  nodeId: string;
  nodeName: string;
  expectedVersion: number;
  state: State;
  since: Date;
  reason: string;
  receivedAtEntry: number;
  transitions: Array<{ from: State; to: State; at: Date; reason: string }>;
  /** The reason changed after the last transition, or without one (no log row, no version): a `node.reason_changed` event. */
  reasonChange?: ReasonChange | null;
}

/** When to judge a node next (see store.reschedule for why `wake` and `received` are carried). */
export interface Reschedule {
  nodeId: string;
  dueAt: Date | null;
  wake: number;
  /** The heartbeat count the pass judged the node on. */
  received: number;
  /** The pass takes the node out of healthy (see reschedule in store.ts). */
  leavesHealthy: boolean;
}
