// Status pages as the public sees them: what a component's state is, what each day's bar says, and
// what stays hidden. Pure: the page's data come in as arguments, `now` included.

import type { ErrorDetail } from '../errors.ts';
import { publicReason, type State } from '../health/decide.ts';
import type { WindowAhead } from '../maintenance/model.ts';
import { shownZone } from '../local-time.ts';
import { CATEGORIES, type Category, type Severity } from '../incidents/categorize.ts';
import type { OpenIncidentRow, SpanRow } from '../incidents/model.ts';
import { bucketStart, DAY_MS, type Bucket } from '../uptime/buckets.ts';
import { combine, emptyStateMs, NODE_STATES, perState, type StateMs } from '../uptime/state-time.ts';
import { summarize, type UptimeSummary } from '../uptime/summary.ts';

/**
 * NOTIFY channel: what an api process keeps of its public answers may be wrong now. The payload
 * names the cache to forget, whole: a writer cannot cheaply tell which keys a change touches (a
 * deleted or renamed node is on every page that lists it or matches its labels; a badge is kept
 * per metric, window and label).
 */
export const PUBLIC_CHANNEL = 'lifeline_public';
export type PublicCacheName = 'pages' | 'badges';
export const PUBLIC_CACHES: readonly PublicCacheName[] = ['pages', 'badges'];

export interface ComponentSpec {
  /**
   * Stable through renames and reorders: its kept days are filed under it (status_page_days,
   * sql/0030). Given by the engine; a PATCH sends it back to say "this one".
   */
  id: string;
  name: string;
  /** Nodes listed by id; a deleted node simply stops matching. */
  node_ids: string[];
  /** Nodes carrying all of these labels; `{}` selects none. */
  labels: Record<string, string>;
}

export interface StatusPage {
  id: string;
  slug: string;
  title: string;
  description: string | null;
  public: boolean;
  /** Whether node names, labels and reasons appear on the page. */
  show_nodes: boolean;
  components: ComponentSpec[];
  created_at: Date;
  updated_at: Date;
}

/** A component as a request gives it: its id when it is one the page has, none when it is new. */
export type ComponentInput = Omit<ComponentSpec, 'id'> & { id?: string | undefined };

export type StatusPageInput = Omit<StatusPage, 'id' | 'created_at' | 'updated_at' | 'components'> & { components: ComponentInput[] };

/**
 * The components a request gives, each with its id: the one it sent (the page must have it, and
 * only once: a rename keeps the component's past), else — for clients that never send ids, the
 * console's text among them — the first of the page's components of that name that no other
 * given component claimed, else a new one (`newId`). So renaming without the id, or removing the
 * first of two of one name without ids, still files the past by name and order, as before ids.
 */
export function identifiedComponents(
  given: readonly ComponentInput[],
  current: ReadonlyArray<Pick<ComponentSpec, 'id' | 'name'>>,
  newId: () => string,
): { components: ComponentSpec[]; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const known = new Set(current.map((c) => c.id));
  const claimed = new Set<string>();
  given.forEach((c, i) => {
    if (c.id === undefined) return;
    if (!known.has(c.id)) problems.push({ field: `components.${i}.id`, message: 'is not a component of this page' });
    else if (claimed.has(c.id)) problems.push({ field: `components.${i}.id`, message: 'names a component already given' });
    claimed.add(c.id);
  });
  const components = given.map(({ id, ...c }): ComponentSpec => {
    const byName = id === undefined ? current.find((k) => k.name === c.name && !claimed.has(k.id)) : undefined;
    if (byName) claimed.add(byName.id);
    return { id: id ?? byName?.id ?? newId(), ...c };
  });
  return { components, problems };
}

/** A component must select something: node ids, labels, or both. */
export function componentProblems(components: ReadonlyArray<Pick<ComponentSpec, 'node_ids' | 'labels'>>): ErrorDetail[] {
  return components.flatMap((c, i) => {
    if (c.node_ids.length > 0 || Object.keys(c.labels).length > 0) return [];
    const message = 'node_ids or labels must name at least one node or label';
    return [
      { field: `components.${i}.node_ids`, message },
      { field: `components.${i}.labels`, message },
    ];
  });
}

// 1-64 characters of a-z, 0-9 and '-', neither first nor last a '-': it is a path segment people
// type and read, and a suffix such as ".json" can never be part of it.
export const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** The most components a page holds, each a line of the console's form (component-lines.ts). */
export const MAX_COMPONENTS = 50;

/** Worst first: a component's `state` is its worst node's. */
export const SEVERITY_ORDER: readonly State[] = ['down', 'degraded', 'maintenance', 'unknown', 'healthy'];

/** The worst of these states; `unknown` when there are none (nothing is watched). */
export function worstState(states: Iterable<State>): State {
  let worst = SEVERITY_ORDER.length;
  for (const s of states) worst = Math.min(worst, SEVERITY_ORDER.indexOf(s));
  return SEVERITY_ORDER[worst] ?? 'unknown';
}

/**
 * What a component, and the page as a whole, say to the public — Statuspage's words. A component
 * with one of its two nodes down is a partial outage, not "Down": `state` (its worst node's) stays
 * as it was for the clients that read it, and `status` says how much of the component is out.
 */
