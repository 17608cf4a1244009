// Status page commands, and the published page's data.

import { patched, type Acting } from '../audit/model.ts';
import { audit, auditedUpdate } from '../audit/service.ts';
import { writtenAt, type Clock } from '../clock.ts';
import type { Queryable, Sql } from '../db/client.ts';
import { isUniqueViolation } from '../db/errors.ts';
import type { Logger } from '../logger.ts';
import { checkVersion, conflict, notFound, validationFailed, type ErrorDetail } from '../errors.ts';
import type { SpanRow } from '../incidents/model.ts';
import { incidentsSince } from '../incidents/store.ts';
import { windowsAhead } from '../maintenance/store.ts';
import { findNodeRefs } from '../nodes/store.ts';
import { groupBreakdown } from '../uptime/report.ts';
import { bucketStart, DAY_MS } from '../uptime/buckets.ts';
import { createHash, randomUUID } from 'node:crypto';
import { type Away, componentDays, componentKeys, componentProblems, identifiedComponents, type ComponentInput, type OpenIncident, pageView, pageWindow, pastSince, unkeptDays, type ComponentSpec, type KeptDay, type Member, type PageView, type StatusPage, type StatusPageInput, type StoredDay } from './model.ts';
import { emptyStateMs, type StateMs } from '../uptime/state-time.ts';
import {
  announcePublicChange,
  componentMembers,
  deletePage,
  forgetDaysBefore,
  getPage,
  getPublicPage,
  insertPage,
  keepDays,
  keptDays,
  judgedThrough,
  listPages,
  lockPageDays,
  maintenanceSince,
  pagesToKeep,
  provisionalDays,
  settleDays,
  type ProvisionalDay,
  updatePage,
  type Selecting,
} from './store.ts';

function refuseIfAny(problems: ErrorDetail[]): void {
  if (problems.length) throw validationFailed(problems);
}

/**
 * Node ids or names to ids, per component, in order and without repeats. Every unknown one is a
 * problem named by its place (`components.2.node_ids.0`); one query for the whole page.
 */
