// How the console writes times and numbers. Pure: `now` is a parameter, so a page rendered in a
// test reads the same every time. Times are UTC, as everywhere else in Lifeline (API, logs,
// notifications), so what the console shows can be matched against them — except where a rule is
// written in local time: a schedule's pages show its zone's clock, a person's own times their
// zone's, and a maintenance window the clock it was typed on, UTC beside (ARCHITECTURE.md, "The
// console", people and schedules; maintenance).
import { Duration } from 'luxon';
import { toLocal, type ClockWords } from '../local-time.ts';
import { cutPercent } from '../uptime/percent.ts';

const pad = (n: number) => String(n).padStart(2, '0');

/** 2026-11-21 10:04:05 UTC */
export function utc(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/** 2026-11-21 */
export function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** 45 s, 12 min, 3 h 5 min, 2 d 4 h: two units at most, what a glance needs. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** A run's length to the precision a job's author reads it at: "340 ms", "3.46 s", then as duration(). */
export function runTime(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return duration(ms);
}

/** "12 min ago", or "in 5 min" for a time still to come. */
export function ago(d: Date, now: Date): string {
  const ms = now.getTime() - d.getTime();
  return ms >= 0 ? `${duration(ms)} ago` : `in ${duration(-ms)}`;
}

/**
 * "13 min ago · 22:41 UTC": when, at a glance and exactly, both visible (a tooltip is nothing on a
 * phone). The exact part is the time of day on the UTC day of `now`, and with its date on any
 * other day, so that "2 d 4 h ago" still says which night it was. With `seconds`, "22:41:07 UTC":
 * for a moment read against logs or a job that runs on a second (an incident's opening, a six-field
 * schedule's next run), where 22:41 leaves up to 59 s unsaid.
 */
export function agoAndAt(d: Date, now: Date, o: { seconds?: boolean } = {}): string {
  return `${ago(d, now)} · ${atOn(d, now, o)}`;
}

/** agoAndAt's exact part: "22:41 UTC" on the UTC day of `now`, "2026-11-20 22:41 UTC" on any other. */
export function atOn(d: Date, now: Date, o: { seconds?: boolean } = {}): string {
  const clock = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${o.seconds ? `:${pad(d.getUTCSeconds())}` : ''} UTC`;
  return day(d) === day(now) ? clock : `${day(d)} ${clock}`;
}

/**
 * 99.95 %, with as many decimals as tell a difference near 100, cut like the public pages' figures
 * (src/uptime/percent.ts); "no data" when nothing was monitored.
 */
export function percent(ratio: number | null): string {
  if (ratio === null) return 'no data';
  if (ratio >= 1) return '100 %';
  return `${cutPercent(ratio, ratio >= 0.999 ? 3 : 2)} %`;
}

/** The clock of `zone` at `d`, as a Date whose UTC fields read that clock. */
const clockOf = (d: Date, zone: string) => new Date(toLocal(zone, d.getTime()));

/**
 * 2026-11-21 10:04 on the clock of `zone` (no seconds: hand-offs and overrides are whole minutes;
 * `seconds` for a time that is not, such as a window started when it was created).
 */
export function zoned(d: Date, zone: string, o: { seconds?: boolean } = {}): string {
  return `${day(clockOf(d, zone))} ${hhmm(d, zone, o)}`;
}

const WEEKDAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * "Mon 09:00" on the clock of `zone` for a time within six days of `now` (no weekday is then said
 * twice), else as zoned: when a shift ends, said as people say hand-offs.
 */
export function weekdayAt(d: Date, now: Date, zone: string): string {
  return d.getTime() - now.getTime() < 6 * 86_400_000 ? `${WEEKDAY_NAMES[clockOf(d, zone).getUTCDay()]} ${hhmm(d, zone)}` : zoned(d, zone);
}

/** 10:04 on the clock of `zone`, 10:04:33 with `seconds`. */
export function hhmm(d: Date, zone: string, o: { seconds?: boolean } = {}): string {
  return timeOf(clockOf(d, zone), o);
}

const timeOf = (clock: Date, o: { seconds?: boolean }) => `${pad(clock.getUTCHours())}:${pad(clock.getUTCMinutes())}${o.seconds ? `:${pad(clock.getUTCSeconds())}` : ''}`;

/** The console's clock readings for zonedTime: "2026-11-21", "10:04" (or "10:04:33"). */
export const consoleClock = (o: { seconds?: boolean } = {}): ClockWords => ({
  day,
  time: (clock) => timeOf(clock, o),
  joint: ' ',
});

/** A datetime-local field's value for `d` on the clock of `zone`. */
export const localInput = (d: Date, zone: string): string => clockOf(d, zone).toISOString().slice(0, 16);

/** The clock units of a rotation: an exact number of milliseconds each, unlike days and longer (a DST day is 23 or 25 hours). */
const CLOCK_UNITS = ['hours', 'minutes', 'seconds', 'milliseconds'] as const;
const ROTATION_UNITS = ['years', 'months', 'weeks', 'days', ...CLOCK_UNITS] as const;

/**
 * A rotation (an ISO 8601 duration) as a person says it: P1W "every week", P2D "every 2 days",
 * P1DT12H "every 1 day 12 hours"; anything luxon cannot read, as stored. Seconds are said, and
 * carried into minutes and hours where they make them (PT1H60S "every 1 hour 1 minute", not
 * "every hour"); days are never made of hours, which are not the same length across a DST change.
 */
export function every(rotation: string): string {
  const d = Duration.fromISO(rotation);
  if (!d.isValid) return `every ${rotation}`;
  const date = d.toObject();
  const o = date.seconds || date.milliseconds ? { ...date, ...Duration.fromObject(Object.fromEntries(CLOCK_UNITS.map((u) => [u, date[u] ?? 0]))).shiftTo(...CLOCK_UNITS).toObject() } : date;
  const parts = ROTATION_UNITS.flatMap((u) => (o[u] ? [[o[u], u.slice(0, -1)] as const] : []));
  if (parts.length === 1 && parts[0]![0] === 1) return `every ${parts[0]![1]}`;
  return parts.length ? `every ${parts.map(([n, unit]) => `${n} ${unit}${n === 1 ? '' : 's'}`).join(' ')}` : `every ${rotation}`;
}
