// Local clock time in an IANA time zone, and back to instants, for rules written in local time
// (on-call hand-offs, restriction windows, cron schedules). A local time here is the clock
// reading expressed as epoch milliseconds as if the zone were UTC: 09:00 on 2026-03-29 in Berlin
// is Date.UTC(2026, 2, 29, 9). Plain arithmetic on such numbers is clock arithmetic (a local day
// is always 24 hours long), and `new Date(local).getUTC…()` reads the clock's fields.
//
// Luxon's IANAZone.offset is the source of truth, but it formats a date through Intl on every
// call (about 9 µs here), and answering who is on call for 1,000 schedules needs tens of thousands
// of offsets. So each zone's offsets are tabulated once per UTC year: sampled every 24 hours and
// bisected to the second wherever two samples differ (about 370 Intl calls, 3 ms per zone and
// year, kept for the life of the process). A lookup is then a few comparisons. The one thing
// daily sampling would miss is an offset that changes and changes back within 24 hours
// (test/unit/local-time.test.ts compares the table with Luxon every three hours, and to the second
// at every change, for the zones it lists).
import { IANAZone } from 'luxon';

const SECOND = 1000;
const DAY = 86_400_000;
// Larger than any UTC offset the time zone database has ever used (Manila's −15:56 before 1845).
const FAR = 26 * 3_600_000;

/**
 * Whether this engine can read a zone: what Intl takes, which is more than people should type (see
 * isZoneName). Rows kept before isZoneName was asked of new ones are read by this rule.
 */
export const isTimeZone = (name: string): boolean => IANAZone.isValidZone(name);

/**
 * The areas of the IANA database's Area/Location names: continents and oceans, Etc (fixed offsets,
 * Etc/UTC) and the countries its `backward` file keeps names under (US/Eastern is America/New_York).
 */
const AREAS = new Set(['africa', 'america', 'antarctica', 'arctic', 'asia', 'atlantic', 'australia', 'europe', 'indian', 'pacific', 'etc', 'brazil', 'canada', 'chile', 'mexico', 'us']);

/**
 * Whether a zone typed in may be kept: any name this engine knows but a three-letter abbreviation.
 * Intl turns each abbreviation into a zone other than the one meant: EST is America/Panama (no
 * DST: a New York rota an hour off from March to November), BST Asia/Dhaka, CET Europe/Brussels,
 * IST Asia/Calcutta, and PST is ICU's own, in no IANA release. UTC by its other names (GMT, UCT,
 * Zulu) is UTC, and the database's older names without an area mean what they say (Japan, GB,
 * Singapore, EST5EDT: New York's rules), as do its three-letter countries (PRC, ROC, ROK). A name
 * with an area must be one of the IANA database's: ICU's SystemV/EST5 is not.
 */
export const isZoneName = (name: string): boolean => {
  if (isUtc(name)) return true;
  if (!isTimeZone(name)) return false;
  if (name.includes('/')) return AREAS.has(name.split('/', 1)[0]!.toLowerCase());
  return !/^[a-z]{3}$/i.test(name) || COUNTRIES.has(name.toUpperCase());
};

/** The IANA database's zone names that are three letters and name a country, not a clock. */
const COUNTRIES = new Set(['PRC', 'ROC', 'ROK']);

/**
 * Current IANA names that Node 20's ICU lists only under an older one (its resolvedOptions turns
 * Asia/Kolkata into Asia/Calcutta): the 19 names of tzdata 2025's zone1970.tab that Intl resolves
 * to another. Offered in the console's list and kept as typed.
 */
const RENAMED = [
  'Africa/Asmara', 'America/Argentina/Buenos_Aires', 'America/Argentina/Catamarca', 'America/Argentina/Cordoba', 'America/Argentina/Jujuy',
  'America/Argentina/Mendoza', 'America/Atikokan', 'America/Indiana/Indianapolis', 'America/Kentucky/Louisville', 'America/Nuuk',
  'Asia/Ho_Chi_Minh', 'Asia/Kathmandu', 'Asia/Kolkata', 'Asia/Yangon', 'Atlantic/Faroe', 'Europe/Kyiv', 'Pacific/Chuuk', 'Pacific/Kanton', 'Pacific/Pohnpei',
];

/** Every zone name this engine lists, old and current, sorted: Intl's own and the RENAMED it lacks. */
export const ZONE_NAMES: readonly string[] = [...new Set([...Intl.supportedValuesOf('timeZone'), ...RENAMED])].sort();

const SPELLING = new Map(ZONE_NAMES.map((zone) => [zone.toLowerCase(), zone]));

