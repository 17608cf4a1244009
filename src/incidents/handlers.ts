import type { OutboxEvent } from '../db/outbox.ts';
import type { State } from '../health/decide.ts';
import type { OutboxHandler } from '../outbox/registry.ts';
import { escalate, followNodes, type NodeChange } from './service.ts';

export interface StateChanged {
  node_id: string;
  node_name: string;
  from: State;
  to: State;
  at: string;
  reason: string;
}

function changeOf(e: OutboxEvent): NodeChange {
  if (e.topic === 'node.deleted') {
    return { nodeId: String(e.payload.node_id), nodeName: String(e.payload.node_name), to: 'deleted', at: new Date(String(e.payload.at)), reason: 'node deleted' };
  }
  const { node_id, node_name, to, at, reason } = e.payload as unknown as StateChanged;
  return { nodeId: node_id, nodeName: node_name, to, at: new Date(at), reason };
}

/** node.state_changed and node.deleted → incidents opened and resolved (see followNodes). */
export const handleNodeEvents: OutboxHandler = (events, { tx, now }) => followNodes(tx, events.map(changeOf), now);

/** incident.escalation_due → the next level paged (see escalate). */
export const handleEscalationDue: OutboxHandler = (events, { tx, now }) =>
  escalate(tx, events.map((e) => ({ incidentId: String(e.payload.incident_id), step: Number(e.payload.step) })), now);