async function resolveComponents<C extends ComponentInput>(tx: Queryable, components: readonly C[]): Promise<C[]> {
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

/** The components given, each with its id (identifiedComponents); an id the page does not have is refused. */
function identified(given: readonly ComponentInput[], current: readonly ComponentSpec[]): ComponentSpec[] {
  const { components, problems } = identifiedComponents(given, current, randomUUID);
  refuseIfAny(problems);
  return components;
}

const slugTaken = (err: unknown, slug: string | undefined) =>
  isUniqueViolation(err) ? conflict(`A status page with the slug "${slug}" already exists.`) : err;

/** A new page; every component must select something, and every node it lists must exist. */
export async function createStatusPage(sql: Sql, input: StatusPageInput, now: Date, acting: Acting): Promise<StatusPage> {
  refuseIfAny(componentProblems(input.components));
  try {
    return (await sql.begin(async (tx) => {
      const page = await insertPage(tx, { ...input, components: identified(await resolveComponents(tx, input.components), []) }, now);
      await audit(tx, acting, { action: 'status_page.create', target: { type: 'status_page', id: page.id, name: page.slug } }, now);
      await announcePublicChange(tx, ['pages']);
      return page;
    })) as StatusPage;
  } catch (err) {
    throw slugTaken(err, input.slug);
  }
}

/**
 * `ref` is the page's id or slug. Fields left out keep their value; `components` replaces them all.
 * With `expected` (an If-Match), only the page at a tag it lists (checkTag).
 */
export async function updateStatusPage(sql: Sql, ref: string, patch: Partial<StatusPageInput>, now: Date, acting: Acting, report: KeepReport, expected?: readonly string[]): Promise<StatusPage> {
  refuseIfAny(componentProblems(patch.components ?? []));
  if (patch.components) {
    // The page's days over are kept as its components were (new components' past is their nodes'
    // now), once the page and the nodes listed are known to exist: a refused request keeps nothing.
    const current = await getPage(sql, ref);
    if (!current) throw notFound(`Status page "${ref}"`);
    // A stale If-Match is refused before any day is kept, and again below under the lock.
    await checkTag(sql, current, expected);
    identified(patch.components, current.components);
    await resolveComponents(sql, patch.components);
    await keepEach(sql, [current], now.getTime(), report, true, await settledBefore(sql, now.getTime()));
  }
  try {
    const page = (await sql.begin(async (tx) => {
      // Locked: a concurrent edit waits, and then reads (and records as its `from`) what this one wrote.
      const current = await getPage(tx, ref, true);
      if (!current) return undefined;
      await checkTag(tx, current, expected);
      const components = patch.components && identified(await resolveComponents(tx, patch.components), current.components);
      const resolved = components ? { ...patch, components } : patch;
      const change = patched('status_page.update', { type: 'status_page', id: current.id, name: resolved.slug ?? current.slug }, resolved, current);
      return auditedUpdate(tx, acting, change, current, async () => {
        const page = await updatePage(tx, current.id, resolved, writtenAt(now, current.updated_at));
        // A page made private, renamed or trimmed must stop being served everywhere as this commits.
        if (page) await announcePublicChange(tx, ['pages']);
        return page;
      }, now);
    })) as StatusPage | undefined;
    if (!page) throw notFound(`Status page "${ref}"`);
    // As a GET reads it back, so the ETag of the answer is the one a GET gives.
    return (await withoutDeletedNodes(sql, [page]))[0]!;
  } catch (err) {
    throw slugTaken(err, patch.slug);
  }
}

/** With `expected` (an If-Match), the page, locked, must be at one of the tags it lists (checkTag). */
export async function deleteStatusPage(sql: Sql, ref: string, now: Date, acting: Acting, expected?: readonly string[]): Promise<void> {
  await sql.begin(async (tx) => {
    const page = await getPage(tx, ref, expected !== undefined);
    if (page) await checkTag(tx, page, expected);
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

async function withoutDeletedNodes(sql: Queryable, pages: StatusPage[]): Promise<StatusPage[]> {
  const ids = [...new Set(pages.flatMap((p) => p.components.flatMap((c) => c.node_ids)))];
  const existing = new Set((ids.length ? await findNodeRefs(sql, ids) : []).map((n) => n.id));
  return pages.map((p) => ({ ...p, components: p.components.map((c) => ({ ...c, node_ids: c.node_ids.filter((id) => existing.has(id)) })) }));
}

/**
 * A page's ETag, unquoted: its `updated_at` in ms and a hash of the node ids it shows (8 hex
 * digits, one in 4 billion to miss a change). Deleting a node drops its id from the page as a GET
 * reads it (withoutDeletedNodes) without writing the page: by `updated_at` alone the ETag stayed,
 * and an If-Match read before still held over a body that had changed.
 */
export function pageTag(page: StatusPage): string {
  const shown = createHash('sha256').update(page.components.map((c) => c.node_ids.join(',')).join(';'));
  return `${page.updated_at.getTime()}-${shown.digest('hex').slice(0, 8)}`;
}

/** 412 unless the page, as a GET shows it, is at one of the tags `expected` (an If-Match) lists. */
async function checkTag(sql: Queryable, page: StatusPage, expected: readonly string[] | undefined): Promise<void> {
  if (expected === undefined) return;
  const [shown] = await withoutDeletedNodes(sql, [page]);
  checkVersion(`Status page "${page.slug}"`, expected, page.updated_at, pageTag(shown!));
}

/**
 * What `/status/{slug}` shows, or undefined when there is no public page of that slug. The days
 * that are over come from what was kept of them (keepPastDays); today, and a past day not kept
 * yet, from the uptime report's group breakdown (the same arithmetic as the uptime API) over the
 * nodes each component holds now: with every past day kept, a breakdown of today alone.
 */
export async function publishedPage(sql: Sql, slug: string, now: number): Promise<PageView | undefined> {
  const page = await getPublicPage(sql, slug);
  if (!page) return undefined;
  const keys = componentKeys(page.components);
  const [members, stored] = await Promise.all([componentMembers(sql, page.components), keptDays(sql, page.id, pageWindow(now).from)]);
  const ids = [...new Set(members.flat().map((m) => m.id))];
  const from = Math.min(bucketStart(now, 'day'), ...unkeptDays(keys, stored, now).flat());
  // The open incidents are among those of the past incidents' window: one read for both. The
  // maintenance read follows it on the same connection of the pool, and only when there are any.
  const past = incidentsSince(sql, ids, new Date(pastSince(now))).then(async (history) => ({ history, maintained: await maintenanceOf(sql, members, history, now) }));
  const [groups, provisional, { history, maintained }, windows] = await Promise.all([
    groupBreakdown(sql, members.map((list) => list.map((m) => m.id)), { from, to: now }, 'day', now),
    workedOut(sql, stored.filter(isProvisional), now),
    past,
    windowsAhead(sql, ids, new Date(now)),
  ]);
  const incidents = history.filter((i): i is SpanRow & OpenIncident => i.status !== 'resolved');
  const kept = [...stored.filter((d): d is StoredDay & KeptDay => d.ms !== null), ...provisional];
  const days = componentDays(keys, kept, groups.map((g) => g.buckets), members, now);
  return pageView(page, members, days, incidents, history, windows, now, maintained);
}

/**
 * When the nodes of the components with a past incident were in maintenance, from the earliest of
 * those incidents to `now`, by node (maintenanceSince). A page with no incident in its 14 days,
 * most pages most days, reads nothing.
 */
async function maintenanceOf(sql: Sql, members: ReadonlyArray<readonly Member[]>, history: readonly SpanRow[], now: number): Promise<Map<string, Away[]>> {
  const touched = new Set(history.map((i) => i.node_id));
  const ids = [...new Set(members.filter((list) => list.some((m) => touched.has(m.id))).flatMap((list) => list.map((m) => m.id)))];
  const start = Math.min(pastSince(now), ...history.map((i) => i.opened_at.getTime()));
  const out = new Map<string, Away[]>();
  for (const { node_id, ...span } of await maintenanceSince(sql, ids, new Date(start), new Date(now))) out.set(node_id, [...(out.get(node_id) ?? []), span]);
  return out;
}

const isProvisional = <D extends StoredDay>(d: D): d is D & { node_ids: string[] } => d.ms === null && d.node_ids !== null;

/** Provisional days with their numbers, from the nodes each held: one breakdown for them all. */
async function workedOut<D extends StoredDay & { node_ids: string[] }>(sql: Sql, days: readonly D[], now: number): Promise<Array<D & { ms: StateMs }>> {
  if (days.length === 0) return [];
  const starts = days.map((d) => d.day.getTime());
  const window = { from: Math.min(...starts), to: Math.max(...starts) + DAY_MS };
  const groups = await groupBreakdown(sql, days.map((d) => d.node_ids), window, 'day', now);
  return days.map((d, i) => ({ ...d, ms: groups[i]!.buckets.find((b) => b.start === d.day.getTime())?.ms ?? emptyStateMs() }));
}

/**
 * The first day not settled at `now`: the evaluator has judged every node up to SETTLE_MS past the
 * end of each day before it (judgedThrough), so the days before are kept with their numbers and
 * the rest only with the nodes they held. Today at the latest.
 */
async function settledBefore(sql: Sql, now: number): Promise<number> {
  // An ingest process silent for SETTLE_MS has died (a live one flushes every second or so; the
  // evaluator drops it after its coverage gap, seconds): it must not hold every day back.
  const through = Math.min(now, (await judgedThrough(sql, now, SETTLE_MS))?.getTime() ?? now);
  return Math.min(bucketStart(now, 'day'), bucketStart(through - SETTLE_MS, 'day'));
}

/**
 * Keeps the page's days that are over and not kept yet, as its components' nodes now say they
 * were: a day before `settled` with its numbers, one breakdown from the first such day as a read
 * of the page costs; a later day (over, not judged yet) with the nodes each component holds, for
 * the leader to work out once it is judged. A page or component new today thus gets the past its
 * nodes had (there is no other to give it). How many days it kept.
 */
async function keepPage(sql: Sql, page: Pick<StatusPage, 'id' | 'components'>, now: number, settled: number): Promise<number> {
  const keys = componentKeys(page.components);
  const unkept = unkeptDays(keys, await keptDays(sql, page.id, pageWindow(now).from), now);
  const from = Math.min(...unkept.flat());
  if (!Number.isFinite(from)) return 0;
  const members = await componentMembers(sql, page.components);
  const groups = from < settled ? await groupBreakdown(sql, members.map((list) => list.map((m) => m.id)), { from, to: settled }, 'day', now) : [];
  const all = componentDays(keys, [], groups.map((g) => g.buckets), members, now);
  const { from: first } = pageWindow(now);
  const rows = unkept.flatMap((days, i) =>
    days.map((day): StoredDay => {
      if (day >= settled) return { ...keys[i]!, day: new Date(day), nodes: members[i]!.length, ms: null, node_ids: members[i]!.map((m) => m.id) };
      const { ms, nodes } = all[i]![(day - first) / DAY_MS]!;
      return { ...keys[i]!, day: new Date(day), nodes, ms, node_ids: null };
    }),
  );
  await keepDays(sql, page.id, rows);
  return rows.length;
}

/**
 * Where a page whose past could not be kept is told: logged with the page's id and counted
 * (`lifeline_status_page_history_failures_total`). Structural, so the API's and the engine's
 * dependencies are one as they are.
 */
export interface KeepReport {
  log: Logger;
  metrics: { statusPageHistoryFailures: { inc(): void } };
}

/**
 * Keeps each page's days over, page by page. A page that cannot be kept (a node's uptime rows
 * missing, until `npm run uptime:rebuild`) is logged and counted and the others go on: it then
 * shows those days worked out at each read, as before it was kept, and the leader tries it again
 * the next day. How many days were kept.
 */
async function keepEach(sql: Sql, pages: ReadonlyArray<Pick<StatusPage, 'id' | 'components'>>, now: number, report: KeepReport, wait: boolean, settled: number): Promise<number> {
  let days = 0;
  for (const page of pages) {
    try {
      // One process keeps a page at a time. The lock's transaction only holds the lock (idle, one
      // connection); the breakdown reads its own snapshot. Inside it keepPage reads what is kept
      // afresh, so a writer that waited for another finds the days kept and keeps nothing.
      days += await sql.begin(async (tx) => ((await lockPageDays(tx, page.id, wait)) ? keepPage(sql, page, now, settled) : 0));
    } catch (err) {
      failed(report, err, page.id);
    }
  }
  return days;
}

const yesterdayOf = (now: number) => bucketStart(now, 'day') - DAY_MS;

/**
 * Keeps every page's days that are over, judged and not kept yet, so what a page said of a day
 * never changes after it, and works out the provisional days now judged: the leader's pass
 * (PastDays). Every keep fills all of a component's missing days, so a page whose every component
 * kept the last judged day has them all; one statement (pagesToKeep) finds the others, and with
 * none it answers no row (100 pages × 50 components: 5,000 primary-key probes in Postgres, nothing
 * shipped). A page to keep costs one breakdown, as a read of it does. How many days it kept or
 * worked out.
 */
export async function keepPastDays(sql: Sql, now: number, report: KeepReport): Promise<number> {
  return keepSettled(sql, await settledBefore(sql, now), report);
}

/** keepPastDays for the days before `settled`, the first day not judged yet. */
async function keepSettled(sql: Sql, settled: number, report: KeepReport): Promise<number> {
  const kept = await keepEach(sql, await pagesToKeep(sql, settled - DAY_MS), settled, report, false, settled);
  return kept + (await settleEach(sql, await provisionalDays(sql, { before: settled }), settled, report));
}

/**
 * Works out provisional days and writes their numbers, page by page: a page whose days cannot be
 * worked out (a node's uptime rows missing) is logged and counted as keepEach does, and stays
 * provisional for the next pass. How many days got their numbers.
 */
async function settleEach(sql: Sql, days: readonly ProvisionalDay[], now: number, report: KeepReport): Promise<number> {
  const byPage = new Map<string, ProvisionalDay[]>();
  for (const d of days) byPage.set(d.page_id, [...(byPage.get(d.page_id) ?? []), d]);
  let settled = 0;
  for (const [pageId, ofPage] of byPage) {
    try {
      await settleDays(sql, await workedOut(sql, ofPage, now));
      settled += ofPage.length;
    } catch (err) {
      failed(report, err, pageId);
    }
  }
  return settled;
}

function failed(report: KeepReport, err: unknown, pageId: string): void {
  report.log.error({ err, status_page_id: pageId }, 'status page days could not be kept');
  report.metrics.statusPageHistoryFailures.inc();
}

/**
 * Before a write changes what components hold — a node's labels, a node created with labels, a
 * node deleted — keeps the days over of the pages with a component that selects the node (by its
 * id, its labels before or after), and of no other page: a page that never selected it reads the
 * same after the write. A lazy first read after the write would keep the wrong answer, so it is
 * kept here, once the write's own checks have passed; a day not judged yet only with the nodes
 * each component held. A page that cannot be kept does not stop the write.
 */
export async function keepDaysOfNode(sql: Sql, selecting: Selecting, now: number, report: KeepReport): Promise<number> {
  const pages = await pagesToKeep(sql, yesterdayOf(now), selecting);
  // Most node writes touch no page missing a day: then the judged-through read is not made.
  return pages.length === 0 ? 0 : keepEach(sql, pages, now, report, true, await settledBefore(sql, now));
}

/**
 * Before a node is deleted: its uptime rows go with it, so the days it is in are worked out at
 * once, judged or not — the provisional days that hold it, and the unkept days of the pages that
 * select it. A transition of the day's last seconds not yet written is then missed for good; the
 * other choice, keeping the node's rows until the day is judged, would keep a deleted node's data
 * and its name's history around for minutes to days (an evaluator that is down).
 */
export async function keepDaysOfDeleted(sql: Sql, node: { id: string; labels: Record<string, string> }, now: number, report: KeepReport): Promise<number> {
  const settled = await settleEach(sql, await provisionalDays(sql, { nodeId: node.id }), now, report);
  const selecting = { nodeId: node.id, labels: [node.labels] };
  return settled + (await keepEach(sql, await pagesToKeep(sql, yesterdayOf(now), selecting), now, report, true, bucketStart(now, 'day')));
}

/**
 * How long past a day's end the evaluator must have judged before the day is kept with its
 * numbers. A transition is written when it is judged, a few seconds after its `at` (a deadline is
 * judged once every ingest process has stored the heartbeats before it: ARCHITECTURE.md, "Honest
 * time"); five minutes is about a hundred times that lag, for a write that lands just after the
 * judgement.
 */
const SETTLE_MS = 5 * 60_000;

/**
 * How far before the previous pass a page's write may be stamped and still be kept at the next one:
 * a page written (`updated_at`, the writer's clock) just before a pass and committed after its
 * read is not missed, nor one written on an api process whose clock is a little behind.
 */
const WRITTEN_MARGIN_MS = 60_000;

/**
 * The leader's part: at each housekeeping pass after the evaluator has judged past a day's end
 * plus SETTLE_MS (a minute or so after 00:05 UTC with the evaluator running; later when it was
 * down and catches up), keeps every page's days up to that one, works out the provisional ones,
 * and forgets the kept days no page shows any more. The other passes keep only the pages written
 * since the previous one (made, or given a component): a new page's 89 days over are then worked
 * out at each read for a minute, not until the next night. A page that could not be kept is tried
 * again the next day, or when it is written again.
 */
export class PastDays {
  private keptThrough: number | undefined;
  private lastPass = 0;

  constructor(private readonly sql: Sql, private readonly clock: Clock, private readonly report: KeepReport) {}

  async runOnce(): Promise<{ kept: number; forgotten: number }> {
    const now = this.clock.now().getTime();
    const settled = await settledBefore(this.sql, now);
    const done = this.keptThrough === settled ? await this.keepWritten(settled) : await this.keepDay(settled);
    this.lastPass = now;
    return done;
  }

  /** The pages written since the previous pass, with a day already kept for the others. */
  private async keepWritten(settled: number): Promise<{ kept: number; forgotten: number }> {
    const pages = await pagesToKeep(this.sql, settled - DAY_MS, { writtenSince: new Date(this.lastPass - WRITTEN_MARGIN_MS) });
    return { kept: await keepEach(this.sql, pages, settled, this.report, false, settled), forgotten: 0 };
  }

  /** Every page, at the first pass with `settled` a day further (or the first pass of all). */
  private async keepDay(settled: number): Promise<{ kept: number; forgotten: number }> {
    const kept = await keepSettled(this.sql, settled, this.report);
    const forgotten = await forgetDaysBefore(this.sql, pageWindow(settled).from);
    this.keptThrough = settled;
    return { kept, forgotten };
  }
}
