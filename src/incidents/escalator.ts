import { addTimeline, advanceEscalation, lockIncident, type IncidentRow, type TimelineEntry } from '../db/incidents.ts';
import { insertOutbox, type NewOutboxEvent } from '../db/outbox.ts';
import { getPolicy, type PolicyRow } from '../db/policies.ts';
import { nodeState } from '../db/nodes.ts';
import type { OutboxHandler } from '../outbox/registry.ts';
import { escalationSteps } from './escalation.ts';
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
 * A timer fired: page the step's level if the incident is still open and unacknowledged, then arm
 * the next step. Acknowledging or resolving needs no cancellation: the timer finds the incident
 * no longer open and does nothing. While the node is in maintenance the step passes silently.
 */
export const handleEscalationDue: OutboxHandler = async (events, { tx, now }) => {
  const out: NewOutboxEvent[] = [];
  const timeline: TimelineEntry[] = [];
  for (const e of events) {
    const step = Number(e.payload.step);
    const incident = await lockIncident(tx, String(e.payload.incident_id));
    if (!incident || incident.status !== 'open' || incident.escalation_step !== step - 1) continue;
    const policy = incident.policy_id ? await getPolicy(tx, incident.policy_id) : undefined;
    const s = policy ? escalationSteps(policy.levels, policy.repeat)[step - 1] : undefined;
    if (!policy || !s) {
      timeline.push({ incident_id: incident.id, at: now, kind: 'escalation_stopped', detail: { reason: 'escalation policy removed or shortened' } });
      continue;
    }
    const advanced = await advanceEscalation(tx, incident.id, step, s.level);
    if (!advanced) continue;
    if ((await nodeState(tx, incident.node_id)) === 'maintenance') {
      timeline.push({ incident_id: incident.id, at: now, kind: 'escalation_suppressed', detail: { level: s.level, step, reason: 'maintenance' } });
    } else {
      timeline.push({ incident_id: incident.id, at: now, kind: 'escalated', detail: { level: s.level, step } });
      out.push(incidentEvent(advanced, 'escalated', now, { level: s.level, step }));
    }
    const next = escalationTimer(advanced, policy, step + 1);
    if (next) out.push(next);
  }
  await addTimeline(tx, timeline);
  await insertOutbox(tx, out, now);
};
