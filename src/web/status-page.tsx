// /status/{slug} as HTML: the page's data (statuspages/model.ts) as people read it. Server-rendered,
// no script; each day is a bar that says its day when tapped or hovered, 90 of them wide, 30 on a
// phone, and every day's figures are one Tab stop away in a list under them.

import { raw } from 'hono/html';
import type { State } from '../health/decide.ts';
import { PAST_DAYS, RECENT_DAYS, type ComponentView, type DayBar, type IncidentView, type MaintenanceView, type PageView, type PastIncidentView, type ScheduledView, type Status } from '../statuspages/model.ts';
import { duration } from '../console/format.ts';
import { type ClockWords, zonedTime } from '../local-time.ts';
import { percent } from '../uptime/percent.ts';
import { documentOf, dotIcon, Layout } from './layout.tsx';

/** At most this many components are named in a line of the banner; the rest are counted. */
const NAMED_MAX = 3;

/** "DNS", "DNS and CDN", "DNS, CDN and Search", "DNS, CDN, Search and 2 more". */
function names(list: readonly string[]): string {
  if (list.length === 1) return list[0]!;
  const shown = list.slice(0, NAMED_MAX);
  const rest = list.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

/** A line of the banner for components in one state: "DNS is down", "DNS and CDN are down", "5 components are down: …". */
function affected(list: readonly string[], one: string, many: string): string {
  if (list.length > NAMED_MAX) return `${list.length} components ${many}: ${names(list)}`;
  return `${names(list)} ${list.length === 1 ? one : many}`;
}

// The banner's lines, worst first: what is out, partly out, degraded, not reporting.
const TROUBLE: Array<[Status, (list: readonly string[]) => string]> = [
  ['major_outage', (l) => affected(l, 'is down', 'are down')],
  ['partial_outage', (l) => (l.length > NAMED_MAX ? `Partial outage in ${l.length} components: ${names(l)}` : `Partial outage in ${names(l)}`)],
  ['degraded', (l) => affected(l, 'is degraded', 'are degraded')],
  ['unknown', (l) => affected(l, 'is not reporting', 'are not reporting')],
];

/**
 * The banner's words: what is affected, by name, so a reader knows at a glance whether their
 * component is among them without scrolling through 20 green ones. A page whose every component
 * is out says so; maintenance is its own line (maintenanceLine), kept when something else is down.
 */
function headline(view: PageView): string | null {
  if (view.status === 'major_outage') return 'Major outage: every component is down';
  const lines = TROUBLE.map(([status, line]) => {
    const list = view.components.filter((c) => c.status === status).map((c) => c.name);
    return list.length ? line(list) : '';
  }).filter(Boolean);
  if (lines.length) return lines.join('; ');
  return view.status === 'maintenance' ? null : 'All systems operational';
}

/** "Maintenance on Database until 14:00 UTC": which components, and until when. */
function maintenanceLine(view: PageView): string | null {
  const list = view.components.filter((c) => c.status === 'maintenance').map((c) => c.name);
  if (list.length === 0 || !view.maintenance) return null;
  return `Maintenance on ${names(list)} ${until(view.maintenance.until, view.updated_at, endZone(view.maintenance))}`;
}

const STATE_WORD: Record<State, string> = {
  healthy: 'Operational',
  degraded: 'Degraded',
  down: 'Down',
  maintenance: 'Maintenance',
  unknown: 'Not reporting',
};

const STATUS_WORD: Record<Status, string> = {
  operational: 'Operational',
  degraded: 'Degraded',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
  maintenance: 'Maintenance',
  unknown: 'Not reporting',
};

// The stylesheet's colours are the five states' (each checked for contrast on every surface): an
// outage, partial or major, is drawn in down's red, and the word says how much is out.
const STATUS_COLOUR: Record<Status, State> = {
  operational: 'healthy',
  degraded: 'degraded',
  partial_outage: 'down',
  major_outage: 'down',
  maintenance: 'maintenance',
  unknown: 'unknown',
};

const DAY_WORD: Record<DayBar['status'], string> = {
  operational: 'Operational',
  degraded: 'Degraded',
  down: 'Down',
  maintenance: 'Maintenance',
  no_data: 'No data',
};

// The favicon cannot read the stylesheet's variables: the light palette's colours.
const ICON: Record<State, string> = { healthy: '#1a7f37', degraded: '#8a5c00', down: '#cf222e', maintenance: '#0969da', unknown: '#6e7781' };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "21 Nov 2026" from "2026-11-21"; the same for every reader, whatever their locale. */
function dayLabel(date: string): string {
  const [y, m, d] = date.split('-');
  return `${Number(d)} ${MONTHS[Number(m) - 1]} ${y}`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const pad = (n: number) => String(n).padStart(2, '0');

/** The page's clock readings for zonedTime: "Sat 21 Nov 2026", "10:02", the same for every reader, whatever their locale. */
const PAGE_CLOCK: ClockWords = {
  day: (c) => `${WEEKDAYS[c.getUTCDay()]} ${c.getUTCDate()} ${MONTHS[c.getUTCMonth()]} ${c.getUTCFullYear()}`,
  time: (c) => `${pad(c.getUTCHours())}:${pad(c.getUTCMinutes())}`,
  joint: ', ',
};

/**
 * "Sat 21 Nov 2026, 10:02 UTC": a page without script cannot know the reader's time zone, and an
 * incident has none of its own. A maintenance time typed on a zone's clock is said on it first,
 * as announced, with UTC beside: "Sun 22 Nov 2026, 03:00 Europe/Berlin (02:00 UTC)"; days left out
 * where `since` (now, or the window's start) already says them, as zonedTime says.
 */
function when(iso: string, zone: string | null = null, since?: string): string {
  const t = zonedTime(Date.parse(iso), zone, PAGE_CLOCK, since === undefined ? undefined : Date.parse(since));
  return t.utc === null ? t.here : `${t.here} (${t.utc})`;
}

/**
 * The clock a span's end is said on: its windows' shared zone or, when they were typed in
 * different zones, that of the window that ends last (its end is the span's).
 */
function endZone(m: MaintenanceView): string | null {
  return m.time_zone ?? m.windows.find((w) => w.until === m.until)?.time_zone ?? null;
}

/** When maintenance ends, said from `since` (now, or the window's start); an open-ended window lasts until someone ends it. */
function until(end: string | null, since: string, zone: string | null): string {
  return end === null ? 'until further notice' : `until ${when(end, zone, since)}`;
}

/** What a bar says: the day, what it was, and its uptime (the JSON has each state's seconds). */
function dayText(day: DayBar): string {
  const ratio = day.uptime_ratio === null ? '' : `, ${percent(day.uptime_ratio)} uptime`;
  return `${dayLabel(day.date)}: ${DAY_WORD[day.status]}${ratio}`;
}

/**
 * The days as bars, oldest first; a phone shows the last 30 (style.ts). Each is an image named by
 * its day, so a screen reader says it in browse mode, and focusable by a tap or a click but not by
 * Tab (tabindex -1): the stylesheet writes the focused (or hovered) one's name in a line under the
 * bars, no script, which an SVG <title> tooltip needed a mouse for. Tab stopping at every bar made
 * 1,800 stops on a page of 20 components; the keyboard reads the days in DayFigures instead. The
 * group is named by the days it shows, the number a phone hides left out with it. The bars are
 * written as one string rather than 90 elements each: a page of 20 components renders in a third
 * of the time. Nothing in them comes from a user (dates, fixed words and numbers), so nothing
 * needs escaping.
 */
function Bars(p: { days: DayBar[]; name: string; id: string }) {
  const bars = p.days.map((day) => `<i role="img" tabindex="-1" class="day-${day.status}" aria-label="${dayText(day)}"></i>`);
  return (
    <div class="bars-frame">
      <span class="visually-hidden" id={p.id}>
        {p.name}: the last <span class="span-90">{p.days.length}</span>
        <span class="span-30">{RECENT_DAYS}</span> days
      </span>
      <div class="bars" role="group" aria-labelledby={p.id}>
        {raw(bars.join(''))}
      </div>
    </div>
  );
}

/**
 * Every day's figure behind one Tab stop per component: a closed <details>, newest day first, as
 * the console's node page lists its days. The days before the first with data are one row ("1 Sep
 * 2026 to 20 Nov 2026: No data"), not up to 89: a component added yesterday would list them all,
 * and the rows are what the page's bytes grow by (+39 % for 20 components, ARCHITECTURE.md).
 * Written as one string for the reason the bars are, with the same words, without the end tags a
 * table's rows and cells may omit. The summary names its component for a screen reader's list of
 * controls, where 20 "Every day in figures" would read the same.
 */
function DayFigures(p: { days: DayBar[]; name: string }) {
  const first = p.days.findIndex((d) => d.status !== 'no_data');
  const unseen = first < 0 ? p.days.length : first;
  // A phone lists the days its bars show (the last RECENT_DAYS), with the bars' classes: the older
  // rows are span-90, and days without data reaching into the recent ones a span-30 row of their own.
  const recent = Math.max(0, p.days.length - RECENT_DAYS);
  const row = (day: string, d: DayBar, only = '') => `<tr${only && ` class="${only}"`}><td>${day}<td>${DAY_WORD[d.status]}<td>${d.uptime_ratio === null ? '' : percent(d.uptime_ratio)}`;
  const span = (from: number, to: number) => (from === to ? dayLabel(p.days[from]!.date) : `${dayLabel(p.days[from]!.date)} to ${dayLabel(p.days[to]!.date)}`);
  const from = unseen > 1 ? unseen : 0;
  const rows = p.days.slice(from).map((d, i) => row(dayLabel(d.date), d, from + i < recent ? 'span-90' : '')).reverse();
  if (unseen > 1) {
    rows.push(row(span(0, unseen - 1), p.days[0]!, recent > 0 ? 'span-90' : ''));
    if (recent > 0 && unseen > recent) rows.push(row(span(recent, unseen - 1), p.days[0]!, 'span-30'));
  }
  return (
    <details class="days">
      <summary>
        Every day in figures<span class="visually-hidden">: {p.name}</span>
      </summary>
      <table>
        <thead>
          <tr>
            <th scope="col">Day (UTC)</th>
            <th scope="col">Status</th>
            <th scope="col">Uptime</th>
          </tr>
        </thead>
        <tbody>{raw(rows.join(''))}</tbody>
      </table>
    </details>
  );
}

/** The first day with data among `days`, when it is not the first of them: the figure is then younger than the bar. */
function firstData(days: DayBar[]): string | undefined {
  const first = days.findIndex((d) => d.status !== 'no_data');
  return first > 0 ? dayLabel(days[first]!.date) : undefined;
}

/**
 * The uptime over the bars a frame shows, labelled by the same window as the bar ("in 30 days" beside
 * "30 days ago"), or "since 6 Dec 2026" when the first data came after the bar begins: 15 minutes
 * of history is not "51.48 % in 90 days".
 */
function figure(ratio: number | null, since: string | undefined, window: string): string {
  if (ratio === null) return window === 'uptime' ? 'No data' : `No data ${window}`;
  return since === undefined ? `${percent(ratio)} ${window}` : `${percent(ratio)} uptime since ${since}`;
}

/** " until 04:00 UTC" after "Maintenance", when the page knows the windows' end. */
function maintenanceEnd(status: Status, maintenance: MaintenanceView | null, now: string): string {
  return status === 'maintenance' && maintenance ? ` ${until(maintenance.until, now, endZone(maintenance))}` : '';
}

function Component(p: { c: ComponentView; now: string; index: number }) {
  const { c } = p;
  const end = maintenanceEnd(c.status, c.maintenance, p.now);
  return (
    <li class={c.status === 'operational' ? 'component' : `component attention edge-${STATUS_COLOUR[c.status]}`}>
      <div class="component-head">
        <span class="component-name">{c.name}</span>
        <span class={`state fg-${STATUS_COLOUR[c.status]}`}>
          {STATUS_WORD[c.status]}
          {end ? <small class="until">{end}</small> : null}
        </span>
      </div>
      <Bars days={c.days} name={c.name} id={`days-${p.index}`} />
      <div class="bars-foot">
        <span class="span-90">{c.days.length} days ago</span>
        <span class="span-30">{RECENT_DAYS} days ago</span>
        <span class="rule" />
        <span class="uptime span-90">{figure(c.uptime.uptime_ratio, firstData(c.days), 'uptime')}</span>
        <span class="uptime span-30">{figure(c.uptime_30d.uptime_ratio, firstData(c.days.slice(-RECENT_DAYS)), `in ${RECENT_DAYS} days`)}</span>
        <span class="rule" />
        <span>Today</span>
      </div>
      <DayFigures days={c.days} name={c.name} />
      {c.nodes ? (
        <details class="nodes">
          <summary>
            {c.nodes.length === 1 ? '1 node' : `${c.nodes.length} nodes`}
            {c.labels && Object.keys(c.labels).length ? ` · ${Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}
          </summary>
          <ul>
            {c.nodes.map((n) => (
              <li>
                <span class={`state fg-${n.state}`}>{STATE_WORD[n.state]}</span>
                <span>{n.name}</span>
                {n.reason ? <span class="reason">{n.reason}</span> : null}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </li>
  );
}

/**
 * An incident as Statuspage's readers know its states: found by monitoring until someone
 * acknowledges it, then being investigated. It said "investigating" before anyone had looked.
 */
function Incident(p: { i: IncidentView }) {
  const { i } = p;
  return (
    <li class={`incident severity-${i.severity}`}>
      <div class="incident-title">{i.title}</div>
      <div class="incident-meta">
        Since <time datetime={i.opened_at}>{when(i.opened_at)}</time>
        {i.status === 'acknowledged' && i.acknowledged_at ? (
          <>
            {' · '}investigating since <time datetime={i.acknowledged_at}>{when(i.acknowledged_at)}</time>
          </>
        ) : (
          ' · identified by monitoring, not yet acknowledged'
        )}
      </div>
    </li>
  );
}

/** Maintenance yet to begin: which components, and when; never a window's nodes or reason. */
function Scheduled(p: { s: ScheduledView }) {
  const { s } = p;
  return (
    <li class="incident scheduled">
      <div class="incident-title">{s.components.join(', ')}</div>
      <div class="incident-meta">
        From <time datetime={s.from}>{when(s.from, s.time_zone)}</time> {until(s.until, s.from, s.time_zone)}
      </div>
    </li>
  );
}

/**
 * A past incident: what, where, and when, its length once it is over ("on and off" when that is
 * less than its start to its end: stretches close together, one entry). Both in whole seconds, as
 * the length is said: one stretch of 4.4 s is 4 s out of 4.4 s, and was read "on and off". An
 * ongoing one says only since when: "for 35 min" would change the page every minute, and with it
 * its ETag (withoutUpdated), so a reader's reload would never get a 304.
 */
function PastIncident(p: { i: PastIncidentView }) {
  const { i } = p;
  return (
    <li class={`incident severity-${i.severity}${i.resolved_at ? ' resolved' : ''}`}>
      <div class="incident-title">{i.title}</div>
      <div class="incident-meta">
        {i.resolved_at && i.duration_seconds !== null ? (
          <>
            Resolved · <time datetime={i.started_at}>{when(i.started_at)}</time> to <time datetime={i.resolved_at}>{when(i.resolved_at, null, i.started_at)}</time>
            {' · '}lasted {duration(i.duration_seconds * 1000)}
            {i.duration_seconds < Math.round((Date.parse(i.resolved_at) - Date.parse(i.started_at)) / 1000) ? ', on and off' : ''}
          </>
        ) : (
          <>
            Ongoing · since <time datetime={i.started_at}>{when(i.started_at)}</time>
          </>
        )}
      </div>
      {i.nodes ? <div class="incident-meta">Nodes: {i.nodes.join(', ')}</div> : null}
    </li>
  );
}

const LEGEND: Array<DayBar['status']> = ['operational', 'degraded', 'down', 'maintenance', 'no_data'];

function StatusPageBody(p: { view: PageView }) {
  const { view } = p;
  const lines = [headline(view), maintenanceLine(view)].filter((l): l is string => l !== null);
  return (
    <main class="page">
      <header class="page-head">
        <h1>{view.title}</h1>
        {view.description ? <p>{view.description}</p> : null}
      </header>
      <div class={`banner bg-${STATUS_COLOUR[view.status]}`} role="status">
        <span class="dot" />
        <span>
          {lines.map((line, i) => (
            <span class={i === 0 ? 'banner-line' : 'banner-line secondary'}>{line}</span>
          ))}
          <small class="updated">
            Updated <time datetime={view.updated_at}>{when(view.updated_at)}</time>
          </small>
        </span>
      </div>

      <h2 id="open-incidents">Open incidents</h2>
      {view.incidents.length ? (
        <ul class="incidents card" aria-labelledby="open-incidents">
          {view.incidents.map((i) => (
            <Incident i={i} />
          ))}
        </ul>
      ) : (
        <p class="calm card">No open incidents.</p>
      )}

      {view.scheduled.length ? (
        <>
          <h2>Scheduled maintenance</h2>
          <ul class="incidents card">
            {view.scheduled.map((s) => (
              <Scheduled s={s} />
            ))}
          </ul>
        </>
      ) : null}

      <h2>Components</h2>
      <ul class="components card">
        {view.components.map((c, i) => (
          <Component c={c} now={view.updated_at} index={i} />
        ))}
      </ul>
      <ul class="legend" aria-label="What the bars show">
        {LEGEND.map((s) => (
          <li>
            <span class={`swatch day-${s}`} />
            {DAY_WORD[s]}
          </li>
        ))}
      </ul>

      <h2 id="recent-incidents">
        Recent incidents <small class="muted">last {PAST_DAYS} days</small>
      </h2>
      {view.past_incidents.length ? (
        <ul class="incidents card" aria-labelledby="recent-incidents">
          {view.past_incidents.map((i) => (
            <PastIncident i={i} />
          ))}
          {view.past_incidents_more ? (
            <li class="calm">
              And {view.past_incidents_more} earlier {view.past_incidents_more === 1 ? 'incident' : 'incidents'} in the last {PAST_DAYS} days.
            </li>
          ) : null}
        </ul>
      ) : (
        <p class="calm card">No incidents in the last {PAST_DAYS} days.</p>
      )}

      <footer class="page-foot">
        <span>
          Uptime is time-weighted; time nobody could observe is "no data", never counted as up or down.
        </span>
        <span>
          <a href={`/status/${view.slug}.json`}>JSON</a> · Powered by Lifeline
        </span>
      </footer>
    </main>
  );
}

/**
 * The page without its "Updated" line: what its ETag is made of. The page is computed afresh every
 * 10 s and the line changed with it, so the tag did too and the page's own reload each minute never
 * got a 304; a page whose every other word is the same is the same page (a weak tag says just that).
 */
export function withoutUpdated(html: string): string {
  return html.replace(/<small class="updated">.*?<\/small>/, '');
}

/** The whole document for a page; `refreshSeconds` only when the reader asked for it (`?refresh=`). */
export function renderStatusPage(view: PageView, refreshSeconds?: number): Promise<string> {
  return documentOf(
    <Layout title={view.title} description={view.description ?? undefined} icon={dotIcon(ICON[STATUS_COLOUR[view.status]])} {...(refreshSeconds ? { refreshSeconds } : {})}>
      <StatusPageBody view={view} />
    </Layout>,
  );
}

/** A page saying one thing to a person who reached a status page's address: a title and a sentence. */
function noticePage(title: string, text: string, refreshSeconds?: number): Promise<string> {
  return documentOf(
    <Layout title={title} icon={dotIcon(ICON.unknown)} {...(refreshSeconds ? { refreshSeconds } : {})}>
      <main class="page">
        <header class="page-head">
          <h1>{title}</h1>
          <p>{text}</p>
        </header>
      </main>
    </Layout>,
  );
}

/** What /status/{slug} answers for a page nobody may see: no hint whether it exists. */
export const renderMissingPage = (): Promise<string> => noticePage('Status page not found', 'There is no public status page at this address.');

/** What /status/{slug} answers an address it cannot serve (`?refresh=45`): what would do instead. */
export const renderBadRequest = (text: string): Promise<string> => noticePage('This address asks for something the page cannot do', text);

/**
 * What /status/{slug} answers a reader past their budget: a person in a browser, for whom the API's
 * JSON error is noise. It reloads itself once the budget has room again.
 */
export const renderTooManyRequests = (retryAfterSeconds: number): Promise<string> =>
  noticePage('Too many requests', `Too many requests from this address — try again in ${retryAfterSeconds} s. This page reloads itself then.`, retryAfterSeconds);
