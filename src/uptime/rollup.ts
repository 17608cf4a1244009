import type { Tx } from '../db/client.ts';
import { intervalsFromLog } from './intervals.ts';
import type { Retention } from './retention.ts';
import { planRollup, rollUp, type RollupPlan } from './rollup-plan.ts';
import { readLogHeads, readLogSpans } from './store-log.ts';
import { lockProgress, readDayRowsAt, resetRollups, toProgress, writeRollups, type NodeRollups } from './store-rollups.ts';

export interface RollupResult {
  nodes: number;
  hourRows: number;
  dayRows: number;
}

/**
 * One rollup pass over a set of nodes, in the caller's transaction, set-wise: five statements
 * whatever the number of nodes (lock, log heads, log spans + base rows, write). Each node's rows are
 * recomputed from its log from the first hour that may have changed up to the current hour
 * (`planRollup`), so running it again, or for an event already handled, writes the same numbers.
 * `restart` forgets what was stored first (a rebuild). Deleted nodes are skipped.
 */
export async function rollUpNodes(
  tx: Tx,
  nodeIds: Iterable<string>,
  now: Date,
  retention: Retention,
  opts: { restart?: boolean } = {},
): Promise<RollupResult> {
  const locked = await lockProgress(tx, [...new Set(nodeIds)].sort());
  if (opts.restart) await resetRollups(tx, locked.map((n) => n.node_id));
  const progress = locked.map((n) => (opts.restart ? null : toProgress(n)));
  const heads = await readLogHeads(tx, locked.map((n, i) => ({ nodeId: n.node_id, version: progress[i]?.stateVersion ?? 0 })));
  const plans: RollupPlan[] = locked.map((n, i) =>
    planRollup({ createdAt: n.created_at, progress: progress[i] ?? null, pendingFrom: heads[i]!.pendingFrom, now: now.getTime(), retention }),
  );

  const reading = plans.flatMap((plan, i) => (plan.read.start < plan.read.end ? [i] : []));
  const based = plans.flatMap((plan, i) => (plan.baseDay !== null ? [i] : []));
  const [spans, bases] = await Promise.all([
    readLogSpans(tx, reading.map((i) => ({ nodeId: locked[i]!.node_id, ...plans[i]!.read }))),
    readDayRowsAt(tx, based.map((i) => ({ nodeId: locked[i]!.node_id, day: plans[i]!.baseDay! }))),
  ]);
  const spanOf = new Map(reading.map((i, k) => [i, spans[k]!]));
  const baseOf = new Map(based.map((i, k) => [i, bases[k]]));

  const results: NodeRollups[] = locked.map((n, i) => {
    const plan = plans[i]!;
    const log = spanOf.get(i);
    const base = baseOf.get(i) ?? null;
    if (plan.baseDay !== null && base === null) {
      throw new Error(`uptime rollup: node ${n.node_id} has no stored day row at ${new Date(plan.baseDay).toISOString()} to continue`);
    }
    const intervals = log
      ? intervalsFromLog({
          createdAt: Math.max(n.created_at, plan.read.start),
          initialState: log.initialState,
          transitions: log.transitions,
          until: plan.next.closedUntil,
        })
      : [];
    const { hourRows, dayRows, closing } = rollUp(plan, intervals, base, progress[i] ?? null);
    const { latest, latestAt } = heads[i]!;
    return { nodeId: n.node_id, progress: { stateVersion: latest, lastAt: latestAt, ...plan.next, ...closing }, hourRows, dayRows };
  });
  await writeRollups(tx, results);
  return {
    nodes: results.length,
    hourRows: results.reduce((sum, r) => sum + r.hourRows.length, 0),
    dayRows: results.reduce((sum, r) => sum + r.dayRows.length, 0),
  };
}
