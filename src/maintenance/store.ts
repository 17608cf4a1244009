import type { Queryable } from '../db/client.ts';
import { announceDue } from '../health/store.ts';
import type { MaintenanceFilter, MaintenanceRow, MaintenanceSpan, NewMaintenance, WindowAhead } from './model.ts';

const COLUMNS = ['id', 'node_ids', 'labels', 'starts_at', 'ends_at', 'reason', 'time_zone', 'created_at'];

/**
 * Whether window `m` covers node `n`: listed by id, or labelled with all of the window's labels.
 * A window without labels matches by id only (every node's labels contain `{}`).
 */
const covers = (sql: Queryable) => sql`(n.id = any(m.node_ids) or (m.labels <> '{}'::jsonb and n.labels @> m.labels))`;

/** Each window paired with each of these nodes it covers. */
const windowsCovering = (sql: Queryable, nodeIds: string[]) =>
  sql`from maintenances m join nodes n on n.id = any(${nodeIds}::uuid[]) and ${covers(sql)}`;

/**
 * Not yet over at `at` (open-ended, or ending after it), written as the expression index
 * maintenances_ahead (0021) holds: "ends_at is null or ends_at > at" reads every window ever kept.
 */
const endsAfter = (sql: Queryable, at: Date) => sql`coalesce(m.ends_at, 'infinity'::timestamptz) > ${at}`;

/** Open at `at`: begun, and not yet ended (a cancelled window never is). */
const openAt = (sql: Queryable, at: Date) => sql`(m.starts_at <= ${at} and ${endsAfter(sql, at)})`;

/**
 * For each of these nodes covered by a window at `now` (by id or by labels), the earliest covering
 * window's start and the latest end (null = open-ended). One statement for the whole batch: it runs
 * inside every evaluator transaction, and open windows are few, so it starts from them.
 */
export async function activeMaintenance(
  sql: Queryable,
  nodeIds: string[],
  now: Date,
): Promise<Map<string, { from: Date; until: Date | null }>> {
  if (nodeIds.length === 0) return new Map();
  const rows = await sql<{ node_id: string; from: Date; until: Date | null }[]>`
    select n.id as node_id, min(m.starts_at) as from,
           case when bool_or(m.ends_at is null) then null else max(m.ends_at) end as until
    ${windowsCovering(sql, nodeIds)}
    where ${openAt(sql, now)}
    group by n.id`;
  return new Map(rows.map((r) => [r.node_id, { from: r.from, until: r.until }]));
}

/**
 * For each of these nodes covered by a window at `now`, when its maintenance ends as the console
 * says it: activeMaintenance's latest end (null while a covering window is open-ended) with the zone
 * of the window that ends then, so "until" reads on the clock that window was typed on.
 */
export async function maintenanceEnds(sql: Queryable, nodeIds: string[], now: Date): Promise<Map<string, { until: Date | null; zone: string | null }>> {
  if (nodeIds.length === 0) return new Map();
  const rows = await sql<{ node_id: string; until: Date | null; zone: string | null }[]>`
    select distinct on (n.id) n.id as node_id, m.ends_at as until, m.time_zone as zone
    ${windowsCovering(sql, nodeIds)}
    where ${openAt(sql, now)}
    order by n.id, m.ends_at desc nulls first, m.created_at desc`;
  return new Map(rows.map((r) => [r.node_id, { until: r.until, zone: r.zone }]));
}

/**
 * The windows open at `now` or yet to begin (a cancelled one never is), each with those of these
 * nodes it covers: what a status page says of maintenance now and ahead. One statement for a
 * whole page; the reason is left in the table, a page never shows it.
 */
export async function windowsAhead(sql: Queryable, nodeIds: string[], now: Date): Promise<WindowAhead[]> {
  if (nodeIds.length === 0) return [];
  return sql<WindowAhead[]>`
    select m.starts_at, m.ends_at, m.time_zone, array_agg(n.id order by n.id) as node_ids
    ${windowsCovering(sql, nodeIds)}
    where ${endsAfter(sql, now)} and (m.ends_at is null or m.ends_at > m.starts_at)
    group by m.id
    order by m.starts_at, m.id`;
}

