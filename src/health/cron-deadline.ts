// Deadlines of scheduled jobs (nodes with a cron `schedule`), pure like decide.ts: the last ping
// times and `now` arrive as arguments. A job is due a success ping by the first scheduled time
// strictly after its last success, plus grace_seconds (the rule Healthchecks uses). With
// max_run_seconds set, a run that has sent `start` and no end yet is judged by that limit
// instead, until it ends: a job that takes 40 minutes from 03:00 is running, not late at 03:05.
// Without it, a start changes nothing.
//
// Expressions are the `cron` package's: five fields, or six with seconds first, its aliases
// (jan, mon) and presets (@daily). Its CronTime finds the next time an expression names; it runs
// here in UTC, where clock arithmetic is exact, so what it returns is the next *local clock time*
// (src/local-time.ts), and that becomes an instant by the rule the on-call schedules use: a local
// time has come once the clock has shown it or later. So
// - a time the clock skips (02:30 on the night clocks go from 02:00 to 03:00) is due at the
//   jump, as the cron package and Vixie cron run it;
// - in the hour the clock repeats, each local time is due once, at its first showing, and the
//   second pass brings nothing new.
// Left to its own zone handling, the package (4.4) steps an hour back after a repeated hour —
// a daily 03:00 in Berlin comes out at 02:00 CET on 2026-10-25 and again at 03:00 — can answer
// with a time before the one it was asked from (kelektiv/node-cron#1087), and resolves a
// repeated time by Luxon's guess from the offset the *wall clock* has today. A monitor that
// expected those runs would call a job late that ran exactly when cron runs it. The one
// departure — wildcard times (*/15) are not expected again in the repeated hour — can only make
// a deadline later, by at most that hour.
//
// The package reads the wall clock in one place: its search gives up 8 years after today, with a
// CronError. A valid expression matches within 4 years of any time (29 February; 8 around 2100,
// which is not a leap year), so a search from a ping, a node's creation or now always finds its
// run; an impossible date (30 February) is refused when the schedule is written. Only a search
// from a run still to come can pass the limit — `0 0 29 2 *` looked up three runs ahead from
// 2026-12-06 reaches 2036 — so firstRunDue looks that far only when it must, and its later
// lookups (runAfter) take a search that gives up as "no run in range" rather than a thrown error.
import { CronTime } from 'cron';
// The package's own error class, which its index does not re-export (4.4).
import { CronError } from 'cron/dist/errors.js';
import { DateTime } from 'luxon';
import { fromLocal, isTimeZone, isUtc, localHighWater } from '../local-time.ts';

export interface CronSchedule {
  cron: string;
  time_zone: string;
  grace_seconds: number;
  max_run_seconds?: number | null | undefined;
}

/** The instant a job becomes down, and why. */
export interface Deadline {
  at: Date;
  /**
   * Why, said only when the job is down: a missed run's words format two times on two clocks,
   * which built for every job judged doubled the pass's CPU per job (13.9 → 27.7 µs; built only
   * for the 5 % down, 13.4 → 6.8 µs: BENCHMARKS.md, 2026-12-07 05:45). A function, not a getter,
   * so no spread or JSON.stringify can lose it.
   */
  reason: () => string;
  /**
   * A missed run's deadline passed while a run is under way: it says less than a failed run's
   * reason, which it does not replace (decide's step 3), or each run that outlives its grace and
   * then fails would rename the outage twice.
   */
  runGoing?: boolean;
}

/** The first time the schedule names strictly after `after`. */
export function nextRunAfter(schedule: Pick<CronSchedule, 'cron' | 'time_zone'>, after: Date): Date {
  const t = after.getTime();
  const known = searchesOf(schedule);
  const spans = known.spans;
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i]!;
    if (span.from <= t && t < span.next) return new Date(foremost(spans, i).next);
  }
  // Searching from the highest time the clock has shown makes a repeated hour bring nothing new.
  const shown = localHighWater(schedule.time_zone, t);
  const next = fromLocal(schedule.time_zone, known.time.getNextDateFrom(new Date(shown), 'UTC').toMillis());
  // A search from t that found `next` again widens that span down to t: every time between two
  // that have the same answer has it too (the answer never goes backwards as t grows).
  const same = spans.findIndex((span) => span.next === next);
  if (same >= 0) foremost(spans, same).from = t;
  else if (spans.unshift({ from: t, next }) > SPANS_PER_SCHEDULE) spans.pop();
  return new Date(next);
}

