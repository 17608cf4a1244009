// What a report reads besides the log: the nodes it covers with their progress rows, and sums over
// stored rows computed in Postgres.

import type { Queryable } from '../db/client.ts';
import type { LabelPair } from '../nodes/model.ts';
import { carriesLabels } from '../nodes/store.ts';
import type { StateMs } from './state-time.ts';
import { epochMs, progressColumns, type ProgressColumns } from './store-rollups.ts';

/** A node as a report needs it, times in epoch ms. */
export interface UptimeNodeRow extends ProgressColumns {
  id: string;
  name: string;
  created_at: number;
  /** When the first transition not rolled up yet happened (null: none, or nothing stored). */
  pending_from: number | null;
}

export interface UptimeNodeFilter {
  nodeId?: string | undefined;
  /** Any of these nodes (a status page's). */
  nodeIds?: readonly string[] | undefined;
  /** Nodes carrying every one of these (carriesLabels). */
  labels?: readonly LabelPair[] | undefined;
}

/**
 * The nodes a report covers, in name order, with what their rollups hold. node_health.version is
 * the node's latest state version (the evaluator writes both in one statement), so only nodes with
 * a transition not rolled up yet cost a probe of the log.
 */
export async function listUptimeNodes(sql: Queryable, f: UptimeNodeFilter): Promise<UptimeNodeRow[]> {
  return sql<UptimeNodeRow[]>`
    select n.id, n.name, ${epochMs(sql, 'n.created_at')} as created_at, ${progressColumns(sql)},
           case when h.version > p.state_version then
             (select ${epochMs(sql, 'l.at')} from node_state_log l where l.node_id = n.id and l.state_version > p.state_version
              order by l.state_version limit 1)
           end as pending_from
    from nodes n
    join node_health h on h.node_id = n.id
    left join uptime_progress p on p.node_id = n.id
    where true
      ${f.nodeId !== undefined ? sql`and n.id = ${f.nodeId}::uuid` : sql``}
      ${f.nodeIds !== undefined ? sql`and n.id = any(${[...f.nodeIds]}::uuid[])` : sql``}
      ${carriesLabels(sql, f.labels ?? [])}
    order by n.name collate "C"`;
}

export interface RunningRequest {
  nodeId: string;
  day: number;
  /** true: the running totals through the end of `day`; false: before it. */
  through: boolean;
}

/**
 * The running totals of stored day rows at day boundaries (any run of days is the difference of
 * two), one row read each, five numbers back. In request order; undefined where a row is missing.
 */
export async function readRunning(sql: Queryable, requests: readonly RunningRequest[]): Promise<Array<StateMs | undefined>> {
  const out: Array<StateMs | undefined> = requests.map(() => undefined);
  if (requests.length === 0) return out;
  const rows = await sql<Array<StateMs & { ord: number }>>`
    select s.ord::int as ord,
           (d.healthy_running_ms - case when s.through then 0 else d.healthy_ms end)::float8 as healthy,
           (d.degraded_running_ms - case when s.through then 0 else d.degraded_ms end)::float8 as degraded,
           (d.down_running_ms - case when s.through then 0 else d.down_ms end)::float8 as down,
           (d.maintenance_running_ms - case when s.through then 0 else d.maintenance_ms end)::float8 as maintenance,
           (d.unknown_running_ms - case when s.through then 0 else d.unknown_ms end)::float8 as unknown
    from unnest(${requests.map((r) => r.nodeId)}::uuid[], ${requests.map((r) => new Date(r.day).toISOString())}::text[]::timestamptz[],
                ${sql.array(requests.map((r) => r.through))}::bool[])
         with ordinality as s(node_id, day, through, ord)
    join uptime_daily d on d.node_id = s.node_id and d.day = s.day`;
  for (const { ord, ...ms } of rows) out[ord - 1] = ms;
  return out;
}

export interface HourSumRequest {
  nodeId: string;
  day: number;
  /** Hours [fromHour, toHour) of the day, 0-based. */
  fromHour: number;
  toHour: number;
}

/**
 * Milliseconds per state over a range of hours in each requested hour row: two elements of each
 * state's running totals, so a fleet report moves five numbers per row and Postgres unnests
 * nothing. In request order; undefined where the row is missing.
 */
export async function sumHours(sql: Queryable, requests: readonly HourSumRequest[]): Promise<Array<StateMs | undefined>> {
  const out: Array<StateMs | undefined> = requests.map(() => undefined);
  if (requests.length === 0) return out;
  // Element k (1-based) is the total through hour k - 1; element 0 does not exist and reads as 0.
  const rows = await sql<Array<StateMs & { ord: number }>>`
    select s.ord::int as ord,
           h.healthy_ms[s.hi] - coalesce(h.healthy_ms[s.lo], 0) as healthy,
           h.degraded_ms[s.hi] - coalesce(h.degraded_ms[s.lo], 0) as degraded,
           h.down_ms[s.hi] - coalesce(h.down_ms[s.lo], 0) as down,
           h.maintenance_ms[s.hi] - coalesce(h.maintenance_ms[s.lo], 0) as maintenance,
           h.unknown_ms[s.hi] - coalesce(h.unknown_ms[s.lo], 0) as unknown
    from unnest(${requests.map((r) => r.nodeId)}::uuid[], ${requests.map((r) => new Date(r.day).toISOString())}::text[]::timestamptz[],
                ${requests.map((r) => r.fromHour)}::int[], ${requests.map((r) => r.toHour)}::int[])
         with ordinality as s(node_id, day, lo, hi, ord)
    join uptime_hourly h on h.node_id = s.node_id and h.day = s.day`;
  for (const { ord, ...ms } of rows) out[ord - 1] = ms;
  return out;
}

export interface DaySumRequest {
  /** Which sum the node's days go into. */
  group: number;
  nodeId: string;
  /** Whole days [start, end). */
  start: number;
  end: number;
}

export interface DaySum {
  group: number;
  day: number;
  /** How many day rows the sum holds, to tell a complete sum from one missing rows. */
  rows: number;
  ms: StateMs;
}

/**
 * Stored day rows added up per group and day in Postgres: a 90-day breakdown of 500 nodes moves
 * one row per group and day instead of 45,000 (which postgres.js alone takes 130-180 ms to parse).
 */
export async function sumDays(sql: Queryable, requests: readonly DaySumRequest[]): Promise<DaySum[]> {
  if (requests.length === 0) return [];
  const rows = await sql<Array<StateMs & { grp: number; day: number; rows: number }>>`
    select s.grp::int as grp, ${epochMs(sql, 'd.day')} as day, count(*)::int as rows,
           sum(d.healthy_ms)::float8 as healthy, sum(d.degraded_ms)::float8 as degraded, sum(d.down_ms)::float8 as down,
           sum(d.maintenance_ms)::float8 as maintenance, sum(d.unknown_ms)::float8 as unknown
    from unnest(${requests.map((r) => r.group)}::int[], ${requests.map((r) => r.nodeId)}::uuid[],
                ${requests.map((r) => new Date(r.start).toISOString())}::text[]::timestamptz[],
                ${requests.map((r) => new Date(r.end).toISOString())}::text[]::timestamptz[]) as s(grp, node_id, lo, hi)
    join uptime_daily d on d.node_id = s.node_id and d.day >= s.lo and d.day < s.hi
    group by s.grp, d.day`;
  return rows.map(({ grp, day, rows: n, ...ms }) => ({ group: grp, day, rows: n, ms }));
}