export const STATUSES = ['major_outage', 'partial_outage', 'degraded', 'maintenance', 'unknown', 'operational'] as const;
export type Status = (typeof STATUSES)[number];

const CALM: Record<Exclude<State, 'down'>, Status> = { degraded: 'degraded', maintenance: 'maintenance', unknown: 'unknown', healthy: 'operational' };

/**
 * A major outage when every node outside maintenance is down (a node in a planned window serves
 * nobody either), a partial one when some are; without any node down, its worst node's state.
 */
export function componentStatus(states: readonly State[]): Status {
  const down = states.filter((s) => s === 'down').length;
  if (down > 0) return down === states.filter((s) => s !== 'maintenance').length ? 'major_outage' : 'partial_outage';
  return CALM[worstState(states) as Exclude<State, 'down'>];
}

/**
 * The page's headline: a major outage only when every component is out, a partial one when any
 * is out at all, else the worst of the rest; `unknown` for a page without components.
 */
export function pageStatus(statuses: readonly Status[]): Status {
  if (statuses.length > 0 && statuses.every((s) => s === 'major_outage')) return 'major_outage';
  if (statuses.includes('major_outage')) return 'partial_outage';
  return STATUSES.find((s) => statuses.includes(s)) ?? 'unknown';
}

/**
 * What a day's bar shows. Any time down makes it a down day and any degraded time a degraded one,
 * whatever the ratio: a short outage is still an outage. Maintenance comes next, so a day with a
 * window shows it. A day with no time in any of these — nothing was watched (unknown, or before
 * the nodes existed) — is "no data", never 100 % or 0 %.
 */
export type DayStatus = 'down' | 'degraded' | 'maintenance' | 'operational' | 'no_data';

export function dayStatus(ms: StateMs): DayStatus {
  if (ms.down > 0) return 'down';
  if (ms.degraded > 0) return 'degraded';
  if (ms.maintenance > 0) return 'maintenance';
  if (ms.healthy > 0) return 'operational';
  return 'no_data';
}

/** Days of bars, and of the uptime figure beside them. */
export const PAGE_DAYS = 90;

/**
 * The uptime window of a page built at `now`: the 90 UTC days its bars show, today so far included
 * — from the start of the day 89 days ago to `now`. The figure beside the bars is then exactly the
 * sum of the bars, and it is what `GET /v1/nodes/{id}/uptime?from=…&to=…` (or the fleet report
 * over the same nodes) answers for that `from` and `to`. Starting on a day boundary also spares
 * the reads a partial first day would need (its hours and the log before them): a third of the
 * statements of the page's breakdown.
 */
export function pageWindow(now: number): { from: number; to: number } {
  return { from: bucketStart(now, 'day') - (PAGE_DAYS - 1) * DAY_MS, to: now };
}

/** A component as its kept days name it: its id (not its name nor its place; see ComponentSpec). */
export interface ComponentKey {
  component_id: string;
}

export function componentKeys(components: ReadonlyArray<Pick<ComponentSpec, 'id'>>): ComponentKey[] {
  return components.map(({ id }) => ({ component_id: id }));
}

/** A component's day: its nodes' time summed, and how many nodes it held that day. */
export interface ComponentDay extends Bucket {
  nodes: number;
}

/** A component's day as kept once it was over. */
export interface KeptDay extends ComponentKey {
  day: Date;
  nodes: number;
  ms: StateMs;
}

/**
 * A day as stored: kept with its numbers, or provisional (`ms` null) with the nodes the component
 * held, when a write changed them before the evaluator had judged the day (ARCHITECTURE.md, "A
 * day that is over stays as it was").
 */
export interface StoredDay extends Omit<KeptDay, 'ms'> {
  ms: StateMs | null;
  node_ids: string[] | null;
}

const keyOf = (k: ComponentKey, day: number) => `${day} ${k.component_id}`;

/**
 * The days of the page window at `now` that are over (the 89 before today) and that some
 * component has not kept yet, each component's list in day order. A page whose every component
 * kept them all has none: its past is read, and only today is worked out.
 */
export function unkeptDays(keys: readonly ComponentKey[], kept: ReadonlyArray<Pick<KeptDay, 'component_id' | 'day'>>, now: number): number[][] {
  const have = new Set(kept.map((k) => keyOf(k, k.day.getTime())));
  const { from } = pageWindow(now);
  const today = bucketStart(now, 'day');
  return keys.map((key) => {
    const days: number[] = [];
    for (let day = from; day < today; day += DAY_MS) if (!have.has(keyOf(key, day))) days.push(day);
    return days;
  });
}

/**
 * Each component's 90 days: a kept day as kept, the rest (today, and a past day not kept yet) as
 * `live` says with the nodes the component holds now. `live[i]` are day buckets up to `now`
 * starting at any day of the window.
 */
