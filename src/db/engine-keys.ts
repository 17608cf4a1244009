import type { Queryable } from './client.ts';

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
