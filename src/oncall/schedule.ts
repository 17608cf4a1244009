// Who is on call, as a pure function of a schedule and an instant: no clock, no database. The
// schedule's rules are written in its time zone's local time and are evaluated on the local clock
// (src/local-time.ts), so hand-offs and restriction windows keep their local time across DST.
//
// Decisions where the rules leave room (ARCHITECTURE.md, "On-call schedules"):
// - A rotation is clock arithmetic for every unit, hours included: PT12H from 09:00 hands off at
//   09:00 and 21:00 local on both sides of a DST change, so the shift that spans the change is 11
//   or 13 hours long. That is what a team writing "day shift, night shift" means, and what GoAlert
//   (hours added to the wall clock) and Grafana OnCall (recurrences in the schedule's zone) do.
//   Luxon's own plus({ hours: 12 }) would add absolute hours and let the hand-off drift by one.
// - Month rotations (P1M, P3M, P1Y) count calendar months from the start; a start on the 31st
//   hands off on the last day of shorter months and on the 31st again after. A rotation mixes no
//   months with days, and is at least PT1H (so a year of shifts stays a few thousand rows).
// - A hand-off whose local time does not exist (the hour skipped when clocks go forward) happens
//   at the jump; one that exists twice (clocks go back) happens at its first showing.
// - Restriction windows belong to the day they start on: {days: ["fri"], from: "22:00", to:
//   "06:00"} runs from Friday 22:00 to Saturday 06:00. from = to means the whole 24 hours.
// - A later layer wins where it has someone; outside its restrictions or before its start it has
//   nobody and the layer below shows through. Overrides win over every layer; where overrides
//   overlap, the one created last wins (a later override is the later decision, as in PagerDuty
//   and Grafana OnCall), so one person is paged, not everyone who ever covered the hour.
//
// onCallAt costs O(layers × restrictions + overrides) with no loop over past shifts: the shift
// index is (clock − start) ÷ rotation, using the local clock's high-water mark, which decides
// "has hand-off k happened by t" exactly (a hand-off at local time x has happened by t iff the
// clock has shown x or later by t). shifts() walks the hand-offs inside the asked range only, and
// of those only the ones that bring another person.
import { Duration } from 'luxon';
import { fromLocal, isTimeZone, localHighWater, toLocal } from '../local-time.ts';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Shifts and override pieces name their source; no layer may take this name. */
export const OVERRIDE_LAYER = 'override';

export interface Restriction {
  days: Weekday[];
  /** Local "HH:MM". */
  from: string;
  /** Local "HH:MM"; earlier than `from` runs into the next day, equal to it means 24 hours. */
  to: string;
}

export interface Layer {
  name: string;
  user_ids: string[];
  starts_at: Date;
  /** ISO 8601 duration: P1W, P1D, PT12H, P1M … */
  rotation: string;
  restrictions?: Restriction[] | undefined;
}

export interface Override {
  user_id: string;
  starts_at: Date;
  ends_at: Date;
  /** Decides between overlapping overrides: the one created last wins (ties: the later in the list). */
  created_at: Date;
}

export interface Schedule {
  time_zone: string;
  /** Lowest first: a later layer wins over an earlier one where it has someone. */
  layers: Layer[];
  overrides: Override[];
}