/**
 * A zone's name spelled as listed (`europe/berlin` → Europe/Berlin), for a zone kept to be shown:
 * Intl accepts any case, and a name shown back as typed reads "10:00 utc". A listed name is kept
 * as it is, not as Intl resolves it: Asia/Kolkata stays Asia/Kolkata (Intl says Asia/Calcutta)
 * and Asia/Calcutta stays too. An alias not listed (us/eastern) is kept as Intl resolves it. UTC
 * by any of its names is kept as UTC by the list below, not by Intl, whose name for Etc/UTC is
 * the engine's choice. For a name isTimeZone accepts.
 */
export const canonicalZone = (name: string): string =>
  isUtc(name) ? 'UTC' : (SPELLING.get(name.toLowerCase()) ?? new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone);

/**
 * The zone a kept time is shown on: canonicalZone's name, or null (show UTC) for a name this
 * engine does not know. The column is free text: a row restored, written by hand or kept under a
 * newer ICU can name a zone Intl here refuses, and showing on its clock would throw and fail the
 * whole page (the public status page, the incident pages) over one window.
 */
export const shownZone = (name: string | null | undefined): string | null => (name != null && isTimeZone(name) ? canonicalZone(name) : null);

/**
 * UTC by its other names in the IANA database (Etc/UTC, GMT, Zulu): listed, not left to the name
 * Intl resolves them to, which is ICU's and the engine's choice and not the same in every release.
 * Matched in any case: Intl takes `etc/utc`, and a zone kept before the API stored canonicalZone's
 * name is as it was typed.
 */
const UTC_ZONES = new Set(
  [
    'UTC', 'Etc/UTC', 'UCT', 'Etc/UCT', 'GMT', 'Etc/GMT', 'GMT0', 'Etc/GMT0', 'GMT+0', 'Etc/GMT+0', 'GMT-0', 'Etc/GMT-0',
    'Greenwich', 'Etc/Greenwich', 'Universal', 'Etc/Universal', 'Zulu', 'Etc/Zulu',
  ].map((zone) => zone.toLowerCase()),
);
export const isUtc = (zone: string): boolean => UTC_ZONES.has(zone.toLowerCase());

/**
 * The English locales whose CLDR data name their own region's zones, asked in turn: en-US knows
 * only American abbreviations (EST, PDT, AKST) and gives "GMT+1" for Berlin; en-GB names Europe's
 * (CET/CEST, BST, WET, EET) and the Gulf's (GST); en-AU Australia's and New Zealand's (AEST,
 * NZDT); en-IN India's (IST); en-CA Newfoundland's (NST); en-ZA Africa's (SAST, CAT, EAT, WAT).
 * Each gives "GMT±N" for a zone it does not name, so the first that names it wins, and a zone none
 * names keeps its offset: Asia/Tokyo (GMT+9), and in summer Europe/Dublin, Jersey, Guernsey and
 * Isle_of_Man (GMT+1), whose summer names (IST, BST) none of them gives.
 */
const ABBREVIATING = ['en-US', 'en-GB', 'en-AU', 'en-IN', 'en-CA', 'en-ZA'];
/** "GMT+1", "GMT-3:30", "GMT+0": an offset, not a name. */
const OFFSET_NAME = /^GMT[+-]/;

// One formatter per zone and locale asked: building an Intl.DateTimeFormat costs ~50 µs, formatting with one ~3 µs.
const abbreviations = new Map<string, Intl.DateTimeFormat[]>();
/** The zone's name at `at`: its abbreviation where one is in common use (EST, CET, IST), its offset otherwise (GMT+9). */
const abbreviation = (zone: string, at: number): string => {
  let formats = abbreviations.get(zone);
  if (!formats) abbreviations.set(zone, (formats = []));
  let offset = '';
  for (let i = 0; i < ABBREVIATING.length; i++) {
    formats[i] ??= new Intl.DateTimeFormat(ABBREVIATING[i], { timeZone: zone, timeZoneName: 'short' });
    const name = formats[i]!.formatToParts(at).find((p) => p.type === 'timeZoneName')!.value;
    if (!OFFSET_NAME.test(name)) return name;
    offset ||= name;
  }
  return offset;
};

/** A message's clock readings: ISO's day, the time to the second; the zone by its abbreviation. */
const STAMP_CLOCK: ClockWords = {
  day: (clock) => clock.toISOString().slice(0, 10),
  time: (clock) => clock.toISOString().slice(11, 19),
  joint: ' ',
};

/**
 * An instant as a person reads it: on their clock with UTC beside it, `2026-11-21 05:05:00 EST
 * (10:05:00 UTC)`, the UTC date repeated only where it is another day (`2026-11-21 23:30:00 EST
 * (2026-11-22 04:30:00 UTC)`). A reader on UTC, or on a zone this engine does not know (shownZone),
 * and a message many read (zone undefined) get `2026-11-21 10:05:00 UTC`. `withDate` false: the
 * time of day alone, `05:05:00 EST (10:05:00 UTC)`, the UTC date still said where the local one
 * would be another. zonedTime's rule, in one line, with the zone's abbreviation for its name.
 */