export function componentDays(
  keys: readonly ComponentKey[],
  kept: readonly KeptDay[],
  live: ReadonlyArray<readonly Bucket[]>,
  members: ReadonlyArray<readonly unknown[]>,
  now: number,
): ComponentDay[][] {
  const byKey = new Map(kept.map((k) => [keyOf(k, k.day.getTime()), k]));
  const { from } = pageWindow(now);
  return keys.map((key, i) => {
    const liveOf = new Map((live[i] ?? []).map((b) => [b.start, b]));
    return Array.from({ length: PAGE_DAYS }, (_, d): ComponentDay => {
      const start = from + d * DAY_MS;
      const day = byKey.get(keyOf(key, start));
      if (day) return { start, ms: day.ms, nodes: day.nodes };
      return { start, ms: liveOf.get(start)?.ms ?? emptyStateMs(), nodes: members[i]?.length ?? 0 };
    });
  });
}

/** A node as a page may show it (only with `show_nodes`). */
export interface Member {
  id: string;
  name: string;
  labels: Record<string, string>;
  state: State;
  since: Date;
  reason: string | null;
}

/** One maintenance window as the public sees it; `until` null while it is open-ended. */
export interface WindowView {
  from: string;
  until: string | null;
  /**
   * The IANA zone the window was typed in (by its canonical name): the page says its times on that
   * clock, UTC beside. null: given as instants, or a zone this engine does not know.
   */
  time_zone: string | null;
}

/**
 * From the earliest start to the latest end of some windows. `time_zone` is theirs when they share
 * one, else null (the span is said in UTC); `windows` gives each its own zone, those that read the
 * same once, soonest first.
 */
export interface MaintenanceView extends WindowView {
  windows: WindowView[];
}

/** Maintenance yet to begin, by the components it touches; windows that read the same are one entry. */
export interface ScheduledView extends WindowView {
  components: string[];
}

/** What a page shows of an open incident. */
export type OpenIncident = Pick<OpenIncidentRow, 'node_id' | 'category' | 'severity' | 'status' | 'title' | 'opened_at' | 'acknowledged_at'>;

export interface DayBar {
  date: string;
  status: DayStatus;
  uptime_ratio: number | null;
  seconds: StateMs;
}

/** The days a phone shows of the bars, and the uptime figure beside them covers (`uptime_30d`). */
export const RECENT_DAYS = 30;

export interface ComponentView {
  name: string;
  /** Its worst node's state, as before `status` existed. */
  state: State;
  status: Status;
  /** The windows its nodes in maintenance are in now; null when none is. */
  maintenance: MaintenanceView | null;
  uptime: { from: string; to: string } & UptimeSummary;
  /** Over the last RECENT_DAYS bars: the figure a phone shows, in the JSON too so it is not the renderer's own sum. */
  uptime_30d: { from: string; to: string } & UptimeSummary;
  days: DayBar[];
  /** With `show_nodes` only. */
  labels?: Record<string, string>;
  nodes?: Array<{ name: string; state: State; since: string; reason: string | null }>;
}

export interface IncidentView {
  title: string;
  components: string[];
  severity: Severity;
  /** `acknowledged` once every incident in the entry is. */
  status: 'open' | 'acknowledged';
  /**
   * With `show_nodes`, when the node's incident opened; without, when its components' ongoing
   * outage of that kind began (the start their Recent incidents entry gives), which may be before
   * any of its incidents opened: a node back up since went down first.
   */
  opened_at: string;
  acknowledged_at: string | null;
}

/**
 * An entry of "Recent incidents": a component's nodes' incidents that overlapped, as one span (see
 * pastIncidentViews). `resolved_at` and `duration_seconds` are null while it is ongoing;
 * `duration_seconds` is the time out, which is less than `started_at` to `resolved_at` when it
 * holds stretches FLAP_GAP_MS apart or less (the gaps are not counted: the day bars count them up).
 */
export interface PastIncidentView {
  title: string;
  components: string[];
  severity: Severity;
  status: 'ongoing' | 'resolved';
  started_at: string;
  resolved_at: string | null;
  duration_seconds: number | null;
  /** With `show_nodes` only: the nodes whose incidents it holds. */
  nodes?: string[];
}

export interface PageView {
  slug: string;
  title: string;
  description: string | null;
  /** Its components' worst `state`, as before `status` existed. */
  state: State;
  status: Status;
  /** Every component's maintenance now, as one span; null when there is none. */
  maintenance: MaintenanceView | null;
  updated_at: string;
  components: ComponentView[];
  incidents: IncidentView[];
  /**
   * "Recent incidents": the ongoing entries (all of them), then the newest resolved ones over the
   * last PAST_DAYS, PAST_MAX in all unless more are ongoing; each part newest first.
   */
  past_incidents: PastIncidentView[];
  /** Resolved entries of those days older than the ones listed. */
  past_incidents_more: number;
  /** Soonest first: those starting within SCHEDULED_DAYS, at most SCHEDULED_MAX. */
  scheduled: ScheduledView[];
}

const iso = (t: number | Date) => new Date(t).toISOString();

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** By start, then by end (open-ended last: "~" sorts after every ISO time). */
const soonestFirst = (a: WindowView, b: WindowView) => compare(a.from, b.from) || compare(a.until ?? '~', b.until ?? '~');

/**
 * Each window by its canonical zone: a window kept before the API stored canonical names is as
 * typed ("europe/berlin" and "Europe/Berlin" are one zone). Each name once, not each window:
 * shownZone builds an Intl formatter, and a span can hold hundreds of windows.
 */
