import type { Queryable } from './client.ts';
import type { Scope } from './api-keys.ts';

/** NOTIFY channel: a secret or a node name stopped meaning what caches remember. */
export const IDENTITY_CHANNEL = 'lifeline_identity';

export async function announceIdentityChange(sql: Queryable): Promise<void> {
  await sql`select pg_notify(${IDENTITY_CHANNEL}, '')`;
}

export type PrincipalRow =
  | { kind: 'key'; id: string; scope: Scope; name: null }
  | { kind: 'node'; id: string; scope: null; name: string };

/** An API key or a node token with this hash, in one round trip (keys and tokens never collide). */
export async function findPrincipalByHash(sql: Queryable, hash: string): Promise<PrincipalRow | undefined> {
  const [row] = await sql<PrincipalRow[]>`
    select 'key' as kind, id, scope, null as name from api_keys where secret_hash = ${hash} and revoked_at is null
    union all
    select 'node', id, null, name from nodes where token_hash = ${hash}
    limit 1`;
  return row;
}
