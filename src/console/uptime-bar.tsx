import type { Bucket } from '../uptime/buckets.ts';
import { DAY_MS } from '../uptime/buckets.ts';
import { NODE_STATES, type NodeState } from '../uptime/state-time.ts';
import { summarize } from '../uptime/summary.ts';
import { day, duration, percent } from './format.ts';

// The 90-day bar: one column per UTC day, stacked by the share of the day spent in each state,
// so a day of maintenance (striped) or of unknown (dotted: the engine could not watch) never looks
// like a day down (solid red), and time before the node existed is left empty. This is the honest
// uptime the API reports, drawn.

/** Column height in SVG units; a state present at all gets at least MIN_VISIBLE of it. */
const HEIGHT = 40;
const MIN_VISIBLE = 3;
const COLUMN = 10;
const GAP = 2;

export type Segment = { state: NodeState | 'none'; height: number };

/**
 * The stacked segments of one day, bottom to top, summing to HEIGHT. A state that was present for
 * any time at all is drawn at least MIN_VISIBLE high (a ten-minute outage would otherwise be a
 * third of a pixel), taken from the largest segment. `none` is the part nothing was recorded for:
 * before the node existed, or still to come today.
 */
export function daySegments(b: Bucket, now: number): Segment[] {
  const length = Math.min(DAY_MS, Math.max(1, now - b.start));
  const segments: Segment[] = NODE_STATES.map((state) => ({ state, height: (b.ms[state] / length) * HEIGHT }));
  const recorded = segments.reduce((a, s) => a + s.height, 0);
  segments.push({ state: 'none', height: Math.max(0, HEIGHT - recorded) });
  for (const s of segments) {
    if (s.state === 'none' || b.ms[s.state] <= 0 || s.height >= MIN_VISIBLE) continue;
    const largest = segments.reduce((a, x) => (x.height > a.height ? x : a));
    const lift = Math.min(MIN_VISIBLE - s.height, largest.height - MIN_VISIBLE);
    if (lift <= 0) continue;
    s.height += lift;
    largest.height -= lift;
  }
  return segments.filter((s) => s.height > 0);
}

const NAMES: Record<Segment['state'], string> = {
  healthy: 'healthy',
  degraded: 'degraded',
  down: 'down',
  maintenance: 'maintenance',
  unknown: 'unknown (not observed)',
  none: 'not monitored',
};

/** "99.31 % up · down 10 min · maintenance 2 h" for a day's tooltip and table. */
export function dayDetail(b: Bucket): string {
  const s = summarize(b.ms);
  const parts = (['down', 'degraded', 'maintenance', 'unknown'] as const).filter((st) => b.ms[st] > 0).map((st) => `${st} ${duration(b.ms[st])}`);
  return [s.uptime_ratio === null ? 'nothing monitored' : `${percent(s.uptime_ratio)} up`, ...parts].join(' · ');
}

/** Fill patterns, defined once: a page has one bar. */
const Patterns = () => (
  <defs>
    <pattern id="pat-maintenance" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
      <rect class="p-maintenance-bg" width="6" height="6" />
      <line class="p-maintenance-fg" x1="0" y1="0" x2="0" y2="6" />
    </pattern>
    <pattern id="pat-unknown" width="4" height="4" patternUnits="userSpaceOnUse">
      <rect class="p-unknown-bg" width="4" height="4" />
      <circle class="p-unknown-fg" cx="2" cy="2" r="1" />
    </pattern>
  </defs>
);

export function UptimeBar(p: { days: Bucket[]; now: number }) {
  const width = p.days.length * (COLUMN + GAP) - GAP;
  return (
    <figure class="uptime-bar">
      <svg class="bar" viewBox={`0 0 ${width} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={`Daily uptime over the last ${p.days.length} days; the table below lists each day`}>
        <Patterns />
        {p.days.map((b, i) => {
          let y = HEIGHT;
          return (
            <g>
              <title>{`${day(new Date(b.start))}: ${dayDetail(b)}`}</title>
              {daySegments(b, p.now).map((s) => {
                y -= s.height;
                return <rect class={`s-${s.state}`} x={i * (COLUMN + GAP)} y={y} width={COLUMN} height={s.height} />;
              })}
            </g>
          );
        })}
      </svg>
      <div class="bar-axis" aria-hidden="true">
        <span>{p.days[0] ? day(new Date(p.days[0].start)) : ''}</span>
        <span>today</span>
      </div>
      <ul class="legend">
        {(['healthy', 'degraded', 'down', 'maintenance', 'unknown', 'none'] as const).map((s) => (
          <li>
            {/* The patterns are the bar's own: url(#…) reaches across the page's inline SVGs. */}
            <svg class="bar" viewBox="0 0 10 10" aria-hidden="true">
              <rect class={`s-${s}`} width="10" height="10" />
            </svg>
            {NAMES[s]}
          </li>
        ))}
      </ul>
    </figure>
  );
}