export interface Shift {
  user_id: string;
  starts_at: Date;
  ends_at: Date;
  /** The layer's name, or "override". */
  layer: string;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const MIN_ROTATION_MS = HOUR;

// ─── Rotations ──────────────────────────────────────────────────────────────────────────────────

/** A rotation is a whole number of calendar months, or a fixed length of local clock time. */
type Rotation = { months: number; ms?: undefined } | { ms: number; months?: undefined };

/** The rotation, or why it is not one. */
function readRotation(iso: string): Rotation | string {
  const duration = Duration.fromISO(iso);
  if (!duration.isValid) return 'must be an ISO 8601 duration such as P1W, P1D or PT12H';
  const { years = 0, months = 0, weeks = 0, days = 0, hours = 0, minutes = 0, seconds = 0, milliseconds = 0 } = duration.toObject();
  if ([years, months, weeks, days, hours, minutes, seconds, milliseconds].some((n) => n < 0)) return 'must be positive';
  const ms = ((weeks * 7 + days) * 24 + hours) * HOUR + minutes * MINUTE + seconds * 1000 + milliseconds;
  if (years || months) {
    if (ms) return 'must be whole months or years (P1M), or weeks, days, hours and minutes (P1DT12H), not both';
    const total = years * 12 + months;
    return Number.isInteger(total) ? { months: total } : 'months and years must be whole';
  }
  if (ms < MIN_ROTATION_MS) return 'must be at least PT1H';
  return ms % MINUTE === 0 ? { ms } : 'must be a whole number of minutes';
}

// Rotations are a handful of distinct strings ("P1W", "P1D"); parsing one costs more than
// everything else onCallAt does for a layer. Capped so odd input cannot grow it for ever.
const rotations = new Map<string, Rotation>();

function rotationOf(iso: string): Rotation {
  let rotation = rotations.get(iso);
  if (rotation === undefined) {
    const read = readRotation(iso);
    if (typeof read === 'string') throw new RangeError(`rotation "${iso}" ${read}`);
    if (rotations.size >= 1000) rotations.clear();
    rotations.set(iso, read);
    rotation = read;
  }
  return rotation;
}

/** The local time `months` calendar months after `local`, the day clamped to the month's end. */
function addMonths(local: number, months: number): number {
  const d = new Date(local);
  const timeOfDay = local - Math.floor(local / DAY) * DAY;
  const target = new Date(0);
  target.setUTCFullYear(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
  const monthEnd = new Date(0);
  monthEnd.setUTCFullYear(target.getUTCFullYear(), target.getUTCMonth() + 1, 0);
  target.setUTCDate(Math.min(d.getUTCDate(), monthEnd.getUTCDate()));
  return target.getTime() + timeOfDay;
}

const monthIndex = (local: number) => {
  const d = new Date(local);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
};

/** A layer with its start read on the local clock and its rotation parsed. */
interface LayerClock {
  layer: Layer;
  startsAt: number;
  startLocal: number;
  rotation: Rotation;
  windows: Window[] | null;
}

/** Local time of hand-off k (k = 0 is the layer's start). */
function handoffLocal(c: LayerClock, k: number): number {
  return c.rotation.ms !== undefined ? c.startLocal + k * c.rotation.ms : addMonths(c.startLocal, k * c.rotation.months);
}

/** Instant of hand-off k: the first time the clock shows its local time (never before the start). */
function handoffAt(zone: string, c: LayerClock, k: number): number {
  return k === 0 ? c.startsAt : Math.max(c.startsAt, fromLocal(zone, handoffLocal(c, k)));
}

/**
 * The shift running when the clock's high-water mark is `high` (the layer has started): the
 * last k whose hand-off local time the clock has reached. Arithmetic, not a walk from the start.
 */
function shiftIndex(c: LayerClock, high: number): number {
  if (c.rotation.ms !== undefined) return Math.max(0, Math.floor((high - c.startLocal) / c.rotation.ms));
  let k = Math.max(0, Math.floor((monthIndex(high) - monthIndex(c.startLocal)) / c.rotation.months));
  // Clamped month ends put a hand-off up to a month off the estimate; step onto the exact one.
  while (k > 0 && handoffLocal(c, k) > high) k -= 1;
  while (handoffLocal(c, k + 1) <= high) k += 1;
  return k;
}

const userOf = (c: LayerClock, k: number) => c.layer.user_ids[k % c.layer.user_ids.length]!;

/**
 * The first hand-off after k that brings someone other than shift k's person, or null when the
 * rotation names nobody else. The rotation repeats every user_ids.length shifts, so looking that
 * far ahead decides it.
 */
function nextChange(c: LayerClock, k: number): number | null {
  const ids = c.layer.user_ids;
  const user = userOf(c, k);
  for (let d = 1; d < ids.length; d++) if (ids[(k + d) % ids.length] !== user) return k + d;
  return null;
}

// ─── Restrictions ───────────────────────────────────────────────────────────────────────────────

/** A restriction in minutes: a window opens at `from` on each day in `days` and lasts `length`. */
interface Window {
  days: number;
  from: number;
  length: number;
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function windowOf(r: Restriction): Window {
  let days = 0;
  for (const day of r.days) days |= 1 << WEEKDAYS.indexOf(day);
  const from = minutesOf(r.from);
  const length = (minutesOf(r.to) - from + 1440) % 1440 || 1440;
  return { days, from: from * MINUTE, length: length * MINUTE };
}

/** Day number `day` (local days since 1970-01-01, a Thursday) is one of the window's days. */
const opensOn = (w: Window, day: number) => (w.days & (1 << ((((day + 3) % 7) + 7) % 7))) !== 0;

function clockOf(layer: Layer, zone: string): LayerClock {
  const startsAt = layer.starts_at.getTime();
  const restrictions = layer.restrictions ?? [];
  return {
    layer,
    startsAt,
    startLocal: toLocal(zone, startsAt),
    rotation: rotationOf(layer.rotation),
    windows: restrictions.length ? restrictions.map(windowOf) : null,
  };
}

/**
 * Whether a restriction window covers the instant whose clock high-water mark is `high`. A window
 * opening on day d lasts at most 24 hours, so only windows opening that day or the day before can.
 */
function inWindow(windows: Window[], high: number): boolean {
  const today = Math.floor(high / DAY);
  for (let day = today - 1; day <= today; day++) {
    for (const w of windows) {
      const opens = day * DAY + w.from;
      if (opensOn(w, day) && opens <= high && high < opens + w.length) return true;
    }
  }
  return false;
}

// ─── Who is on call at one instant ──────────────────────────────────────────────────────────────

/** The override that wins at t, if any covers it. */
function overrideAt(overrides: Override[], t: number): Override | null {
  let winner: Override | null = null;
  for (const o of overrides) {
    if (o.starts_at.getTime() <= t && t < o.ends_at.getTime() && (winner === null || o.created_at >= winner.created_at)) winner = o;
  }
  return winner;
}

/** Who is on call at `at`: usually one user, none where no layer has anyone. */
export function onCallAt(schedule: Schedule, at: Date): string[] {
  const t = at.getTime();
  const override = overrideAt(schedule.overrides, t);
  if (override) return [override.user_id];
  const high = localHighWater(schedule.time_zone, t);
  for (let i = schedule.layers.length - 1; i >= 0; i--) {
    const layer = schedule.layers[i]!;
    if (t < layer.starts_at.getTime()) continue;
    const c = clockOf(layer, schedule.time_zone);
    if (c.windows && !inWindow(c.windows, high)) continue;
    return [userOf(c, shiftIndex(c, high))];
  }
  return [];
}

// ─── The timeline over a range ──────────────────────────────────────────────────────────────────

interface Piece {
  start: number;
  end: number;
  user: string;
}

/**
 * The layer's rotation inside [from, to), clipped to it: one piece per run of shifts of one
 * person, not per shift. Hand-offs from a person to the same person change nothing on the
 * timeline (shifts() would merge the pieces again), and skipping them is what keeps a one-person
 * layer cheap: a PT1H rotation of one user was 2,232 hand-offs, each a fromLocal, over the 93 days
 * onCallUntil looks ahead; it is now one piece.
 */
function rotationPieces(zone: string, c: LayerClock, from: number, to: number): Piece[] {
  const pieces: Piece[] = [];
  const first = Math.max(from, c.startsAt);
  if (first >= to) return pieces;
  let k = shiftIndex(c, localHighWater(zone, first));
  let start = handoffAt(zone, c, k);
  while (start < to) {
    const next = nextChange(c, k);
    const end = next === null ? to : handoffAt(zone, c, next);
    // A hand-off inside a skipped hour can leave a shift no real time at all; it is dropped.
    if (end > from && end > start) pieces.push({ start: Math.max(start, from), end: Math.min(end, to), user: userOf(c, k) });
    if (next === null) break;
    k = next;
    start = end;
  }
  return pieces;
}

/** The instants covered by the layer's restriction windows within [from, to), merged and sorted. */
function windowSpans(zone: string, windows: Window[], from: number, to: number): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  // Windows opening before the day before `from`'s clock day have closed by `from`; windows opening
  // after `to`'s clock day have not opened by `to`.
  const last = Math.floor(localHighWater(zone, to) / DAY);
  for (let day = Math.floor(localHighWater(zone, from) / DAY) - 1; day <= last; day++) {
    for (const w of windows) {
      if (!opensOn(w, day)) continue;
      const opens = day * DAY + w.from;
      const start = Math.max(from, fromLocal(zone, opens));
      const end = Math.min(to, fromLocal(zone, opens + w.length));
      if (start < end) spans.push([start, end]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const s of spans) {
    const top = merged[merged.length - 1];
    if (top && s[0] <= top[1]) top[1] = Math.max(top[1], s[1]);
    else merged.push([s[0], s[1]]);
  }
  return merged;
}

/** Pieces cut down to the parts inside the spans (both sorted, neither overlapping itself). */
function clip(pieces: Piece[], spans: Array<[number, number]>): Piece[] {
  const out: Piece[] = [];
  let j = 0;
  for (const p of pieces) {
    while (j < spans.length && spans[j]![1] <= p.start) j += 1;
    for (let i = j; i < spans.length && spans[i]![0] < p.end; i++) {
      const start = Math.max(p.start, spans[i]![0]);
      const end = Math.min(p.end, spans[i]![1]);
      if (start < end) out.push({ start, end, user: p.user });
    }
  }
  return out;
}

function layerPieces(zone: string, layer: Layer, from: number, to: number): Piece[] {
  const c = clockOf(layer, zone);
  const pieces = rotationPieces(zone, c, from, to);
  return c.windows ? clip(pieces, windowSpans(zone, c.windows, from, to)) : pieces;
}

/**
 * The final on-call timeline within [from, to): who is on call when and by which layer (or
 * "override"), pieces clipped to the range, adjacent pieces of one user from one source merged
 * (a one-person rotation is one long shift). Gaps are times nobody is on call.
 */
export function shifts(schedule: Schedule, from: Date, to: Date): Shift[] {
  const f = from.getTime();
  const t = to.getTime();
  if (t <= f) return [];
  const zone = schedule.time_zone;
  const layers = schedule.layers.map((layer) => layerPieces(zone, layer, f, t));
  const overrides = schedule.overrides.filter((o) => o.starts_at.getTime() < t && o.ends_at.getTime() > f);

  const cuts = new Set<number>([f, t]);
  for (const pieces of layers) for (const p of pieces) cuts.add(p.start).add(p.end);
  for (const o of overrides) {
    if (o.starts_at.getTime() > f) cuts.add(o.starts_at.getTime());
    if (o.ends_at.getTime() < t) cuts.add(o.ends_at.getTime());
  }
  const bounds = [...cuts].sort((a, b) => a - b);

  const out: Shift[] = [];
  const next = layers.map(() => 0);
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i]!;
    const end = bounds[i + 1]!;
    let user: string | null = null;
    let source = OVERRIDE_LAYER;
    const override = overrideAt(overrides, start);
    if (override) user = override.user_id;
    for (let l = layers.length - 1; l >= 0 && user === null; l--) {
      const pieces = layers[l]!;
      while (next[l]! < pieces.length && pieces[next[l]!]!.end <= start) next[l]! += 1;
      const p = pieces[next[l]!];
      if (p && p.start <= start) {
        user = p.user;
        source = schedule.layers[l]!.name;
      }
    }
    if (user === null) continue;
    const prev = out[out.length - 1];
    if (prev && prev.user_id === user && prev.layer === source && prev.ends_at.getTime() === start) prev.ends_at = new Date(end);
    else out.push({ user_id: user, starts_at: new Date(start), ends_at: new Date(end), layer: source });
  }
  return out;
}

// ─── Until when ─────────────────────────────────────────────────────────────────────────────────

/** How far ahead the end of a shift is looked for: a quarter, the shifts API's longest range. */
export const UNTIL_HORIZON_MS = 93 * DAY;
// Most shifts end within a day or a week: the timeline is drawn that far first, a quarter only when
// they do not (a one-person layer, a P1M rotation), so a page of policies stays a few hundred pieces.
const UNTIL_STEPS = [DAY, 7 * DAY, UNTIL_HORIZON_MS];

/** Who is on call, and the instant they stop being on call (null: not within UNTIL_HORIZON_MS). */
export interface OnCallUntil {
  user_id: string;
  until: Date | null;
}

/**
 * Who is on call at `at` (as onCallAt), each until the end of their unbroken run on the timeline:
 * one person's shifts from two layers back to back, or an override and then their own shift, are
 * one run. `schedule` holds the overrides that overlap [at, at + UNTIL_HORIZON_MS).
 */
export function onCallUntil(schedule: Schedule, at: Date): OnCallUntil[] {
  const t = at.getTime();
  const [user] = onCallAt(schedule, at);
  if (user === undefined) return [];
  for (const step of UNTIL_STEPS) {
    let end = t;
    for (const s of shifts(schedule, at, new Date(t + step))) {
      if (s.user_id !== user || s.starts_at.getTime() !== end) break;
      end = s.ends_at.getTime();
    }
    if (end < t + step) return [{ user_id: user, until: new Date(end) }];
  }
  return [{ user_id: user, until: null }];
}

// ─── Validation ─────────────────────────────────────────────────────────────────────────────────

export interface FieldError {
  field: string;
  message: string;
}

/** A schedule as the API receives it, its types already checked. */
export interface ScheduleInput {
  time_zone: string;
  layers: Array<Omit<Layer, 'restrictions'> & { restrictions?: Array<{ days: string[]; from: string; to: string }> | undefined }>;
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** What the types cannot say about a schedule, each problem named by its field. */
export function validateSchedule(input: ScheduleInput): FieldError[] {
  const errors: FieldError[] = [];
  const bad = (field: string, message: string) => errors.push({ field, message });
  if (!isTimeZone(input.time_zone)) bad('time_zone', 'must be an IANA time zone such as Europe/Berlin');
  const names = new Set<string>();
  input.layers.forEach((layer, i) => {
    const at = `layers.${i}`;
    if (layer.name === OVERRIDE_LAYER) bad(`${at}.name`, `"${OVERRIDE_LAYER}" names overrides in shifts; choose another name`);
    else if (names.has(layer.name)) bad(`${at}.name`, 'must differ from the other layers’ names');
    names.add(layer.name);
    if (layer.user_ids.length === 0) bad(`${at}.user_ids`, 'must name at least one user');
    if (Number.isNaN(layer.starts_at.getTime())) bad(`${at}.starts_at`, 'must be a time');
    const rotation = readRotation(layer.rotation);
    if (typeof rotation === 'string') bad(`${at}.rotation`, rotation);
    (layer.restrictions ?? []).forEach((r, j) => {
      const rat = `${at}.restrictions.${j}`;
      if (r.days.length === 0) bad(`${rat}.days`, 'must name at least one day');
      r.days.forEach((day, d) => {
        if (!(WEEKDAYS as readonly string[]).includes(day)) bad(`${rat}.days.${d}`, `must be one of ${WEEKDAYS.join(', ')}`);
      });
      if (!HHMM.test(r.from)) bad(`${rat}.from`, 'must be a local time HH:MM from 00:00 to 23:59');
      if (!HHMM.test(r.to)) bad(`${rat}.to`, 'must be a local time HH:MM from 00:00 to 23:59');
    });
  });
  return errors;
}

/** An override must end after it starts. */
export function validateOverride(input: Pick<Override, 'user_id' | 'starts_at' | 'ends_at'>): FieldError[] {
  const errors: FieldError[] = [];
  if (input.user_id === '') errors.push({ field: 'user_id', message: 'must name a user' });
  if (Number.isNaN(input.starts_at.getTime())) errors.push({ field: 'starts_at', message: 'must be a time' });
  if (Number.isNaN(input.ends_at.getTime())) errors.push({ field: 'ends_at', message: 'must be a time' });
  else if (input.ends_at <= input.starts_at) errors.push({ field: 'ends_at', message: 'must be after starts_at' });
  return errors;
}
