import type { IncidentRow } from '../db/incidents.ts';
import type { NewOutboxEvent } from '../db/outbox.ts';

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
