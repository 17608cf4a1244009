import type { Queryable } from '../db/client.ts';
import { editLock } from '../db/named-rows.ts';
import type { NamedBy, NameCursor, NewSchedule, OverrideRow, SchedulePatch, ScheduleRow } from './model.ts';
import type { Layer } from './schedule.ts';

/** Postgres names this constraint when a second schedule would take a name (sql/0010_people.sql). */
export const SCHEDULE_NAME_KEY = 'schedules_name_key';

/** Layers as stored: field by field, times as RFC 3339 strings. */
interface StoredLayer extends Omit<Layer, 'starts_at'> {
  starts_at: string;
}

const layersJson = (sql: Queryable, layers: Layer[]) =>
  sql.json(
    layers.map((l) => ({
      name: l.name,
      user_ids: l.user_ids,
      starts_at: l.starts_at.toISOString(),
      rotation: l.rotation,
      ...(l.restrictions?.length ? { restrictions: l.restrictions.map((r) => ({ days: r.days, from: r.from, to: r.to })) } : {}),
    })),
  );

type StoredSchedule = Omit<ScheduleRow, 'layers'> & { layers: StoredLayer[] };

const readSchedule = (row: StoredSchedule): ScheduleRow => ({
  ...row,
  layers: row.layers.map((l) => ({ ...l, starts_at: new Date(l.starts_at) })),
});

const COLUMNS = ['id', 'name', 'time_zone', 'layers', 'created_at', 'updated_at'];

export async function insertSchedule(tx: Queryable, s: NewSchedule, now: Date): Promise<ScheduleRow> {
  const [row] = await tx<StoredSchedule[]>`
    insert into schedules (name, time_zone, layers, created_at, updated_at)
    values (${s.name}, ${s.time_zone}, ${layersJson(tx, s.layers)}, ${now}, ${now})
    returning ${tx(COLUMNS)}`;
  return readSchedule(row!);
}

/** By id, or by name when `key` is not an id; `locked`: for an edit, until its transaction ends (editLock). */
export async function getSchedule(sql: Queryable, key: { id: string } | { name: string }, locked = false): Promise<ScheduleRow | undefined> {
  const [row] = await sql<StoredSchedule[]>`
    select ${sql(COLUMNS)} from schedules where ${'id' in key ? sql`id = ${key.id}` : sql`name = ${key.name}`} ${editLock(sql, locked)}`;
  return row && readSchedule(row);
}