function windowViews(windows: readonly WindowAhead[]): WindowView[] {
  const zones = new Map([...new Set(windows.map((w) => w.time_zone))].map((z) => [z, shownZone(z) ?? null]));
  return windows.map((w) => ({ from: iso(w.starts_at), until: w.ends_at && iso(w.ends_at), time_zone: zones.get(w.time_zone) ?? null }));
}

function span(windows: readonly WindowAhead[]): MaintenanceView | null {
  if (windows.length === 0) return null;
  const each = new Map(windowViews(windows).map((w) => [JSON.stringify(w), w]));
  const views = [...each.values()].sort(soonestFirst);
  const open = views.some((w) => w.until === null);
  const zones = new Set(views.map((w) => w.time_zone));
  return {
    from: views[0]!.from,
    until: open ? null : views.map((w) => w.until!).reduce((a, b) => (a > b ? a : b)),
    time_zone: zones.size === 1 ? views[0]!.time_zone : null,
    windows: views,
  };
}

/** The windows that hold any of these members that are in maintenance now. */
function holding(open: readonly WindowAhead[], members: readonly Member[]): WindowAhead[] {
  const ids = new Set(members.filter((m) => m.state === 'maintenance').map((m) => m.id));
  return open.filter((w) => w.node_ids.some((id) => ids.has(id)));
}

/**
 * How far ahead "Scheduled maintenance" looks, and how many entries it lists: a page is read for
 * what is coming soon, and a year of weekly windows would be 52 entries above nothing useful.
 */
export const SCHEDULED_DAYS = 14;
export const SCHEDULED_MAX = 10;

/**
 * Windows yet to begin within SCHEDULED_DAYS, each under the components it touches, the soonest
 * SCHEDULED_MAX entries. Only component names and times: a window's nodes and reason stay private
 * whatever the page shows.
 */
function scheduledViews(page: StatusPage, members: ReadonlyArray<readonly Member[]>, ahead: readonly WindowAhead[], now: number): ScheduledView[] {
  const entries = new Map<string, ScheduledView>();
  const horizon = now + SCHEDULED_DAYS * DAY_MS;
  for (const w of ahead) {
    if (w.starts_at.getTime() > horizon) continue;
    // A set per window: a page of 500 nodes against windows of hundreds is otherwise their product.
    const covered = new Set(w.node_ids);
    const components = page.components.filter((_, i) => (members[i] ?? []).some((m) => covered.has(m.id))).map((c) => c.name);
    if (components.length === 0) continue;
    const entry: ScheduledView = { components, ...windowViews([w])[0]! };
    entries.set(JSON.stringify(entry), entry);
  }
  return [...entries.values()].sort(soonestFirst).slice(0, SCHEDULED_MAX);
}

/**
 * A component's figures in its own time, not its nodes' summed: every second divided by how many
 * nodes it has, so a day of three nodes reads 86,400 s, not 259,200 s, and the JSON does not say
 * how many there are (the page does not either). Each state rounded up to whole seconds (up and
 * monitored are their sums): 600 s down over 7 nodes is 85.714… s, whose decimals would name the
 * 7; up, so time there is never 0 and a day with nothing monitored is still the only one at 0
 * (the largest state excepted, below). The ratio is the nodes' own, unchanged.
 */
function componentSummary(ms: StateMs, nodes: number): UptimeSummary {
  const per = Math.max(nodes, 1) * 1000;
  // Integers divided by an integer: a quotient that is whole comes out exact, never 86,400.0000001.
  const each = perState((state) => Math.ceil(ms[state] / per));
  // Each state rounded up made a day of 86,314.3 s healthy and 85.7 s down 86,401 s: the largest
  // state gives back what the others' rounding added, so the states sum to the whole time rounded
  // up (86,400), and it stays at least 1 s when it had any time.
  const total = Math.ceil(NODE_STATES.reduce((sum, state) => sum + ms[state], 0) / per);
  const largest = NODE_STATES.reduce((a, state) => (ms[state] > ms[a] ? state : a));
  const others = NODE_STATES.reduce((sum, state) => (state === largest ? sum : sum + each[state]), 0);
  each[largest] = Math.max(total - others, ms[largest] > 0 ? 1 : 0);
  return { ...summarize(perState((state) => each[state] * 1000)), uptime_ratio: summarize(ms).uptime_ratio };
}

/**
 * Days' figures together, in the component's time. Days kept with another number of nodes are
 * brought to the largest number first (their milliseconds scaled, rounded to the millisecond), so
 * a day of 2 nodes and a day of 3 each count as one component-day; with the same number all along,
 * as almost always, nothing is scaled and the figure is the nodes' own, as before days were kept.
 */
function daysSummary(days: readonly ComponentDay[]): UptimeSummary {
  const nodes = days.reduce((most, d) => Math.max(most, d.nodes), 1);
  const scaled = days.map((d) => (d.nodes === nodes || d.nodes === 0 ? d.ms : perState((state) => Math.round((d.ms[state] * nodes) / d.nodes))));
  return componentSummary(combine(scaled), nodes);
}

