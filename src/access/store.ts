import type { Queryable, Tx } from '../db/client.ts';
import { LOCKS } from '../db/locks.ts';
import type { ApiKeyRow, KeyCursor, Principal, Scope } from './model.ts';

/** NOTIFY channel: a secret or a node name stopped meaning what caches remember, or a console session ended. */
export const IDENTITY_CHANNEL = 'lifeline_identity';

/**
 * The payload when only a console session ended (sign-out): open event streams must check again,
 * but no cached secret changed, so caches keep what they hold (forgetting them would cost one
 * query per node token at the next heartbeats).
 */
export const SESSION_ENDED = 'session';

/**
 * The payload when only a node's token or name changed (rotation, rename, deletion): caches must
 * forget, but no API key or session can have stopped authenticating, so open event streams need not
 * check again — otherwise a script rotating M tokens with N streams open costs N×M queries on the
 * pool ingest shares.
 */
export const NODE_CHANGED = 'node';

/** '' for a key revoked or replaced: caches forget and open streams check again. */
export async function announceIdentityChange(sql: Queryable, payload: '' | typeof SESSION_ENDED | typeof NODE_CHANGED = ''): Promise<void> {
  await sql`select pg_notify(${IDENTITY_CHANNEL}, ${payload})`;
}

/**
 * How long a start's key transaction waits for a lock, and lets a statement run: another start
 * holds these locks for milliseconds, so 30 s is a database in deep trouble or a session left
 * holding one. The api process holds its requests until the keys are applied: without a bound, a
 * stuck lock held them (and the start) for ever; with it the start fails, says why and exits 1.
 */
export const START_KEY_WAIT = '30s';

/**
 * Holds, until `tx` ends, the lock under which engines starting together write an admin key one
 * at a time (LIFELINE_ADMIN_TOKEN's, or the first one of a database without any), waiting
 * START_KEY_WAIT at most for it and for each later statement of `tx`.
 */
export async function lockStartKey(tx: Tx, which: 'bootstrapAdmin' | 'firstAdminKey'): Promise<void> {
  await tx`select set_config('lock_timeout', ${START_KEY_WAIT}, true), set_config('statement_timeout', ${START_KEY_WAIT}, true)`;
  await tx`select pg_advisory_xact_lock(${LOCKS[which]})`;
}

// The bootstrap admin key has a fixed id so a changed LIFELINE_ADMIN_TOKEN replaces, not adds.
const BOOTSTRAP_ID = '00000000-0000-4000-8000-000000000001';

export async function insertApiKey(sql: Queryable, name: string, scope: Scope, secretHash: string, now: Date): Promise<ApiKeyRow> {
  const [row] = await sql<ApiKeyRow[]>`
    insert into api_keys (name, scope, secret_hash, created_at) values (${name}, ${scope}, ${secretHash}, ${now})
    returning id, name, scope, created_at, revoked_at`;
  return row!;
}

/** Stores the bootstrap admin key with this hash; true when that changed anything. */
export async function upsertBootstrapAdmin(sql: Queryable, secretHash: string, now: Date): Promise<boolean> {
  const changed = await sql`
    insert into api_keys (id, name, scope, secret_hash, created_at)
    values (${BOOTSTRAP_ID}, 'bootstrap-admin', 'admin', ${secretHash}, ${now})
    on conflict (id) do update set secret_hash = excluded.secret_hash, scope = 'admin', revoked_at = null
    where api_keys.secret_hash <> excluded.secret_hash or api_keys.scope <> 'admin' or api_keys.revoked_at is not null
    returning id`;
  return changed.length > 0;
}

/** Revokes the bootstrap admin key if it is live; true when that changed anything. */
export const revokeBootstrapAdmin = (sql: Queryable, now: Date): Promise<boolean> => revokeApiKey(sql, BOOTSTRAP_ID, now);

/** Whether any admin key still works (the bootstrap one included). */
export async function hasActiveAdminKey(sql: Queryable): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`select exists (select 1 from api_keys where scope = 'admin' and revoked_at is null) as found`;
  return row!.found;
}

/**
 * The ids of the admin keys that work, in id order; with `lock`, locked until the transaction ends.
 * Locked, two revocations of the last two admin keys cannot both see the other's key working: the
 * later one waits for the earlier's commit, and Postgres then reads the row it revoked again and
 * leaves it out (READ COMMITTED re-checks a locked row's conditions against what committed).
 * FOR NO KEY UPDATE, not FOR UPDATE: a sign-in's session insert takes FOR KEY SHARE on its key's
 * row (the foreign key check), which FOR UPDATE blocks, and a sign-in that had already swept the
 * revoked key's expired session then deadlocked with the revocation (40P01).
 */
export async function activeAdminKeyIds(sql: Queryable, lock = false): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select id from api_keys where scope = 'admin' and revoked_at is null order by id ${lock ? sql`for no key update` : sql``}`;
  return rows.map((r) => r.id);
}

/** By name, as people, channels and schedules list: ids are random, so id order was no order to a reader. */
export async function listApiKeys(sql: Queryable, after: KeyCursor | undefined, limit: number): Promise<ApiKeyRow[]> {
  return sql<ApiKeyRow[]>`
    select id, name, scope, created_at, revoked_at from api_keys
    ${after ? sql`where (name, id) > (${after[0]}, ${after[1]}::uuid)` : sql``}
    order by name, id limit ${limit}`;
}

export async function getApiKey(sql: Queryable, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await sql<ApiKeyRow[]>`select id, name, scope, created_at, revoked_at from api_keys where id = ${id}`;
  return row;
}

/**
 * Revokes a key not revoked yet; false when it was (it keeps its time) or there is none. The
 * update locks the row FOR NO KEY UPDATE, which lets a sign-in with this very key insert its
 * session (see activeAdminKeyIds); a second revocation sent at once waits for it, then re-reads
 * the row (READ COMMITTED) and finds it revoked.
 */
export async function revokeApiKey(sql: Queryable, id: string, now: Date): Promise<boolean> {
  const rows = await sql`update api_keys set revoked_at = ${now} where id = ${id} and revoked_at is null returning id`;
  return rows.length > 0;
}

type PrincipalRow = { hash: string } & (
  | { kind: 'key'; id: string; scope: Scope; name: string }
  | { kind: 'node'; id: string; scope: null; name: string }
);

/**
 * The API keys and node tokens with these hashes, by hash, in one round trip (keys and tokens
 * never collide): the misses of many callers at once (every open stream after a revocation) are
 * one query, not one each.
 */
export async function findPrincipalsByHash(sql: Queryable, hashes: string[]): Promise<Map<string, Principal>> {
  const rows = await sql<PrincipalRow[]>`
    select secret_hash as hash, 'key' as kind, id, scope, name from api_keys where secret_hash = any(${hashes}::text[]) and revoked_at is null
    union all
    select token_hash, 'node', id, null, name from nodes where token_hash = any(${hashes}::text[])`;
  return new Map(
    rows.map((r) => [r.hash, r.kind === 'key' ? { kind: 'key', keyId: r.id, keyName: r.name, scope: r.scope } : { kind: 'node', nodeId: r.id, nodeName: r.name }]),
  );
}

/** The names of these keys, revoked ones included (who did something stays known). */
export async function apiKeyNames(sql: Queryable, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{ id: string; name: string }[]>`select id, name from api_keys where id = any(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r.name]));
}