/** Schedules by id (one query). */
export async function getSchedules(sql: Queryable, ids: string[]): Promise<Map<string, ScheduleRow>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<StoredSchedule[]>`select ${sql(COLUMNS)} from schedules where id = any(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, readSchedule(r)]));
}

/** Each schedule's name, by id (a deleted one is absent): the schedules a batch's pages went through, read once those pages are. */
export async function scheduleNames(sql: Queryable, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{ id: string; name: string }[]>`select id, name from schedules where id = any(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** Names are unique, so the cursor is the last name (the id rides along for the shared cursor shape). */
export async function listSchedules(sql: Queryable, after: NameCursor | undefined, limit: number): Promise<ScheduleRow[]> {
  const rows = await sql<StoredSchedule[]>`
    select ${sql(COLUMNS)} from schedules
    ${after ? sql`where name > ${after[0]}` : sql``}
    order by name limit ${limit}`;
  return rows.map(readSchedule);
}

export async function updateSchedule(tx: Queryable, id: string, patch: SchedulePatch, now: Date): Promise<ScheduleRow | undefined> {
  const values: Record<string, unknown> = { ...patch, updated_at: now };
  if (patch.layers) values.layers = layersJson(tx, patch.layers);
  const [row] = await tx<StoredSchedule[]>`
    update schedules set ${tx(values, ...Object.keys(values))} where id = ${id} returning ${tx(COLUMNS)}`;
  return row && readSchedule(row);
}

/** Deletes the schedule; its name, for the audit row that outlives it, or undefined when there was none. */
export async function deleteSchedule(tx: Queryable, id: string): Promise<string | undefined> {
  const [row] = await tx<{ name: string }[]>`delete from schedules where id = ${id} returning name`;
  return row?.name;
}

/** Schedules whose layers name this user. */
export async function schedulesNamingUser(sql: Queryable, userId: string): Promise<NamedBy[]> {
  return sql<NamedBy[]>`
    select id, name from schedules where layers @> ${sql.json([{ user_ids: [userId] }])} order by name`;
}

// ─── Overrides ──────────────────────────────────────────────────────────────────────────────────

const OVERRIDE_COLUMNS = ['id', 'schedule_id', 'user_id', 'starts_at', 'ends_at', 'created_at'];

export async function insertOverride(tx: Queryable, o: Omit<OverrideRow, 'id'>): Promise<OverrideRow> {
  const [row] = await tx<OverrideRow[]>`
    insert into schedule_overrides (schedule_id, user_id, starts_at, ends_at, created_at)
    values (${o.schedule_id}, ${o.user_id}, ${o.starts_at}, ${o.ends_at}, ${o.created_at})
    returning ${tx(OVERRIDE_COLUMNS)}`;
  return row!;
}

/** A schedule's overrides that end after `since`, by start (keyset on start and id). */
export async function listOverrides(
  sql: Queryable,
  scheduleId: string,
  since: Date,
  after: [startsAt: string, id: string] | undefined,
  limit: number,
): Promise<OverrideRow[]> {
  return sql<OverrideRow[]>`
    select ${sql(OVERRIDE_COLUMNS)} from schedule_overrides
    where schedule_id = ${scheduleId} and ends_at > ${since}
      ${after ? sql`and (starts_at, id) > (${after[0]}::timestamptz, ${after[1]}::uuid)` : sql``}
    order by starts_at, id limit ${limit}`;
}

/** One override of a schedule, for the page asking before it is removed. */
export async function getOverride(sql: Queryable, scheduleId: string, overrideId: string): Promise<OverrideRow | undefined> {
  const [row] = await sql<OverrideRow[]>`select ${sql(OVERRIDE_COLUMNS)} from schedule_overrides where id = ${overrideId} and schedule_id = ${scheduleId}`;
  return row;
}

/** The person the deleted override put on call; undefined when there was no such override. */
export async function deleteOverride(tx: Queryable, scheduleId: string, overrideId: string): Promise<string | undefined> {
  const [row] = await tx<{ user_id: string }[]>`delete from schedule_overrides where id = ${overrideId} and schedule_id = ${scheduleId} returning user_id`;
  return row?.user_id;
}

/** "Alice Ops on Primary": an override as its audit rows name it, by its person and schedule. */
export async function overrideName(tx: Queryable, scheduleId: string, userId: string): Promise<string | null> {
  const [row] = await tx<{ name: string }[]>`
    select u.name || ' on ' || s.name as name from users u, schedules s where u.id = ${userId} and s.id = ${scheduleId}`;
  return row?.name ?? null;
}

/**
 * Each schedule's overrides that overlap [from, to), in creation order (the later one wins where
 * they overlap). Asking for one instant is from = t, to = t + 1 ms.
 */
export async function overridesDuring(sql: Queryable, scheduleIds: string[], from: Date, to: Date): Promise<Map<string, OverrideRow[]>> {
  const out = new Map<string, OverrideRow[]>(scheduleIds.map((id) => [id, []]));
  if (scheduleIds.length === 0) return out;
  const rows = await sql<OverrideRow[]>`
    select ${sql(OVERRIDE_COLUMNS)} from schedule_overrides
    where schedule_id = any(${scheduleIds}::uuid[]) and starts_at < ${to} and ends_at > ${from}
    order by created_at, id`;
  for (const r of rows) out.get(r.schedule_id)?.push(r);
  return out;
}

/** Schedules with an override naming this user that has not ended by `now`. */
export async function schedulesWithOverridesFor(sql: Queryable, userId: string, now: Date): Promise<NamedBy[]> {
  return sql<NamedBy[]>`
    select distinct s.id, s.name from schedule_overrides o join schedules s on s.id = o.schedule_id
    where o.user_id = ${userId} and o.ends_at > ${now} order by s.name`;
}

/**
 * Everyone schedule `s` (the row, in the enclosing query) can put on call from `now`: its layers'
 * people and those of its overrides not ended by then; one `text` column. The one definition of
 * it, for scheduleMembers and pageablePeople.
 */
export function schedulePeople(sql: Queryable, now: Date) {
  return sql`
    select jsonb_array_elements_text(l->'user_ids') from jsonb_array_elements(s.layers) l
    union select o.user_id::text from schedule_overrides o where o.schedule_id = s.id and o.ends_at > ${now}`;
}

/** Each schedule's name and everyone it can put on call from `now` (schedulePeople), for the policy page's warnings. */
export async function scheduleMembers(sql: Queryable, ids: string[], now: Date): Promise<Map<string, { name: string; user_ids: string[] }>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<Array<{ id: string; name: string; user_ids: string[] }>>`
    select s.id, s.name, array(${schedulePeople(sql, now)}) as user_ids
    from schedules s where s.id = any(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, { name: r.name, user_ids: r.user_ids }]));
}
