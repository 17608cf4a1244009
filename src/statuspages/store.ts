// status_pages, which nodes (with their health) a published page's components hold, the days
// status_page_days keeps of them, and the lifeline_public NOTIFY that tells every api process its
// kept pages and badges may be wrong.

import type { Queryable } from '../db/client.ts';
import { isUuid } from '../db/ids.ts';
import { editLock } from '../db/named-rows.ts';
import { STATUS_PAGE_DAYS_LOCK_CLASS } from '../db/locks.ts';
import { notifyAll } from '../db/notify.ts';
import { perState, type StateMs } from '../uptime/state-time.ts';
import { epochMs } from '../uptime/store-rollups.ts';
import { PUBLIC_CHANNEL, type ComponentSpec, type Member, type StoredDay, type PublicCacheName, type StatusPage, type StatusPageInput } from './model.ts';

const COLUMNS = ['id', 'slug', 'title', 'description', 'public', 'show_nodes', 'components', 'created_at', 'updated_at'];

/** `ref` is an id or a slug; a slug that looks like a UUID still resolves. */
function refCondition(sql: Queryable, ref: string) {
  return isUuid(ref) ? sql`(id = ${ref}::uuid or slug = ${ref})` : sql`slug = ${ref}`;
}

/** Inside the writer's transaction: every api process forgets these caches as it commits. */
export async function announcePublicChange(tx: Queryable, caches: readonly PublicCacheName[]): Promise<void> {
  await notifyAll(tx, PUBLIC_CHANNEL, [...caches]);
}

export async function insertPage(tx: Queryable, page: StatusPageInput, now: Date): Promise<StatusPage> {
  const [row] = await tx<StatusPage[]>`
    insert into status_pages (slug, title, description, public, show_nodes, components, created_at, updated_at)
    values (${page.slug}, ${page.title}, ${page.description}, ${page.public}, ${page.show_nodes}, ${tx.json(page.components as never)}, ${now}, ${now})
    returning ${tx(COLUMNS)}`;
  return row!;
}

/** `locked`: for an edit, until its transaction ends (editLock). */
export async function getPage(sql: Queryable, ref: string, locked = false): Promise<StatusPage | undefined> {
  const [row] = await sql<StatusPage[]>`
    select ${sql(COLUMNS)} from status_pages where ${refCondition(sql, ref)} order by (id::text = ${ref}) desc limit 1 ${editLock(sql, locked)}`;
  return row;
}

/** A page the public may open: known slug and public, else undefined. */
export async function getPublicPage(sql: Queryable, slug: string): Promise<StatusPage | undefined> {
  const [row] = await sql<StatusPage[]>`select ${sql(COLUMNS)} from status_pages where slug = ${slug} and public`;
  return row;
}

/** By slug; the cursor is the last slug. */
export async function listPages(sql: Queryable, after: string | undefined, limit: number): Promise<StatusPage[]> {
  return sql<StatusPage[]>`
    select ${sql(COLUMNS)} from status_pages
    where true ${after !== undefined ? sql`and slug collate "C" > ${after}` : sql``}
    order by slug collate "C"
    limit ${limit}`;
}

/** Replaces the given fields; undefined when there is no such page. */
export async function updatePage(tx: Queryable, id: string, patch: Partial<StatusPageInput>, now: Date): Promise<StatusPage | undefined> {
  const columns = Object.keys(patch) as Array<keyof StatusPageInput>;
  const values: Record<string, unknown> = { ...patch, updated_at: now };
  if (patch.components) values.components = tx.json(patch.components as never);
  const [row] = await tx<StatusPage[]>`
    update status_pages set ${tx(values, ...columns, 'updated_at')} where id = ${id}
    returning ${tx(COLUMNS)}`;
  return row;
}

export async function deletePage(sql: Queryable, id: string): Promise<boolean> {
  const rows = await sql`delete from status_pages where id = ${id} returning id`;
  return rows.length > 0;
}

/**
 * The nodes of each component with their current health, component by component (index into
 * `components`). A node is a member when listed by id or when its labels contain all of the
 * component's labels (as maintenance windows select nodes). Each kind of match is its own join so
 * the label match can use the GIN index on nodes.labels, and the listed ids are unnested and probed
 * on the primary key: as a subquery per (component, node) pair (`n.id in (select …)`) the listing
 * was evaluated 10,000 times for 20 components over 500 nodes, 5 of the read's 6 ms.
 */
