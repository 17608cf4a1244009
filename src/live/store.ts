import type { Queryable } from '../db/client.ts';
import type { ReasonChanged, StateChanged } from '../api/shapes.ts';
import type { NodeChange } from './model.ts';

/** These transitions with their node's current name, in the order asked; deleted nodes' are gone. */
export async function readTransitions(sql: Queryable, changes: NodeChange[]): Promise<StateChanged[]> {
  if (changes.length === 0) return [];
  return sql<StateChanged[]>`
    select l.node_id, n.name as node_name, l.from_state as "from", l.to_state as "to",
           to_char(l.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, l.reason, l.state_version
    from unnest(${changes.map((c) => c.nodeId)}::uuid[], ${changes.map((c) => c.version)}::int[]) with ordinality as v(node_id, state_version, ord)
    join node_state_log l on l.node_id = v.node_id and l.state_version = v.state_version
    join nodes n on n.id = l.node_id
    order by v.ord`;
}

/**
 * These nodes' reasons now, with their node's current name, in the order asked, for those still at
 * the version each was noticed at: one that moved on since (a transition) is left out, as that
 * transition's event carries its reason. Read now, so of two changes at the same version heard
 * together a listener gets the latest, once.
 */
export async function readReasons(sql: Queryable, changes: NodeChange[]): Promise<ReasonChanged[]> {
  if (changes.length === 0) return [];
  // Once per node and version: two changes at one version in a burst read the same row, and a
  // listener needs it once.
  const once = [...new Map(changes.map((c) => [`${c.nodeId}:${c.version}`, c])).values()];
  return sql<ReasonChanged[]>`
    select h.node_id, n.name as node_name, h.state, h.reason, h.version as state_version
    from unnest(${once.map((c) => c.nodeId)}::uuid[], ${once.map((c) => c.version)}::int[]) with ordinality as v(node_id, state_version, ord)
    join node_health h on h.node_id = v.node_id and h.version = v.state_version and h.reason is not null
    join nodes n on n.id = h.node_id
    order by v.ord`;
}