/** For each of these nodes, the start of the next window that begins after `now`, if any. */
export async function nextMaintenanceStart(sql: Queryable, nodeIds: string[], now: Date): Promise<Map<string, Date>> {
  if (nodeIds.length === 0) return new Map();
  const rows = await sql<{ node_id: string; starts_at: Date }[]>`
    select n.id as node_id, min(m.starts_at) as starts_at
    ${windowsCovering(sql, nodeIds)}
    where m.starts_at > ${now} and (m.ends_at is null or m.ends_at > m.starts_at)
    group by n.id`;
  return new Map(rows.map((r) => [r.node_id, r.starts_at]));
}

/**
 * Whether any window is open at `now` or yet to begin (ended and cancelled ones are neither). Most
 * evaluator batches meet none, and the two queries below each still probe every node of the batch
 * for one: ~8 ms apiece for 1,112 nodes of a 100,000-node fleet with no window at all, against
 * ~0.1 ms for this. Sent at the call, so it can share a round trip with the caller's reads.
 */
export async function anyWindowAhead(sql: Queryable, now: Date): Promise<boolean> {
  const [row] = await sql<{ ahead: boolean }[]>`
    select exists (select 1 from maintenances m where ${endsAfter(sql, now)}) as ahead`.execute();
  return row!.ahead;
}

/**
 * For each of these nodes, the latest moment by `now` that it can have left maintenance: the end of
 * the last window that covered it (cancelled windows never covered anything), or its last edit (a
 * change of labels takes a node out of a window that is still open), whichever is later. Asked only
 * for nodes whose state is maintenance and that no window covers: the evaluator may get to them
 * after the window ended (a stopped or overloaded one), and judges them from then.
 */
export async function maintenanceExits(sql: Queryable, nodeIds: string[], now: Date): Promise<Map<string, Date>> {
  if (nodeIds.length === 0) return new Map();
  const rows = await sql<{ node_id: string; left: Date }[]>`
    select n.id as node_id,
           greatest((select max(m.ends_at) from maintenances m where ${covers(sql)} and m.ends_at <= ${now} and m.ends_at > m.starts_at),
                    n.updated_at) as left
    from nodes n
    where n.id = any(${nodeIds}::uuid[])`;
  return new Map(rows.map((r) => [r.node_id, r.left]));
}

/**
 * Maintenance spans for a batch of due nodes: set-wise queries per evaluator batch, none when
 * anyWindowAhead said there is no window ahead (asked by the caller alongside its own reads) and
 * no node of the batch is in maintenance (`inMaintenance`: those whose state is).
 */
export async function maintenanceSpans(
  tx: Queryable,
  nodeIds: string[],
  now: Date,
  windowAhead: boolean,
  inMaintenance: string[],
): Promise<Map<string, MaintenanceSpan>> {
  const ahead = nodeIds.length > 0 && windowAhead;
  const [active, next, ended] = await Promise.all([
    ahead ? activeMaintenance(tx, nodeIds, now) : new Map<string, { from: Date; until: Date | null }>(),
    ahead ? nextMaintenanceStart(tx, nodeIds, now) : new Map<string, Date>(),
    maintenanceExits(tx, inMaintenance, now),
  ]);
  const out = new Map<string, MaintenanceSpan>();
  for (const id of new Set([...active.keys(), ...next.keys(), ...ended.keys()])) {
    const a = active.get(id);
    out.set(id, { from: a?.from ?? null, until: a?.until ?? null, nextStart: next.get(id) ?? null, endedAt: a ? null : (ended.get(id) ?? null) });
  }
  return out;
}

export async function insertMaintenance(tx: Queryable, w: NewMaintenance, now: Date): Promise<MaintenanceRow> {
  const [row] = await tx<MaintenanceRow[]>`
    insert into maintenances (node_ids, labels, starts_at, ends_at, reason, time_zone, created_at)
    values (${w.node_ids}::uuid[], ${tx.json(w.labels)}, ${w.starts_at}, ${w.ends_at}, ${w.reason}, ${w.time_zone ?? null}, ${now})
    returning ${tx(COLUMNS)}`;
  return row!;
}