export async function componentMembers(sql: Queryable, components: readonly ComponentSpec[]): Promise<Member[][]> {
  const out: Member[][] = components.map(() => []);
  if (components.length === 0) return out;
  const rows = await sql<Array<Member & { component: number }>>`
    with c as (
      select ord::int - 1 as component, spec from jsonb_array_elements(${sql.json(components as never)}::jsonb) with ordinality as c(spec, ord)
    ), m as (
      select c.component, n.id from c
      cross join jsonb_array_elements_text(c.spec->'node_ids') x
      join nodes n on n.id = x::uuid
      union
      select c.component, n.id from c
      join nodes n on c.spec->'labels' <> '{}'::jsonb and n.labels @> (c.spec->'labels')
    )
    select m.component, n.id, n.name, n.labels, h.state, h.since, h.reason
    from m join nodes n on n.id = m.id join node_health h on h.node_id = n.id
    order by m.component, n.name collate "C"`;
  for (const { component, ...member } of rows) out[component]!.push(member);
  return out;
}

/** The page's kept days from `from` on; a provisional one (ms null) with the nodes it held. */
export async function keptDays(sql: Queryable, pageId: string, from: number): Promise<StoredDay[]> {
  const rows = await sql<Array<Omit<StoredDay, 'ms'> & { [S in keyof StateMs]: number | null }>>`
    select component_id, day, nodes, node_ids, healthy_ms::float8 as healthy, degraded_ms::float8 as degraded, down_ms::float8 as down,
           maintenance_ms::float8 as maintenance, unknown_ms::float8 as unknown
    from status_page_days where page_id = ${pageId} and day >= ${new Date(from)}`;
  return rows.map(storedDay);
}

function storedDay<R extends Omit<StoredDay, 'ms'> & { [S in keyof StateMs]: number | null }>(row: R): StoredDay & Omit<R, keyof StateMs> {
  const { healthy, degraded, down, maintenance, unknown, ...rest } = row;
  const ms = { healthy, degraded, down, maintenance, unknown };
  return { ...rest, ms: healthy === null ? null : perState((state) => ms[state]!) };
}

const msColumns = (ms: StateMs | null) => ({
  healthy_ms: ms?.healthy ?? null,
  degraded_ms: ms?.degraded ?? null,
  down_ms: ms?.down ?? null,
  maintenance_ms: ms?.maintenance ?? null,
  unknown_ms: ms?.unknown ?? null,
});

/** Keeps these days; a day kept already (by another process at the same moment) stays as it is. */
export async function keepDays(sql: Queryable, pageId: string, days: readonly StoredDay[]): Promise<void> {
  if (days.length === 0) return;
  const rows = days.map((d) => ({ page_id: pageId, component_id: d.component_id, day: d.day, nodes: d.nodes, node_ids: d.node_ids, ...msColumns(d.ms) }));
  await sql`insert into status_page_days ${sql(rows)} on conflict do nothing`;
}

/** A provisional day of some page: the nodes its component held, numbers not worked out yet. */
export type ProvisionalDay = StoredDay & { page_id: string; node_ids: string[] };

/** Provisional days before `before`, or those holding the node `nodeId`. */
export async function provisionalDays(sql: Queryable, which: { before: number } | { nodeId: string }): Promise<ProvisionalDay[]> {
  const rows = await sql<Array<ProvisionalDay & { [S in keyof StateMs]: number | null }>>`
    select page_id, component_id, day, nodes, node_ids, null::float8 as healthy, null::float8 as degraded, null::float8 as down,
           null::float8 as maintenance, null::float8 as unknown
    from status_page_days
    where healthy_ms is null and ${'before' in which ? sql`day < ${new Date(which.before)}` : sql`node_ids @> array[${which.nodeId}]::uuid[]`}`;
  return rows.map(storedDay) as ProvisionalDay[];
}

/** Gives provisional days their numbers; one already given them stays as it is. */
export async function settleDays(sql: Queryable, days: ReadonlyArray<ProvisionalDay & { ms: StateMs }>): Promise<void> {
  if (days.length === 0) return;
  const rows = days.map((d) => ({ page_id: d.page_id, component_id: d.component_id, day: d.day.toISOString(), ...msColumns(d.ms) }));
  await sql`
    update status_page_days d
    set healthy_ms = (r->>'healthy_ms')::bigint, degraded_ms = (r->>'degraded_ms')::bigint, down_ms = (r->>'down_ms')::bigint,
        maintenance_ms = (r->>'maintenance_ms')::bigint, unknown_ms = (r->>'unknown_ms')::bigint
    from jsonb_array_elements(${sql.json(rows as never)}::jsonb) r
    where d.page_id = (r->>'page_id')::uuid and d.day = (r->>'day')::timestamptz and d.component_id = (r->>'component_id')::uuid
      and d.healthy_ms is null`;
}

/**
 * How far the evaluator has judged every node: the ingest watermark as the evaluator reads it
 * (every heartbeat before it is stored; ARCHITECTURE.md, "Honest time": the slowest ingest
 * process that flushed within `liveMs` of `now`, else the last flush) or, earlier, the first
 * deadline it has not judged yet (a node's `node_due` in the past: the evaluator is behind or not
 * running). Undefined when no ingest ever ran and no node is due: nothing waits to be judged. A
 * node that never reported is due at 'infinity', which read back as an invalid Date: before any
 * ingest ran, every keep of a page over such nodes failed.
 */