// The cron package's next-time search costs 90 µs (`*/5 * * * *`) to 180 µs (`30 */10 * * * *`) a
// call, parsing the expression 7–22 µs more, and the evaluator asks once or more per judged job:
// 10,000 jobs due at once were 2 s of CPU (BENCHMARKS.md, 2026-12-06). A fleet shares few
// schedules and its jobs' last pings cluster just after each run, so most questions of a pass have
// been answered already. For one expression and zone the answer is a step function of the time
// asked from, in instants: a search from t that finds `next` proves the answer is `next` for every
// time in [t, next) — the clock has not reached the local time `next` shows before `next`, so the
// search from any of them stops at the same match. Each search so leaves a span [from, next), and a
// question inside a span is answered from it with no search, exactly, DST or not: only what a real
// search proved is reused. (The package gives up 8 years after *today*: a span found once stays
// inside that limit as today moves on.) Each schedule keeps its parsed expression and its
// SPANS_PER_SCHEDULE most recently used spans (a pass asks about a job's next run, a never-pinged
// job's first three, a late job's missed run and the console's next); at most MAX_SCHEDULES
// schedules are kept, the least recently used going first: about 1 KB each (10 MB when full) for
// five-field expressions, 4.4 KB at most (six fields of every value, 256 characters).
const MAX_SCHEDULES = 10_000;
const SPANS_PER_SCHEDULE = 8;

/** Every time asked from in [from, next) has `next` as its answer. */
interface Span {
  from: number;
  next: number;
}

interface Searches {
  time: CronTime;
  /** Disjoint, the most recently used first. */
  spans: Span[];
}

const searches = new Map<string, Searches>();

/** A schedule's searches, made the most recently used (a Map iterates in insertion order). */
function searchesOf(schedule: Pick<CronSchedule, 'cron' | 'time_zone'>): Searches {
  // A valid zone name has no newline, so the first one ends it.
  const key = `${schedule.time_zone}\n${schedule.cron}`;
  let known = searches.get(key);
  if (known === undefined) {
    known = { time: new CronTime(schedule.cron, 'UTC'), spans: [] };
    if (searches.size >= MAX_SCHEDULES) searches.delete(searches.keys().next().value!);
  } else {
    searches.delete(key);
  }
  searches.set(key, known);
  return known;
}

/** Moves spans[i] to the front, the most recently used, and returns it. */
function foremost(spans: Span[], i: number): Span {
  const span = spans[i]!;
  if (i > 0) {
    spans.splice(i, 1);
    spans.unshift(span);
  }
  return span;
}

/**
 * When a silent scheduled job is down, and why: the first scheduled time strictly after its last
 * success ping, plus grace. Time nobody could have heard a ping is not held against it, so the
 * search starts at `watchingSince` if that is later: the later of the node's creation and the start
 * of unbroken ingest coverage. Before its first ping a job is given a margin (firstRunDue): a `*\/2`
 * job created at 20:11:55 is first due at 20:14, not at 20:12, five seconds after it was made —
 * nobody can install a crontab in that time. Unlike Healthchecks, where a new check waits for a
 * first ping for ever, a crontab that was never installed is still reported, after its first
 * missed run. The reason is built only when asked (Deadline.reason), at the transition.
 */
function missedRun(pings: JobPings, schedule: CronSchedule): Deadline {
  const due = awaitedRun(pings.lastSuccessAt, pings.watchingSince, schedule);
  const at = new Date(due.getTime() + schedule.grace_seconds * 1000);
  const since = pings.openRunStartedAt ?? null;
  const last = since === null ? lastRunEnded(pings.lastEndAt, at, schedule.time_zone) : stillGoing(since, at, schedule.time_zone);
  return { at, reason: () => `no success ping for the run due at ${dueWords(due, schedule)}; ${last}`, runGoing: since !== null };
}

