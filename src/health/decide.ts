// The heartbeat decision, pure: everything it needs arrives as arguments, `now` included, so every
// rule of README's "Health" section is a row in a table test. The evaluator feeds it snapshots
// and writes what it returns; nothing here touches a clock, a database or a log. A scheduled job
// (a node with a cron `schedule`) is judged by the same rules, with its deadline from
// cron-deadline.ts instead of interval × failures + grace: its heartbeats are its end pings.

import { jobDeadline, jobPings, nextRunAfter, silentFor, type CronSchedule } from './cron-deadline.ts';
import { INVISIBLE } from '../invisible.ts';
import { offsetChanges } from '../local-time.ts';

export const STATES = ['unknown', 'healthy', 'degraded', 'down', 'maintenance'] as const;
export type State = (typeof STATES)[number];
export type HeartbeatStatus = 'ok' | 'degraded' | 'failing';
export type CheckStatus = 'ok' | 'warn' | 'fail';
export type Checks = Record<string, { status: CheckStatus; value?: number; message?: string }>;

export interface Policy {
  heartbeatIntervalSeconds: number;
  graceSeconds: number;
  failuresForDown: number;
  successesForRecovery: number;
  /** Set for a scheduled job: its deadlines come from the schedule, not the interval. */
  schedule?: CronSchedule | null;
}

/** Since when ingest has been watching without a gap, and up to when its writes are complete. */
export interface Coverage {
  /** Start of the current unbroken ingest coverage. */
  since: Date;
  /** Start of the last gap (when ingest was last seen before `since`); null if there never was one. */
  blindFrom: Date | null;
  /** Every heartbeat received before this instant is persisted (the flush watermark). */
  seenAt: Date;
}

export interface Snapshot {
  state: State;
  since: Date;
  /** Heartbeats received when the current state was entered: recovery counts only later ones. */
  receivedAtEntry: number;
  lastHeartbeatAt: Date | null;
  lastStatus: HeartbeatStatus | null;
  checks: Checks | null;
  okStreak: number;
  received: number;
  /** Start of a maintenance window covering `now`, or null. */
  maintenanceFrom: Date | null;
  /**
   * For a node in maintenance that no window covers now: the latest moment it can have left
   * maintenance (null or absent: not known, taken as `now`).
   */
  maintenanceEndedAt?: Date | null;
  coverage: Coverage;
  /** A scheduled job's run in progress: its start ping, cleared by the run's end. */
  runStartedAt?: Date | null;
  /**
   * When a job's schedule was set (its creation, or an edit of its expression or zone): it is not
   * late for runs due before, and a success before it was for another schedule.
   */
  scheduleSince?: Date;
  /**
   * When the latest heartbeat was a failure ping (/fail or /1…/255): the run it ended, so the
   * reason says how it failed, as the run list does. Null or absent: an agent's `failing`.
   */
  failedRun?: FailedRun | null;
  /**
   * A non-ok report that a later one replaced before ingest's flush (ingest stores one report per
   * node per flush: the latest, and the worst non-ok one it replaced). Judged before the latest, at
   * its own time, when newer than the state (older, it was judged already). Null or absent: none.
   */
  hiddenFailure?: HiddenFailure | null;
  /**
   * When the ok reports since the state was entered reached successes_for_recovery: the receive
   * time of the latest report in the flush that met it (node_due.streak_met_at, sql/0034), written
   * by ingest only for a node it reads as not healthy, or with a kept failure in that flush. Used
   * only when it lies in the current state, at or after coverage resumed, no later than the latest
   * heartbeat and not before a kept failure newer than the state; otherwise (null, absent, or from
   * an earlier streak) the recovery is stamped at the latest heartbeat, as before.
   */
  streakMetAt?: Date | null;
  /**
   * The reason stored with the current state (node_health.reason), read only while the node is down
   * or degraded: a later judgement that finds the same state for another reason replaces it
   * (Decision.reasonChange). Null or absent: not known, and no change of reason is looked for.
   */
  reason?: string | null;
}

/** A report the latest one replaced (see Snapshot.hiddenFailure), with its failed run if it was a failure ping. */
export interface HiddenFailure {
  at: Date;
  status: HeartbeatStatus;
  checks: Checks | null;
  failedRun: FailedRun | null;
}

