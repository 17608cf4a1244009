import type { Queryable } from '../db/client.ts';
import { RUNS_KEPT, type OpenRun, type RunStatus, type RunValues, type RunWrites } from './model.ts';

/**
 * The runs in progress of these nodes: the newest of each run id (and of none). At most RUNS_KEPT
 * per node, since older rows are deleted whatever their status.
 */
export async function openRuns(tx: Queryable, nodeIds: string[]): Promise<OpenRun[]> {
  if (nodeIds.length === 0) return [];
  const rows = await tx<{ id: string; node_id: string; started_at: Date; rid: string | null }[]>`
    select distinct on (node_id, rid) id::text, node_id, started_at, rid from node_runs
    where node_id = any(${nodeIds}::uuid[]) and status = 'running'
    order by node_id, rid, id desc`;
  return rows.map((r) => ({ id: r.id, nodeId: r.node_id, startedAt: r.started_at, rid: r.rid }));
}

const columns = (rows: RunValues[]) => ({
  nodes: rows.map((r) => r.nodeId),
  started: rows.map((r) => r.startedAt?.toISOString() ?? null),
  finished: rows.map((r) => r.finishedAt?.toISOString() ?? null),
  codes: rows.map((r) => r.exitCode),
  statuses: rows.map((r) => r.status),
  outputs: rows.map((r) => r.output),
  rids: rows.map((r) => r.rid),
});

/**
 * Writes what planRuns made of a flush's pings, in the flush's transaction: new runs (for nodes
 * that still exist: a ping key may be cached a little after its node was deleted), ended runs, each
 * node's run in progress, and a wake-up for every node whose run started or ended so the
 * evaluator sets or drops its run limit. Then only the newest RUNS_KEPT runs of a node are kept.
 */
export async function writeRuns(tx: Queryable, w: RunWrites, now: Date): Promise<void> {
  if (w.inserts.length) {
    const c = columns(w.inserts);
    await tx`
      insert into node_runs (node_id, started_at, finished_at, exit_code, status, output, rid)
      select v.node_id, v.started_at, v.finished_at, v.exit_code, v.status, v.output, v.rid
      from unnest(${c.nodes}::uuid[], ${c.started}::timestamptz[], ${c.finished}::timestamptz[], ${c.codes}::smallint[],
                  ${c.statuses}::text[], ${c.outputs}::text[], ${c.rids}::uuid[]) with ordinality as v(node_id, started_at, finished_at, exit_code, status, output, rid, ord)
      join nodes n on n.id = v.node_id
      order by v.ord`;
  }
  if (w.updates.length) {
    const c = columns(w.updates);
    await tx`
      update node_runs r set finished_at = v.finished_at, exit_code = v.exit_code, status = v.status, output = v.output
      from unnest(${w.updates.map((u) => u.id)}::bigint[], ${c.finished}::timestamptz[], ${c.codes}::smallint[],
                  ${c.statuses}::text[], ${c.outputs}::text[]) as v(id, finished_at, exit_code, status, output)
      where r.id = v.id`;
  }
  if (w.runStarted.size) {
    const ids = [...w.runStarted.keys()];
    const starts = ids.map((id) => w.runStarted.get(id)?.toISOString() ?? null);
    await tx`
      with v as (select * from unnest(${ids}::uuid[], ${starts}::timestamptz[]) as v(node_id, started_at)),
      hb as (update node_heartbeats h set run_started_at = v.started_at from v where h.node_id = v.node_id returning h.node_id)
      update node_due d set due_at = least(d.due_at, ${now}), wake = d.wake + 1 from hb where d.node_id = hb.node_id`;
  }
  const grown = [...new Set(w.inserts.map((r) => r.nodeId))];
  if (grown.length) {
    await tx`
      delete from node_runs r using (
        select n.id as node_id,
               (select id from node_runs where node_id = n.id order by id desc offset ${RUNS_KEPT - 1} limit 1) as oldest_kept
        from unnest(${grown}::uuid[]) as n(id)
      ) k
      where r.node_id = k.node_id and r.id < k.oldest_kept`;
  }
}

export interface RunRow {
  id: string;
  started_at: Date | null;
  finished_at: Date | null;
  exit_code: number | null;
  status: RunStatus;
  output: string | null;
  rid: string | null;
}

/**
 * A node's runs, newest first, before the run id `before` when given. Ordered by the table's bigint
 * id, not the text it is selected as: by text, run 9 came before run 10.
 */
export async function listRuns(sql: Queryable, nodeId: string, before: string | undefined, limit: number): Promise<RunRow[]> {
  return sql<RunRow[]>`
    select r.id::text as id, r.started_at, r.finished_at, r.exit_code, r.status, r.output, r.rid from node_runs r
    where r.node_id = ${nodeId} ${before !== undefined ? sql`and r.id < ${before}::bigint` : sql``}
    order by r.id desc
    limit ${limit}`;
}
