import type { Queryable } from '../db/client.ts';
import type { KeyClaim, KeyRow } from './model.ts';

/**
 * Claims the key for a first request: true when there was no row, or the row had expired, or its
 * first request (with the same fingerprint) was abandoned in flight. The primary key settles
 * concurrent claims: exactly one wins.
 */
export async function claimKey(sql: Queryable, k: KeyClaim, now: Date, expiredBefore: Date, abandonedBefore: Date): Promise<boolean> {
  const rows = await sql`
    insert into idempotency_keys (credential, key, fingerprint, created_at)
    values (${k.credential}, ${k.key}, ${k.fingerprint}, ${now})
    on conflict (credential, key) do update set fingerprint = excluded.fingerprint, created_at = excluded.created_at, answer = null
    where idempotency_keys.created_at < ${expiredBefore}
       or (idempotency_keys.answer is null and idempotency_keys.created_at < ${abandonedBefore}
           and idempotency_keys.fingerprint = excluded.fingerprint)
    returning 1`;
  return rows.length > 0;
}

export async function findKey(sql: Queryable, credential: string, key: string): Promise<KeyRow | undefined> {
  const [row] = await sql<KeyRow[]>`select fingerprint, answer from idempotency_keys where credential = ${credential} and key = ${key}`;
  return row;
}

/** Keeps the first answer (sealed) of the request that claimed the key. */
export async function saveAnswer(sql: Queryable, credential: string, key: string, sealed: string): Promise<void> {
  await sql`update idempotency_keys set answer = ${sealed} where credential = ${credential} and key = ${key} and answer is null`;
}

/** Gives the key up: the request did not succeed, so a retry may act. */
export async function releaseKey(sql: Queryable, credential: string, key: string): Promise<void> {
  await sql`delete from idempotency_keys where credential = ${credential} and key = ${key} and answer is null`;
}

export async function deleteKeysBefore(sql: Queryable, before: Date): Promise<number> {
  const rows = await sql`delete from idempotency_keys where created_at < ${before} returning 1`;
  return rows.length;
}
