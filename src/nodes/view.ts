import { missedHeartbeats } from '../health/decide.ts';
import type { NodeRow } from './model.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A node as the API shows it; `missed_heartbeats` is counted at `now`. */
export function nodeView(n: NodeRow, now: Date) {
  const policy = {
    heartbeatIntervalSeconds: n.heartbeat_interval_seconds,
    graceSeconds: n.grace_seconds,
    failuresForDown: n.failures_for_down,
    successesForRecovery: n.successes_for_recovery,
  };
  return {
    id: n.id,
    name: n.name,
    labels: n.labels,
    heartbeat_interval_seconds: n.heartbeat_interval_seconds,
    grace_seconds: n.grace_seconds,
    failures_for_down: n.failures_for_down,
    successes_for_recovery: n.successes_for_recovery,
    escalation_policy_id: n.escalation_policy_id,
    created_at: iso(n.created_at),
    updated_at: iso(n.updated_at),
    health: {
      state: n.state,
      since: iso(n.since),
      reason: n.reason,
      state_version: n.state_version,
      last_heartbeat_at: iso(n.last_heartbeat_at),
      missed_heartbeats: missedHeartbeats(n.last_heartbeat_at, n.coverage_since ?? n.created_at, policy, now),
      last_status: n.last_status,
      checks: n.checks,
    },
  };
}
