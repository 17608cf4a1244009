import { addTimeline, advanceEscalations, lockIncidents, type IncidentRow, type TimelineEntry } from '../db/incidents.ts';
import { insertOutbox, type NewOutboxEvent } from '../db/outbox.ts';
import type { PolicyRow } from '../oncall/model.ts';
import { getPolicies } from '../oncall/store.ts';
import { nodeStates } from '../nodes/store.ts';
import type { OutboxHandler } from '../outbox/registry.ts';
import { escalationSteps } from '../oncall/escalation.ts';
import { incidentEvent } from './events.ts';

export const ESCALATION_DUE = 'incident.escalation_due';

/**
 * The durable timer for step `step` of an incident's schedule: an outbox row that becomes
 * available at opening + the step's delay. Keyed by incident, not node, so a pending timer never
 * holds back the node's own events; a restart or failover simply finds it in the table.
 */
function escalationTimer(incident: IncidentRow, policy: PolicyRow, step: number): NewOutboxEvent | undefined {
  const s = escalationSteps(policy.levels, policy.repeat)[step - 1];
  if (!s) return undefined;
  return {
    topic: ESCALATION_DUE,
    key: `incident:${incident.id}`,
    payload: { incident_id: incident.id, step },
    availableAt: new Date(incident.opened_at.getTime() + s.afterSeconds * 1000),
  };
}

export function firstEscalation(incident: IncidentRow, policy: PolicyRow): NewOutboxEvent | undefined {
  return escalationTimer(incident, policy, 1);
}

/**
 * Timers fired: page each step's level if its incident is still open and unacknowledged, then arm
 * the next step. Acknowledging or resolving needs no cancellation: the timer finds the incident
 * no longer open and does nothing. While the node is in maintenance the step passes silently.
 * Set-wise, like the other handlers: a storm's timers come due together.
 */
export const handleEscalationDue: OutboxHandler = async (events, { tx, now }) => {
  const fired = events.map((e) => ({ incidentId: String(e.payload.incident_id), step: Number(e.payload.step) }));
  const incidents = await lockIncidents(tx, fired.map((f) => f.incidentId));
  const due = fired.flatMap((f) => {
    const incident = incidents.get(f.incidentId);
    return incident && incident.status === 'open' && incident.escalation_step === f.step - 1 ? [{ ...f, incident }] : [];
  });
  const policies = await getPolicies(tx, [...new Set(due.flatMap((d) => (d.incident.policy_id ? [d.incident.policy_id] : [])))]);
  const timeline: TimelineEntry[] = [];
  const steps = due.flatMap((d) => {
    const policy = d.incident.policy_id ? policies.get(d.incident.policy_id) : undefined;
    const s = policy ? escalationSteps(policy.levels, policy.repeat)[d.step - 1] : undefined;
    if (!policy || !s) {
      timeline.push({ incident_id: d.incidentId, at: now, kind: 'escalation_stopped', detail: { reason: 'escalation policy removed or shortened' } });
      return [];
    }
    return [{ ...d, policy, level: s.level }];
  });
  const advanced = await advanceEscalations(tx, steps.map((s) => ({ id: s.incidentId, step: s.step, level: s.level })));
  const states = await nodeStates(tx, [...new Set(steps.map((s) => s.incident.node_id))]);
  const out: NewOutboxEvent[] = [];
  for (const s of steps) {
    const row = advanced.get(s.incidentId);
    if (!row) continue;
    const detail = { level: s.level, step: s.step };
    if (states.get(row.node_id) === 'maintenance') {
      timeline.push({ incident_id: row.id, at: now, kind: 'escalation_suppressed', detail: { ...detail, reason: 'maintenance' } });
    } else {
      timeline.push({ incident_id: row.id, at: now, kind: 'escalated', detail });
      out.push(incidentEvent(row, 'escalated', now, detail));
    }
    const next = escalationTimer(row, s.policy, s.step + 1);
    if (next) out.push(next);
  }
  await addTimeline(tx, timeline);
  await insertOutbox(tx, out, now);
};