/** A failed run's exit code (null for /fail) and the end of its output (see dueRows), if any. */
export interface FailedRun {
  exitCode: number | null;
  tail: string | null;
}

export interface Transition {
  from: State;
  to: State;
  at: Date;
  reason: string;
}

/**
 * The node stays in `state` (down or degraded) for another reason than the one stored: a job down
 * for a missed run whose later runs fail, an agent back from silence still failing, a run that
 * went quiet after failing. The same outage, so no transition (no log row, no page): the node's
 * reason follows the latest evidence, and its open incident's timeline says so once per change.
 */
export interface ReasonChange {
  state: State;
  /** When the new evidence came: the report's receive time, or the deadline that passed. */
  at: Date;
  reason: string;
}

export interface Decision {
  transitions: Transition[];
  /** The reason the node is left with changed after its last transition (or without one): see ReasonChange. */
  reasonChange?: ReasonChange | null;
  /** When to look again if no heartbeat arrives first; null = only a heartbeat can change things. */
  nextCheckAt: Date | null;
  /** Heartbeat count to store with the final state (recovery counts heartbeats after it). */
  receivedAtEntry: number;
}

/** Re-check delay while a deadline has passed but ingest has not yet flushed past it. */
export const WATERMARK_RECHECK_MS = 100;

export function downAfterMs(policy: Policy): number {
  return (policy.heartbeatIntervalSeconds * policy.failuresForDown + policy.graceSeconds) * 1000;
}

/**
 * The instant a silent node is down: its last heartbeat plus interval × failures + grace, except
 * that time before ingest coverage began is not held against it (it could not have been heard).
 */
export function downDeadline(lastHeartbeatAt: Date, coverageSince: Date, policy: Policy): Date {
  const from = Math.max(lastHeartbeatAt.getTime(), coverageSince.getTime());
  return new Date(from + downAfterMs(policy));
}

/** Whole intervals missed past interval + grace (README, "Health"), counted from the same origin. */
export function missedHeartbeats(
  lastHeartbeatAt: Date | null,
  coverageSince: Date,
  policy: Policy,
  now: Date,
): number {
  if (lastHeartbeatAt === null) return 0;
  const origin = Math.max(lastHeartbeatAt.getTime(), coverageSince.getTime());
  const elapsed = now.getTime() - origin;
  const interval = policy.heartbeatIntervalSeconds * 1000;
  const grace = policy.graceSeconds * 1000;
  if (elapsed < interval + grace) return 0;
  return Math.floor((elapsed - grace) / interval);
}

/** When silence makes the node down; its reason is said only then (downReason), a heartbeat node's (null) there. */
interface Silence {
  at: Date;
  reason: (() => string) | null;
  /** A job's missed run while a run is under way (Deadline.runGoing). */
  runGoing?: boolean;
}

/**
 * When silence makes the node down, and why, counting only time from `watchingFrom` on; null for
 * a heartbeat node that never beat (nothing to be late for). A job's success pings are its
 * heartbeats: the last one is its last success, since a failure makes it down at once anyway.
 */
function silenceDeadline(s: Snapshot, policy: Policy, watchingFrom: Date): Silence | null {
  if (policy.schedule) return jobDeadline(jobPings(s.lastHeartbeatAt, s.runStartedAt ?? null, s.scheduleSince, watchingFrom), policy.schedule);
  if (s.lastHeartbeatAt === null) return null;
  return { at: downDeadline(s.lastHeartbeatAt, watchingFrom, policy), reason: null };
}

/**
 * Why silence made the node down at `silence.at`: a job's deadline says it; a heartbeat node's is
 * how long it had been silent then. Not interval × failures + grace: a deadline counted from a
 * window's end or from coverage resuming comes later than that after the last heartbeat, and a
 * node silent through 5 min 16 s of a window ended early read "no heartbeat for 10s", a blip. Made
 * here, at the transition, as it differs per node: a string per node judged would be 100,000 a pass.
 */
const downReason = (s: Snapshot, silence: Silence): string =>
  silence.reason?.() ?? `no heartbeat ${silentFor(s.lastHeartbeatAt, silence.at)}`;

const EVER = new Date(0);

/**
 * When a node in maintenance that no window covers left it: the latest moment it can have
 * (maintenanceEndedAt) when that lies in its maintenance; otherwise now, as the evaluator is due at
 * a window's end (a window by id that ended long before, or none found, says nothing of this one).
 */