export async function judgedThrough(sql: Queryable, now: number, liveMs: number): Promise<Date | undefined> {
  const [row] = await sql<{ through: Date | null }[]>`
    select least(coalesce((select min(seen_at) from ingest_presence where seen_at > ${new Date(now - liveMs)}), (select seen_at from ingest_coverage)),
                 (select min(due_at) from node_due where due_at < 'infinity')) as through`;
  return row?.through ?? undefined;
}

/** What a write is about to change: a node by its id (none before it exists) and its labels before and after. */
export interface Selecting {
  nodeId: string | undefined;
  labels: ReadonlyArray<Record<string, string>>;
}

/**
 * The pages (id and components) of which some component has not kept `day`, or only those among
 * them with a component that selects `selecting`'s node: listed by id, or asking for labels one
 * of its label sets contains; or only those written (made, or their components replaced) since
 * `writtenSince`. One statement however many pages: each component's id is probed on the primary
 * key, so with every page kept nothing but the statement's one empty answer comes back.
 */
export async function pagesToKeep(sql: Queryable, day: number, only?: Selecting | { writtenSince: Date }): Promise<Array<Pick<StatusPage, 'id' | 'components'>>> {
  const selects = !only
    ? sql``
    : 'writtenSince' in only
      ? sql`and p.updated_at >= ${only.writtenSince}`
      : selectingCondition(sql, only);
  return sql<Array<Pick<StatusPage, 'id' | 'components'>>>`
    select p.id, p.components from status_pages p
    where exists (
      select 1 from jsonb_array_elements(p.components) c
      where not exists (select 1 from status_page_days d
                        where d.page_id = p.id and d.day = ${new Date(day)} and d.component_id = (c->>'id')::uuid))
    ${selects}
    order by p.id`;
}

const selectingCondition = (sql: Queryable, selecting: Selecting) =>
  sql`and exists (select 1 from jsonb_array_elements(p.components) c
                      where (c->'node_ids') ? ${selecting.nodeId ?? ''}
                         or (c->'labels' <> '{}'::jsonb and exists (
                               select 1 from jsonb_array_elements(${sql.json(selecting.labels as never)}::jsonb) l where l @> (c->'labels'))))`;

/**
 * The page's keeping lock, held until `tx` ends: waiting for it (`wait`) or only trying it. Whether
 * this transaction holds it.
 */
export async function lockPageDays(tx: Queryable, pageId: string, wait: boolean): Promise<boolean> {
  if (wait) {
    await tx`select pg_advisory_xact_lock(${STATUS_PAGE_DAYS_LOCK_CLASS}, hashtext(${pageId}))`;
    return true;
  }
  const [row] = await tx<{ ok: boolean }[]>`select pg_try_advisory_xact_lock(${STATUS_PAGE_DAYS_LOCK_CLASS}, hashtext(${pageId})) as ok`;
  return row?.ok === true;
}

/** Kept days that left every page's window: nothing reads them again. */
export async function forgetDaysBefore(sql: Queryable, from: number): Promise<number> {
  return (await sql`delete from status_page_days where day < ${new Date(from)}`).count;
}

/**
 * When these nodes were in maintenance from `from` to `to`, by node_state_log as the day bars
 * count it: each transition into maintenance since `from` (or the last before it, if the node was
 * still in maintenance then), to the node's next transition (`to` when there is none yet). Only
 * those rows: reading every transition of 500 nodes' 14 days (readLogSpans: ~4,000, two outages a
 * node a week) took a median 11-12 ms to find the 50 windows among them, this 2.3 ms; the index
 * holds `to_state`, so the range is read from it, and the next transition is one primary-key probe.
 */
export async function maintenanceSince(sql: Queryable, nodeIds: readonly string[], from: Date, to: Date): Promise<Array<{ node_id: string; start: number; end: number }>> {
  if (nodeIds.length === 0) return [];
  const ids = [...nodeIds];
  return sql<Array<{ node_id: string; start: number; end: number }>>`
    with entered as (
      select l.node_id, l.at, l.state_version from node_state_log l
      where l.node_id = any(${ids}::uuid[]) and l.at >= ${from} and l.at < ${to} and l.to_state = 'maintenance'
      union all
      select s.id, b.at, b.state_version from unnest(${ids}::uuid[]) s(id)
      cross join lateral (
        select l.to_state, l.at, l.state_version from node_state_log l
        where l.node_id = s.id and l.at < ${from}
        order by l.at desc, l.state_version desc limit 1
      ) b
      where b.to_state = 'maintenance'
    )
    select e.node_id, ${epochMs(sql, 'e.at')} as start, ${epochMs(sql, 'end_at')} as end
    from entered e
    cross join lateral (
      select coalesce((select l.at from node_state_log l where l.node_id = e.node_id and l.state_version > e.state_version order by l.state_version limit 1), ${to}) as end_at
    ) x`;
}
