import type { Tx } from '../db/client.ts';
import {
  addTimeline,
  lockOpenIncidents,
  openIncidents,
  resolveIncidents,
  type IncidentRow,
  type NewIncident,
  type TimelineEntry,
} from '../db/incidents.ts';
import type { OutboxEvent, NewOutboxEvent } from '../db/outbox.ts';
import { insertOutbox } from '../db/outbox.ts';
import { policiesForNodes } from '../oncall/store.ts';
import type { State } from '../health/decide.ts';
import type { OutboxHandler } from '../outbox/registry.ts';
import { CATEGORIES, categoryFor, incidentTitle, type Category } from './categorize.ts';
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

interface Resolve {
  incident: IncidentRow;
  at: Date;
  by: string;
  detail: Record<string, unknown>;
}

/**
 * Resolves incidents with their timeline entries and events. Shared by node events here and by the
 * API's manual resolve, so a resolve is written the same way whoever asks for it.
 */
export async function resolveWithEvents(tx: Tx, list: Resolve[]): Promise<{ events: NewOutboxEvent[]; timeline: TimelineEntry[] }> {
  const resolved = new Map((await resolveIncidents(tx, list.map((r) => ({ id: r.incident.id, at: r.at, by: r.by })))).map((i) => [i.id, i]));
  const events: NewOutboxEvent[] = [];
  const timeline: TimelineEntry[] = [];
  for (const r of list) {
    const row = resolved.get(r.incident.id);
    if (!row) continue;
    timeline.push({ incident_id: row.id, at: r.at, kind: 'resolved', detail: { by: r.by, ...r.detail } });
    events.push(incidentEvent(row, 'resolved', r.at, { by: r.by }));
  }
  return { events, timeline };
}

/**
 * Incidents follow node state: entering down or degraded opens that category (at most one open per
 * node and category) and resolves the other, back to healthy resolves everything open; a deleted
 * node's incidents are resolved. Unknown and maintenance change nothing: an outage seen before a
 * blind spot or a window stays open until the node is judged again, so only a real difference is
 * ever notified.
 *
 * Set-wise over the batch (a batch holds at most one event per node): one query locks the open
 * incidents of every node, one resolves, one finds policies, one opens — a 10k-node outage costs
 * four statements per 500 events, not three per event.
 */
export const handleNodeEvents: OutboxHandler = async (events: OutboxEvent[], { tx, now }) => {
  const changes = events.map((e) =>
    e.topic === 'node.deleted'
      ? { nodeId: String(e.payload.node_id), nodeName: String(e.payload.node_name), to: 'deleted' as const, at: new Date(String(e.payload.at)), reason: 'node deleted' }
      : (({ node_id, node_name, to, at, reason }: StateChanged) => ({ nodeId: node_id, nodeName: node_name, to, at: new Date(at), reason }))(
          e.payload as unknown as StateChanged,
        ),
  );
  const relevant = changes.filter((c) => c.to === 'healthy' || c.to === 'deleted' || categoryFor(c.to) !== null);
  const open = new Map<string, IncidentRow[]>();
  for (const i of await lockOpenIncidents(tx, relevant.map((c) => c.nodeId))) {
    const list = open.get(i.node_id);
    if (list) list.push(i);
    else open.set(i.node_id, [i]);
  }

  const resolves: Resolve[] = [];
  const opens: Array<{ nodeId: string; nodeName: string; category: Category; reason: string; at: Date }> = [];
  for (const c of relevant) {
    const wanted = c.to === 'deleted' ? null : categoryFor(c.to);
    const current = open.get(c.nodeId) ?? [];
    for (const incident of current) {
      if (incident.category === wanted) continue;
      resolves.push(
        c.to === 'deleted'
          ? { incident, at: c.at, by: 'node_deleted', detail: {} }
          : { incident, at: c.at, by: 'auto', detail: { node_state: c.to } },
      );
    }
    if (wanted !== null && !current.some((i) => i.category === wanted)) {
      opens.push({ nodeId: c.nodeId, nodeName: c.nodeName, category: wanted, reason: c.reason, at: c.at });
    }
  }

  const resolved = await resolveWithEvents(tx, resolves);
  const policies = await policiesForNodes(tx, opens.map((o) => o.nodeId));
  const opened = await openIncidents(
    tx,
    opens.map(
      (o): NewIncident => ({
        nodeId: o.nodeId,
        nodeName: o.nodeName,
        category: o.category,
        severity: CATEGORIES[o.category].severity,
        title: incidentTitle(o.category, o.nodeName),
        reason: o.reason,
        policyId: policies.get(o.nodeId)?.id ?? null,
        openedAt: o.at,
      }),
    ),
  );

  // Per node, a resolve is written before the open it makes way for (outbox order is id order).
  const out: NewOutboxEvent[] = [...resolved.events];
  const timeline: TimelineEntry[] = [...resolved.timeline];
  for (const incident of opened) {
    timeline.push({ incident_id: incident.id, at: incident.opened_at, kind: 'opened', detail: { reason: incident.reason, policy_id: incident.policy_id } });
    out.push(incidentEvent(incident, 'opened', incident.opened_at));
    const policy = policies.get(incident.node_id);
    const next = policy ? firstEscalation(incident, policy) : undefined;
    if (next) out.push(next);
  }
  await addTimeline(tx, timeline);
  await insertOutbox(tx, out, now);
};