const exitOf = (s: Snapshot, now: Date): Date => {
  const at = s.maintenanceEndedAt;
  return at && at >= s.since && at <= now ? at : now;
};

interface BadChecks {
  warn: string[];
  fail: string[];
}

const NO_BAD_CHECKS: BadChecks = { warn: [], fail: [] };
/**
 * A job's failure ping whose run is no longer kept: what it said is not known now, so it never
 * replaces the reason the node has (Trail.go), which said it when the run was there.
 */
const RUN_GONE: { state: State; reason: string } = { state: 'down', reason: 'reported failure' };
const HEALTHY_REPORT: { state: State; reason: string } = { state: 'healthy', reason: 'ok' };

function badChecks(checks: Checks): BadChecks {
  const warn: string[] = [];
  const fail: string[] = [];
  for (const [name, check] of Object.entries(checks)) {
    if (check.status === 'warn') warn.push(name);
    if (check.status === 'fail') fail.push(name);
  }
  return { warn: warn.sort(), fail: fail.sort() };
}

function checksReason(bad: BadChecks): string {
  const parts: string[] = [];
  if (bad.fail.length) parts.push(`failing checks: ${bad.fail.join(', ')}`);
  if (bad.warn.length) parts.push(`warning checks: ${bad.warn.join(', ')}`);
  return parts.join('; ');
}

/**
 * The most of a failed run's last line a reason keeps. A reason heads an email subject, a Slack
 * header (150 characters at most) and a PagerDuty summary: "exited with status 255: " (24) plus
 * 80 leaves room for a node name of up to 37 characters in a Slack header ("DOWN: name — reason").
 */
export const FAILED_LINE_CHARS = 80;

/**
 * The last line of a job's output with something to read once invisible sequences are gone (a
 * closing "\x1b[0m" alone on a line is not it); other control characters (a \r, a tab) as spaces.
 */
function lastLine(tail: string): string | undefined {
  const lines = tail.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.replace(INVISIBLE, '').replace(/[\s\p{Cc}]+/gu, ' ').trim();
    if (line) return line;
  }
  return undefined;
}

/** "exited with status 3: disk full", "reported failure" (a /fail without output). */
function failedRunReason(run: FailedRun): string {
  const said = run.exitCode === null ? 'reported failure' : `exited with status ${run.exitCode}`;
  const line = run.tail === null ? undefined : lastLine(run.tail);
  if (!line) return said;
  return `${said}: ${line.length > FAILED_LINE_CHARS ? `${line.slice(0, FAILED_LINE_CHARS - 1).replace(/[\uD800-\uDBFF]$/, '')}…` : line}`;
}

/** What one report alone says the node is, with why. */
function reported(
  status: HeartbeatStatus | null,
  checks: Checks | null,
  failedRun: FailedRun | null | undefined,
  scheduled: boolean,
): { state: State; reason: string } {
  // The common report, ok without checks, allocates nothing (judged once per due node).
  if (status === 'ok' && checks === null) return HEALTHY_REPORT;
  const bad = checks === null ? NO_BAD_CHECKS : badChecks(checks);
  const detail = checksReason(bad);
  if (status === 'failing') {
    // A ping carries no checks: its run says it all.
    if (failedRun) return { state: 'down', reason: failedRunReason(failedRun) };
    // A job's failure ping whose run is gone (the newest 100 are kept, /log pings among them) when
    // the node is judged again: still the job's words, not an agent's.
    if (scheduled && !detail) return RUN_GONE;
    return { state: 'down', reason: detail ? `agent reported failing (${detail})` : 'agent reported failing' };
  }
  if (status === 'degraded') {
    return { state: 'degraded', reason: detail ? `agent reported degraded (${detail})` : 'agent reported degraded' };
  }
  if (bad.warn.length || bad.fail.length) return { state: 'degraded', reason: detail };
  return { state: 'healthy', reason: 'ok' };
}

/** What the latest heartbeat alone says the node is, with why. */
const latestReport = (s: Snapshot, scheduled: boolean) => reported(s.lastStatus, s.checks, s.failedRun, scheduled);

/**
 * A reason as a public status page shows it: a failed run's without what the job printed after
 * the colon (a token or a path in an error line is for the job's owners, not anonymous readers).
 */
