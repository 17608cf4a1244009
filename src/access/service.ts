import { audit } from '../audit/service.ts';
import type { Acting } from '../audit/model.ts';
import type { Queryable, Sql } from '../db/client.ts';
import { LOCKS } from '../db/locks.ts';
import { generateSecret, hashSecret } from '../secrets.ts';
import type { ApiKeyRow, Scope } from './model.ts';
import { announceIdentityChange, hasActiveAdminKey, insertApiKey, revokeApiKey, upsertBootstrapAdmin } from './store.ts';
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
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCKS.firstAdminKey})`;
    if (await hasActiveAdminKey(tx)) return undefined;
    const secret = generateSecret('llk');
    const key = await insertApiKey(tx, FIRST_ADMIN_KEY_NAME, 'admin', hashSecret(secret), now);
    await keep(secret);
    return key;
  });
}

/**
 * Revokes a key and ends the console sessions opened with it; every process forgets its cached
 * secrets when the NOTIFY commits. False when there is no such key.
 */
export async function revokeKey(sql: Sql, id: string, now: Date, acting: Acting): Promise<boolean> {
  return sql.begin(async (tx) => {
    const revoked = await revokeApiKey(tx, id, now);
    if (!revoked) return false;
    const result = revoked.already ? 'unchanged' : 'done';
    await audit(tx, acting, { action: 'api_key.revoke', target: { type: 'api_key', id, name: revoked.name }, result }, now);
    await deleteKeySessions(tx, id);
    await announceIdentityChange(tx);
    return true;
  });
}

/** Makes `token` the secret of the one bootstrap admin key (LIFELINE_ADMIN_TOKEN). */
export async function ensureBootstrapAdmin(sql: Queryable, token: string, now: Date): Promise<void> {
  // Every process starts with this; only a real change may make the others forget their caches.
  if (await upsertBootstrapAdmin(sql, hashSecret(token), now)) await announceIdentityChange(sql);
}
