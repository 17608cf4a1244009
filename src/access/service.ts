import { audit } from '../audit/service.ts';
import type { Acting } from '../audit/model.ts';
import type { Queryable, Sql, Tx } from '../db/client.ts';
import { conflict } from '../errors.ts';
import { generateSecret, hashSecret } from '../secrets.ts';
import type { ApiKeyRow, Scope } from './model.ts';
import { activeAdminKeyIds, announceIdentityChange, findPrincipalsByHash, getApiKey, hasActiveAdminKey, insertApiKey, lockStartKey, revokeApiKey, revokeBootstrapAdmin, upsertBootstrapAdmin } from './store.ts';
import { deleteKeySessions } from './store-sessions.ts';

/** A new key and its secret, which is stored hashed and so can only be shown this once. */
export async function createKey(sql: Sql, input: { name: string; scope: Scope }, now: Date, acting: Acting): Promise<{ key: ApiKeyRow; secret: string }> {
  const secret = generateSecret('llk');
  const key = await sql.begin(async (tx) => {
    const key = await insertApiKey(tx, input.name, input.scope, hashSecret(secret), now);
    await audit(tx, acting, { action: 'api_key.create', target: { type: 'api_key', id: key.id, name: key.name }, detail: { scope: key.scope } }, now);
    return key;
  });
  return { key, secret };
}

/** The name the first admin key carries in `keys list`, so it can be found and revoked later. */
export const FIRST_ADMIN_KEY_NAME = 'first-admin';

/**
 * The first admin key of a database that has none working, so a fresh engine started without
 * LIFELINE_ADMIN_TOKEN can be reached at all. `keep` stores the secret (a file only its owner
 * reads) inside the transaction: if it cannot, no key is made, rather than one nobody knows.
 * Engines starting together make one key between them. Undefined when an admin key existed.
 */
export async function createFirstAdminKey(sql: Sql, now: Date, keep: (secret: string) => Promise<void>): Promise<ApiKeyRow | undefined> {
  return sql.begin((tx) => firstAdminKeyIn(tx, now, keep));
}

async function firstAdminKeyIn(tx: Tx, now: Date, keep: (secret: string) => Promise<void>): Promise<ApiKeyRow | undefined> {
  await lockStartKey(tx, 'firstAdminKey');
  if (await hasActiveAdminKey(tx)) return undefined;
  const secret = generateSecret('llk');
  const key = await insertApiKey(tx, FIRST_ADMIN_KEY_NAME, 'admin', hashSecret(secret), now);
  await keep(secret);
  return key;
}

/** Whether `secret` is that of an admin key not revoked (the first admin key's file, at a later start). */
export async function opensAdminKey(sql: Queryable, secret: string): Promise<boolean> {
  const hash = hashSecret(secret);
  const found = (await findPrincipalsByHash(sql, [hash])).get(hash);
  return found?.kind === 'key' && found.scope === 'admin';
}

/** Why the last admin key that works is not revoked, and what to do instead. */
export const LAST_ADMIN_KEY =
  'This is the last admin key that works: revoked, it would leave no key that can create or revoke keys. Create another admin key first, then revoke this one.';

/**
 * Whether `key` (as read by the caller, who has it already: the console's question shows it) is
 * the one admin key that works, which revokeKey refuses to revoke. The admin keys are read (and,
 * with `lock`, locked) only when it is a working admin key itself: revoking a read, write or
 * ingest key, or one revoked already, cannot leave none, so it locks nothing.
 */
export async function isLastAdminKey(sql: Queryable, key: ApiKeyRow | undefined, lock = false): Promise<boolean> {
  if (key?.scope !== 'admin' || key.revoked_at) return false;
  const admins = await activeAdminKeyIds(sql, lock);
  return admins.length === 1 && admins[0] === key.id;
}

/**
 * Revokes a key and ends the console sessions opened with it; every process forgets its cached
 * secrets when the NOTIFY commits. False when there is no such key. Refused (conflict) for the
 * last admin key that works: without one, only `lifeline admin create-key`, run against the
 * database, could manage keys again. When it revokes a working admin key, the working admin keys
 * are locked first, so two revocations of the last two cannot both pass the check.
 */
export async function revokeKey(sql: Sql, id: string, now: Date, acting: Acting): Promise<boolean> {
  return sql.begin(async (tx) => {
    // Keys are never deleted or renamed: the one read here still names it at the update.
    const key = await getApiKey(tx, id);
    if (!key) return false;
    if (await isLastAdminKey(tx, key, true)) throw conflict(LAST_ADMIN_KEY);
    const result = (await revokeApiKey(tx, id, now)) ? 'done' : 'unchanged';
    await audit(tx, acting, { action: 'api_key.revoke', target: { type: 'api_key', id, name: key.name }, result }, now);
    await deleteKeySessions(tx, id);
    await announceIdentityChange(tx);
    return true;
  });
}

/**
 * Makes `token` the secret of the one bootstrap admin key (LIFELINE_ADMIN_TOKEN); without a token
 * the key is revoked, so unsetting the variable takes away what it gave (a token once set in a
 * compose file or a shell history is not valid for ever). `changed` when that changed the key.
 * With `keepFirstAdmin`, a revocation that leaves no admin key working makes the first admin key
 * in the same transaction (createFirstAdminKey, `firstAdmin`).
 *
 * Engines starting together write it one after the other. The upsert's ON CONFLICT (id) arbitrates
 * the primary key only: two of them inserting the key at the same instant, on a database without
 * it, collided on api_keys' other unique index (secret_hash), and one engine's start failed with a
 * unique violation (1 race in 25 with the bare statement here; once in CI, with two engines).
 */
export async function ensureBootstrapAdmin(
  sql: Sql,
  token: string | undefined,
  now: Date,
  keepFirstAdmin?: (secret: string) => Promise<void>,
): Promise<{ changed: boolean; firstAdmin: ApiKeyRow | undefined }> {
  return sql.begin(async (tx) => {
    await lockStartKey(tx, 'bootstrapAdmin');
    const changed = token === undefined ? await revokeBootstrapAdmin(tx, now) : await upsertBootstrapAdmin(tx, hashSecret(token), now);
    // Every process starts with this; only a real change may make the others forget their caches
    // (told at commit, when the change can be read).
    if (changed) await announceIdentityChange(tx);
    // The revocation and the key replacing it commit together: a secret that cannot be kept
    // (a data directory that is a file, read-only or full) rolls the revocation back, so a failed
    // start leaves the bootstrap key working rather than no admin key at all.
    const firstAdmin = token === undefined && keepFirstAdmin ? await firstAdminKeyIn(tx, now, keepFirstAdmin) : undefined;
    return { changed, firstAdmin };
  });
}
