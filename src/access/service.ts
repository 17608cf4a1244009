import type { Queryable, Sql } from '../db/client.ts';
import { generateSecret, hashSecret } from '../secrets.ts';
import type { ApiKeyRow, Scope } from './model.ts';
import { announceIdentityChange, insertApiKey, revokeApiKey, revokeBootstrapAdmin, upsertBootstrapAdmin } from './store.ts';
import { deleteKeySessions } from './store-sessions.ts';

/** A new key and its secret, which is stored hashed and so can only be shown this once. */
export async function createKey(sql: Sql, input: { name: string; scope: Scope }, now: Date): Promise<{ key: ApiKeyRow; secret: string }> {
  const secret = generateSecret('llk');
  const key = await insertApiKey(sql, input.name, input.scope, hashSecret(secret), now);
  return { key, secret };
}

/**
 * Revokes a key and ends the console sessions opened with it; every process forgets its cached
 * secrets when the NOTIFY commits. False when there is no such key.
 */
export async function revokeKey(sql: Sql, id: string, now: Date): Promise<boolean> {
  return sql.begin(async (tx) => {
    if (!(await revokeApiKey(tx, id, now))) return false;
    await deleteKeySessions(tx, id);
    await announceIdentityChange(tx);
    return true;
  });
}

/**
 * Makes `token` the secret of the one bootstrap admin key (LIFELINE_ADMIN_TOKEN); without a token
 * the key is revoked, so unsetting the variable takes away what it gave (a token once set in a
 * compose file or a shell history is not valid for ever).
 */
export async function ensureBootstrapAdmin(sql: Queryable, token: string | undefined, now: Date): Promise<void> {
  const changed = token === undefined ? await revokeBootstrapAdmin(sql, now) : await upsertBootstrapAdmin(sql, hashSecret(token), now);
  // Every process starts with this; only a real change may make the others forget their caches.
  if (changed) await announceIdentityChange(sql);
}
