import { validationFailed, type ErrorDetail } from '../errors.ts';
import { awaitedRun, jobPings, nextRunAfter, validateCronSchedule, type CronSchedule } from '../health/cron-deadline.ts';
import type { Checks, HeartbeatStatus, State } from '../health/decide.ts';

/** How a node is judged: its heartbeat period and how many missed or ok beats change its state. */
export interface NodeSettings {
  heartbeat_interval_seconds: number;
  grace_seconds: number;
  failures_for_down: number;
  successes_for_recovery: number;
}

/** A new node's settings unless it names its own (and every auto-registered node's). */
export const NODE_DEFAULTS: NodeSettings = {
  heartbeat_interval_seconds: 30,
  grace_seconds: 0,
  failures_for_down: 3,
  successes_for_recovery: 1,
};

/**
 * Names a node may keep but not be given: `.` and `..` are path segments, which URL clients and
 * the router resolve away, so `/v1/nodes/..` reaches `/v1` and the node could not be addressed.
 */
export const unaddressableName = (name: string): boolean => name === '.' || name === '..';
export const UNADDRESSABLE_NAME = 'must not be "." or "..": a URL cannot name them';

/** A node as shown: its settings, labels and health, from its rows together. */
export interface NodeRow extends NodeSettings {
  id: string;
  name: string;
  labels: Record<string, string>;
  escalation_policy_id: string | null;
  /** Names the node's public badge (/badge/{badge_id}.svg); no credential. */
  badge_id: string;
  /** A scheduled job's cron schedule (its deadlines replace the interval's); null for a heartbeat node. */
  schedule: CronSchedule | null;
  /** Names the node in /ping/{ping_key}: who knows it may report the node's runs. */
  ping_key: string;
  created_at: Date;
  updated_at: Date;
  /** When its schedule's expression or time zone was last set: its creation, or a later edit. */
  schedule_since: Date;
  state: State;
  since: Date;
  reason: string | null;
  state_version: number;
  last_heartbeat_at: Date | null;
  last_status: HeartbeatStatus | null;
  checks: Checks | null;
  coverage_since: Date | null;
}

/** A scheduled job's next expected run, as its console page and the API's `next_due_at` say it. */
export interface ExpectedRun {
  /** The scheduled time whose success ping is awaited. */
  at: Date;
  /** The run plus grace: when the job is down without that ping; null while the engine judges nothing (maintenance). */
  graceEndsAt: Date | null;
  /** A new job's first due run, later than the schedule's first time (firstRunDue's margin). */
  first: boolean;
}

/**
 * The run the job's success ping is awaited for, as the engine judges it (awaitedRun, from the same
 * pings): a new job's first due run, a margin after its schedule was set; a run whose ping is still
 * within its grace. Once that has passed (the job is down), the schedule's next time after `now`.
 * In maintenance the engine judges nothing until the window ends and then from its end, so it is
 * the schedule's next time, with no grace end.
 */
export function expectedRun(node: Pick<NodeRow, 'state' | 'last_heartbeat_at' | 'schedule_since' | 'coverage_since' | 'created_at'>, schedule: CronSchedule, now: Date): ExpectedRun {
  const held = node.state === 'maintenance';
  const pings = jobPings(node.last_heartbeat_at, null, node.schedule_since, node.coverage_since ?? node.created_at);
  const awaited = awaitedRun(pings.lastSuccessAt, pings.watchingSince, schedule);
  const grace = schedule.grace_seconds * 1000;
  const pending = !held && awaited.getTime() + grace > now.getTime();
  const at = pending ? awaited : nextRunAfter(schedule, now);
  return {
    at,
    graceEndsAt: held ? null : new Date(at.getTime() + grace),
    first: pending && pings.lastSuccessAt === null && nextRunAfter(schedule, pings.watchingSince) < awaited,
  };
}

