// uptime_progress, uptime_hourly and uptime_daily: what rollup passes lock, write and retire, and
// the stored rows a breakdown reads back.

import type { Queryable } from '../db/client.ts';
import type { DayRow, HourRow, Progress } from './model.ts';
import { NODE_STATES, type NodeState, type StateMs } from './state-time.ts';

const iso = (t: number): string => new Date(t).toISOString();

/**
 * A timestamptz column read as epoch milliseconds: a number parses several times faster than a
 * Date, and a fleet report reads five per node. Microseconds (a row written by SQL rather than by
 * the engine) are cut off as a Date would, so all accounting stays in whole milliseconds.
 */
export const epochMs = (sql: Queryable, column: string) => sql`floor(extract(epoch from ${sql(column)}) * 1000)::float8`;

/** `uptime_progress` as read (times in epoch ms); `closed_until` is null until the node's first pass. */
export interface ProgressColumns {
  state_version: number | null;
  closed_until: number | null;
  hours_from: number | null;
  days_from: number | null;
  last_at: number | null;
  closed_state: NodeState | null;
  today_ms: number[] | null;
  days_running_ms: number[] | null;
}

/** The columns `toProgress` reads, from `uptime_progress` (or a CTE of its rows) named `p`. */
export const progressColumns = (sql: Queryable) => sql`
  p.state_version, ${epochMs(sql, 'p.closed_until')} as closed_until, ${epochMs(sql, 'p.hours_from')} as hours_from,
  ${epochMs(sql, 'p.days_from')} as days_from, ${epochMs(sql, 'p.last_at')} as last_at, p.closed_state,
  p.today_ms, p.days_running_ms::float8[] as days_running_ms`;

// Per-state arrays are stored in NODE_STATES order.
const stateMsOf = (values: readonly number[]): StateMs =>
  Object.fromEntries(NODE_STATES.map((s, i) => [s, values[i]!])) as unknown as StateMs;
const valuesOf = (ms: StateMs): number[] => NODE_STATES.map((s) => ms[s]);

export function toProgress(row: ProgressColumns): Progress | null {
  const { state_version, closed_until, hours_from, days_from, closed_state, today_ms } = row;
  if (state_version === null || closed_until === null || hours_from === null || days_from === null || closed_state === null || today_ms === null) {
    return null;
  }
  return {
    stateVersion: state_version,
    closedUntil: closed_until,
    hoursFrom: hours_from,
    daysFrom: days_from,
    lastAt: row.last_at,
    closedState: closed_state,
    today: stateMsOf(today_ms),
    daysRunning: row.days_running_ms === null ? null : stateMsOf(row.days_running_ms),
  };
}

export interface LockedNode extends ProgressColumns {
  node_id: string;
  created_at: number;
}

/**
 * Locks the progress rows of the nodes that still exist, creating missing ones, in node order (so
 * passes over overlapping sets never deadlock), and returns them with each node's creation time.
 * The nodes are held FOR KEY SHARE: a concurrent delete waits for this transaction, or has already
 * committed and the node is simply not returned. The no-op update is what takes the row lock on an
 * existing row in the same statement.
 */
export async function lockProgress(tx: Queryable, nodeIds: readonly string[]): Promise<LockedNode[]> {
  if (nodeIds.length === 0) return [];
  return tx<LockedNode[]>`
    with n as (
      select id, created_at from nodes where id = any(${[...nodeIds]}::uuid[]) order by id for key share
    ), p as (
      insert into uptime_progress (node_id) select id from n order by id
      on conflict (node_id) do update set state_version = uptime_progress.state_version
      returning *
    )
    select p.node_id, ${progressColumns(tx)}, ${epochMs(tx, 'n.created_at')} as created_at
    from p join n on n.id = p.node_id
    order by p.node_id`;
}

/** Forgets what is stored for the nodes (their progress rows must be locked): a rebuild starts over. */
export async function resetRollups(tx: Queryable, nodeIds: readonly string[]): Promise<void> {
  if (nodeIds.length === 0) return;
  const ids = [...nodeIds];
  await tx`delete from uptime_hourly where node_id = any(${ids}::uuid[])`;
  await tx`delete from uptime_daily where node_id = any(${ids}::uuid[])`;
  await tx`
    update uptime_progress set state_version = 0, closed_until = null, hours_from = null, days_from = null,
                               last_at = null, closed_state = null, today_ms = null, days_running_ms = null
    where node_id = any(${ids}::uuid[])`;
}

type DayColumns = { [S in keyof StateMs as `${S}_ms`]: number } & { [S in keyof StateMs as `${S}_running_ms`]: number };

