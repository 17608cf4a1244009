import type { Queryable } from './client.ts';
import type { StateMs } from '../uptime/accounting.ts';
import { epochMs, type ProgressColumns } from './uptime-rollups.ts';

const DAY_MS = 86_400_000;

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
  label?: { key: string; value: string } | undefined;
}

/** The nodes a report covers, in name order, with what their rollups hold. */
export async function listUptimeNodes(sql: Queryable, f: UptimeNodeFilter): Promise<UptimeNodeRow[]> {
  return sql<UptimeNodeRow[]>`
    select n.id, n.name, ${epochMs(sql, 'n.created_at')} as created_at, coalesce(p.state_version, 0) as state_version,
           ${epochMs(sql, 'p.closed_until')} as closed_until, ${epochMs(sql, 'p.hours_from')} as hours_from,
           ${epochMs(sql, 'p.days_from')} as days_from,
           case when p.closed_until is not null then
             (select ${epochMs(sql, 'l.at')} from node_state_log l where l.node_id = n.id and l.state_version > p.state_version
              order by l.state_version limit 1)
           end as pending_from
    from nodes n left join uptime_progress p on p.node_id = n.id
    where true
      ${f.nodeId !== undefined ? sql`and n.id = ${f.nodeId}::uuid` : sql``}
      ${f.label ? sql`and n.labels @> ${sql.json({ [f.label.key]: f.label.value })}` : sql``}
    order by n.name collate "C"`;
}

export interface DaySumRequest {
  nodeId: string;
  /** Whole stored days [start, end): both ends are day boundaries. */
  start: number;
  end: number;
}

/**
 * Milliseconds per state over a run of stored days for each request: the last day's running totals
 * minus the first day's, plus the first day's own, so any number of days is two row reads and five
 * numbers come back. In request order; undefined where a row is missing.
 */
export async function sumDays(sql: Queryable, requests: readonly DaySumRequest[]): Promise<Array<StateMs | undefined>> {
  const out: Array<StateMs | undefined> = requests.map(() => undefined);
  if (requests.length === 0) return out;
  const rows = await sql<Array<StateMs & { ord: number }>>`
    select s.ord::int as ord,
           (l.healthy_running_ms - f.healthy_running_ms + f.healthy_ms)::float8 as healthy,
           (l.degraded_running_ms - f.degraded_running_ms + f.degraded_ms)::float8 as degraded,
           (l.down_running_ms - f.down_running_ms + f.down_ms)::float8 as down,
           (l.maintenance_running_ms - f.maintenance_running_ms + f.maintenance_ms)::float8 as maintenance,
           (l.unknown_running_ms - f.unknown_running_ms + f.unknown_ms)::float8 as unknown
    from unnest(${requests.map((r) => r.nodeId)}::uuid[], ${requests.map((r) => new Date(r.start).toISOString())}::text[]::timestamptz[],
                ${requests.map((r) => new Date(r.end - DAY_MS).toISOString())}::text[]::timestamptz[])
         with ordinality as s(node_id, first_day, last_day, ord)
    join uptime_daily f on f.node_id = s.node_id and f.day = s.first_day
    join uptime_daily l on l.node_id = s.node_id and l.day = s.last_day`;
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
