import type { Sql } from '../db/client.ts';
import type { Events } from '../events.ts';
import type { NodeRef } from '../nodes/model.ts';
import { findNodeRefs, nodeIdsAfter } from '../nodes/store.ts';
import type { Retention } from './retention.ts';
import { rollUpNodes, type RollupResult } from './rollup.ts';

export type RebuildTarget = { all: true } | { refs: string[] };

export interface RebuildOptions {
  /** Nodes per transaction: 100 nodes × a year is ~36k day rows and ~9k hour rows per write. */
  chunk?: number;
  /** Where each chunk done is announced (`uptime.rebuilt`). */
  events?: Events;
}

export class UnknownNodes extends Error {
  constructor(readonly refs: string[]) {
    super(`no node has the name or id ${refs.map((r) => `"${r}"`).join(', ')}`);
    this.name = 'UnknownNodes';
  }
}

/**
 * Recomputes nodes' rollups from the state log alone: each chunk of nodes forgets what was stored
 * and rolls up from creation to the current hour, in one transaction (so a query never sees a node
 * half rebuilt). Refuses to start if a named node does not exist.
 */
export async function rebuildUptime(
  sql: Sql,
  target: RebuildTarget,
  now: Date,
  retention: Retention,
  opts: RebuildOptions = {},
): Promise<RollupResult> {
  const chunk = opts.chunk ?? 100;
  const total: RollupResult = { nodes: 0, hourRows: 0, dayRows: 0 };
  const run = async (ids: string[]) => {
    const done = await sql.begin((tx) => rollUpNodes(tx, ids, now, retention, { restart: true }));
    total.nodes += done.nodes;
    total.hourRows += done.hourRows;
    total.dayRows += done.dayRows;
    opts.events?.emit('uptime.rebuilt', done.nodes);
  };

  if ('refs' in target) {
    const found = await findNodeRefs(sql, target.refs);
    const unknown = target.refs.filter((ref) => !found.some((n: NodeRef) => n.id === ref || n.name === ref));
    if (unknown.length) throw new UnknownNodes(unknown);
    const ids = [...new Set(found.map((n) => n.id))];
    for (let i = 0; i < ids.length; i += chunk) await run(ids.slice(i, i + chunk));
    return total;
  }
  for (let after: string | undefined; ; ) {
    const ids = await nodeIdsAfter(sql, after, chunk);
    if (ids.length > 0) await run(ids);
    if (ids.length < chunk) return total;
    after = ids.at(-1);
  }
}
