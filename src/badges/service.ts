// What a badge says right now.

import type { Sql } from '../db/client.ts';
import { fleetUptime } from '../uptime/report.ts';
import { summarize } from '../uptime/summary.ts';
import { UPTIME_WINDOWS } from '../uptime/windows.ts';
import { stateBadge, uptimeBadge, type Badge, type BadgeMetric, type BadgeWindow } from './model.ts';
import { findBadgeNode } from './store.ts';

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