/**
 * A run that started and has not ended, said in a missed run's reason in place of when the last
 * one ended: "a run started 2026-12-08 00:12:16 UTC (14s before the deadline) is still going".
 * Without it a run that hangs and one that never started read the same, and the person paged
 * looked for a crontab that was never installed while the job sat on a lock.
 */
const stillGoing = (since: Date, at: Date, zone: string): string =>
  `a run started ${onClocks(since, zone, 'HH:mm:ss', since <= at ? `${silence(since, at)} before the deadline` : `${silence(at, since)} after the deadline`)} is still going`;

/**
 * Whole seconds from `last` to `at`, as a down reason says them ("5m26s"): rounded down, never
 * more than the silence was.
 */
const silence = (last: Date, at: Date): string => spoken(Math.floor((at.getTime() - last.getTime()) / 1000));

/**
 * How long a heartbeat node had been silent at `at`, as its down reason says it: "for 5m26s"
 * since its last heartbeat, or "since it was created" when it never sent one.
 */
export const silentFor = (last: Date | null, at: Date): string => (last === null ? 'since it was created' : `for ${silence(last, at)}`);

/**
 * When a missed run's job last ended a run, on the clocks its due run is named on, and how long
 * before the deadline (`at`, the due run plus grace): "last run ended 2026-05-04 02:59:59 UTC
 * (5m1s before the deadline)", or "no run has ended since it was created". A bare "5m1s before"
 * counted from a deadline the reason never prints; the time is to the second whatever the
 * expression, since an end ping comes at any second. The run it missed says nothing of that: a
 * daily job silent through a week's maintenance misses the first run after it. Said as when the
 * last run ended, not "no end ping for 49s", which read as "the run never ended" beside a run list
 * showing it ended with exit 0 (a start, then `/0` with a body, 49 s before).
 */
const lastRunEnded = (last: Date | null, at: Date, zone: string): string =>
  last === null ? 'no run has ended since it was created' : `last run ended ${onClocks(last, zone, 'HH:mm:ss', `${silence(last, at)} before the deadline`)}`;

/**
 * The scheduled run a silent job's success ping is awaited for: the first after its last success
 * (or after `watchingSince`, if later), or before its first ping its first due run — only then is
 * the margin computed, which walks the schedule two or three times. The engine's deadline is this plus
 * grace, and the job's page shows it as the next run from this same code, so the two cannot drift.
 */
export function awaitedRun(lastSuccessAt: Date | null, watchingSince: Date, schedule: Pick<CronSchedule, 'cron' | 'time_zone'>): Date {
  if (lastSuccessAt === null) return firstRunDue(schedule, watchingSince);
  return nextRunAfter(schedule, new Date(Math.max(lastSuccessAt.getTime(), watchingSince.getTime())));
}

/**
 * "2026-12-06 20:12:00 UTC (15:12 in America/New_York; grace 30s)": UTC as every other time in the
 * console, the API and notifications is written, then the job's own clock, which its crontab
 * speaks — with its date when that is not UTC's ("2026-12-06 03:00:00 UTC (2026-12-05 22:00 in
 * America/New_York; …)"), to the second when the expression has a seconds field, and left out for
 * a zone that is UTC under another name (Etc/UTC). People read it (README, "Health"), nothing parses it.
 */
function dueWords(due: Date, schedule: Pick<CronSchedule, 'cron' | 'time_zone' | 'grace_seconds'>): string {
  return onClocks(due, schedule.time_zone, hasSeconds(schedule.cron) ? 'HH:mm:ss' : 'HH:mm', `grace ${schedule.grace_seconds}s`);
}

/** `t` in UTC, then in parentheses on `zone`'s clock (its date too when not UTC's) and `aside`. */
function onClocks(t: Date, zone: string, localFormat: string, aside: string): string {
  const utc = DateTime.fromJSDate(t, { zone: 'UTC' });
  const utcWords = utc.toFormat("yyyy-LL-dd HH:mm:ss 'UTC'");
  if (isUtc(zone)) return `${utcWords} (${aside})`;
  const local = DateTime.fromJSDate(t, { zone });
  const day = local.toISODate() === utc.toISODate() ? '' : `${local.toISODate()} `;
  return `${utcWords} (${day}${local.toFormat(localFormat)} in ${zone}; ${aside})`;
}