export const publicReason = (reason: string): string => reason.replace(/^(exited with status -?\d+|reported failure): [\s\S]*$/, '$1');

/** Whether a reason is a failed run's (failedRunReason, RUN_GONE). */
const failedRunSaid = (reason: string | null): boolean => reason !== null && /^(exited with status -?\d+|reported failure)(: |$)/.test(reason);

/** What `n` ok heartbeats are called: a scheduled job's are its success pings, as its page says. */
export const okBeatNoun = (scheduled: boolean, n: number): string => `${scheduled ? 'success ping' : 'ok heartbeat'}${n === 1 ? '' : 's'}`;

/** A maintenance window's end, with what the node is waiting for. */
const maintenanceEnded = (policy: Policy, last: Date | null) =>
  last === null ? `maintenance ended; no ${policy.schedule ? 'ping' : 'heartbeat'} yet` : `maintenance ended; waiting for ${okBeatNoun(!!policy.schedule, 2)}`;

/** The states whose reason follows the latest evidence while they last (Trail.go): those an incident is open for. */
const OUTAGES: ReadonlySet<State> = new Set<State>(['down', 'degraded']);

/**
 * The transitions a judgement makes, in order, and the state they leave the node in. A class
 * rather than closures inside decide: two closures and their context per judged node were most of
 * what a 100,000-node pass allocated in decide.
 */
class Trail {
  readonly transitions: Transition[] = [];
  state: State;
  since: Date;
  /** Recovery counts ok heartbeats received after the current state was entered. */
  entryReceived: number;
  /** Why the node is in its current state: the stored reason, then each transition's (null: not known). */
  reason: string | null;
  /** A new reason for the state the trail is in, found after its last transition (or without one). */
  reasonChange: ReasonChange | null = null;

  constructor(
    private readonly s: Snapshot,
    /** No transition is stamped before this: the state's start, or a window's end. */
    readonly floor: Date,
  ) {
    this.state = s.state;
    this.since = s.since;
    this.entryReceived = s.receivedAtEntry;
    this.reason = s.reason ?? null;
  }

  /** What the judgement decided, with `nextCheckAt` (when to look again). */
  decision(nextCheckAt: Date | null): Decision {
    return { transitions: this.transitions, nextCheckAt, receivedAtEntry: this.entryReceived, reasonChange: this.reasonChange };
  }

  /** The earliest instant the next transition may be stamped at. */
  get notBefore(): Date {
    return this.since < this.floor ? this.floor : this.since;
  }

  /** `renames` false: a judgement that knows less than the stored reason, which it must not replace. */
  go(to: State, at: Date, reason: string, renames = true): void {
    // The log is monotonic: a transition never predates the state it leaves (nor a window's end).
    const notBefore = this.notBefore;
    const stamped = at.getTime() < notBefore.getTime() ? notBefore : at;
    if (to === this.state) {
      // Still down (or degraded), for a reason the stored one no longer says: it follows the evidence.
      if (renames && this.reason !== null && reason !== this.reason && OUTAGES.has(to)) {
        this.reason = reason;
        this.reasonChange = { state: to, at: stamped, reason };
      }
      return;
    }
    this.transitions.push({ from: this.state, to, at: stamped, reason });
    this.state = to;
    this.since = stamped;
    this.entryReceived = this.s.received;
    this.reason = reason;
    this.reasonChange = null;
  }
}

/**
 * What the latest heartbeat reported, as of its receive time: a report, or a recovery. A failure
 * it replaced in ingest's buffer comes first, at its own time: down (or degraded) from then, with
 * the ok reports after it (the stored streak, which a non-ok report restarts) counted towards
 * recovery, so a failed run and its retry's success in one flush are an outage from the failure
 * to the recovery, not nothing.
 * Reports before `staleUntil` are not judged. Reports before `dark` (after a gap: heard in the
 * dark, stored by the flush that ended it) are judged at `dark`, when coverage resumed, a floor as
 * a window's end is: stamped earlier, step 1 of the next pass would put the node back to unknown
 * at the same instant. A failure heard there is judged (a daily job's one /fail ping, dropped,
 * left it unknown a day and never paged); an ok report only for a job, whose one success ping is
 * its only report (a heartbeat node's ok streak restarts at the gap and counts beats since). A
 * job's failure and the success that recovers it, both heard there, are judged at their own times.
 */