function componentView(
  page: StatusPage,
  spec: ComponentSpec,
  members: readonly Member[],
  days: readonly ComponentDay[],
  window: { from: number; to: number },
  open: readonly WindowAhead[],
): ComponentView {
  const bars = days.map((b): DayBar => {
    const { uptime_ratio, seconds } = componentSummary(b.ms, b.nodes);
    return { date: iso(b.start).slice(0, 10), status: dayStatus(b.ms), uptime_ratio, seconds };
  });
  const recent = days.slice(-RECENT_DAYS);
  const view: ComponentView = {
    name: spec.name,
    state: worstState(members.map((m) => m.state)),
    status: componentStatus(members.map((m) => m.state)),
    maintenance: span(holding(open, members)),
    uptime: { from: iso(window.from), to: iso(window.to), ...daysSummary(days) },
    uptime_30d: { from: iso(recent[0]?.start ?? window.to), to: iso(window.to), ...daysSummary(recent) },
    days: bars,
  };
  if (!page.show_nodes) return view;
  const order = (m: Member) => SEVERITY_ORDER.indexOf(m.state);
  view.labels = spec.labels;
  view.nodes = [...members]
    .sort((a, b) => order(a) - order(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((m) => ({ name: m.name, state: m.state, since: iso(m.since), reason: m.reason && publicReason(m.reason) }));
  return view;
}

const WORDS: Record<Category, string> = { node_down: 'Outage', node_degraded: 'Degraded service' };

/**
 * An incident's words, agreeing with its components' status: a node down in a component that still
 * serves from others is "Partial outage in CDN", as the component reads, not "Outage in CDN".
 */
function incidentWord(category: Category, components: readonly string[], statusOf: ReadonlyMap<string, Status>): string {
  if (category === 'node_down' && components.some((c) => statusOf.get(c) !== 'major_outage')) return 'Partial outage';
  return WORDS[category];
}

/**
 * Open incidents under the page's components, newest first. With node names shown each incident
 * is an entry under its own title (which names its node). Without, the title says only what and
 * where ("Outage in API"), and the incidents that read the same are one entry: since the earliest,
 * acknowledged once all of them are; how many nodes is not said, as the page says nothing of a
 * component's size. Such an entry starts where its components' ongoing entry under Recent
 * incidents does (`ongoingSince`, by component index and kind): the component's outage, which may
 * have begun with a node back up since; with names shown an entry is one node's, since its
 * incident opened. An incident whose node is
 * in maintenance now is left out: its component already reads "Maintenance", and "Outage in API"
 * beside it would say two things at once (it is listed again if the node is still down when the
 * window ends).
 */
function incidentViews(
  page: StatusPage,
  members: ReadonlyArray<readonly Member[]>,
  incidents: readonly OpenIncident[],
  statusOf: ReadonlyMap<string, Status>,
  ongoingSince: ReadonlyMap<string, number>,
): IncidentView[] {
  const componentsOf = new Map<string, string[]>();
  const indicesOf = new Map<string, number[]>();
  members.forEach((list, i) =>
    list.forEach((m) => {
      if (m.state === 'maintenance') return;
      const names = componentsOf.get(m.id) ?? [];
      if (!names.includes(page.components[i]!.name)) componentsOf.set(m.id, [...names, page.components[i]!.name]);
      indicesOf.set(m.id, [...(indicesOf.get(m.id) ?? []), i]);
    }),
  );
  const entries = new Map<string, IncidentView>();
  for (const incident of incidents) {
    const components = componentsOf.get(incident.node_id);
    if (!components) continue;
    const title = page.show_nodes ? incident.title : `${incidentWord(incident.category, components, statusOf)} in ${components.join(', ')}`;
    const key = page.show_nodes ? `${incident.node_id} ${incident.category}` : title;
    const entry = entries.get(key);
    const acknowledged = incident.acknowledged_at ? iso(incident.acknowledged_at) : null;
    const starts = page.show_nodes ? [] : indicesOf.get(incident.node_id)!.flatMap((i) => ongoingSince.get(ongoingKey(i, incident.category)) ?? []);
    const opened = iso(starts.length ? Math.min(...starts) : incident.opened_at.getTime());
    if (!entry) {
      entries.set(key, {
        title,
        components,
        severity: CATEGORIES[incident.category].severity,
        status: incident.status,
        opened_at: opened,
        acknowledged_at: acknowledged,
      });
      continue;
    }
    if (opened < entry.opened_at) entry.opened_at = opened;
    if (incident.status === 'open' || entry.status === 'open') {
      entry.status = 'open';
      entry.acknowledged_at = null;
    } else if (acknowledged && (!entry.acknowledged_at || acknowledged > entry.acknowledged_at)) {
      entry.acknowledged_at = acknowledged;
    }
  }
  return [...entries.values()].sort((a, b) => (a.opened_at > b.opened_at ? -1 : a.opened_at < b.opened_at ? 1 : 0));
}

/**
 * How far back "Recent incidents" looks, as Statuspage's own history page (15 days) and Gatus's
 * (recent events) do, and how many entries it lists: a 500-node fleet with two incidents per node a
 * week has 2,000 incidents in 14 days, most of them merged but still hundreds of entries, and the
 * page is read for what happened lately, not as an incident log (the console has that).
 */
export const PAST_DAYS = 14;
export const PAST_MAX = 20;

/** A component's (by index) ongoing entry of a kind, as pastIncidentViews gives their starts. */
const ongoingKey = (component: number, category: Category) => `${component} ${category}`;

/** Where "Recent incidents" starts at `now`: an incident open at any time since is listed. */
export function pastSince(now: number): number {
  return now - PAST_DAYS * DAY_MS;
}

/** Where a node was in maintenance: [start, end), `end` Infinity while it still is. */
export interface Away {
  start: number;
  end: number;
}

/** A node's incident of one kind, or a part of it left between maintenance: `end` Infinity while it goes on. */
interface Piece extends Away {
  node: string;
  category: Category;
  /**
   * The last piece of an incident resolved since: nothing of it follows. Its end is the resolution,
   * or the start of a window the incident was resolved in (down 08:40–08:48, a window from 08:45).
   */
  resolved: boolean;
}

/** What of [start, end) is outside `away` (in start order, not overlapping). */
function outside(start: number, end: number, away: readonly Away[]): Away[] {
  const out: Away[] = [];
  let from = start;
  for (const a of away) {
    if (a.start >= end) break;
    if (a.start > from) out.push({ start: from, end: a.start });
    from = Math.max(from, a.end);
  }
  if (from < end) out.push({ start: from, end });
  return out;
}

/** The same spans as one list, in start order, none overlapping another. */
function merged(spans: readonly Away[]): Away[] {
  const out: Away[] = [];
  for (const a of [...spans].sort((x, y) => x.start - y.start)) {
    const last = out.at(-1);
    if (last && a.start <= last.end) last.end = Math.max(last.end, a.end);
    else out.push({ ...a });
  }
  return out;
}

interface Span {
  component: number;
  category: Category;
  start: number;
  /** Infinity while any of its incidents is open. */
  end: number;
  /** How long, of start to end, any of its nodes was out: the span less its gaps. */
  out: number;
  nodes: Set<string>;
  pieces: Piece[];
  /** Whether its `end` so far is where an incident ended, resolved (not a window's start the incident stayed open through, nor still open). */
  resolved: boolean;
  /** Where its latest stretch after a resolution began: its pieces and time out before it. */
  since: { pieces: number; end: number; out: number } | null;
}

/**
 * Stretches of one kind of a component closer than this are one entry: a node failing a minute
 * in every six made an entry a minute, 20 of them filled the list in two hours and pushed out an
 * hour's outage of three days before. A quarter of an hour back up is still "the same trouble" to
 * a reader; longer, and it reads as a new incident.
 */
export const FLAP_GAP_MS = 15 * 60_000;

/**
 * How long every node of `held` was out at once within the span, one of them down: a sweep of
 * its nodes' pieces down and of `held`'s maintenance within it (a node in a window serves nobody,
 * as componentStatus counts it). Ends before starts at one instant: api-1 down until 05:30 and
 * api-2 from 05:30 is never both.
 */
function allOutMs(span: Span, held: readonly Member[], away: ReadonlyMap<string, readonly Away[]>): number {
  const events: Array<[at: number, down: number, serviced: number]> = span.pieces.flatMap((p): Array<[number, number, number]> => [[p.start, 1, 0], [p.end, -1, 0]]);
  for (const m of held) {
    for (const a of away.get(m.id) ?? []) {
      const start = Math.max(a.start, span.start);
      const end = Math.min(a.end, span.end);
      if (start < end) events.push([start, 0, 1], [end, 0, -1]);
    }
  }
  events.sort((a, b) => a[0] - b[0] || a[1] + a[2] - (b[1] + b[2]));
  let down = 0;
  let serviced = 0;
  let total = 0;
  let since = 0;
  for (const [at, d, s] of events) {
    if (down > 0 && down + serviced >= held.length) total += at - since;
    down += d;
    serviced += s;
    since = at;
  }
  return total;
}

/**
 * A resolved span is "Outage" when every node was out at once for a minute in all, or for half its
 * time out: an engine restart takes all of a component's nodes out for a few seconds (4 s seen), and
 * that inside two hours of one node down is no outage of the component; a 4 s blip of all of them,
 * and nothing else, is.
 */
const ALL_OUT_MIN_MS = 60_000;
const ALL_OUT_MIN_SHARE = 0.5;
const wholly = (allOut: number, out: number) => allOut > 0 && (allOut >= ALL_OUT_MIN_MS || allOut >= out * ALL_OUT_MIN_SHARE);

/**
 * "Recent incidents": per component, its nodes' incidents of one kind (down, or degraded) that
 * overlap in time, or follow within FLAP_GAP_MS, are one entry, from the first opening to the last
 * resolution (but for an ongoing one, which starts after the last resolution before it: ongoingApart), its length the time out; time in maintenance (`maintained`, and a node's `since`
 * while it is in a window now) is cut out of them. A rack of 25 nodes going down together is one
 * outage of the component, not 25, and a page without node names never says how many nodes it
 * took. Kinds apart, so a degradation open for a month does not swallow the outages within it.
 * An ongoing one reads as its component does now, as its open incident (incidentWord); one over is
 * "Partial" unless every node the component holds now was out at once long enough (wholly).
 * Components with the very same entry (a node in two of them) are one entry naming both. Only component names and times, and node names only where the page shows them; never
 * labels, reasons, ids or notes. Membership is the components' nodes of now, as for the open
 * incidents. `incidents` are those open at any time since pastSince(now) (incidentsSince).
 */
function pastIncidentViews(
  page: StatusPage,
  members: ReadonlyArray<readonly Member[]>,
  incidents: readonly SpanRow[],
  maintained: ReadonlyMap<string, readonly Away[]>,
  statusOf: ReadonlyMap<string, Status>,
): { entries: PastIncidentView[]; more: number; ongoingSince: Map<string, number> } {
  const componentsOf = new Map<string, number[]>();
  const nameOf = new Map<string, string>();
  const away = new Map<string, Away[]>();
  members.forEach((list, i) =>
    list.forEach((m) => {
      componentsOf.set(m.id, [...(componentsOf.get(m.id) ?? []), i]);
      nameOf.set(m.id, m.name);
      const current = m.state === 'maintenance' ? [{ start: m.since.getTime(), end: Infinity }] : [];
      away.set(m.id, merged([...(maintained.get(m.id) ?? []), ...current]));
    }),
  );
  // An incident open when its node went into maintenance stays open through the window (followNodes),
  // but the node was no longer out: the day's bar counts maintenance, and the component read
  // Maintenance, as it does now for one still in a window.
  const pieces: Piece[] = [];
  for (const { node_id, category, opened_at, resolved_at } of incidents) {
    const parts = outside(opened_at.getTime(), resolved_at?.getTime() ?? Infinity, away.get(node_id) ?? []);
    parts.forEach((p, k) => pieces.push({ start: p.start, end: p.end, node: node_id, category, resolved: resolved_at !== null && k === parts.length - 1 }));
  }
  const sorted = pieces.sort((a, b) => a.start - b.start);
  const open = members.map(() => new Map<Category, Span>());
  const spans: Span[] = [];
  for (const piece of sorted) {
    const { node: node_id, category, start, end } = piece;
    for (const component of componentsOf.get(node_id) ?? []) {
      let span = open[component]!.get(category);
      if (!span || start - span.end >= FLAP_GAP_MS) {
        span = { component, category, start, end: start, out: 0, nodes: new Set(), pieces: [], resolved: false, since: null };
        open[component]!.set(category, span);
        spans.push(span);
      } else if (start > span.end && span.resolved) {
        span.since = { pieces: span.pieces.length, end: span.end, out: span.out };
      }
      // Pieces come in start order: what of this one is past the span's end so far is new time out.
      // An open span's out stays Infinity (never shown): a second open piece would make it
      // Infinity - Infinity, NaN, which equals nothing, and split an entry two components share.
      if (span.end !== Infinity) span.out += Math.max(end - Math.max(start, span.end), 0);
      if (end >= span.end) span.resolved = end === span.end ? span.resolved || piece.resolved : piece.resolved;
      span.end = Math.max(span.end, end);
      span.nodes.add(node_id);
      span.pieces.push(piece);
    }
  }
  ongoingApart(spans);
  const wordOf = (span: Span) => {
    if (!Number.isFinite(span.end)) return incidentWord(span.category, [page.components[span.component]!.name], statusOf);
    return span.category === 'node_down' && !wholly(allOutMs(span, members[span.component] ?? [], away), span.out) ? 'Partial outage' : WORDS[span.category];
  };
  const entries = pastEntries(spans, wordOf);
  // Ongoing ones first, all of them: the newest outages of a busy fortnight must not push one that
  // is still going on off the list. The resolved ones fill the rest, newest first.
  // By start as numbers (the ISO times shown order as their milliseconds do), ties as the spans came.
  const newestFirst = entries.sort((a, b) => b.start - a.start || a.first - b.first);
  const ongoing = newestFirst.filter((e) => !Number.isFinite(e.end));
  const resolved = newestFirst.filter((e) => Number.isFinite(e.end));
  const listed = [...ongoing, ...resolved.slice(0, Math.max(PAST_MAX - ongoing.length, 0))];
  const shown = listed.map((entry): PastIncidentView => {
    const [span, ...others] = entry.spans as [Span, ...Span[]];
    const components: string[] = [];
    for (const s of entry.spans) if (!components.includes(page.components[s.component]!.name)) components.push(page.components[s.component]!.name);
    const done = Number.isFinite(span.end);
    const view: PastIncidentView = {
      title: `${entry.word ?? wordOf(span)} in ${components.join(', ')}`,
      components,
      severity: CATEGORIES[span.category].severity,
      status: done ? 'resolved' : 'ongoing',
      started_at: iso(span.start),
      resolved_at: done ? iso(span.end) : null,
      duration_seconds: done ? Math.round(span.out / 1000) : null,
    };
    if (!page.show_nodes) return view;
    const nodeIds = new Set(span.nodes);
    for (const s of others) s.nodes.forEach((id) => nodeIds.add(id));
    return { ...view, nodes: [...nodeIds].map((id) => nameOf.get(id)!).sort(compare) };
  });
  const ongoingSince = new Map(spans.filter((s) => s.end === Infinity).map((s) => [ongoingKey(s.component, s.category), s.start]));
  return { entries: shown, more: newestFirst.length - shown.length, ongoingSince };
}

/**
 * An ongoing span that holds stretches resolved before its latest one began, 15 minutes apart or
 * less, split in two: those as one resolved span, and the ongoing one from where the trouble going
 * on now began. Merged, a node down 03:22–03:23 and again from 03:25 read "Ongoing · since 03:22"
 * under Recent incidents while its open incident said "Since 03:25", and the episode before was
 * nowhere. A stretch cut by a maintenance window its incident stayed open through was not
 * resolved: it stays part of it. One whose incident was resolved inside the window was.
 */
function ongoingApart(spans: Span[]): void {
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i]!;
    if (span.end !== Infinity || span.since === null) continue;
    const { pieces, end, out } = span.since;
    const before = span.pieces.slice(0, pieces);
    const resolved: Span = { ...span, end, out, nodes: new Set(before.map((p) => p.node)), pieces: before, resolved: true, since: null };
    span.pieces = span.pieces.slice(pieces);
    span.start = span.pieces[0]!.start;
    span.out -= out;
    span.nodes = new Set(span.pieces.map((p) => p.node));
    span.since = null;
    spans.splice(i++, 0, resolved);
  }
}