export function zonedStamp(at: Date, zone: string | null | undefined, withDate = true): string {
  const clock = shownZone(zone) ?? 'UTC';
  const t = onClock(at.getTime(), clock, STAMP_CLOCK, withDate, clock === 'UTC' ? clock : abbreviation(clock, at.getTime()));
  return t.utc === null ? t.here : `${t.here} (${t.utc})`;
}

/** The offsets of one UTC year: offsets[i] applies from starts[i] until starts[i + 1] (or end). */
interface YearTable {
  starts: number[];
  offsets: number[];
  end: number;
}

class ZoneTable {
  private readonly years = new Map<number, YearTable>();

  constructor(private readonly zone: IANAZone) {}

  private offsetFromIntl(t: number): number {
    return Math.round(this.zone.offset(t) * 60_000);
  }

  year(y: number): YearTable {
    let table = this.years.get(y);
    if (table === undefined) {
      table = this.build(y);
      this.years.set(y, table);
    }
    return table;
  }

  private build(y: number): YearTable {
    const start = Date.UTC(y, 0, 1);
    const end = Date.UTC(y + 1, 0, 1);
    const starts = [start];
    const offsets = [this.offsetFromIntl(start)];
    let before = offsets[0]!;
    for (let a = start; a < end; a += DAY) {
      const b = Math.min(a + DAY, end);
      const atB = this.offsetFromIntl(b);
      // Intl resolves to the second, so changes sit on whole seconds: find each one in (a, b].
      let lo = a;
      while (atB !== before) {
        let hi = b;
        while (hi - lo > SECOND) {
          const mid = lo + Math.floor((hi - lo) / SECOND / 2) * SECOND;
          if (this.offsetFromIntl(mid) === before) lo = mid;
          else hi = mid;
        }
        before = this.offsetFromIntl(hi);
        if (hi < end) {
          starts.push(hi);
          offsets.push(before);
        }
        lo = hi;
      }
    }
    return { starts, offsets, end };
  }
}

const tables = new Map<string, ZoneTable>();

function tableOf(zone: string): ZoneTable {
  let table = tables.get(zone);
  if (table === undefined) {
    const iana = IANAZone.create(zone);
    if (!iana.isValid) throw new RangeError(`not an IANA time zone: ${zone}`);
    table = new ZoneTable(iana);
    tables.set(zone, table);
  }
  return table;
}

function yearOf(t: number): number {
  if (!Number.isFinite(t)) throw new RangeError(`not a time: ${t}`);
  return new Date(t).getUTCFullYear();
}

/** Index of the entry in force at t (t lies in the table's year). */
function indexAt(table: YearTable, t: number): number {
  let i = table.starts.length - 1;
  while (table.starts[i]! > t) i -= 1;
  return i;
}

/** Calls visit(start, end, offset) for each stretch of constant offset from the one holding t on, until it returns true. */
function walk(zone: string, t: number, visit: (start: number, end: number, offset: number) => boolean): void {
  const zt = tableOf(zone);
  let year = zt.year(yearOf(t));
  let i = indexAt(year, t);
  for (;;) {
    const end = i + 1 < year.starts.length ? year.starts[i + 1]! : year.end;
    if (visit(year.starts[i]!, end, year.offsets[i]!)) return;
    if (i + 1 < year.starts.length) {
      i += 1;
    } else {
      year = zt.year(yearOf(year.end));
      i = 0;
    }
  }
}

/** The zone's UTC offset at instant t, in milliseconds. */
export function offsetAt(zone: string, t: number): number {
  const year = tableOf(zone).year(yearOf(t));
  return year.offsets[indexAt(year, t)]!;
}

/**
 * Whether the zone's UTC offset changes at some instant in (from, to]: its clock jumps or repeats
 * time there, so a cron run can fall in that span that the next-run search does not name.
 */
export function offsetChanges(zone: string, from: number, to: number): boolean {
  const first = offsetAt(zone, from);
  let changed = false;
  walk(zone, from, (start, _end, offset) => {
    if (start > to) return true;
    changed = offset !== first;
    return changed;
  });
  return changed;
}

/** What the zone's clock shows at instant t. */
export function toLocal(zone: string, t: number): number {
  return t + offsetAt(zone, t);
}

/**
 * "03:30 in Europe/Berlin": a zoned job's time on the clock its crontab speaks, as its reasons say
 * it (src/health/cron-deadline.ts), beside the UTC the console and the CLI show; with the date
 * when that clock's is not UTC's ("2026-12-05 22:00 in America/New_York" for 03:00 UTC on the
 * 6th), and `seconds` for a six-field schedule.
 */
