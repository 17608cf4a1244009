// status_pages, which nodes (with their health) a published page's components hold, the days
// status_page_days keeps of them, and the lifeline_public NOTIFY that tells every api process its
// kept pages and badges may be wrong.

import type { Queryable } from '../db/client.ts';
import { isUuid } from '../db/ids.ts';
import { STATUS_PAGE_DAYS_LOCK_CLASS } from '../db/locks.ts';
import { notifyAll } from '../db/notify.ts';
import { perState, type StateMs } from '../uptime/state-time.ts';
import { PUBLIC_CHANNEL, type ComponentSpec, type KeptDay, type Member, type PublicCacheName, type StatusPage, type StatusPageInput } from './model.ts';

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

export async function getPage(sql: Queryable, ref: string): Promise<StatusPage | undefined> {
  const [row] = await sql<StatusPage[]>`
    select ${sql(COLUMNS)} from status_pages where ${refCondition(sql, ref)} order by (id::text = ${ref}) desc limit 1`;
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
 * the label match can use the GIN index on nodes.labels.
 */
export async function componentMembers(sql: Queryable, components: readonly ComponentSpec[]): Promise<Member[][]> {
  const out: Member[][] = components.map(() => []);
  if (components.length === 0) return out;
  const rows = await sql<Array<Member & { component: number }>>`
    with c as (
      select ord::int - 1 as component, spec from jsonb_array_elements(${sql.json(components as never)}::jsonb) with ordinality as c(spec, ord)
    ), m as (
      select c.component, n.id from c
      join nodes n on n.id in (select x::uuid from jsonb_array_elements_text(c.spec->'node_ids') x)
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

/** The page's kept days from `from` on. */
export async function keptDays(sql: Queryable, pageId: string, from: number): Promise<KeptDay[]> {
  const rows = await sql<Array<Omit<KeptDay, 'ms'> & StateMs>>`
    select component, occurrence, day, nodes, healthy_ms::float8 as healthy, degraded_ms::float8 as degraded, down_ms::float8 as down,
           maintenance_ms::float8 as maintenance, unknown_ms::float8 as unknown
    from status_page_days where page_id = ${pageId} and day >= ${new Date(from)}`;
  return rows.map(({ component, occurrence, day, nodes, ...ms }) => ({ component, occurrence, day, nodes, ms: perState((state) => ms[state]) }));
}

/** Keeps these days; a day kept already (by another process at the same moment) stays as it is. */
export async function keepDays(sql: Queryable, pageId: string, days: readonly KeptDay[]): Promise<void> {
  if (days.length === 0) return;
  const rows = days.map((d) => ({
    page_id: pageId,
    component: d.component,
    occurrence: d.occurrence,
    day: d.day,
    nodes: d.nodes,
    healthy_ms: d.ms.healthy,
    degraded_ms: d.ms.degraded,
    down_ms: d.ms.down,
    maintenance_ms: d.ms.maintenance,
    unknown_ms: d.ms.unknown,
  }));
  await sql`insert into status_page_days ${sql(rows)} on conflict do nothing`;
}

/** What a write is about to change: a node by its id (none before it exists) and its labels before and after. */
export interface Selecting {
  nodeId: string | undefined;
  labels: ReadonlyArray<Record<string, string>>;
}

/**
 * The pages (id and components) of which some component has not kept `day`, or only those among
 * them with a component that selects `selecting`'s node: listed by id, or asking for labels one
 * of its label sets contains. One statement however many pages: a component's name and which of
 * that name it is are worked out in SQL as componentKeys does, and probed on the primary key, so
 * with every page kept nothing but the statement's one empty answer comes back.
 */
export async function pagesToKeep(sql: Queryable, day: number, selecting?: Selecting): Promise<Array<Pick<StatusPage, 'id' | 'components'>>> {
  const selects = selecting
    ? sql`and exists (select 1 from jsonb_array_elements(p.components) c
                      where (c->'node_ids') ? ${selecting.nodeId ?? ''}
                         or (c->'labels' <> '{}'::jsonb and exists (
                               select 1 from jsonb_array_elements(${sql.json(selecting.labels as never)}::jsonb) l where l @> (c->'labels'))))`
    : sql``;
  return sql<Array<Pick<StatusPage, 'id' | 'components'>>>`
    select p.id, p.components from status_pages p
    where exists (
      select 1 from (
        select c->>'name' as component, row_number() over (partition by c->>'name' order by ord)::int - 1 as occurrence
        from jsonb_array_elements(p.components) with ordinality as x(c, ord)
      ) k
      where not exists (select 1 from status_page_days d
                        where d.page_id = p.id and d.day = ${new Date(day)} and d.component = k.component and d.occurrence = k.occurrence))
    ${selects}
    order by p.id`;
}

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
