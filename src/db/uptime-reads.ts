import type { Queryable } from './client.ts';
import type { StateMs } from '../uptime/accounting.ts';
import type { ProgressColumns } from './uptime-rollups.ts';

export interface UptimeNodeRow extends ProgressColumns {
  id: string;
  name: string;
  created_at: Date;
  /** The earliest `at` among transitions not rolled up yet (null: none, or nothing stored). */
  pending_from: Date | null;
}

export interface UptimeNodeFilter {
  nodeId?: string | undefined;
  label?: { key: string; value: string } | undefined;
}

/** The nodes a report covers, in name order, with what their rollups hold. */
export async function listUptimeNodes(sql: Queryable, f: UptimeNodeFilter): Promise<UptimeNodeRow[]> {
  return sql<UptimeNodeRow[]>`
    select n.id, n.name, n.created_at, coalesce(p.state_version, 0) as state_version,
           p.closed_until, p.hours_from, p.days_from,
           case when p.closed_until is not null then
             (select min(l.at) from node_state_log l where l.node_id = n.id and l.state_version > p.state_version)
           end as pending_from
    from nodes n left join uptime_progress p on p.node_id = n.id
    where true
      ${f.nodeId !== undefined ? sql`and n.id = ${f.nodeId}::uuid` : sql``}
      ${f.label ? sql`and n.labels @> ${sql.json({ [f.label.key]: f.label.value })}` : sql``}
    order by n.name collate "C"`;
}

export interface HourSumRequest {
  nodeId: string;
  day: number;
  /** Hours [fromHour, toHour) of the day, 0-based. */
  fromHour: number;
  toHour: number;
}

/**
 * Milliseconds per state over a range of hours in each requested hour row, summed in Postgres (an
 * array slice per row) so a fleet report moves five numbers per row instead of five arrays. In
 * request order; undefined where the row is missing.
 */
export async function sumHours(sql: Queryable, requests: readonly HourSumRequest[]): Promise<Array<StateMs | undefined>> {
  const out: Array<StateMs | undefined> = requests.map(() => undefined);
  if (requests.length === 0) return out;
  const rows = await sql<Array<StateMs & { ord: number }>>`
    select s.ord::int as ord, t.healthy, t.degraded, t.down, t.maintenance, t.unknown
    from unnest(${requests.map((r) => r.nodeId)}::uuid[], ${requests.map((r) => new Date(r.day).toISOString())}::timestamptz[],
                ${requests.map((r) => r.fromHour + 1)}::int[], ${requests.map((r) => r.toHour)}::int[])
         with ordinality as s(node_id, day, lo, hi, ord)
    join uptime_hourly h on h.node_id = s.node_id and h.day = s.day
    cross join lateral (
      select coalesce(sum(a), 0)::float8 as healthy, coalesce(sum(b), 0)::float8 as degraded, coalesce(sum(c), 0)::float8 as down,
             coalesce(sum(d), 0)::float8 as maintenance, coalesce(sum(e), 0)::float8 as unknown
      from unnest(h.healthy_ms[s.lo:s.hi], h.degraded_ms[s.lo:s.hi], h.down_ms[s.lo:s.hi],
                  h.maintenance_ms[s.lo:s.hi], h.unknown_ms[s.lo:s.hi]) as u(a, b, c, d, e)
    ) t`;
  for (const { ord, ...ms } of rows) out[ord - 1] = ms;
  return out;
}
