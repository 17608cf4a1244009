// What a channel is told about an incident. The shapes mirror the public incident JSON so a
// webhook receiver sees the same fields the /v1/incidents API returns.

export type IncidentEvent = 'opened' | 'escalated' | 'acknowledged' | 'resolved';

/** The contract's incident JSON (snake_case), minus the timeline. */
export interface IncidentView {
  id: string;
  node_id: string;
  node_name: string;
  category: 'node_down' | 'node_degraded';
  severity: 'critical' | 'warning';
  status: 'open' | 'acknowledged' | 'resolved';
  title: string;
  opened_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  escalation_level: number;
  version: number;
}

export interface NodeView {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface Notification {
  /** Stable per (incident event, channel): the webhook-id and the basis of the email Message-ID,
   *  so a retried delivery is recognisable as the same message. */
  messageId: string;
  event: IncidentEvent;
  /** RFC 3339 ms UTC: when the incident event happened, not when it is delivered. */
  occurredAt: string;
  /** Why the node changed state, e.g. "no heartbeat for 90s". */
  reason: string | null;
  incident: IncidentView;
  node: NodeView;
}
