import type postgres from 'postgres';
import type { Queryable } from '../db/client.ts';
import type { ChannelCursor, ChannelPatch, ChannelRow, ChannelTestRow, NewChannel } from './model.ts';

const COLUMNS = ['id', 'name', 'type', 'config', 'secret_sealed', 'created_at', 'updated_at'];

export async function insertChannel(sql: Queryable, c: NewChannel, now: Date): Promise<ChannelRow> {
  const [row] = await sql<ChannelRow[]>`
    insert into channels (name, type, config, secret_sealed, created_at, updated_at)
    values (${c.name}, ${c.type}, ${sql.json(c.config as postgres.JSONValue)}, ${c.secret_sealed}, ${now}, ${now})
    returning ${sql(COLUMNS)}`;
  return row!;
}

export async function getChannel(sql: Queryable, id: string): Promise<ChannelRow | undefined> {
  const [row] = await sql<ChannelRow[]>`select ${sql(COLUMNS)} from channels where id = ${id}`;
  return row;
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

/**
 * Of these ids, the channels that exist, locked against deletion until the transaction ends: a
 * policy naming them can then never commit alongside their deletion (see deleteChannel).
 */
export async function lockExistingChannels(tx: Queryable, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await tx<{ id: string }[]>`select id from channels where id = any(${ids}::uuid[]) for key share`;
  return new Set(rows.map((r) => r.id));
}

/**
 * Locks the channel for deletion, so a policy being written that names it either committed
 * before (and `inUse` sees it) or waits and then finds the channel gone. Returns false when there
 * is no such channel.
 */
export async function lockChannelForDelete(tx: Queryable, id: string): Promise<boolean> {
  const rows = await tx`select 1 from channels where id = ${id} for update`;
  return rows.length > 0;
}

export async function deleteChannel(tx: Queryable, id: string): Promise<boolean> {
  const rows = await tx`delete from channels where id = ${id} returning id`;
  return rows.length > 0;
}

/** Any one sealed secret, to check at start that the key in use can open what is stored. */
export async function sampleSealedSecret(sql: Queryable): Promise<string | undefined> {
  const [row] = await sql<{ secret_sealed: string }[]>`select secret_sealed from channels where secret_sealed is not null limit 1`;
  return row?.secret_sealed;
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
  const [row] = await sql<{ key: Buffer }[]>`select key from engine_keys where name = ${name}`;
  return { key: row!.key, created: false };
}

export async function insertChannelTest(sql: Queryable, t: ChannelTestRow): Promise<ChannelTestRow> {
  const [row] = await sql<ChannelTestRow[]>`
    insert into channel_tests (channel_id, at, by, status, error) values (${t.channel_id}, ${t.at}, ${t.by}, ${t.status}, ${t.error})
    returning channel_id, at, by, status, error`;
  return row!;
}

/** A channel's latest tests, newest first. */
export async function listChannelTests(sql: Queryable, channelId: string, limit: number): Promise<ChannelTestRow[]> {
  return sql<ChannelTestRow[]>`
    select channel_id, at, by, status, error from channel_tests where channel_id = ${channelId} order by id desc limit ${limit}`;
}
