// What a badge says right now.

import type { Acting } from '../audit/model.ts';
import { audit } from '../audit/service.ts';
import type { Sql } from '../db/client.ts';
import { notFound } from '../errors.ts';
import type { NodeRow } from '../nodes/model.ts';
import { findBadgeNode, getNode, rotateBadge } from '../nodes/store.ts';
import { announcePublicChange } from '../statuspages/store.ts';
import { fleetUptime } from '../uptime/report.ts';
import { summarize } from '../uptime/summary.ts';
import { UPTIME_WINDOWS } from '../uptime/windows.ts';
import { stateBadge, uptimeBadge, type Badge, type BadgeMetric, type BadgeWindow } from './model.ts';

export interface BadgeQuery {
  metric: BadgeMetric;
  window: BadgeWindow;
  label?: string | undefined;
}

/**
 * The badge of the node with this badge id, or undefined. Uptime is the uptime report's figure for
 * the window, the same number `GET /v1/nodes/{id}/uptime?window=…` gives at that moment.
 */
export async function currentBadge(sql: Sql, badgeId: string, q: BadgeQuery, now: number): Promise<Badge | undefined> {
  const node = await findBadgeNode(sql, badgeId);
  if (!node) return undefined;
  if (q.metric === 'state') return stateBadge(node.state, q.label);
  const [row] = await fleetUptime(sql, { nodeId: node.id }, { from: now - UPTIME_WINDOWS[q.window], to: now }, now);
  // Deleted between the two reads: no badge, as if it had been gone before.
  return row && uptimeBadge(summarize(row.ms).uptime_ratio, q.window, q.label);
}

/**
 * Draws a new badge id for the node (`ref`: id or name); badges embedded with the old one are gone.
 * The node as it is now; refused when there is no such node.
 */
export async function rotateBadgeId(sql: Sql, ref: string, now: Date, acting: Acting): Promise<NodeRow> {
  const node = await getNode(sql, ref);
  const done =
    node &&
    (await sql.begin(async (tx) => {
      if (!(await rotateBadge(tx, node.id, now))) return false;
      await audit(tx, acting, { action: 'node.rotate_badge', target: { type: 'node', id: node.id, name: node.name } }, now);
      // The old id must answer 404 in every api process as this commits, not when its badge expires.
      await announcePublicChange(tx, ['badges']);
      return true;
    }));
  const rotated = done ? await getNode(sql, node.id) : undefined;
  if (!rotated) throw notFound(`Node "${ref}"`);
  return rotated;
}
