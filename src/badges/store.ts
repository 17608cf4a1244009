// The badge id on nodes: finding a node by it, and drawing a new one.

import type { Queryable } from '../db/client.ts';
import type { State } from '../health/decide.ts';

export async function findBadgeNode(sql: Queryable, badgeId: string): Promise<{ id: string; state: State } | undefined> {
  const [row] = await sql<{ id: string; state: State }[]>`
    select n.id, h.state from nodes n join node_health h on h.node_id = n.id where n.badge_id = ${badgeId}`;
  return row;
}

/** A new random badge id (the column's default, sql/0007_status_pages.sql); false if no such node. */
export async function rotateBadge(sql: Queryable, nodeId: string, now: Date): Promise<boolean> {
  const rows = await sql`update nodes set badge_id = default, updated_at = ${now} where id = ${nodeId} returning id`;
  return rows.length > 0;
}
