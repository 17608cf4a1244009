// The parts of the API's answers (CONTRACT.md) that the CLI, the agent and the demo read.

export type NodeState = 'unknown' | 'healthy' | 'degraded' | 'down' | 'maintenance';

export interface ApiKey {
  id: string;
  name: string;
  scope: string;
  created_at: string;
  revoked_at: string | null;
  secret?: string;
}

export interface NodeView {
  id: string;
  name: string;
  labels: Record<string, string>;
  heartbeat_interval_seconds: number;
  grace_seconds: number;
  failures_for_down: number;
  health: {
    state: NodeState;
    since: string | null;
    reason: string | null;
    last_heartbeat_at: string | null;
  };
  token?: string;
}

export interface Incident {
  id: string;
  node_id: string;
  node_name: string;
  category: string;
  severity: string;
  status: 'open' | 'acknowledged' | 'resolved';
  title: string;
  opened_at: string;
  acknowledged_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
}

export type StateSeconds = Record<NodeState, number>;

export interface NodeUptime {
  node_id: string;
  from: string;
  to: string;
  uptime_ratio: number | null;
  up_seconds: number;
  monitored_seconds: number;
  seconds: StateSeconds;
}

export interface FleetUptime {
  from: string;
  to: string;
  uptime_ratio: number | null;
  items: Array<{ node_id: string; name: string; uptime_ratio: number | null }>;
}