function dayRowOf(day: Date, r: DayColumns): DayRow {
  const ms = {} as StateMs;
  const running = {} as StateMs;
  for (const s of NODE_STATES) {
    ms[s] = r[`${s}_ms`];
    running[s] = r[`${s}_running_ms`];
  }
  return { day: day.getTime(), ms, running };
}

/** The stored day rows at the given (node, day) keys, in request order; undefined where missing. */
export async function readDayRowsAt(sql: Queryable, keys: ReadonlyArray<{ nodeId: string; day: number }>): Promise<Array<DayRow | undefined>> {
  const out: Array<DayRow | undefined> = keys.map(() => undefined);
  if (keys.length === 0) return out;
  const rows = await sql<Array<DayColumns & { ord: number; day: Date }>>`
    select s.ord::int as ord, d.day,
           d.healthy_ms, d.degraded_ms, d.down_ms, d.maintenance_ms, d.unknown_ms,
           d.healthy_running_ms::float8 as healthy_running_ms, d.degraded_running_ms::float8 as degraded_running_ms,
           d.down_running_ms::float8 as down_running_ms, d.maintenance_running_ms::float8 as maintenance_running_ms,
           d.unknown_running_ms::float8 as unknown_running_ms
    from unnest(${keys.map((k) => k.nodeId)}::uuid[], ${keys.map((k) => iso(k.day))}::text[]::timestamptz[]) with ordinality as s(node_id, day, ord)
    join uptime_daily d on d.node_id = s.node_id and d.day = s.day`;
  for (const r of rows) out[r.ord - 1] = dayRowOf(r.day, r);
  return out;
}

// uptime_hourly stores each state's hours as running totals through the day (see the migration).
const runningTotals = (hours: number[]): number[] => {
  let sum = 0;
  return hours.map((ms) => (sum += ms));
};

export interface NodeRollups {
  nodeId: string;
  progress: Progress;
  hourRows: HourRow[];
  dayRows: DayRow[];
}

const pgArray = (values: number[]): string => `{${values.join(',')}}`;

/**
 * Writes a pass's results in one statement: hour rows and day rows replace what was stored for
 * their days, and each node's progress row moves on. Only nodes whose progress rows this
 * transaction has locked may be passed.
 */
export async function writeRollups(tx: Queryable, nodes: readonly NodeRollups[]): Promise<void> {
  if (nodes.length === 0) return;
  const hours = nodes.flatMap((n) => n.hourRows.map((row) => ({ nodeId: n.nodeId, row })));
  const days = nodes.flatMap((n) => n.dayRows.map((row) => ({ nodeId: n.nodeId, row })));
  const hourArray = (s: keyof StateMs) => hours.map((h) => pgArray(runningTotals(h.row.hours.map((ms) => ms[s]))));
  const dayValue = (s: keyof StateMs) => days.map((d) => d.row.ms[s]);
  const dayRunning = (s: keyof StateMs) => days.map((d) => d.row.running[s]);
  await tx`
    with hourly as (
      insert into uptime_hourly (node_id, day, healthy_ms, degraded_ms, down_ms, maintenance_ms, unknown_ms)
      select node_id, day, healthy::int[], degraded::int[], down::int[], maintenance::int[], unknown::int[]
      from unnest(${hours.map((h) => h.nodeId)}::uuid[], ${hours.map((h) => iso(h.row.day))}::text[]::timestamptz[],
                  ${hourArray('healthy')}::text[], ${hourArray('degraded')}::text[], ${hourArray('down')}::text[],
                  ${hourArray('maintenance')}::text[], ${hourArray('unknown')}::text[])
           as v(node_id, day, healthy, degraded, down, maintenance, unknown)
      on conflict (node_id, day) do update set
        healthy_ms = excluded.healthy_ms, degraded_ms = excluded.degraded_ms, down_ms = excluded.down_ms,
        maintenance_ms = excluded.maintenance_ms, unknown_ms = excluded.unknown_ms
    ), daily as (
      insert into uptime_daily (node_id, day, healthy_ms, degraded_ms, down_ms, maintenance_ms, unknown_ms,
                                healthy_running_ms, degraded_running_ms, down_running_ms, maintenance_running_ms, unknown_running_ms)
      select * from unnest(${days.map((d) => d.nodeId)}::uuid[], ${days.map((d) => iso(d.row.day))}::text[]::timestamptz[],
                           ${dayValue('healthy')}::int[], ${dayValue('degraded')}::int[], ${dayValue('down')}::int[],
                           ${dayValue('maintenance')}::int[], ${dayValue('unknown')}::int[],
                           ${dayRunning('healthy')}::bigint[], ${dayRunning('degraded')}::bigint[], ${dayRunning('down')}::bigint[],
                           ${dayRunning('maintenance')}::bigint[], ${dayRunning('unknown')}::bigint[])
      on conflict (node_id, day) do update set
        healthy_ms = excluded.healthy_ms, degraded_ms = excluded.degraded_ms, down_ms = excluded.down_ms,
        maintenance_ms = excluded.maintenance_ms, unknown_ms = excluded.unknown_ms,
        healthy_running_ms = excluded.healthy_running_ms, degraded_running_ms = excluded.degraded_running_ms,
        down_running_ms = excluded.down_running_ms, maintenance_running_ms = excluded.maintenance_running_ms,
        unknown_running_ms = excluded.unknown_running_ms
    )
    update uptime_progress p set
      state_version = v.state_version, closed_until = v.closed_until, hours_from = v.hours_from, days_from = v.days_from,
      last_at = v.last_at, closed_state = v.closed_state, today_ms = v.today_ms::int[], days_running_ms = v.days_running_ms::bigint[]
    from unnest(${nodes.map((n) => n.nodeId)}::uuid[], ${nodes.map((n) => n.progress.stateVersion)}::int[],
                ${nodes.map((n) => iso(n.progress.closedUntil))}::text[]::timestamptz[],
                ${nodes.map((n) => iso(n.progress.hoursFrom))}::text[]::timestamptz[],
                ${nodes.map((n) => iso(n.progress.daysFrom))}::text[]::timestamptz[],
                ${nodes.map((n) => (n.progress.lastAt === null ? null : iso(n.progress.lastAt)))}::text[]::timestamptz[],
                ${nodes.map((n) => n.progress.closedState)}::text[],
                ${nodes.map((n) => pgArray(valuesOf(n.progress.today)))}::text[],
                ${nodes.map((n) => (n.progress.daysRunning === null ? null : pgArray(valuesOf(n.progress.daysRunning))))}::text[])
         as v(node_id, state_version, closed_until, hours_from, days_from, last_at, closed_state, today_ms, days_running_ms)
    where p.node_id = v.node_id`;
}

