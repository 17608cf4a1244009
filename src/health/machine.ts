import type { Queryable } from '../db/client.ts';
import { reschedule, writeTransitions, type DueRow, type HealthWrite, type Reschedule } from '../db/health.ts';
import { decide, type Coverage, type Policy, type Transition } from './decide.ts';

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
  };
}

export function transitionPayload(row: DueRow, tr: Transition, stateVersion: number): Record<string, unknown> {
  return {
    node_id: row.node_id,
    node_name: row.name,
    from: tr.from,
    to: tr.to,
    at: tr.at.toISOString(),
    reason: tr.reason,
    state_version: stateVersion,
  };
}

/** Runs the pure decision over a batch of due nodes and shapes what must be written. */
export function plan(rows: DueRow[], coverage: Coverage, maintenance: Map<string, Date>, now: Date): Plan {
  const writes: HealthWrite[] = [];
  const reschedules: Reschedule[] = [];
  for (const row of rows) {
    const d = decide(
      {
        state: row.state,
        since: row.since,
        receivedAtEntry: row.received_at_entry,
        lastHeartbeatAt: row.last_heartbeat_at,
        lastStatus: row.last_status,
        checks: row.checks,
        okStreak: row.ok_streak,
        received: row.received,
        maintenanceFrom: maintenance.get(row.node_id) ?? null,
        coverage,
      },
      policyOf(row),
      now,
    );
    reschedules.push({ nodeId: row.node_id, dueAt: d.nextCheckAt, wake: row.wake });
    const last = d.transitions.at(-1);
    if (!last) continue;
    writes.push({
      nodeId: row.node_id,
      expectedVersion: row.version,
      state: last.to,
      since: last.at,
      reason: last.reason,
      receivedAtEntry: d.receivedAtEntry,
      transitions: d.transitions.map((tr, i) => ({ ...tr, payload: transitionPayload(row, tr, row.version + i + 1) })),
    });
  }
  return { writes, reschedules };
}

/**
 * The node health machine's write: state, log and outbox rows (compare-and-set on version) plus the
 * next due times, all in the caller's transaction. Returns the writes that won.
 */
export async function apply(tx: Queryable, p: Plan, now: Date): Promise<HealthWrite[]> {
  const won = await writeTransitions(tx, p.writes, now);
  await reschedule(tx, p.reschedules);
  return p.writes.filter((w) => won.has(w.nodeId));
}
