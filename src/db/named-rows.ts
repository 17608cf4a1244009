// Channels, users and schedules are named by id inside other rows (escalation levels, schedule
// layers, a user's own channels) as arrays no foreign key reaches, so their deletion and the
// writes naming them are kept apart by row locks instead, the same two for each table: a writer
// takes FOR KEY SHARE on what it names, a deletion FOR UPDATE on what it deletes. Each then waits
// for the other to commit and sees what it committed (see deleteChannel, deleteUser and
// deleteSchedule in their services).
import type { Queryable } from './client.ts';

export type NamedTable = 'channels' | 'users' | 'schedules';

/** Of these ids, the rows that exist, locked against deletion until the transaction ends. */
export async function lockExisting(tx: Queryable, table: NamedTable, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await tx<{ id: string }[]>`select id from ${tx(table)} where id = any(${ids}::uuid[]) for key share`;
  return new Set(rows.map((r) => r.id));
}

/** Locks a row for deletion; false when there is no such row. */
export async function lockForDelete(tx: Queryable, table: NamedTable, id: string): Promise<boolean> {
  const rows = await tx`select 1 from ${tx(table)} where id = ${id} for update`;
  return rows.length > 0;
}
