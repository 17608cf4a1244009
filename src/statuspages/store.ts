// status_pages, which nodes (with their health) a published page's components hold, and the
// lifeline_public NOTIFY that tells every api process its kept pages and badges may be wrong.

import type { Queryable } from '../db/client.ts';
import { isUuid } from '../db/ids.ts';
import { notifyAll } from '../db/notify.ts';
import { PUBLIC_CHANNEL, type ComponentSpec, type Member, type PublicCacheName, type StatusPage, type StatusPageInput } from './model.ts';

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
