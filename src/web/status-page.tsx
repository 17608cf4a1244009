// /status/{slug} as HTML: the page's data (statuspages/model.ts) as people read it. Server-rendered,
// no script; each day is an SVG bar with its own tooltip, 90 of them wide, 30 on a phone.

import type { State } from '../health/decide.ts';
import type { ComponentView, DayBar, IncidentView, PageView } from '../statuspages/model.ts';
import { percent } from '../uptime/percent.ts';
import { NODE_STATES } from '../uptime/state-time.ts';
import { documentOf, dotIcon, Layout } from './layout.tsx';

const HEADLINE: Record<State, string> = {
  healthy: 'All systems operational',
  degraded: 'Some systems are degraded',
  down: 'Some systems are down',
  maintenance: 'Maintenance in progress',
  unknown: 'Some systems are not reporting',
};

const STATE_WORD: Record<State, string> = {
  healthy: 'Operational',
  degraded: 'Degraded',
  down: 'Down',
  maintenance: 'Maintenance',
  unknown: 'Not reporting',
};

const DAY_WORD: Record<DayBar['status'], string> = {
  operational: 'Operational',
  degraded: 'Degraded',
  down: 'Down',
  maintenance: 'Maintenance',
  no_data: 'No data',
};

// The favicon cannot read the stylesheet's variables: the light palette's colours.
const ICON: Record<State, string> = { healthy: '#1a7f37', degraded: '#9a6700', down: '#cf222e', maintenance: '#0969da', unknown: '#6e7781' };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "21 Nov 2026" from "2026-11-21"; the same for every reader, whatever their locale. */
function dayLabel(date: string): string {
  const [y, m, d] = date.split('-');
  return `${Number(d)} ${MONTHS[Number(m) - 1]} ${y}`;
}

/** "21 Nov 2026, 10:02 UTC": a page without script cannot know the reader's time zone. */
function when(iso: string): string {
  return `${dayLabel(iso.slice(0, 10))}, ${iso.slice(11, 16)} UTC`;
}

/**
 * A bar's tooltip: the day, what it was, its uptime, and the share of the day's time in each
 * state other than healthy. Shares rather than durations: a component's seconds are summed over
 * its nodes, so "3 h down" would not say whether one node or all of them were.
 */
function dayTitle(day: DayBar): string {
  const total = NODE_STATES.reduce((sum, s) => sum + day.seconds[s], 0);
  const parts = [dayLabel(day.date), DAY_WORD[day.status]];
  if (day.uptime_ratio !== null) parts.push(`${percent(day.uptime_ratio)} uptime`);
  const shares: Array<[number, string]> = [
    [day.seconds.down, 'down'],
    [day.seconds.degraded, 'degraded'],
    [day.seconds.maintenance, 'in maintenance'],
    [day.seconds.unknown, 'not observed'],
  ];
  for (const [seconds, word] of shares) if (seconds > 0) parts.push(`${percent(seconds / total)} ${word}`);
  return parts.join(' · ');
}

const BAR_STEP = 10;
const BAR_WIDTH = 7;
const BAR_HEIGHT = 34;

function Bars(p: { days: DayBar[]; className: string; name: string }) {
  const width = p.days.length * BAR_STEP - (BAR_STEP - BAR_WIDTH);
  return (
    <svg
      class={`bars ${p.className}`}
      viewBox={`0 0 ${width} ${BAR_HEIGHT}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`${p.name}: the last ${p.days.length} days`}
    >
      {p.days.map((day, i) => (
        <rect class={`day-${day.status}`} x={i * BAR_STEP} y="0" width={BAR_WIDTH} height={BAR_HEIGHT} rx="1.5" data-date={day.date}>
          <title>{dayTitle(day)}</title>
        </rect>
      ))}
    </svg>
  );
}

function Component(p: { c: ComponentView }) {
  const { c } = p;
  const last30 = c.days.slice(-30);
  return (
    <li class="component">
      <div class="component-head">
        <span class="component-name">{c.name}</span>
        <span class={`state fg-${c.state}`}>{STATE_WORD[c.state]}</span>
      </div>
      <Bars days={c.days} className="bars-90" name={c.name} />
      <Bars days={last30} className="bars-30" name={c.name} />
      <div class="bars-foot">
        <span class="span-90">{c.days.length} days ago</span>
        <span class="span-30">{last30.length} days ago</span>
        <span class="rule" />
        <span class="uptime span-90">{c.uptime.uptime_ratio === null ? 'No data' : `${percent(c.uptime.uptime_ratio)} uptime`}</span>
        <span class="uptime span-30">{c.uptime.uptime_ratio === null ? 'No data in 90 days' : `${percent(c.uptime.uptime_ratio)} in 90 days`}</span>
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

const LEGEND: Array<DayBar['status']> = ['operational', 'degraded', 'down', 'maintenance', 'no_data'];

function StatusPageBody(p: { view: PageView }) {
  const { view } = p;
  return (
    <main class="page">
      <header class="page-head">
        <h1>{view.title}</h1>
        {view.description ? <p>{view.description}</p> : null}
      </header>
      <div class={`banner bg-${view.state}`} role="status">
        <span class="dot" />
        <span>
          {HEADLINE[view.state]}
          <small>
            Updated <time datetime={view.updated_at}>{when(view.updated_at)}</time>
          </small>
        </span>
      </div>

      <h2>Components</h2>
      <ul class="components card">
        {view.components.map((c) => (
          <Component c={c} />
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
    <Layout title={view.title} description={view.description ?? undefined} icon={dotIcon(ICON[view.state])} refreshSeconds={60}>
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
