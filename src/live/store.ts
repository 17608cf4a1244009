import type { Queryable } from '../db/client.ts';
import type { StateChanged } from '../api/shapes.ts';
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