function judgeReport(t: Trail, s: Snapshot, policy: Policy, staleUntil: Date | null, dark: Date | null): void {
  const last = s.lastHeartbeatAt;
  if (last === null) return;
  const scheduled = !!policy.schedule;
  const inDark = (at: Date) => dark !== null && at < dark;
  const heard = (at: Date) => (inDark(at) ? dark! : at);
  const judged = (at: Date) => staleUntil === null || at >= staleUntil;
  const report = latestReport(s, scheduled);
  const n = policy.successesForRecovery;
  // A job's success ping heard in the dark: it counts as one (ingest zeroed the streak after it).
  const darkSuccess = scheduled && report.state === 'healthy' && inDark(last) && judged(last);
  const hidden = s.hiddenFailure;
  // Not one from inside a window that has ended (before the floor): the window covered it, as it
  // covers the latest report. When the latest came exactly at the end, the state's start is still
  // the window's, so `> since` alone judged a failure from inside it: down at the end, and with
  // successes_for_recovery 2 still down, paged, for a report maintenance was meant to hide.
  // A failure in the dark that a job's success in the dark recovered from is an outage with both
  // ends heard: it is stamped at their own times, not when coverage resumed, where it lasted no
  // time and (until this) was dropped, the failed run listed and nobody paged. Step 1 leaves the
  // healthy state it ends in alone (enteredInDark).
  let ownTimes = false;
  if (hidden && hidden.at > t.since && hidden.at >= t.floor && judged(hidden.at)) {
    const failed = reported(hidden.status, hidden.checks, hidden.failedRun, scheduled);
    ownTimes = darkSuccess && n <= 1 && inDark(hidden.at);
    if (failed.state !== t.state) {
      t.go(failed.state, ownTimes ? hidden.at : heard(hidden.at), failed.reason);
      t.entryReceived = s.received - s.okStreak;
    }
  }
  if (report.state !== 'healthy') {
    if (judged(last)) t.go(report.state, heard(last), report.reason, report !== RUN_GONE);
    return;
  }
  // Ok reports from before `staleUntil` (inside a window, or before a gap) never make a recovery,
  // nor a heartbeat node's from the dark.
  if (!judged(last) || (inDark(last) && !darkSuccess)) return;
  const consecutive = Math.min(s.okStreak, s.received - t.entryReceived);
  if (t.state !== 'healthy' && (darkSuccess ? Math.max(consecutive, 1) : consecutive) >= n) {
    t.go('healthy', ownTimes ? last : heard(recoveredAt(t, s, dark ?? staleUntil)), `${n} consecutive ${okBeatNoun(scheduled, n)}`);
  }
}

/**
 * When the node recovered: when its ok streak met successes_for_recovery (Snapshot.streakMetAt),
 * as an evaluator judging at once would have stamped it, not the latest heartbeat, which after an
 * evaluator away for 30 s read as 30 s more down. Only a time inside the state being left, not
 * before coverage resumed and not after the latest heartbeat (never in the future) is taken;
 * otherwise the latest heartbeat, the latest the streak can have met it. Nor one before a kept
 * failure newer than the state: that failure restarted the streak, and an earlier release's ingest
 * (a rolling upgrade) never overwrites the recorded time, so it can be a streak from before it.
 */
function recoveredAt(t: Trail, s: Snapshot, notBefore: Date | null): Date {
  const met = s.streakMetAt;
  const last = s.lastHeartbeatAt!;
  const failed = s.hiddenFailure;
  if (!met || met <= t.notBefore || met > last || (notBefore !== null && met < notBefore)) return last;
  if (failed && failed.at > s.since && met < failed.at) return last;
  return met;
}

/**
 * A healthy state a job's success heard in the dark began (its failure and that success, both in
 * the gap, stamped at their own times by judgeReport): judged knowing of the gap, so step 1 does
 * not send it back to unknown at its own start, a state lasting no time. The snapshot keeps no
 * mark of how a state began (the store drops a hidden failure once it is older than the state), so
 * this holds only while the state begins exactly at the latest end ping, heard in the dark: what
 * that success began. A window's end judged while ingest was dark begins a state after every
 * report then stored; a heartbeat node is never healthy from the dark (judgeReport); and once the
 * job pings again after the gap, the state is no longer told apart from such a window's end, so it
 * is unknown from the gap like any other (a success before the window end, 10 s into a 90 s gap,
 * read healthy through the dark).
 */
