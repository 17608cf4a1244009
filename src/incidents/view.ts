import type { IncidentView, TimelineEntryView } from '../api/shapes.ts';
import type { IncidentRow, TimelineEntry } from './model.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The contract's incident JSON, shared by the API and every notification so they never differ. */
export function incidentView(i: IncidentRow): IncidentView {
  return {
    id: i.id,
    node_id: i.node_id,
    node_name: i.node_name,
    category: i.category,
    severity: i.severity,
    status: i.status,
    title: i.title,
    reason: i.reason,
    opened_at: i.opened_at.toISOString(),
    acknowledged_at: iso(i.acknowledged_at),
    acknowledged_by: i.acknowledged_by,
    resolved_at: iso(i.resolved_at),
    resolved_by: i.resolved_by,
    escalation_level: i.escalation_level,
    escalation_held: i.escalation_held,
    version: i.version,
  };
}

export function timelineView(entries: TimelineEntry[]): TimelineEntryView[] {
  return entries.map((e) => ({ at: e.at.toISOString(), kind: e.kind, detail: e.detail }));
}
