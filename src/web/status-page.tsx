// /status/{slug} as HTML: the page's data (statuspages/model.ts) as people read it. Server-rendered,
// no script; each day is an SVG bar with its own tooltip, 90 of them wide, 30 on a phone.

import { raw } from 'hono/html';
import type { State } from '../health/decide.ts';
import { RECENT_DAYS, type ComponentView, type DayBar, type IncidentView, type MaintenanceView, type PageView, type ScheduledView, type Status } from '../statuspages/model.ts';
import { shownZone, toLocal } from '../local-time.ts';
import { percent } from '../uptime/percent.ts';
import { documentOf, dotIcon, Layout } from './layout.tsx';

const HEADLINE: Record<Status, string> = {
  operational: 'All systems operational',
  degraded: 'Some systems are degraded',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
  maintenance: 'Maintenance in progress',
  unknown: 'Some systems are not reporting',
};

/**
 * The banner's words. A page `partial_outage` is either some component wholly out or only some
 * nodes of some: "Some systems are down" says the first only, so one web node of ten down reads
 * "Partial outage", as its component does.
 */
function headline(view: PageView): string {
  if (view.status === 'partial_outage' && view.components.some((c) => c.status === 'major_outage')) return 'Some systems are down';
  return HEADLINE[view.status];
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

/** What the clock of `zone` reads at `iso`: its day ("Sat 21 Nov 2026") and time ("10:02"). */
function reading(iso: string, zone: string): { day: string; time: string } {
  const c = new Date(toLocal(zone, Date.parse(iso)));
  return { day: `${WEEKDAYS[c.getUTCDay()]} ${c.getUTCDate()} ${MONTHS[c.getUTCMonth()]} ${c.getUTCFullYear()}`, time: `${pad(c.getUTCHours())}:${pad(c.getUTCMinutes())}` };
}

/**
 * "Sat 21 Nov 2026, 10:02 UTC": a page without script cannot know the reader's time zone, and an
 * incident has none of its own. A maintenance time typed on a zone's clock is said on it first,
 * as announced, with UTC beside: "Sun 22 Nov 2026, 03:00 Europe/Berlin (02:00 UTC)", the UTC day
 * said when it is another than the day said before it: the local one, or when that is left out,
 * `since`'s in UTC. The day is left out when it is the one `since` (now, or the window's start)
 * falls on by the same clock.
 */
function when(iso: string, zone: string | null = null, since?: string): string {
  const clock = shownZone(zone) ?? 'UTC';
  const here = reading(iso, clock);
  const day = since !== undefined && reading(since, clock).day === here.day ? '' : `${here.day}, `;
  if (clock === 'UTC') return `${day}${here.time} UTC`;
  const utc = reading(iso, 'UTC');
  return `${day}${here.time} ${clock} (${utc.day === (day ? here.day : reading(since!, 'UTC').day) ? '' : `${utc.day}, `}${utc.time} UTC)`;
}

/** When maintenance ends, said from `since` (now, or the window's start); an open-ended window lasts until someone ends it. */
function until(end: string | null, since: string, zone: string | null): string {
  return end === null ? 'until further notice' : `until ${when(end, zone, since)}`;
}

/** A bar's tooltip: the day, what it was, and its uptime (the JSON has each state's seconds). */
function dayTitle(day: DayBar): string {
  const ratio = day.uptime_ratio === null ? '' : ` · ${percent(day.uptime_ratio)} uptime`;
  return `${dayLabel(day.date)} · ${DAY_WORD[day.status]}${ratio}`;
}

const BAR_STEP = 10;
const BAR_WIDTH = 7;
const BAR_HEIGHT = 34;

/**
 * One day's shape, drawn by every bar through <use>: a bar is then its position, its class and its
 * tooltip, which keeps a page of 20 components at tens of kilobytes rather than hundreds.
 */
function BarShape() {
  return (
    <svg class="defs" width="0" height="0" aria-hidden="true">
      <defs>
        <rect id="day" width={BAR_WIDTH} height={BAR_HEIGHT} rx="1.5" />
      </defs>
    </svg>
  );
}

/**
 * The days as bars, oldest first; on a phone the frame shows the last 30 (style.ts). The bars are
 * written as one string rather than 90 elements each: a page of 20 components renders in a third of
 * the time. Nothing in them comes from a user (dates, fixed words and numbers), so nothing needs
 * escaping.
 */
function Bars(p: { days: DayBar[]; name: string }) {
  const width = p.days.length * BAR_STEP - (BAR_STEP - BAR_WIDTH);
  const bars = p.days.map((day, i) => `<use href="#day" x="${i * BAR_STEP}" class="day-${day.status}"><title>${dayTitle(day)}</title></use>`);
  return (
    <div class="bars-frame">
      <svg class="bars" viewBox={`0 0 ${width} ${BAR_HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={`${p.name}: the last ${p.days.length} days`}>
        {raw(bars.join(''))}
      </svg>
    </div>
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
  return status === 'maintenance' && maintenance ? ` ${until(maintenance.until, now, maintenance.time_zone)}` : '';
}

function Component(p: { c: ComponentView; now: string }) {
  const { c } = p;
  const end = maintenanceEnd(c.status, c.maintenance, p.now);
  return (
    <li class="component">
      <div class="component-head">
        <span class="component-name">{c.name}</span>
        <span class={`state fg-${STATUS_COLOUR[c.status]}`}>
          {STATUS_WORD[c.status]}
          {end ? <small class="until">{end}</small> : null}
        </span>
      </div>
      <Bars days={c.days} name={c.name} />
      <div class="bars-foot">
        <span class="span-90">{c.days.length} days ago</span>
        <span class="span-30">{RECENT_DAYS} days ago</span>
        <span class="rule" />
        <span class="uptime span-90">{figure(c.uptime.uptime_ratio, firstData(c.days), 'uptime')}</span>
        <span class="uptime span-30">{figure(c.uptime_30d.uptime_ratio, firstData(c.days.slice(-RECENT_DAYS)), `in ${RECENT_DAYS} days`)}</span>
        <span class="rule" />
        <span>Today</span>
      </div>
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

function Incident(p: { i: IncidentView }) {
  const { i } = p;
  return (
    <li class={`incident severity-${i.severity}`}>
      <div class="incident-title">{i.title}</div>
      <div class="incident-meta">
        Since <time datetime={i.opened_at}>{when(i.opened_at)}</time>
        {i.nodes > 1 ? ` · ${i.nodes} nodes` : ''}
        {i.status === 'acknowledged' && i.acknowledged_at ? (
          <>
            {' · '}acknowledged <time datetime={i.acknowledged_at}>{when(i.acknowledged_at)}</time>
          </>
        ) : (
          ' · investigating'
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

const LEGEND: Array<DayBar['status']> = ['operational', 'degraded', 'down', 'maintenance', 'no_data'];

function StatusPageBody(p: { view: PageView }) {
  const { view } = p;
  return (
    <main class="page">
      <BarShape />
      <header class="page-head">
        <h1>{view.title}</h1>
        {view.description ? <p>{view.description}</p> : null}
      </header>
      <div class={`banner bg-${STATUS_COLOUR[view.status]}`} role="status">
        <span class="dot" />
        <span>
          {headline(view)}
          {maintenanceEnd(view.status, view.maintenance, view.updated_at)}
          <small>
            Updated <time datetime={view.updated_at}>{when(view.updated_at)}</time>
          </small>
        </span>
      </div>

      <h2>Components</h2>
      <ul class="components card">
        {view.components.map((c) => (
          <Component c={c} now={view.updated_at} />
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

      <h2>Open incidents</h2>
      {view.incidents.length ? (
        <ul class="incidents card">
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

/** The whole document for a page. */
export function renderStatusPage(view: PageView): Promise<string> {
  return documentOf(
    <Layout title={view.title} description={view.description ?? undefined} icon={dotIcon(ICON[STATUS_COLOUR[view.status]])} refreshSeconds={60}>
      <StatusPageBody view={view} />
    </Layout>,
  );
}

/** What /status/{slug} answers for a page nobody may see: no hint whether it exists. */
export function renderMissingPage(): Promise<string> {
  return documentOf(
    <Layout title="Status page not found" icon={dotIcon(ICON.unknown)}>
      <main class="page">
        <header class="page-head">
          <h1>Status page not found</h1>
          <p>There is no public status page at this address.</p>
        </header>
      </main>
    </Layout>,
  );
}
