// On-call schedules and their overrides: written here, and asked who is on call, whoever asks
// (the API, the escalation handler, later the console).
import { writtenAt } from '../clock.ts';
import { patched, type Acting } from '../audit/model.ts';
import { audit, auditedUpdate } from '../audit/service.ts';
import { channelTypes as channelTypesOf } from '../channels/store.ts';
import type { Queryable, Sql, Tx } from '../db/client.ts';
import { uniqueViolated } from '../db/errors.ts';
import { DELETE_LOCK_WAIT_MS, deleting, lockExisting } from '../db/named-rows.ts';
import { checkVersion, conflict, notFound, validationFailed } from '../errors.ts';
import {
  asSchedule,
  inUse,
  levelRecipients,
  missingIds,
  reachesAnyone,
  type Directory,
  type EmailSetup,
  type LevelRecipients,
  type NewSchedule,
  type PagedUser,
  type OverrideRow,
  type PolicyLevel,
  type PolicyRow,
  type SchedulePatch,
  type ScheduleRow,
} from './model.ts';
import { onCallAt, onCallUntil, shifts, UNTIL_HORIZON_MS, validateOverride, validateSchedule, type Layer, type OnCallUntil, type Schedule, type Shift } from './schedule.ts';
import { policiesNaming } from './store.ts';
import { contactsOf, userNames } from './store-users.ts';
import * as store from './store-schedules.ts';

/** The rules the types cannot say (validateSchedule), and every user the layers name exists (locked until commit). */
async function checkLayers(tx: Tx, time_zone: string, layers: Layer[]): Promise<void> {
  const problems = validateSchedule({ time_zone, layers });
  const users = await lockExisting(tx, 'users', layers.flatMap((l) => l.user_ids));
  problems.push(...layers.flatMap((l, i) => missingIds(l.user_ids, users, `layers.${i}.user_ids`, 'is not a user')));
  if (problems.length) throw validationFailed(problems);
}

async function write(sql: Sql, name: string | undefined, work: (tx: Tx) => Promise<ScheduleRow | undefined>): Promise<ScheduleRow | undefined> {
  try {
    return await sql.begin(work);
  } catch (err) {
    if (uniqueViolated(err) === store.SCHEDULE_NAME_KEY) throw conflict(`A schedule named "${name}" already exists.`);
    throw err;
  }
}

export async function createSchedule(sql: Sql, input: NewSchedule, now: Date, acting: Acting): Promise<ScheduleRow> {
  const row = await write(sql, input.name, async (tx) => {
    await checkLayers(tx, input.time_zone, input.layers);
    const row = await store.insertSchedule(tx, input, now);
    await audit(tx, acting, { action: 'schedule.create', target: { type: 'schedule', id: row.id, name: row.name } }, now);
    return row;
  });
  return row!;
}

/**
 * Changes a schedule; the time zone and the layers are checked together, as they will be read.
 * With `expected` (an If-Match), only a version it lists (checkVersion).
 */
export async function updateSchedule(sql: Sql, schedule: ScheduleRow, patch: SchedulePatch, now: Date, acting: Acting, expected?: readonly number[]): Promise<ScheduleRow> {
  if (Object.keys(patch).length === 0) {
    checkVersion(`Schedule "${schedule.name}"`, expected, schedule.updated_at);
    return schedule;
  }
  const row = await write(sql, patch.name, async (tx) => {
    // Read again, locked: `schedule` was read before this transaction, and a concurrent edit may
    // have changed it since; a new zone is checked with the layers it will be read with.
    const before = await store.getSchedule(tx, { id: schedule.id }, true);
    if (!before) return undefined;
    checkVersion(`Schedule "${before.name}"`, expected, before.updated_at);
    if (patch.layers || patch.time_zone) await checkLayers(tx, patch.time_zone ?? before.time_zone, patch.layers ?? before.layers);
    const change = patched('schedule.update', { type: 'schedule', id: before.id, name: patch.name ?? before.name }, patch, before);
    return auditedUpdate(tx, acting, change, before, () => store.updateSchedule(tx, schedule.id, patch, writtenAt(now, before.updated_at)), now);
  });
  if (!row) throw notFound(`Schedule "${schedule.id}"`);
  return row;
}

/**
 * Deletes a schedule no escalation level names; its overrides go with it. Like a channel or person
 * (deleting), it waits for the writers holding the schedule at most `lockWaitMs`, then is refused
 * to be retried. With `expected` (an If-Match), the locked row must be at a version it lists (checkVersion).
 */
