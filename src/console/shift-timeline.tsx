import { fromLocal, toLocal } from '../local-time.ts';
import type { Shift } from '../oncall/schedule.ts';
import { OVERRIDE_LAYER } from '../oncall/schedule.ts';

// A schedule's next days of shifts, one row per local day of the schedule's zone (hand-offs are
// written on that clock, so a 09:00 hand-off sits at the same place every day, DST or not). Each
// row is a bar, drawn as inline SVG (geometry in attributes: the console's CSP allows no style
// attributes), and the same shifts in words underneath, so nothing is told by colour alone and a
// phone-width screen reads the words where the bar is too small to label.

const DAY = 86_400_000;
const MINUTES = 1440;
/** Colours for people, by their place in the schedule; more people reuse them (the words name everyone). */
export const PALETTE_SIZE = 8;
const WEEKDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface Person {
  name: string;
  /** Index into the palette. */
  colour: number;
}

const pad = (n: number) => String(n).padStart(2, '0');
const clock = (minute: number) => `${pad(Math.floor(minute / 60))}:${pad(minute % 60)}`;

/** Local midnight (as a local-clock number) of the day `at` falls on in `zone`. */
export const localMidnight = (zone: string, at: Date): number => Math.floor(toLocal(zone, at.getTime()) / DAY) * DAY;

/** The instants [from, to) covering `days` local days of `zone` from the day `now` falls on. */
export function timelineRange(zone: string, now: Date, days: number): { from: Date; to: Date } {
  const midnight = localMidnight(zone, now);
  return { from: new Date(fromLocal(zone, midnight)), to: new Date(fromLocal(zone, midnight + days * DAY)) };
}

interface Segment {
  from: number;
  to: number;
  user_id: string | null;
  override: boolean;
}

/** One local day's pieces in local minutes [0, 1440], gaps (nobody on call) included. */
export function dayPieces(zone: string, dayLocal: number, shifts: Shift[]): Segment[] {
  const start = fromLocal(zone, dayLocal);
  const end = fromLocal(zone, dayLocal + DAY);
  const minute = (t: number) => Math.round((Math.min(Math.max(toLocal(zone, t), dayLocal), dayLocal + DAY) - dayLocal) / 60_000);
  const out: Segment[] = [];
  let at = 0;
  for (const s of shifts) {
    if (s.ends_at.getTime() <= start || s.starts_at.getTime() >= end) continue;
    const from = s.starts_at.getTime() <= start ? 0 : minute(s.starts_at.getTime());
    const to = s.ends_at.getTime() >= end ? MINUTES : minute(s.ends_at.getTime());
    if (to <= from) continue;
    if (from > at) out.push({ from: at, to: from, user_id: null, override: false });
    out.push({ from, to, user_id: s.user_id, override: s.layer === OVERRIDE_LAYER });
    at = to;
  }
  if (at < MINUTES) out.push({ from: at, to: MINUTES, user_id: null, override: false });
  return out;
}

function DayBar(p: { segments: Segment[]; people: Map<string, Person>; nowMinute: number | null }) {
  return (
    <svg class="tl-bar" viewBox={`0 0 ${MINUTES} 10`} preserveAspectRatio="none" aria-hidden="true">
      {p.segments.map((s) => (
        <rect
          class={s.user_id === null ? 'tl-gap' : `tl-who-${p.people.get(s.user_id)?.colour ?? 0}${s.override ? ' tl-override' : ''}`}
          x={s.from}
          y={s.override ? 0 : 1}
          width={s.to - s.from}
          height={s.override ? 10 : 8}
        />
      ))}
      {[360, 720, 1080].map((x) => (
        <line class="tl-tick" x1={x} y1={0} x2={x} y2={10} />
      ))}
      {p.nowMinute !== null ? <line class="tl-now" x1={p.nowMinute} y1={0} x2={p.nowMinute} y2={10} /> : null}
    </svg>
  );
}

/** The words under a day's bar: "00:00–09:00 alice · 09:00–24:00 bob (override)". */
function DayWords(p: { segments: Segment[]; people: Map<string, Person> }) {
  return (
    <p class="tl-words">
      {p.segments.map((s, i) => (
        <>
          {i > 0 ? ' · ' : ''}
          <span class={s.user_id === null ? 'tl-nobody' : undefined}>
            {clock(s.from)}–{clock(s.to)}{' '}
            {s.user_id === null ? 'nobody' : <b>{p.people.get(s.user_id)?.name ?? 'a deleted user'}</b>}
            {s.override ? ' (override)' : ''}
          </span>
        </>
      ))}
    </p>
  );
}

/** `days` rows from the local day `now` falls on; `shifts` cover at least timelineRange(zone, now, days). */
export function ShiftTimeline(p: { zone: string; shifts: Shift[]; people: Map<string, Person>; now: Date; days: number }) {
  const today = localMidnight(p.zone, p.now);
  const nowMinute = Math.floor((toLocal(p.zone, p.now.getTime()) - today) / 60_000);
  const used = [...new Set(p.shifts.map((s) => s.user_id))];
  return (
    <div class="timeline-14">
      <div class="tl-axis" aria-hidden="true">
        <span></span>
        <div class="tl-hours">
          <span>00</span>
          <span>06</span>
          <span>12</span>
          <span>18</span>
        </div>
      </div>
      <ol class="tl-days">
        {Array.from({ length: p.days }, (_, d) => {
          const dayLocal = today + d * DAY;
          const date = new Date(dayLocal);
          const segments = dayPieces(p.zone, dayLocal, p.shifts);
          return (
            <li class={d === 0 ? 'tl-day tl-today' : 'tl-day'}>
              <span class="tl-date">
                {WEEKDAY[date.getUTCDay()]} {date.getUTCDate()} {MONTH[date.getUTCMonth()]}
                {d === 0 ? <span class="tl-when"> today</span> : null}
              </span>
              <DayBar segments={segments} people={p.people} nowMinute={d === 0 ? nowMinute : null} />
              <DayWords segments={segments} people={p.people} />
            </li>
          );
        })}
      </ol>
      {used.length ? (
        <ul class="legend">
          {used.map((id) => (
            <li>
              <svg class="tl-swatch" viewBox="0 0 10 10" aria-hidden="true">
                <rect class={`tl-who-${p.people.get(id)?.colour ?? 0}`} width="10" height="10" />
              </svg>
              {p.people.get(id)?.name ?? 'a deleted user'}
            </li>
          ))}
          {p.shifts.some((s) => s.layer === OVERRIDE_LAYER) ? (
            <li>
              <svg class="tl-swatch" viewBox="0 0 10 10" aria-hidden="true">
                {/* The outline alone, unfilled: filled in the first person's colour it read as their shifts. */}
                <rect class="tl-override tl-override-key" x="1" y="1" width="8" height="8" />
              </svg>
              override (outlined)
            </li>
          ) : null}
          <li>
            <svg class="tl-swatch" viewBox="0 0 10 10" aria-hidden="true">
              <rect class="tl-gap" width="10" height="10" />
            </svg>
            nobody on call
          </li>
        </ul>
      ) : null}
    </div>
  );
}
