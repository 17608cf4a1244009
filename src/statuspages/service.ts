// Status page commands, and the published page's data.

import { patched, type Acting } from '../audit/model.ts';
import { audit } from '../audit/service.ts';
import type { Sql, Tx } from '../db/client.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { conflict, notFound, validationFailed, type ErrorDetail } from '../errors.ts';
import { openIncidentsOf } from '../incidents/store.ts';
import { windowsAhead } from '../maintenance/store.ts';
import { findNodeRefs } from '../nodes/store.ts';
import { groupBreakdown } from '../uptime/report.ts';
import { componentProblems, pageView, pageWindow, type ComponentSpec, type PageView, type StatusPage, type StatusPageInput } from './model.ts';
import { announcePublicChange, componentMembers, deletePage, getPage, getPublicPage, insertPage, listPages, updatePage } from './store.ts';

function refuseIfAny(problems: ErrorDetail[]): void {
  if (problems.length) throw validationFailed(problems);
}

/**
 * Node ids or names to ids, per component, in order and without repeats. Every unknown one is a
 * problem named by its place (`components.2.node_ids.0`); one query for the whole page.
 */
async function resolveComponents(tx: Tx, components: readonly ComponentSpec[]): Promise<ComponentSpec[]> {
  const refs = [...new Set(components.flatMap((c) => c.node_ids))];
  const found = refs.length ? await findNodeRefs(tx, refs) : [];
  const problems: ErrorDetail[] = [];
  const resolved = components.map((c, i) => {
    const ids = c.node_ids.map((ref, j) => {
      // An id wins over a name that happens to look like one, as in GET /v1/nodes/{id}.
      const node = found.find((n) => n.id === ref) ?? found.find((n) => n.name === ref);
      if (!node) problems.push({ field: `components.${i}.node_ids.${j}`, message: 'is not a node' });
      return node?.id;
    });
    return { ...c, node_ids: [...new Set(ids.filter((id): id is string => id !== undefined))] };
  });
  refuseIfAny(problems);
  return resolved;
}

const slugTaken = (err: unknown, slug: string | undefined) =>
  isUniqueViolation(err) ? conflict(`A status page with the slug "${slug}" already exists.`) : err;

/** A new page; every component must select something, and every node it lists must exist. */
export async function createStatusPage(sql: Sql, input: StatusPageInput, now: Date, acting: Acting): Promise<StatusPage> {
  refuseIfAny(componentProblems(input.components));
  try {
    return (await sql.begin(async (tx) => {
      const page = await insertPage(tx, { ...input, components: await resolveComponents(tx, input.components) }, now);
      await audit(tx, acting, { action: 'status_page.create', target: { type: 'status_page', id: page.id, name: page.slug } }, now);
      await announcePublicChange(tx, ['pages']);
      return page;
    })) as StatusPage;
  } catch (err) {
    throw slugTaken(err, input.slug);
  }
}

/** `ref` is the page's id or slug. Fields left out keep their value; `components` replaces them all. */
export async function updateStatusPage(sql: Sql, ref: string, patch: Partial<StatusPageInput>, now: Date, acting: Acting): Promise<StatusPage> {
  refuseIfAny(componentProblems(patch.components ?? []));
  try {
    const page = (await sql.begin(async (tx) => {
      const current = await getPage(tx, ref);
      if (!current) return undefined;
      const components = patch.components && (await resolveComponents(tx, patch.components));
      const resolved = components ? { ...patch, components } : patch;
      const page = await updatePage(tx, current.id, resolved, now);
      if (page) {
        await audit(tx, acting, patched('status_page.update', { type: 'status_page', id: current.id, name: page.slug }, resolved, current), now);
        // A page made private, renamed or trimmed must stop being served everywhere as this commits.
        await announcePublicChange(tx, ['pages']);
      }
      return page;
    })) as StatusPage | undefined;
    if (!page) throw notFound(`Status page "${ref}"`);
    return page;
  } catch (err) {
    throw slugTaken(err, patch.slug);
  }
}

export async function deleteStatusPage(sql: Sql, ref: string, now: Date, acting: Acting): Promise<void> {
  await sql.begin(async (tx) => {
    const page = await getPage(tx, ref);
    if (!page || !(await deletePage(tx, page.id))) throw notFound(`Status page "${ref}"`);
    await audit(tx, acting, { action: 'status_page.delete', target: { type: 'status_page', id: page.id, name: page.slug } }, now);
    await announcePublicChange(tx, ['pages']);
  });
}

/**
 * The page as stored, except that ids of nodes deleted since are left out: what a client reads
 * back is what it could send again.
 */
export async function readStatusPage(sql: Sql, ref: string): Promise<StatusPage | undefined> {
  const page = await getPage(sql, ref);
  return page && (await withoutDeletedNodes(sql, [page]))[0];
}

/** A page of status pages by slug, after the slug `after`, as `readStatusPage` reads each. */
export async function listStatusPages(sql: Sql, after: string | undefined, limit: number): Promise<StatusPage[]> {
  return withoutDeletedNodes(sql, await listPages(sql, after, limit));
}

async function withoutDeletedNodes(sql: Sql, pages: StatusPage[]): Promise<StatusPage[]> {
  const ids = [...new Set(pages.flatMap((p) => p.components.flatMap((c) => c.node_ids)))];
  const existing = new Set((ids.length ? await findNodeRefs(sql, ids) : []).map((n) => n.id));
  return pages.map((p) => ({ ...p, components: p.components.map((c) => ({ ...c, node_ids: c.node_ids.filter((id) => existing.has(id)) })) }));
}

/**
 * What `/status/{slug}` shows, or undefined when there is no public page of that slug. The
 * uptime figures come from the uptime report's group breakdown (the same arithmetic as the
 * uptime API): one pass over every component's nodes for the 90-day window, day by day.
 */
export async function publishedPage(sql: Sql, slug: string, now: number): Promise<PageView | undefined> {
  const page = await getPublicPage(sql, slug);
  if (!page) return undefined;
  const members = await componentMembers(sql, page.components);
  const ids = [...new Set(members.flat().map((m) => m.id))];
  const [groups, incidents, windows] = await Promise.all([
    groupBreakdown(sql, members.map((list) => list.map((m) => m.id)), pageWindow(now), 'day', now),
    openIncidentsOf(sql, ids),
    windowsAhead(sql, ids, new Date(now)),
  ]);
  return pageView(page, members, groups.map((g) => g.buckets), incidents, windows, now);
}