/** Six fields: the first is the second (the cron package's form); five fields and presets have none. */
export const hasSeconds = (cron: string): boolean => cron.trim().split(/\s+/).length === 6;

/**
 * The most a new job is given before its first run counts: time to install its crontab. Longer
 * (a full period, as before) made a daily job created after its time first due 47 h later, a
 * weekly one 8 days later.
 */
const FIRST_RUN_MARGIN_MS = 3_600_000;

/**
 * A never-pinged job's first expected run: its first scheduled time at least a margin after
 * `since`, the margin being the longest gap among its next three times, at most an hour. A `*\/2`
 * job created at 20:11:55 is first due at 20:14 (2 min on), an hourly one created at 10:59:30 at
 * 12:00, a daily 09:00 one created at 10:00 or 08:30 the next day at 09:00. The longest gap, not
 * the first: `0,1 3 * * *` created at 02:59:59 has a one-minute first gap, yet nobody installs a
 * crontab by 03:01; its margin is the hour, so its first due run is 03:00 the next day. When the
 * first gap is an hour or more the margin is the hour and the answer is the first or second run,
 * so the third is looked up only when that gap is shorter: for `0 0 29 2 *` it lies 8 years on,
 * past the cron package's search.
 */
export function firstRunDue(schedule: Pick<CronSchedule, 'cron' | 'time_zone'>, since: Date): Date {
  const earliest = since.getTime() + FIRST_RUN_MARGIN_MS;
  const first = nextRunAfter(schedule, since);
  const second = runAfter(schedule, first);
  // No second run within the package's search: the margin is the hour, and first is the only run.
  if (second === null) return first;
  if (second.getTime() - first.getTime() >= FIRST_RUN_MARGIN_MS) return first.getTime() >= earliest ? first : second;
  const third = runAfter(schedule, second);
  const margin = third === null ? FIRST_RUN_MARGIN_MS : Math.min(FIRST_RUN_MARGIN_MS, Math.max(second.getTime() - first.getTime(), third.getTime() - second.getTime()));
  const due = since.getTime() + margin;
  return first.getTime() >= due ? first : second.getTime() >= due || third === null ? second : third;
}

/** nextRunAfter from a run still to come, which can pass the cron package's 8-year search: null then. */
function runAfter(schedule: Pick<CronSchedule, 'cron' | 'time_zone'>, after: Date): Date | null {
  try {
    return nextRunAfter(schedule, after);
  } catch (err) {
    if (err instanceof CronError) return null;
    throw err;
  }
}

/** When a run that started and has not ended has run too long. */
export function runDeadline(startedAt: Date, maxRunSeconds: number): Date {
  return new Date(startedAt.getTime() + maxRunSeconds * 1000);
}

/** A run limit as a down reason says it: 3600 → "1h", 5430 → "1h30m30s", 90 → "1m30s". */
function spoken(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h && `${h}h`, m && `${m}m`, s && `${s}s`].filter(Boolean).join('') || '0s';
}

export interface JobPings {
  /** The last success ping under the present schedule (jobPings), or null. */
  lastSuccessAt: Date | null;
  /** The last end ping (a success or a failure), even one before the schedule was set, or null. */
  lastEndAt: Date | null;
  /**
   * When the open run's limit starts counting: its start ping, or the start of coverage if later;
   * null when no run is open (none started, or a success came at or after its start).
   */
  runTimedFrom: Date | null;
  /** The later of when the schedule was set (the node's creation, or an edit) and the start of unbroken ingest coverage. */
  watchingSince: Date;
  /** The open run's start ping, as it came (runTimedFrom may be later); null or absent when no run is open. */
  openRunStartedAt?: Date | null;
}

