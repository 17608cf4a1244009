import type { Queryable } from '../db/client.ts';
import type { Scope } from './model.ts';

// console_sessions: the SQL of console sign-in. A session is valid while it is younger than its
// absolute lifetime, was used within the idle timeout, and its key is unrevoked with the very
// secret it was opened with; every lookup checks all four in one statement.

export interface SessionRow {
  id_hash: string;
  key_id: string;
  key_name: string;
  scope: Scope;
  expires_at: Date;
}

/** Last-seen times are written at most once a minute per session: a page view is not a write. */
const TOUCH_EVERY = '1 minute';

/**
 * Opens a session for the key with this secret hash if it may sign in (read, write or admin and not
 * revoked); undefined otherwise. Expired sessions are swept in the same transaction.
 */
export async function insertSession(
  tx: Queryable,
  s: { idHash: string; keySecretHash: string; now: Date; idleSince: Date; expiresAt: Date },
): Promise<SessionRow | undefined> {
  await tx`delete from console_sessions where expires_at <= ${s.now} or last_seen_at <= ${s.idleSince}`;
  const [row] = await tx<SessionRow[]>`
    with k as (
      select id, name, scope, secret_hash from api_keys
      where secret_hash = ${s.keySecretHash} and revoked_at is null and scope in ('read', 'write', 'admin')
    ), s as (
      insert into console_sessions (id_hash, key_id, key_hash, created_at, last_seen_at, expires_at)
      select ${s.idHash}, id, secret_hash, ${s.now}, ${s.now}, ${s.expiresAt} from k
      returning id_hash, key_id, expires_at
    )
    select s.id_hash, s.key_id, k.name as key_name, k.scope, s.expires_at from s join k on k.id = s.key_id`;
  return row;
}

/**
 * The live sessions among these id hashes: younger than their lifetime, used within the idle
 * timeout, their key unrevoked with the very secret they were opened with.
 */
function live(sql: Queryable, idHashes: string[], now: Date, idleSince: Date) {
  return sql`
    select s.id_hash, s.key_id, k.name as key_name, k.scope, s.expires_at, s.last_seen_at
    from console_sessions s
    join api_keys k on k.id = s.key_id and k.secret_hash = s.key_hash and k.revoked_at is null
    where s.id_hash = any(${idHashes}::text[]) and s.expires_at > ${now} and s.last_seen_at > ${idleSince}`;
}

/**
 * The live session with this id hash, marking it used when `use` (a person's request, not a page
 * refreshing itself); undefined when it has ended for any reason.
 */
export async function findSession(sql: Queryable, idHash: string, now: Date, idleSince: Date, use: boolean): Promise<SessionRow | undefined> {
  const [row] = await sql<SessionRow[]>`
    with s as (${live(sql, [idHash], now, idleSince)}), touched as (
      update console_sessions c set last_seen_at = ${now}
      from s where ${use} and c.id_hash = s.id_hash and s.last_seen_at < ${now}::timestamptz - ${TOUCH_EVERY}::interval
    )
    select id_hash, key_id, key_name, scope, expires_at from s`;
  return row;
}

/** Which of these id hashes name live sessions, in one query, marking none used. */
export async function liveSessionHashes(sql: Queryable, idHashes: string[], now: Date, idleSince: Date): Promise<Set<string>> {
  const rows = await sql<{ id_hash: string }[]>`select id_hash from (${live(sql, idHashes, now, idleSince)}) s`;
  return new Set(rows.map((r) => r.id_hash));
}

export async function deleteSession(sql: Queryable, idHash: string): Promise<void> {
  await sql`delete from console_sessions where id_hash = ${idHash}`;
}

/** Ends every session opened with this key, in the caller's transaction (the key is being revoked). */
export async function deleteKeySessions(tx: Queryable, keyId: string): Promise<void> {
  await tx`delete from console_sessions where key_id = ${keyId}`;
}
