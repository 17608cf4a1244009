import type { Queryable } from '../db/client.ts';
import type { MaintenanceSpan } from '../maintenance/model.ts';
import { decide, type Coverage, type FailedRun, type HiddenFailure, type Policy } from './decide.ts';
import type { DueRow, HealthWrite, Reschedule } from './model.ts';
import { reschedule, writeTransitions } from './store.ts';

const dateOf = (ms: number | null) => (ms === null ? null : new Date(ms));
const earliest = (a: Date | null, b: Date | null) => (a === null ? b : b === null ? a : a < b ? a : b);

const runOf = (run: DueRow['failed_run']): FailedRun | null => run && { exitCode: run.exit_code, tail: run.tail };

const hiddenFailureOf = (row: DueRow, atMs: number): HiddenFailure => ({
  at: new Date(atMs),
  status: row.hidden_failure_status!,
  checks: row.hidden_failure_checks,
  failedRun: runOf(row.hidden_failure_run),
});

export interface Plan {
  writes: HealthWrite[];
  reschedules: Reschedule[];
}

export function policyOf(row: DueRow): Policy {
  return {
    heartbeatIntervalSeconds: row.heartbeat_interval_seconds,
    graceSeconds: row.grace_seconds,
    failuresForDown: row.failures_for_down,
    successesForRecovery: row.successes_for_recovery,
    schedule: row.schedule,
  };
}

/** Runs the pure decision over a batch of due nodes and shapes what must be written. */
export function plan(rows: DueRow[], coverage: Coverage, maintenance: Map<string, MaintenanceSpan>, now: Date): Plan {
  const writes: HealthWrite[] = [];
  const reschedules: Reschedule[] = [];
  for (const row of rows) {
    const span = maintenance.get(row.node_id);
    const d = decide(
      {
        state: row.state,
        since: new Date(row.since_ms),
        receivedAtEntry: row.received_at_entry,
        lastHeartbeatAt: dateOf(row.last_heartbeat_at_ms),
        lastStatus: row.last_status,
        checks: row.checks,
        okStreak: row.ok_streak,
        received: row.received,
        maintenanceFrom: span?.from ?? null,
        maintenanceEndedAt: span?.endedAt ?? null,
        coverage,
        runStartedAt: dateOf(row.run_started_at_ms),
        scheduleSince: row.schedule_since_ms === null ? undefined : new Date(row.schedule_since_ms),
        failedRun: runOf(row.failed_run),
        hiddenFailure: row.hidden_failure_at_ms === null ? null : hiddenFailureOf(row, row.hidden_failure_at_ms),
        streakMetAt: dateOf(row.streak_met_at_ms),
        reason: row.reason,
      },
      policyOf(row),
      now,
    );
    // A window ending or beginning is a moment to judge the node again, like a deadline.
    const windowEdge = span ? (span.from ? span.until : span.nextStart) : null;
    const last = d.transitions.at(-1);
    reschedules.push({
      nodeId: row.node_id,
      dueAt: earliest(d.nextCheckAt, windowEdge),
      wake: row.wake,
      received: row.received,
      leavesHealthy: row.state === 'healthy' && last !== undefined && last.to !== 'healthy',
    });
    const renamed = d.reasonChange ?? null;
    if (!last && !renamed) continue;
    writes.push({
      nodeId: row.node_id,
      nodeName: row.name,
      expectedVersion: row.version,
      state: last?.to ?? row.state,
      since: last?.at ?? new Date(row.since_ms),
      reason: renamed?.reason ?? last!.reason,
      receivedAtEntry: d.receivedAtEntry,
      transitions: d.transitions,
      reasonChange: renamed,
    });
  }
  return { writes, reschedules };
}

/**
 * The node health machine's write: state, log and outbox rows (compare-and-set on version) plus the
 * next due times, all in the caller's transaction. Returns the writes that won.
 */
export async function apply(tx: Queryable, p: Plan, now: Date): Promise<HealthWrite[]> {
  // One after the other: the reschedule may take the heartbeat-write lock, which holds every flush
  // until commit, so it comes after the log and outbox rows rather than beside them.
  const won = await writeTransitions(tx, p.writes, now);
  await reschedule(tx, p.reschedules, now);
  return p.writes.filter((w) => won.has(w.nodeId));
}
