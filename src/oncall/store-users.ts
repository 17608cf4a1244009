import type { Queryable } from '../db/client.ts';
import { editLock } from '../db/named-rows.ts';
import { schedulePeople } from './store-schedules.ts';
import type { Contacts, NamedBy, NameCursor, NewUser, UserPatch, UserRow } from './model.ts';

/** Postgres names this index when a second user would get an address already taken (sql/0010_people.sql). */
export const USER_EMAIL_INDEX = 'users_email';

// A user's channels come back in the order they were given.
const SELECT = (sql: Queryable) => sql`
  select u.id, u.name, u.email, u.time_zone, u.created_at, u.updated_at,
         array(select c.channel_id from user_channels c where c.user_id = u.id order by c.position)::text[] as channel_ids
  from users u`;

async function setChannels(tx: Queryable, userId: string, channelIds: string[]): Promise<void> {
  await tx`delete from user_channels where user_id = ${userId}`;
  if (channelIds.length === 0) return;
  await tx`
    insert into user_channels (user_id, channel_id, position)
    select ${userId}, c, p::int - 1 from unnest(${channelIds}::uuid[]) with ordinality as t(c, p)`;
}

export async function insertUser(tx: Queryable, u: NewUser, now: Date): Promise<UserRow> {
  const [row] = await tx<{ id: string }[]>`
    insert into users (name, email, time_zone, created_at, updated_at)
    values (${u.name}, ${u.email}, ${u.time_zone}, ${now}, ${now})
    returning id`;
  await setChannels(tx, row!.id, u.channel_ids);
  return (await getUser(tx, row!.id))!;
}

/** `locked`: for an edit, until its transaction ends (editLock). */
export async function getUser(sql: Queryable, id: string, locked = false): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`${SELECT(sql)} where u.id = ${id} ${editLock(sql, locked)}`;
  return row;
}

/** Who has an address, compared as the unique index compares them (lower-cased). */
export async function userWithEmail(sql: Queryable, email: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`${SELECT(sql)} where lower(u.email) = lower(${email})`;
  return row;
}

export async function listUsers(sql: Queryable, after: NameCursor | undefined, limit: number): Promise<UserRow[]> {
  return sql<UserRow[]>`
    ${SELECT(sql)}
    ${after ? sql`where (u.name, u.id) > (${after[0]}, ${after[1]}::uuid)` : sql``}
    order by u.name, u.id limit ${limit}`;
}

export async function updateUser(tx: Queryable, id: string, patch: UserPatch, now: Date): Promise<UserRow | undefined> {
  const { channel_ids, ...fields } = patch;
  const values: Record<string, unknown> = { ...fields, updated_at: now };
  const [row] = await tx<{ id: string }[]>`
    update users set ${tx(values, ...Object.keys(values))} where id = ${id} returning id`;
  if (!row) return undefined;
  if (channel_ids) await setChannels(tx, id, channel_ids);
  return getUser(tx, id);
}

/** Deletes the user; its name, for the audit row that outlives it, or undefined when there was none. */
export async function deleteUser(tx: Queryable, id: string): Promise<string | undefined> {
  const [row] = await tx<{ name: string }[]>`delete from users where id = ${id} returning name`;
  return row?.name;
}

/** Users that name this channel as one of their own. */
export async function usersNamingChannel(sql: Queryable, channelId: string): Promise<NamedBy[]> {
  return sql<NamedBy[]>`
    select u.id, u.name from user_channels c join users u on u.id = c.user_id
    where c.channel_id = ${channelId} order by u.name, u.id`;
}

/** How each of these people is reached (one query); people who no longer exist are absent. */
export async function contactsOf(sql: Queryable, ids: string[]): Promise<Map<string, Contacts>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<Contacts[]>`
    select u.id, u.name, u.email,
           coalesce(json_agg(json_build_object('id', ch.id, 'type', ch.type) order by c.position) filter (where ch.id is not null), '[]') as channels
    from users u
    left join user_channels c on c.user_id = u.id
    left join channels ch on ch.id = c.channel_id
    where u.id = any(${ids}::uuid[])
    group by u.id`;
  return new Map(rows.map((r) => [r.id, r]));
}

/** Names of these users (for timelines and link pages); users that no longer exist are absent. */
export async function userNames(sql: Queryable, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<NamedBy[]>`select id, name from users where id = any(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r.name]));
}

/**
 * The people a page can name: on a policy level, or whom a schedule can put on call from `now`
 * (schedulePeople: a layer, or an override that has not ended by then). Read at start and by
 * /readyz, not on the page path.
 */
export async function pageablePeople(sql: Queryable, now: Date): Promise<string[]> {
  const rows = await sql<Array<{ id: string }>>`
    select jsonb_array_elements_text(l->'user_ids') as id from escalation_policies p, jsonb_array_elements(p.levels) l
    union select m.id from schedules s, lateral (${schedulePeople(sql, now)}) as m(id)`;
  return rows.map((r) => r.id);
}

/** Who reads a batch's messages, and its policies' lengths: what a message names beyond its incident and its page. */
export interface MessageReaders {
  /** Each person's time zone, by id. */
  zones: Map<string, string>;
  /** How many people name each asked channel as their own (0 once all unlinked it). */
  owners: Map<string, number>;
  /** How many levels each escalation policy has, by id. */
  levels: Map<string, number>;
}

/**
 * One round trip for a whole batch of messages, read beside its incidents' pages. The policies are
 * store.ts's table, read in this statement so the three reads stay one query.
 */
export async function messageReaders(sql: Queryable, ask: { userIds: string[]; channelIds: string[]; policyIds: string[] }): Promise<MessageReaders> {
  if (ask.userIds.length + ask.channelIds.length + ask.policyIds.length === 0) return { zones: new Map(), owners: new Map(), levels: new Map() };
  const [row] = await sql<{ zones: Record<string, string>; owners: Record<string, number>; levels: Record<string, number> }[]>`
    select
      (select coalesce(json_object_agg(id, time_zone), '{}') from users where id = any(${ask.userIds}::uuid[])) as zones,
      (select coalesce(json_object_agg(channel_id, n), '{}') from (
        select channel_id, count(*)::int as n from user_channels where channel_id = any(${ask.channelIds}::uuid[]) group by channel_id) o) as owners,
      (select coalesce(json_object_agg(id, jsonb_array_length(levels)), '{}') from escalation_policies where id = any(${ask.policyIds}::uuid[])) as levels`;
  return { zones: new Map(Object.entries(row!.zones)), owners: new Map(Object.entries(row!.owners)), levels: new Map(Object.entries(row!.levels)) };
}