export async function deleteSchedule(sql: Sql, id: string, now: Date, acting: Acting, lockWaitMs = DELETE_LOCK_WAIT_MS, expected?: readonly number[]): Promise<void> {
  await deleting(sql, 'schedule', id, lockWaitMs, async (tx) => {
    if (expected !== undefined) {
      const locked = (await store.getSchedule(tx, { id }))!;
      checkVersion(`Schedule "${locked.name}"`, expected, locked.updated_at);
    }
    const used = inUse([{ kind: 'policy', list: await policiesNaming(tx, 'schedule_ids', id) }], (by) => `The schedule is used by ${by}; remove it from them first.`);
    if (used) throw used;
    const name = await store.deleteSchedule(tx, id);
    await audit(tx, acting, { action: 'schedule.delete', target: { type: 'schedule', id, name } }, now);
  });
}

/** An override: `user_id` is on call from `starts_at` to `ends_at`, over every layer. */
export async function addOverride(
  sql: Sql,
  scheduleId: string,
  input: { user_id: string; starts_at: Date; ends_at: Date },
  now: Date,
  acting: Acting,
): Promise<OverrideRow> {
  const problems = validateOverride(input);
  if (problems.length) throw validationFailed(problems);
  return sql.begin(async (tx) => {
    // Both locked against deletion until commit, like everything a policy or schedule names.
    if (!(await lockExisting(tx, 'schedules', [scheduleId])).size) throw notFound(`Schedule "${scheduleId}"`);
    if (!(await lockExisting(tx, 'users', [input.user_id])).size) throw validationFailed([{ field: 'user_id', message: 'is not a user' }]);
    const row = await store.insertOverride(tx, { schedule_id: scheduleId, ...input, created_at: now });
    const detail = { schedule_id: scheduleId, user_id: row.user_id, starts_at: row.starts_at.toISOString(), ends_at: row.ends_at.toISOString() };
    const name = await store.overrideName(tx, scheduleId, row.user_id);
    await audit(tx, acting, { action: 'schedule_override.create', target: { type: 'schedule_override', id: row.id, name }, detail }, now);
    return row;
  });
}

export async function removeOverride(sql: Sql, scheduleId: string, overrideId: string, now: Date, acting: Acting): Promise<void> {
  await sql.begin(async (tx) => {
    const userId = await store.deleteOverride(tx, scheduleId, overrideId);
    if (userId === undefined) throw notFound(`Override "${overrideId}"`);
    const target = { type: 'schedule_override', id: overrideId, name: await store.overrideName(tx, scheduleId, userId) };
    await audit(tx, acting, { action: 'schedule_override.delete', target, detail: { schedule_id: scheduleId } }, now);
  });
}

/** The schedule with the overrides that overlap [from, to). */
async function withOverrides(sql: Queryable, schedule: ScheduleRow, from: Date, to: Date): Promise<Schedule> {
  const overrides = await store.overridesDuring(sql, [schedule.id], from, to);
  return asSchedule(schedule, overrides.get(schedule.id) ?? []);
}

/** The on-call timeline within [from, to). */
export async function shiftsOf(sql: Queryable, schedule: ScheduleRow, from: Date, to: Date): Promise<Shift[]> {
  return shifts(await withOverrides(sql, schedule, from, to), from, to);
}

/**
 * These schedules as they stand at `at`, with the overrides that cover that instant: what an
 * escalation level asks when it fires. Two queries however many schedules; a schedule that no
 * longer exists is absent.
 */
export async function schedulesAt(sql: Queryable, ids: string[], at: Date): Promise<Map<string, Schedule>> {
  return schedulesDuring(sql, ids, at, new Date(at.getTime() + 1));
}

/** These schedules with the overrides that overlap [from, to); two queries, a deleted one absent. */
async function schedulesDuring(sql: Queryable, ids: string[], from: Date, to: Date): Promise<Map<string, Schedule>> {
  const rows = await store.getSchedules(sql, ids);
  const overrides = await store.overridesDuring(sql, [...rows.keys()], from, to);
  return new Map([...rows].map(([id, row]) => [id, asSchedule(row, overrides.get(id) ?? [])]));
}

/** These schedules as onCallUntil reads them at `at`: with the overrides of the span it looks ahead. */
const schedulesAhead = (sql: Queryable, ids: string[], at: Date) => schedulesDuring(sql, ids, at, new Date(at.getTime() + UNTIL_HORIZON_MS));

/** A person on call, by name (null: deleted since), and until when (see onCallUntil). */
export interface NamedOnCall extends OnCallUntil {
  name: string | null;
}