/**
 * The zone of the window typed in a zone most recently, or undefined: what the console's form
 * offers next, since a team mostly schedules on one clock. One entry of maintenances_zoned (0022).
 */
export async function lastTimeZone(sql: Queryable): Promise<string | undefined> {
  const [row] = await sql<{ time_zone: string }[]>`
    select time_zone from maintenances where time_zone is not null order by created_at desc limit 1`;
  return row?.time_zone;
}

export async function getMaintenance(sql: Queryable, id: string): Promise<MaintenanceRow | undefined> {
  const [row] = await sql<MaintenanceRow[]>`select ${sql(COLUMNS)} from maintenances where id = ${id}`;
  return row;
}

export async function listMaintenances(sql: Queryable, f: MaintenanceFilter): Promise<MaintenanceRow[]> {
  return sql<MaintenanceRow[]>`
    select ${sql(COLUMNS.map((c) => `m.${c}`))} from maintenances m
    where true
      ${f.active === undefined ? sql`` : f.active ? sql`and ${openAt(sql, f.now)}` : sql`and not ${openAt(sql, f.now)}`}
      ${f.after ? sql`and (m.created_at, m.id) < (${f.after[0]}::timestamptz, ${f.after[1]}::uuid)` : sql``}
    order by m.created_at desc, m.id desc
    limit ${f.limit}`;
}

/**
 * Ends a window at `now` (one not yet begun is cancelled: it ends where it starts) unless it is
 * over already (isOverAt: ended by then, or cancelled), which keeps its end. One statement: the
 * row is locked before it is judged, so of two ends sent at once the second waits, reads the
 * first's end and changes nothing. The window as stored and whether this ended it; undefined when
 * there is no such window.
 */
export async function endMaintenance(tx: Queryable, id: string, now: Date): Promise<{ window: MaintenanceRow; ended: boolean } | undefined> {
  const [row] = await tx<(MaintenanceRow & { ended: boolean })[]>`
    with current as (
      select ${tx(COLUMNS)}, ends_at is not null and ends_at <= greatest(${now}::timestamptz, starts_at) as over
      from maintenances where id = ${id}
      for update
    ), ended as (
      update maintenances m set ends_at = greatest(m.starts_at, ${now})
      from current c
      where m.id = c.id and not c.over
      returning ${tx(COLUMNS.map((c) => `m.${c}`))}
    )
    select *, true as ended from ended
    union all
    select ${tx(COLUMNS)}, false from current where over`;
  if (!row) return undefined;
  const { ended, ...window } = row;
  return { window, ended };
}

/**
 * Makes the evaluator look at every node the window covers at `at` (its start when created, now
 * when ended), in the caller's transaction. Bumping `wake` keeps an evaluator that read the node
 * before this commit from pushing the due time back over it. When the window covers a node, the
 * evaluator is told at commit, so an operator starting or ending a window sees its nodes move at
 * once, not at the evaluator's next tick; so too for a window starting later: the pass that notice
 * brings reads its start as the earliest due time and sleeps until it, where the evaluator had set
 * its sleep before the window existed (up to LIFELINE_EVALUATOR_INTERVAL_MS, 50 s late for a window
 * starting 10 s after it was made with a 60 s interval).
 */
export async function wakeCoveredNodes(tx: Queryable, w: Pick<MaintenanceRow, 'node_ids' | 'labels'>, at: Date): Promise<void> {
  const [{ woken }] = (await tx`
    with woken as (
      update node_due d set due_at = least(d.due_at, ${at}), wake = d.wake + 1
      from (select ${w.node_ids}::uuid[] as node_ids, ${tx.json(w.labels)}::jsonb as labels) m
      join nodes n on ${covers(tx)}
      where d.node_id = n.id
      returning 1)
    select exists (select from woken) as woken`) as unknown as [{ woken: boolean }];
  if (woken) await announceDue(tx);
}