const enteredInDark = (s: Snapshot, policy: Policy, coverage: Coverage): boolean =>
  !!policy.schedule && s.state === 'healthy' && s.since > coverage.blindFrom! && s.lastHeartbeatAt?.getTime() === s.since.getTime();

/**
 * Whether a scheduled job can have sent no ping while ingest was dark (from `blindFrom` to
 * `since`): every report it has sent is from before the gap, no run was under way when it began,
 * and its next scheduled run after its last end ping (and after its schedule was set) comes after
 * the gap. A job pings only in a run, between the run's scheduled time and its end, so then there
 * was nothing to lose: its state stands, and the gap is no `unknown` for it. Marked unknown, an
 * hourly job stopped for 40 s stayed grey to its next run, a daily one up to a day after every
 * deploy, out of its uptime. Once it has reported at or after the gap began, its last end ping
 * before the gap is no longer known (a run due before the gap whose /fail was lost in it would be
 * missed, depending on which pass came first), so the gap is unknown, as for any node. Nor across
 * a change of the zone's UTC offset: cron runs a wildcard-hour job again in a repeated hour, which
 * nextRunAfter does not name (`0,15,30,45 * * * *` in New York on 2026-11-01 runs at 06:15Z). A heartbeat
 * node reports on its agent's own clock, at any moment, so a report lost in a gap cannot be ruled out.
 */
function heardAllOf(s: Snapshot, policy: Policy, blindFrom: Date, since: Date): boolean {
  const schedule = policy.schedule;
  const last = s.lastHeartbeatAt;
  const started = s.runStartedAt ?? null;
  if (!schedule || last === null) return false;
  if ([last, started, s.hiddenFailure?.at].some((at) => at != null && at >= blindFrom)) return false;
  if (started !== null && started > last) return false;
  const from = Math.max(last.getTime(), s.scheduleSince?.getTime() ?? -Infinity);
  if (offsetChanges(schedule.time_zone, from, since.getTime())) return false;
  return nextRunAfter(schedule, new Date(from)) > since;
}