/** Who the schedule has on call at `at`, by name and until when. Three queries. */
export async function onCallThrough(sql: Queryable, schedule: ScheduleRow, at: Date): Promise<NamedOnCall[]> {
  const asked = (await schedulesAhead(sql, [schedule.id], at)).get(schedule.id);
  const onCall = asked ? onCallUntil(asked, at) : [];
  const names = await userNames(sql, onCall.map((o) => o.user_id));
  return onCall.map((o) => ({ ...o, name: names.get(o.user_id) ?? null }));
}

/** A person a level would page now: named on it (until null: whenever it fires) or on call in a schedule it names. */
export type PagedNow = PagedUser & { name: string | null; until: Date | null };

/** What a level would do if it fired at that moment. */
export interface LevelNow {
  after_seconds: number;
  channel_ids: string[];
  users: PagedNow[];
  /** Schedules the level names that have nobody on call then. */
  empty_schedule_ids: string[];
  /** False: the level would be recorded as reaching nobody, and the next one fire at once (reachesAnyone). */
  reaches_anyone: boolean;
}

/**
 * Whom each level of the policy would page if it fired at `at`, by the rules the escalation
 * handler pages by (levelRecipients, reachesAnyone): each person by name, and one put on by a
 * schedule with when they stop being on call there. Four queries at most, however many levels.
 */
export async function policyAt(sql: Queryable, policy: PolicyRow, at: Date, email: EmailSetup): Promise<LevelNow[]> {
  const schedules = await schedulesAhead(sql, [...new Set(policy.levels.flatMap((l) => l.schedule_ids ?? []))], at);
  const recipients = policy.levels.map((l) => levelRecipients(l, schedules, at));
  const { channelTypes, people } = await directoryOf(sql, recipients, email);
  const until = new Map([...schedules].map(([id, s]) => [id, onCallUntil(s, at)]));
  return policy.levels.map((level, i) => {
    const r = recipients[i]!;
    const users = r.users.map((u) => ({
      ...u,
      name: people.get(u.user_id)?.name ?? null,
      until: u.schedule_id === undefined ? null : (until.get(u.schedule_id)?.find((o) => o.user_id === u.user_id)?.until ?? null),
    }));
    return { after_seconds: level.after_seconds, channel_ids: r.channel_ids, users, empty_schedule_ids: r.empty_schedule_ids, reaches_anyone: reachesAnyone(r, channelTypes, people, email) };
  });
}

/**
 * Whom each level pages at `at`, its schedules resolved to who is on call then (see
 * levelRecipients); an absent level (no policy, or a step past a shortened one) pages nobody.
 * Two queries for the whole batch.
 */
export async function recipientsAt(sql: Queryable, levels: Array<PolicyLevel | undefined>, at: Date): Promise<LevelRecipients[]> {
  const schedules = await schedulesAt(sql, [...new Set(levels.flatMap((l) => l?.schedule_ids ?? []))], at);
  return levels.map((l) => (l ? levelRecipients(l, schedules, at) : { channel_ids: [], users: [], empty_schedule_ids: [] }));
}

/**
 * What judging whether these recipients reach anyone (reachesAnyone) reads: each person's contacts,
 * and, with email known off, each channel's type (only an email channel can then fail to land;
 * otherwise no query). Two queries at most, however many levels.
 */
export async function directoryOf(sql: Queryable, recipients: Array<Pick<LevelRecipients, 'channel_ids' | 'users'>>, email: EmailSetup): Promise<Directory> {
  const [channelTypes, people] = await Promise.all([
    email === false ? channelTypesOf(sql, [...new Set(recipients.flatMap((r) => r.channel_ids))]) : new Map<string, string>(),
    contactsOf(sql, [...new Set(recipients.flatMap((r) => r.users.map((u) => u.user_id)))]),
  ]);
  return { channelTypes, people };
}

/**
 * The policies that page nobody at `at`: no level reaches anyone then, by the rule the escalation
 * handler pages by (reachesAnyone): every schedule they name has nobody on call (an office-hours
 * rota at night), and what they name can take no message (with SMTP_URL unset, an email channel or
 * a person with no channel of their own but email). Three queries for them all, four while email is
 * known off (directoryOf's two go at once).
 */
export async function policiesPagingNobody(sql: Queryable, policies: PolicyRow[], at: Date, email: EmailSetup): Promise<Set<string>> {
  const recipients = await recipientsAt(sql, policies.flatMap((p) => p.levels), at);
  const { channelTypes, people } = await directoryOf(sql, recipients, email);
  let next = 0;
  const out = new Set<string>();
  for (const p of policies) {
    const levels = recipients.slice(next, (next += p.levels.length));
    if (!levels.some((r) => reachesAnyone(r, channelTypes, people, email))) out.add(p.id);
  }
  return out;
}