export function onJobClock(t: number, zone: string, seconds = false): string {
  const local = new Date(toLocal(zone, t)).toISOString();
  const date = local.slice(0, 10) === new Date(t).toISOString().slice(0, 10) ? '' : `${local.slice(0, 10)} `;
  return `${date}${local.slice(11, seconds ? 19 : 16)} in ${zone}`;
}

/**
 * The first instant at which the zone's clock shows `local` or later. A local time skipped by a
 * jump forward maps to the moment of the jump (02:30 on the morning clocks go from 02:00 to 03:00
 * happens at 03:00); a local time shown twice when clocks go back maps to its first showing.
 * Monotonic: a later local time never maps to an earlier instant.
 */
export function fromLocal(zone: string, local: number): number {
  let found = Number.NaN;
  // Before local − FAR the clock cannot yet show `local`; within each stretch of constant offset
  // the clock only moves forward, so the first stretch that reaches `local` holds the answer.
  walk(zone, local - FAR, (start, end, offset) => {
    if (local - offset >= end) return false;
    found = Math.max(start, local - offset);
    return true;
  });
  return found;
}

/**
 * Every instant at which the zone's clock shows `local`, earliest first: none for a time skipped
 * when clocks jump forward (02:30 on the night Berlin goes from 02:00 to 03:00), two for one shown
 * twice when they go back, else one.
 */
export function showings(zone: string, local: number): number[] {
  const found: number[] = [];
  // The clock shows `local` at local − offset, if that instant lies in the offset's own stretch.
  walk(zone, local - FAR, (start, end, offset) => {
    if (start > local + FAR) return true;
    const t = local - offset;
    if (t >= start && t < end) found.push(t);
    return false;
  });
  return found;
}

/**
 * The latest time the zone's clock has shown at or before instant t. It is the clock at t except
 * in the hour after clocks went back, when the clock repeats times it has already shown.
 */
export function localHighWater(zone: string, t: number): number {
  let high = toLocal(zone, t);
  let previous: number | undefined;
  walk(zone, t - FAR, (start, _end, offset) => {
    if (start > t) return true;
    // Just before this stretch began, the clock showed start − 1 ms + the previous offset.
    if (previous !== undefined) high = Math.max(high, start - 1 + previous);
    previous = offset;
    return false;
  });
  return high;
}

/** How a page writes a clock reading, from a Date whose UTC fields read the clock. */
export interface ClockWords {
  /** "2026-11-21", "Sat 21 Nov 2026". */
  day(clock: Date): string;
  /** "10:02", "10:02:33". */
  time(clock: Date): string;
  /** Between the day and the time: " ", ", ". */
  joint: string;
}

/**
 * Instant `at` on the clock of the zone it was typed on, and in UTC beside, as the console and
 * the status page both say a maintenance window's times: `here` "2026-11-22 00:30 Europe/Berlin",
 * `utc` "2026-11-21 23:30 UTC" (in `words`). The zone by shownZone's name; `utc` is null when that
 * is UTC by any name, or no zone this engine knows, or none: `here` is then the UTC reading. The
 * UTC day is said only when it is another than the day said before it: `here`'s, or when that is
 * left out, `since`'s in UTC. `here`'s day is left out when it is the one `since` (now, or the
 * window's start) falls on by the same clock.
 */
export function zonedTime(at: number, zone: string | null | undefined, words: ClockWords, since?: number): { here: string; utc: string | null } {
  const clock = shownZone(zone) ?? 'UTC';
  const dayShown = since === undefined || words.day(clockAt(since, clock)) !== words.day(clockAt(at, clock));
  return onClock(at, clock, words, dayShown, clock, dayShown ? undefined : words.day(clockAt(since!, 'UTC')));
}

/** What `zone`'s clock shows at instant `t`, as a Date whose UTC fields read it. */
const clockAt = (t: number, zone: string): Date => new Date(toLocal(zone, t));

/**
 * zonedTime's and zonedStamp's one rule: `at` on `clock` (shownZone's name, or UTC), called
 * `name`, with its day when `dayShown`; and in UTC beside unless the clock is UTC, its day said
 * only when it is another than `utcDaySaid` (by default the local day, said or not).
 */
function onClock(at: number, clock: string, words: ClockWords, dayShown: boolean, name: string, utcDaySaid?: string): { here: string; utc: string | null } {
  const local = clockAt(at, clock);
  const hereDay = words.day(local);
  const here = `${dayShown ? `${hereDay}${words.joint}` : ''}${words.time(local)} ${name}`;
  if (clock === 'UTC') return { here, utc: null };
  const utc = clockAt(at, 'UTC');
  return { here, utc: `${words.day(utc) === (utcDaySaid ?? hereDay) ? '' : `${words.day(utc)}${words.joint}`}${words.time(utc)} UTC` };
}
