import type { NewOutboxEvent } from '../db/outbox.ts';
import { escalationSteps } from '../oncall/escalation.ts';
import type { PolicyRow } from '../oncall/model.ts';
import type { IncidentRow } from './model.ts';

export const ESCALATION_DUE = 'incident.escalation_due';

/** The outbox event announcing an incident change; keyed by node so it follows the node's order. */
export function incidentEvent(
  incident: IncidentRow,
  event: 'opened' | 'escalated' | 'acknowledged' | 'resolved',
  at: Date,
  extra: Record<string, unknown> = {},
): NewOutboxEvent {
  return {
    topic: `incident.${event}`,
    key: incident.node_id,
    payload: { incident_id: incident.id, node_id: incident.node_id, event, at: at.toISOString(), ...extra },
  };
}

/**
 * The durable timer for step `step` of an incident's schedule: an outbox row that becomes
 * available at opening + the step's delay. Keyed by incident, not node, so a pending timer never
 * holds back the node's own events; a restart or failover simply finds it in the table.
 */
export function escalationTimer(incident: IncidentRow, policy: PolicyRow, step: number): NewOutboxEvent | undefined {
  const s = escalationSteps(policy.levels, policy.repeat)[step - 1];
  if (!s) return undefined;
  return {
    topic: ESCALATION_DUE,
    key: `incident:${incident.id}`,
    payload: { incident_id: incident.id, step },
    availableAt: new Date(incident.opened_at.getTime() + s.afterSeconds * 1000),
  };
}
