import type postgres from 'postgres';
import { editLock } from '../db/named-rows.ts';
import type { Queryable } from '../db/client.ts';
import type { ChannelCursor, ChannelPatch, ChannelRow, ChannelTestRow, NewChannel } from './model.ts';

const COLUMNS = ['id', 'name', 'type', 'config', 'secret_sealed', 'url_sealed', 'created_at', 'updated_at'];

export async function insertChannel(sql: Queryable, c: NewChannel, now: Date): Promise<ChannelRow> {
  const [row] = await sql<ChannelRow[]>`
    insert into channels (id, name, type, config, secret_sealed, url_sealed, created_at, updated_at)
    values (${c.id}, ${c.name}, ${c.type}, ${sql.json(c.config as postgres.JSONValue)}, ${c.secret_sealed}, ${c.url_sealed ?? null}, ${now}, ${now})
    returning ${sql(COLUMNS)}`;
  return row!;
}

/** `locked`: for an edit, until its transaction ends (editLock). */
export async function getChannel(sql: Queryable, id: string, locked = false): Promise<ChannelRow | undefined> {
  const [row] = await sql<ChannelRow[]>`select ${sql(COLUMNS)} from channels where id = ${id} ${editLock(sql, locked)}`;
  return row;
}

/**
 * The channels with this name, oldest first, at most `limit`: names are not unique (two identical
 * POSTs make two channels), so a name finds a channel only when one has it.
 */
export async function channelsNamed(sql: Queryable, name: string, limit: number): Promise<ChannelRow[]> {
  return sql<ChannelRow[]>`select ${sql(COLUMNS)} from channels where name = ${name} order by created_at, id limit ${limit}`;
}

/** How many email channels exist (they wait on SMTP_URL). */
export async function countEmailChannels(sql: Queryable): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from channels where type = 'email'`;
  return row!.n;
}

export async function getChannelsByIds(sql: Queryable, ids: string[]): Promise<ChannelRow[]> {
  if (ids.length === 0) return [];
  return sql<ChannelRow[]>`select ${sql(COLUMNS)} from channels where id = any(${ids}::uuid[])`;
}

/** The type of each of these channels (one query); channels that no longer exist are absent. */
export async function channelTypes(sql: Queryable, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{ id: string; type: string }[]>`select id, type from channels where id = any(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r.type]));
}

export async function listChannels(sql: Queryable, after: ChannelCursor | undefined, limit: number): Promise<ChannelRow[]> {
  return sql<ChannelRow[]>`
    select ${sql(COLUMNS)} from channels
    ${after ? sql`where (name, id) > (${after[0]}, ${after[1]}::uuid)` : sql``}
    order by name, id limit ${limit}`;
}

export async function updateChannel(sql: Queryable, id: string, patch: ChannelPatch, now: Date): Promise<ChannelRow | undefined> {
  const values: Record<string, unknown> = { ...patch, updated_at: now };
  if (patch.config) values.config = sql.json(patch.config as postgres.JSONValue);
  const [row] = await sql<ChannelRow[]>`
    update channels set ${sql(values, ...(Object.keys(values) as (keyof typeof values)[]))}
    where id = ${id} returning ${sql(COLUMNS)}`;
  return row;
}

/** Deletes the channel; its name, for the audit row that outlives it, or undefined when there was none. */
export async function deleteChannel(tx: Queryable, id: string): Promise<string | undefined> {
  const [row] = await tx<{ name: string }[]>`delete from channels where id = ${id} returning name`;
  return row?.name;
}

/** Any one sealed secret and its channel, to check at start that the key in use can open what is stored. */
export async function sampleSealedSecret(sql: Queryable): Promise<{ id: string; secret_sealed: string } | undefined> {
  const [row] = await sql<{ id: string; secret_sealed: string }[]>`
    select id, secret_sealed from channels where secret_sealed is not null order by secret_sealed like 'v1.%' limit 1`;
  return row;
}