/** An entry of "Recent incidents": its spans in order, the first of them `first` among all. */
interface Entry {
  start: number;
  end: number;
  first: number;
  spans: Span[];
  /** Its title's word where it was worked out; else its first span's (wordOf). */
  word: string | undefined;
}

/**
 * The entries the spans make: spans of one start, end, time out and word are one entry (a node in
 * two components). The word of an outage takes a sweep (allOutMs), so it is worked out only where it
 * decides whether two spans are one, else for the entries listed: of the ~1,160 entries of a
 * 500-node fortnight (benchmark section 10) all but 20 are only counted. Sweeping, naming and
 * dating every one of them made the list 13.7 ms of CPU; this, with times kept as numbers, 2.1 ms.
 */
function pastEntries(spans: readonly Span[], wordOf: (span: Span) => string): Entry[] {
  const alike = new Map<number, Span[][]>();
  spans.forEach((span) => {
    let same = alike.get(span.start);
    if (!same) alike.set(span.start, (same = []));
    const group = same.find(([s]) => s!.end === span.end && s!.out === span.out && s!.category === span.category);
    if (group) group.push(span);
    else same.push([span]);
  });
  const index = new Map(spans.map((s, i) => [s, i]));
  const entries: Entry[] = [];
  for (const same of alike.values()) {
    for (const group of same) {
      const first = group[0]!;
      if (group.length === 1 || first.category !== 'node_down') {
        entries.push({ start: first.start, end: first.end, first: index.get(first)!, spans: group, word: first.category === 'node_down' ? undefined : wordOf(first) });
        continue;
      }
      const byWord = new Map<string, Entry>();
      for (const span of group) {
        const word = wordOf(span);
        const entry = byWord.get(word);
        if (entry) entry.spans.push(span);
        else byWord.set(word, { start: span.start, end: span.end, first: index.get(span)!, spans: [span], word });
      }
      entries.push(...byWord.values());
    }
  }
  return entries;
}

