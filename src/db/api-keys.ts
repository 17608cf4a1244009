import type { Queryable } from './client.ts';
import { announceIdentityChange } from './identity.ts';

export type Scope = 'admin' | 'write' | 'read' | 'ingest';

export interface ApiKeyRow {
  id: string;
  name: string;
  scope: Scope;
  created_at: Date;
  revoked_at: Date | null;
}

// The bootstrap admin key has a fixed id so a changed LIFELINE_ADMIN_TOKEN replaces, not adds.
const BOOTSTRAP_ID = '00000000-0000-4000-8000-000000000001';

export async function insertApiKey(sql: Queryable, name: string, scope: Scope, secretHash: string, now: Date): Promise<ApiKeyRow> {
  const [row] = await sql<ApiKeyRow[]>`
    insert into api_keys (name, scope, secret_hash, created_at) values (${name}, ${scope}, ${secretHash}, ${now})
    returning id, name, scope, created_at, revoked_at`;
  return row!;
}

export async function upsertBootstrapAdmin(sql: Queryable, secretHash: string, now: Date): Promise<void> {
  const changed = await sql`
    insert into api_keys (id, name, scope, secret_hash, created_at)
    values (${BOOTSTRAP_ID}, 'bootstrap-admin', 'admin', ${secretHash}, ${now})
    on conflict (id) do update set secret_hash = excluded.secret_hash, scope = 'admin', revoked_at = null
    where api_keys.secret_hash <> excluded.secret_hash or api_keys.scope <> 'admin' or api_keys.revoked_at is not null
    returning id`;
  // Every process starts with this; only a real change may make the others forget their caches.
  if (changed.length) await announceIdentityChange(sql);
}

export async function listApiKeys(sql: Queryable, afterId: string | undefined, limit: number): Promise<ApiKeyRow[]> {
  return sql<ApiKeyRow[]>`
    select id, name, scope, created_at, revoked_at from api_keys
    ${afterId ? sql`where id > ${afterId}` : sql``}
    order by id limit ${limit}`;
}

export async function revokeApiKey(sql: Queryable, id: string, now: Date): Promise<boolean> {
  const rows = await sql`update api_keys set revoked_at = coalesce(revoked_at, ${now}) where id = ${id} returning id`;
  if (rows.length > 0) await announceIdentityChange(sql);
  return rows.length > 0;
}