/** Secrets sealed before they were bound to their channel (format v1). */
export async function unboundSecrets(sql: Queryable): Promise<{ id: string; secret_sealed: string }[]> {
  return sql<{ id: string; secret_sealed: string }[]>`select id, secret_sealed from channels where secret_sealed like 'v1.%'`;
}

/** Replaces a sealed secret if it is still `was` (another engine may have re-sealed it first). */
export async function resealSecret(sql: Queryable, id: string, was: string, sealed: string): Promise<void> {
  await sql`update channels set secret_sealed = ${sealed} where id = ${id} and secret_sealed = ${was}`;
}

/**
 * Channels of `type` whose `field` holds a string: a URL stored whole before it was sealed, one an
 * earlier release's API wrote whole over a sealed one, or a shown form (`url_sealed` set, or a bare
 * origin). `sealed` says whether a sealed URL is stored; sealPlainUrls tells them apart.
 */
export async function plainUrls(sql: Queryable, type: string, field: string): Promise<{ id: string; url: string; sealed: boolean }[]> {
  return sql<{ id: string; url: string; sealed: boolean }[]>`
    select id, config->>${field} as url, url_sealed is not null as sealed from channels
    where type = ${type} and jsonb_typeof(config->${field}) = 'string'`;
}

/**
 * Stores a plain URL sealed, in place of any sealed before, its config keeping `shown`, if it is
 * still the plain `was` (another engine starting, or a PATCH, may have been first); whether it did.
 */
export async function sealPlainUrl(sql: Queryable, id: string, field: string, was: string, shown: string, sealed: string): Promise<boolean> {
  const done = await sql`
    update channels set config = jsonb_set(config, ${[field]}::text[], to_jsonb(${shown}::text)), url_sealed = ${sealed}
    where id = ${id} and config->>${field} = ${was}`;
  return done.count === 1;
}

/** A key the engine generated and stored, if one was. */
export async function storedEngineKey(sql: Queryable, name: string): Promise<Buffer | undefined> {
  const [row] = await sql<{ key: Buffer }[]>`select key from engine_keys where name = ${name}`;
  return row?.key;
}

/**
 * The stored key named `name`, storing `candidate` first if there is none (`created` tells which).
 * Engines starting together against a new database all end up with the one key that won the insert.
 */
export async function ensureEngineKey(sql: Queryable, name: string, candidate: Buffer, now: Date): Promise<{ key: Buffer; created: boolean }> {
  const [inserted] = await sql<{ key: Buffer }[]>`
    insert into engine_keys (name, key, created_at) values (${name}, ${candidate}, ${now})
    on conflict (name) do nothing
    returning key`;
  if (inserted) return { key: inserted.key, created: true };
  return { key: (await storedEngineKey(sql, name))!, created: false };
}

export async function insertChannelTest(sql: Queryable, t: Omit<ChannelTestRow, 'id'>): Promise<ChannelTestRow> {
  const [row] = await sql<ChannelTestRow[]>`
    insert into channel_tests (channel_id, at, by, status, error) values (${t.channel_id}, ${t.at}, ${t.by}, ${t.status}, ${t.error})
    returning id::text as id, channel_id, at, by, status, error`;
  return row!;
}

/** A channel's latest tests, newest first. */
export async function listChannelTests(sql: Queryable, channelId: string, limit: number): Promise<ChannelTestRow[]> {
  return sql<ChannelTestRow[]>`
    select id::text as id, channel_id, at, by, status, error from channel_tests where channel_id = ${channelId} order by id desc limit ${limit}`;
}

/** One test of this channel; `id` is the row's bigserial as text. */
export async function getChannelTest(sql: Queryable, channelId: string, id: string): Promise<ChannelTestRow | undefined> {
  const [row] = await sql<ChannelTestRow[]>`
    select id::text as id, channel_id, at, by, status, error from channel_tests where channel_id = ${channelId} and id = ${id}::bigint`;
  return row;
}
