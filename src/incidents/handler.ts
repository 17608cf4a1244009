import type { Tx } from '../db/client.ts';
import {
  addTimeline,
  lockOpenIncidents,
  openIncident,
  resolveIncident,
  type IncidentRow,
  type TimelineEntry,
} from '../db/incidents.ts';
import type { OutboxEvent, NewOutboxEvent } from '../db/outbox.ts';
import { insertOutbox } from '../db/outbox.ts';
import { policyForNode } from '../db/policies.ts';
import type { State } from '../health/decide.ts';
import type { OutboxHandler } from '../outbox/registry.ts';
import { CATEGORIES, categoryFor, incidentTitle } from './categorize.ts';
import { firstEscalation } from './escalator.ts';
import { incidentEvent } from './events.ts';

export interface StateChanged {
  node_id: string;
  node_name: string;
  from: State;
  to: State;
  at: string;
  reason: string;
}

/** Resolves an incident with its timeline entry and event; returns the outbox event to write. */
export async function resolveWithEvent(
  tx: Tx,
  incident: IncidentRow,
  at: Date,
  by: string,
  detail: Record<string, unknown>,
  timeline: TimelineEntry[],
): Promise<NewOutboxEvent | undefined> {
  const resolved = await resolveIncident(tx, incident.id, at, by);
  if (!resolved) return undefined;
  timeline.push({ incident_id: incident.id, at, kind: 'resolved', detail: { by, ...detail } });
  return incidentEvent(resolved, 'resolved', at, { by });
}

/**
 * Incidents follow node state: entering down or degraded opens that category (at most one open per
 * node and category) and resolves the other, back to healthy resolves everything open. Unknown and
 * maintenance change nothing: an outage seen before a blind spot or a window stays open until the
 * node is judged again, so only a real difference is ever notified.
 */
async function onStateChanged(tx: Tx, change: StateChanged, out: NewOutboxEvent[], timeline: TimelineEntry[]) {
  const at = new Date(change.at);
  const wanted = categoryFor(change.to);
  if (change.to !== 'healthy' && wanted === null) return;
  const open = await lockOpenIncidents(tx, change.node_id);
  for (const incident of open) {
    if (incident.category === wanted) continue;
    const event = await resolveWithEvent(tx, incident, at, 'auto', { node_state: change.to }, timeline);
    if (event) out.push(event);
  }
  if (wanted === null || open.some((i) => i.category === wanted)) return;
  const policy = await policyForNode(tx, change.node_id);
  const incident = await openIncident(tx, {
    nodeId: change.node_id,
    nodeName: change.node_name,
    category: wanted,
    severity: CATEGORIES[wanted].severity,
    title: incidentTitle(wanted, change.node_name),
    reason: change.reason,
    policyId: policy?.id ?? null,
    openedAt: at,
  });
  if (!incident) return;
  timeline.push({ incident_id: incident.id, at, kind: 'opened', detail: { reason: change.reason, policy_id: incident.policy_id } });
  out.push(incidentEvent(incident, 'opened', at));
  const next = policy ? firstEscalation(incident, policy) : undefined;
  if (next) out.push(next);
}

async function onNodeDeleted(tx: Tx, nodeId: string, at: Date, out: NewOutboxEvent[], timeline: TimelineEntry[]) {
  for (const incident of await lockOpenIncidents(tx, nodeId)) {
    const event = await resolveWithEvent(tx, incident, at, 'node_deleted', {}, timeline);
    if (event) out.push(event);
  }
}

export const handleNodeEvents: OutboxHandler = async (events: OutboxEvent[], ctx) => {
  const out: NewOutboxEvent[] = [];
  const timeline: TimelineEntry[] = [];
  for (const e of events) {
    if (e.topic === 'node.state_changed') await onStateChanged(ctx.tx, e.payload as unknown as StateChanged, out, timeline);
    else if (e.topic === 'node.deleted') await onNodeDeleted(ctx.tx, String(e.payload.node_id), new Date(String(e.payload.at)), out, timeline);
  }
  await addTimeline(ctx.tx, timeline);
  await insertOutbox(ctx.tx, out, ctx.now);
};