/**
 * The page as published: per component its state, its 90-day uptime and 90 daily bars, the open
 * incidents, the past ones and the maintenance now and ahead. `members[i]` and `days[i]` belong
 * to component i; `days[i]` are the 90 days of `pageWindow(now)` (componentDays); `past` are the
 * members' incidents open at any time since `pastSince(now)`; `windows` are those open at `now` or yet to
 * begin that cover any of the members; `maintained`, by node, when those of the past incidents'
 * components were in maintenance since then (maintenanceSince).
 */
export function pageView(
  page: StatusPage,
  members: ReadonlyArray<readonly Member[]>,
  days: ReadonlyArray<readonly ComponentDay[]>,
  incidents: readonly OpenIncident[],
  past: readonly SpanRow[],
  windows: readonly WindowAhead[],
  now: number,
  maintained: ReadonlyMap<string, readonly Away[]> = new Map(),
): PageView {
  const window = pageWindow(now);
  const open = windows.filter((w) => w.starts_at.getTime() <= now);
  const components = page.components.map((spec, i) => componentView(page, spec, members[i] ?? [], days[i] ?? [], window, open));
  const statusOf = new Map(components.map((c) => [c.name, c.status]));
  const history = pastIncidentViews(page, members, past, maintained, statusOf);
  return {
    slug: page.slug,
    title: page.title,
    description: page.description,
    state: worstState(components.map((c) => c.state)),
    status: pageStatus(components.map((c) => c.status)),
    maintenance: span(holding(open, members.flat())),
    updated_at: iso(now),
    components,
    incidents: incidentViews(page, members, incidents, statusOf, history.ongoingSince),
    past_incidents: history.entries,
    past_incidents_more: history.more,
    scheduled: scheduledViews(page, members, windows.filter((w) => w.starts_at.getTime() > now), now),
  };
}