/**
 * A job's pings as it is judged on them, from its node's rows: a job is not late for runs due
 * before its schedule was set (its creation, or an edit of its expression or zone), nor for time
 * before `watchingFrom` (the start of unbroken coverage, or a later time decide judges from). A
 * success before the schedule was set was for another one, so an edited job is given a new job's
 * margin (firstRunDue): a daily job edited to `*\/5` at 10:00 was judged against 03:05, the run the
 * new expression names after its last success at 03:00, and went down at once. Whether a run is
 * open is read against the real last success, before that is set aside: a run that started at
 * 03:00 and succeeded at 03:01 is over, and counted as open it took the job down an edit plus
 * max_run_seconds later. An open run is timed from its start, which an edit does not move. decide
 * and the job's page both build them here.
 */
export function jobPings(lastSuccessAt: Date | null, runStartedAt: Date | null, scheduleSince: Date | undefined, watchingFrom: Date): JobPings {
  const since = scheduleSince?.getTime() ?? -Infinity;
  const open = runStartedAt !== null && (lastSuccessAt === null || runStartedAt > lastSuccessAt);
  return {
    lastSuccessAt: lastSuccessAt !== null && lastSuccessAt.getTime() < since ? null : lastSuccessAt,
    // Whatever the schedule: how long the job has been silent.
    lastEndAt: lastSuccessAt,
    // Like the schedule's deadline, the limit counts only time in which the end could be heard.
    runTimedFrom: open ? new Date(Math.max(runStartedAt.getTime(), watchingFrom.getTime())) : null,
    watchingSince: new Date(Math.max(since, watchingFrom.getTime())),
    openRunStartedAt: open ? runStartedAt : null,
  };
}

/** When a silent job is down and why: its open run's limit if it has one, else its next run plus grace. */
export function jobDeadline(pings: JobPings, schedule: CronSchedule): Deadline {
  return runningDeadline(pings, schedule) ?? missedRun(pings, schedule);
}

/** The deadline of a run that has started and not ended, when the schedule limits runs. */
function runningDeadline(pings: JobPings, schedule: CronSchedule): Deadline | null {
  const max = schedule.max_run_seconds;
  if (pings.runTimedFrom === null || max == null) return null;
  return { at: runDeadline(pings.runTimedFrom, max), reason: () => `ran longer than ${spoken(max)}` };
}

export interface FieldError {
  field: string;
  message: string;
}

const MAX_CRON_LENGTH = 256;

/** The schedule's expression and zone, each problem named by its field in a node body. */
export function validateCronSchedule(input: Pick<CronSchedule, 'cron' | 'time_zone'>, now: Date): FieldError[] {
  const errors: FieldError[] = [];
  if (!isTimeZone(input.time_zone)) errors.push({ field: 'schedule.time_zone', message: 'must be an IANA time zone such as Europe/Berlin' });
  const cron = input.cron.trim();
  if (cron === '' || cron.length > MAX_CRON_LENGTH) {
    errors.push({ field: 'schedule.cron', message: `must be a cron expression of 1 to ${MAX_CRON_LENGTH} characters` });
    return errors;
  }
  let time: CronTime;
  try {
    time = new CronTime(cron, 'UTC');
  } catch {
    // The parser's own words name its internals, cut short ("every minute" is "Unknown alias: eve").
    errors.push({ field: 'schedule.cron', message: notCron(cron) });
    return errors;
  }
  try {
    time.getNextDateFrom(now, 'UTC');
  } catch {
    errors.push({ field: 'schedule.cron', message: 'never matches a date (such as 30 February)' });
  }
  return errors;
}

/** What a cron expression the parser refuses is, in the words of someone writing one. */
function notCron(cron: string): string {
  const fields = cron.split(/\s+/).length;
  const use = 'use five fields (or six, seconds first) like */5 * * * * or @hourly';
  if (cron.startsWith('@') || (fields !== 5 && fields !== 6)) return `'${cron}' is not a cron expression: ${use}`;
  // Six fields are read seconds first: `0 0 3 * * 9` has weekday 9, not day-of-month 3's ranges shifted.
  const ranges = `${fields === 6 ? 'second 0–59, ' : ''}minute 0–59, hour 0–23, day 1–31, month 1–12, weekday 0–7, steps from 1`;
  return `'${cron}' is not a cron expression: a field is out of range or unreadable (${ranges}); ${use}`;
}