/** Nodes (after `afterId`, in id order) whose rows end before `closedBefore`, or were never rolled up. */
export async function nodesBehind(sql: Queryable, closedBefore: number, afterId: string | undefined, limit: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select n.id from nodes n left join uptime_progress p on p.node_id = n.id
    where (p.closed_until is null or p.closed_until < ${iso(closedBefore)})
      ${afterId === undefined ? sql`` : sql`and n.id > ${afterId}::uuid`}
    order by n.id
    limit ${limit}`;
  return rows.map((r) => r.id);
}

/** Nodes (after `afterId`, in id order) that have rows stored. */
export async function nodesWithRollups(sql: Queryable, afterId: string | undefined, limit: number): Promise<string[]> {
  const rows = await sql<{ node_id: string }[]>`
    select node_id from uptime_progress
    where closed_until is not null ${afterId === undefined ? sql`` : sql`and node_id > ${afterId}::uuid`}
    order by node_id
    limit ${limit}`;
  return rows.map((r) => r.node_id);
}

/**
 * Deletes the nodes' hour rows before `hoursBefore` and day rows before `daysBefore` (primary-key
 * ranges) and moves their stored runs' starts up, under the progress row locks taken in node
 * order, so a pass never records as stored rows that retention is deleting. Returns how many rows
 * went.
 */
export async function applyRetention(
  tx: Queryable,
  nodeIds: readonly string[],
  hoursBefore: number,
  daysBefore: number,
): Promise<{ hours: number; days: number }> {
  if (nodeIds.length === 0) return { hours: 0, days: 0 };
  const [row] = await tx<{ hours: number; days: number }[]>`
    with p as (
      select node_id from uptime_progress where node_id = any(${[...nodeIds]}::uuid[]) order by node_id for update
    ), h as (
      delete from uptime_hourly h using p where h.node_id = p.node_id and h.day < ${iso(hoursBefore)} returning 1
    ), d as (
      delete from uptime_daily d using p where d.node_id = p.node_id and d.day < ${iso(daysBefore)} returning 1
    ), moved as (
      update uptime_progress u set hours_from = greatest(u.hours_from, ${iso(hoursBefore)}),
                                   days_from = greatest(u.days_from, ${iso(daysBefore)})
      from p where u.node_id = p.node_id and (u.hours_from < ${iso(hoursBefore)} or u.days_from < ${iso(daysBefore)})
    )
    select (select count(*) from h)::int as hours, (select count(*) from d)::int as days`;
  return row!;
}