/** What a node is created with (the token only ever as its hash). */
export interface NewNode extends NodeSettings {
  name: string;
  labels: Record<string, string>;
  escalation_policy_id: string | null;
  token_hash: string;
  schedule?: CronSchedule | null;
  /** A ping key given rather than drawn (a job moved from Healthchecks keeps its URL); checked by pingKeyProblem. */
  ping_key?: string | undefined;
}

/**
 * What a ping key given for a node (on creation, or later by PATCH or PUT) must look like: 22 to 64 URL-safe characters, so a UUID
 * (Healthchecks' check codes, 36 characters) fits as it is. 22 characters of the 64 are 132 bits
 * when drawn at random, as a UUID v4's 122 are about; the engine's own keys are 43 (256 bits). The
 * ping route takes the same characters (src/http/routes/ping.ts), from 16 to 64 of them.
 */
export const GIVEN_PING_KEY = /^[A-Za-z0-9_-]{22,64}$/;
/**
 * Fewest different characters a given key must hold: a key that long yet spelled from fewer is
 * typed, not drawn (`aaaa…`, the nil UUID, `abab…`). A random UUID holds fewer than 8 of its 16
 * hex digits about 4 times in 100 million, 22 random URL-safe characters fewer than 8 of their 64
 * far less often: a drawn key is never refused.
 */
const GIVEN_PING_KEY_VARIETY = 8;

/** Why a ping key given for a node cannot be one (it names the node to whoever knows it), or undefined. */
export function pingKeyProblem(key: string): string | undefined {
  if (!GIVEN_PING_KEY.test(key)) return 'must be 22 to 64 characters of A-Z a-z 0-9 _ - (a UUID, as Healthchecks gives, fits)';
  if (new Set(key).size < GIVEN_PING_KEY_VARIETY) return `is guessable: use a random one of at least ${GIVEN_PING_KEY_VARIETY} different characters, such as a UUID`;
  return undefined;
}

/**
 * What a schedule has unless it names its own: read in UTC, 5 minutes' grace, no run limit. The
 * grace is the one default every way of making a job reads (the API, the CLI, the console's forms):
 * with none, a minutely job whose run takes 15 s was down at each scheduled second and paged
 * three times in three minutes; with 300 s a run of up to 5 minutes is never late, and a missed
 * run of a minutely job is still reported 5 minutes after it (ARCHITECTURE.md, "Scheduled jobs").
 */
export const SCHEDULE_DEFAULTS = { time_zone: 'UTC', grace_seconds: 300, max_run_seconds: null } as const;

/** A schedule as a PATCH gives it: each field given replaces the stored one (null clears a run limit). */
export type SchedulePatch = Partial<CronSchedule>;

/**
 * The schedule a PATCH leaves: the fields given over the stored schedule, so that changing the
 * expression of a Europe/Berlin job with 300 s of grace keeps both (the defaults would have made it
 * due on UTC with no grace: false downs). A node without a schedule takes the defaults, and must be
 * given an expression. `null` drops the schedule.
 */
export function patchedSchedule(stored: CronSchedule | null, given: SchedulePatch | null): CronSchedule | null {
  if (!given) return given;
  const fields = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
  const { cron, ...rest } = { ...SCHEDULE_DEFAULTS, ...stored, ...fields };
  if (cron === undefined) throw validationFailed([{ field: 'schedule.cron', message: 'is required: the node has no schedule yet' }]);
  return { cron, ...rest };
}

export type NodePatch = Partial<
  NodeSettings & { name: string; labels: Record<string, string>; escalation_policy_id: string | null; schedule: CronSchedule | null; ping_key: string }
>;

/** A change as asked for: its schedule fields go over the stored schedule (patchedSchedule). */
export type NodeChange = Omit<NodePatch, 'schedule'> & { schedule?: SchedulePatch | null };

/** A node's whole desired state as PUT /v1/nodes/by-name/{name} gives it: its name is the path's. */
export type DesiredNode = Omit<NewNode, 'name' | 'token_hash' | 'heartbeat_interval_seconds'> & { heartbeat_interval_seconds?: number | undefined };