export function decide(s: Snapshot, policy: Policy, now: Date): Decision {
  // A node whose window has ended is judged from the window's end (step 2b).
  const leavesWindow = s.state === 'maintenance' && s.maintenanceFrom === null;
  const windowEnd = leavesWindow ? exitOf(s, now) : null;
  const t = new Trail(s, windowEnd ?? s.since);

  const { coverage } = s;
  const last = s.lastHeartbeatAt;

  // 1. A coverage gap this node's state predates: first settle what ingest saw before the gap went
  //    dark, then mark the dark time unknown. The state is never carried across time nobody watched,
  //    but for a state a report heard in the dark began (enteredInDark), and for a job that can have
  //    sent nothing in it (heardAllOf): then nothing was missed.
  if (coverage.blindFrom !== null && t.since < coverage.since && t.state !== 'unknown' && t.state !== 'maintenance' && !enteredInDark(s, policy, coverage) && !heardAllOf(s, policy, coverage.blindFrom, coverage.since)) {
    const before = t.state === 'down' ? null : silenceDeadline(s, policy, EVER);
    if (before !== null && before.at <= coverage.blindFrom) t.go('down', before.at, downReason(s, before));
    t.go('unknown', coverage.blindFrom, policy.schedule ? 'engine could not observe pings' : 'engine could not observe heartbeats');
    // Ingest zeroes every ok streak when it detects the gap, so the streak now counts exactly the
    // ok heartbeats heard since coverage resumed: those may count towards recovery.
    t.entryReceived = s.received - s.okStreak;
  }

  // 2. Maintenance overrides everything while a window covers the node.
  if (s.maintenanceFrom !== null) {
    t.go('maintenance', s.maintenanceFrom, 'maintenance window');
    return t.decision(null);
  }

  // 2b. Out of a window: what the node is at the window's end (windows end exclusive). Healthy if
  //     it was beating ok up to the end (its deadline after it, and the recovery streak met);
  //     otherwise unknown from the end. A failing or degraded report from inside the window is
  //     never judged: the window covered it, and a host put into maintenance because it failed
  //     would otherwise be paged at the end before it could report again. A report at the end or
  //     after it (an evaluator that was away) is judged below at its own time. Stamped at the old
  //     deadline or the report's time instead, a 2 h window on a host left off read as 2 h down and
  //     opened an incident 2 h in the past with every escalation level overdue.
  // Reports received before this are not judged (null: all are). After a gap, none stored before
  // it went dark; those heard in it (the flush that ends a gap stores what was buffered in the
  // dark) are judged at `dark`, when coverage resumed (see judgeReport).
  let staleUntil: Date | null = coverage.blindFrom;
  let dark: Date | null = coverage.blindFrom === null ? null : coverage.since;
  if (windowEnd !== null) {
    const alive = silenceDeadline(s, policy, coverage.since);
    if (coverage.blindFrom !== null && windowEnd < coverage.since) {
      // The window ended before ingest came back from a gap: nothing watched its end. Unknown from
      // when watching resumed, like every node after a gap, with what it reported before then
      // unjudged and its ok streak (which ingest zeroed at the gap) counting. The time from the end
      // to then reads as maintenance rather than unknown: neither is monitored time.
      t.go('unknown', coverage.since, maintenanceEnded(policy, last));
      staleUntil = coverage.since;
      dark = null;
      t.entryReceived = s.received - s.okStreak;
    } else if (last === null || last < windowEnd) {
      if (alive !== null && alive.at <= windowEnd && alive.at > coverage.seenAt) {
        // Silent at the end, unless a heartbeat still in a buffer says otherwise: look again.
        return t.decision(new Date(now.getTime() + WATERMARK_RECHECK_MS));
      }
      const n = policy.successesForRecovery;
      const recovered =
        last !== null && alive !== null && alive.at > windowEnd && latestReport(s, !!policy.schedule).state === 'healthy' && Math.min(s.okStreak, s.received - t.entryReceived) >= n;
      if (recovered) t.go('healthy', windowEnd, `${n} consecutive ${okBeatNoun(!!policy.schedule, n)}`);
      else {
        t.go('unknown', windowEnd, maintenanceEnded(policy, last));
        staleUntil = windowEnd;
      }
    } else if (last > windowEnd) {
      // Beats after the end: unknown from the end, then what they reported, at their time (their
      // streak counted whole: ingest keeps no time per beat).
      t.go('unknown', windowEnd, maintenanceEnded(policy, last));
      t.entryReceived = s.received - s.okStreak;
    }
  } else if (s.state === 'unknown' && s.since >= coverage.since) {
    // Unknown since a window's end (the only way to be unknown since coverage began with reports
    // from before): those reports stay unjudged.
    staleUntil = s.since;
  }

  // Silence counts from when the engine watched the node: from coverage, and for a node that was
  // silent when it became unknown after a window, from then (a full period, or a job's next run).
  let silence = silenceDeadline(s, policy, coverage.since);
  if (staleUntil !== null && silence !== null && silence.at <= staleUntil) {
    silence = silenceDeadline(s, policy, staleUntil > coverage.since ? staleUntil : coverage.since);
  }
  if (silence === null) return t.decision(null);

  // 3. Silence: down at the deadline, but only once ingest has flushed past it, so a heartbeat
  //    received just before the deadline and still in a buffer is never mistaken for silence.
  const deadline = silence.at;
  if (deadline <= now) {
    if (deadline <= coverage.seenAt) {
      // A heartbeat newer than the state may be judged only after its own deadline has passed
      // (an evaluator that was overloaded or stopped). What it reported still happened: record
      // it at its receive time, then the silence after it.
      if (last !== null && last > t.since) judgeReport(t, s, policy, staleUntil, dark);
      // A run still going says less than the failed run before it: the failure stays the reason
      // until a run ends or the job misses a run with none under way (at most one change per ping).
      t.go('down', deadline, downReason(s, silence), !(silence.runGoing && failedRunSaid(t.reason)));
      return t.decision(null);
    }
  }

  // 4. The latest heartbeat's own report.
  judgeReport(t, s, policy, staleUntil, dark);
  // A report at the window's very end that did not decide (an ok streak still short).
  if (t.state === 'maintenance') t.go('unknown', windowEnd ?? now, maintenanceEnded(policy, last));

  const nextCheckAt = deadline <= now ? new Date(now.getTime() + WATERMARK_RECHECK_MS) : deadline;
  return t.decision(nextCheckAt);
}