/**
 * The change that makes a node what `desired` describes, every setting included, so one left out
 * goes back to its default as at creation: labels are replaced whole (`{}` drops them all), no
 * schedule makes a heartbeat node again, no interval is NODE_DEFAULTS'. A scheduled job is not
 * given an interval unless asked (checkSchedule refuses one beside a schedule, as creation does).
 * The ping key alone is kept when not given: a drawn one changed on every run of a deploy script
 * would cut off every crontab pinging it.
 */
export function desiredChange(desired: DesiredNode): NodeChange {
  const { heartbeat_interval_seconds: interval, schedule, ping_key, ...rest } = desired;
  const heartbeat = schedule ? interval : (interval ?? NODE_DEFAULTS.heartbeat_interval_seconds);
  return {
    ...rest,
    schedule: schedule ?? null,
    ...(heartbeat === undefined ? {} : { heartbeat_interval_seconds: heartbeat }),
    ...(ping_key === undefined ? {} : { ping_key }),
  };
}

/**
 * A schedule replaces the heartbeat interval: asking for both is refused, and so is an interval
 * for a node that keeps its schedule (send `"schedule": null` with it to go back to heartbeats).
 * The expression must be one the cron package reads and that names a date that exists. Asked by
 * updateNode for the API and the console's edit form alike, so a bad schedule reads the same in both.
 */
export function checkSchedule(schedule: CronSchedule | null | undefined, interval: number | undefined, keepsSchedule: boolean, now: Date): void {
  const errors: ErrorDetail[] = [];
  if (interval !== undefined && (schedule || (schedule === undefined && keepsSchedule))) {
    errors.push({ field: 'heartbeat_interval_seconds', message: 'cannot be set with a schedule: a scheduled job is due by its schedule' });
  }
  if (schedule) errors.push(...validateCronSchedule(schedule, now));
  if (errors.length) throw validationFailed(errors);
}

/** The API's rule for a label key, and its words when one breaks it (src/http/validation.ts). */
export const LABEL_KEY = /^[A-Za-z0-9._/-]{1,63}$/;
export const LABEL_KEY_RULE = 'label keys are 1-63 characters of A-Z a-z 0-9 . _ / -';
export const LABEL_VALUE_MAX = 256;
export const LABEL_VALUE_RULE = `label values are at most ${LABEL_VALUE_MAX} characters`;
export const NOT_KEY_VALUE = 'must be key=value or key:value';

/**
 * The most labels one filter asks for (the API's repeated `?label=`, the console's lists): each is
 * one more containment test per node read, and 1,500 of them took 2.1 s over the incidents of
 * 100,000 nodes. No review filters by more than a handful.
 */
export const MAX_LABEL_FILTERS = 20;

/** One label, as a filter asks for it. */
export interface LabelPair {
  key: string;
  value: string;
}

/**
 * A label as people type it, in a filter or on a command line: `key=value`, as labels are written
 * everywhere (the console's chips, `nodes add --label role=web`), or `key:value`, as the API's
 * filter and the CLI's `nodes list` first read them. The API's `?label=`, the CLI and the console
 * all read a filter through this one function. A key holds neither character (LABEL_KEY), so
 * whichever comes first ends it: `a:b=c` is a="b=c". Else the problem, in the API's own words
 * where it is the key or the value, not "must be key=value or key:value" for a 300-character value.
 */
export function parseLabel(text: string): LabelPair | { problem: string } {
  const at = text.search(/[=:]/);
  if (at < 0) return { problem: NOT_KEY_VALUE };
  const key = text.slice(0, at);
  const value = text.slice(at + 1);
  if (!LABEL_KEY.test(key)) return { problem: LABEL_KEY_RULE };
  if (value.length > LABEL_VALUE_MAX) return { problem: LABEL_VALUE_RULE };
  return { key, value };
}

export interface NodeRef {
  id: string;
  name: string;
}

/** One transition of a node's state log, newest first when listed. */
export interface TransitionRow {
  from_state: State;
  to_state: State;
  at: Date;
  reason: string | null;
  state_version: number;
}
