// Channels, users and schedules are named by id inside other rows (escalation levels, schedule
// layers, a user's own channels) as arrays no foreign key reaches, so their deletion and the
// writes naming them are kept apart by row locks instead, the same two for each table: a writer
// takes FOR KEY SHARE on what it names, a deletion FOR UPDATE on what it deletes. Each then waits
// for the other to commit and sees what it committed (see deleteChannel, deleteUser and
// deleteSchedule in their services).
import { Refusal } from '../errors.ts';
import type { Queryable, Sql, Tx } from './client.ts';
import { sqlState } from './errors.ts';

export type NamedTable = 'channels' | 'users' | 'schedules';

/** Of these ids, the rows that exist, locked against deletion until the transaction ends. */
export async function lockExisting(tx: Queryable, table: NamedTable, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  // In id order, so two writers locking overlapping sets queue on the first row they share
  // instead of each holding one the other wants.
  const rows = await tx<{ id: string }[]>`select id from ${tx(table)} where id = any(${ids}::uuid[]) order by id for key share`;
  return new Set(rows.map((r) => r.id));
}

/** Locks a row for deletion; false when there is no such row. */
export async function lockForDelete(tx: Queryable, table: NamedTable, id: string): Promise<boolean> {
  const rows = await tx`select 1 from ${tx(table)} where id = ${id} for update`;
  return rows.length > 0;
}

/**
 * How long deleting a channel or person waits for the writers holding its row. Escalation steps
 * hold KEY SHARE on the people they page until they commit, and in a storm their batches follow
 * each other: a FOR UPDATE queued behind them could wait minutes, and an API request with it.
 */
export const DELETE_LOCK_WAIT_MS = 5_000;

/**
 * Runs a deletion's transaction waiting at most `waitMs` for any row lock (lock_timeout, set for
 * this transaction only); one that waits longer is refused as a conflict to retry (Retry-After),
 * having changed nothing.
 */
export async function deleting(sql: Sql, what: 'channel' | 'user', waitMs: number, fn: (tx: Tx) => Promise<void>): Promise<void> {
  try {
    await sql.begin(async (tx) => {
      await tx`select set_config('lock_timeout', ${`${waitMs}ms`}, true)`;
      await fn(tx);
    });
  } catch (err) {
    // 55P03 lock_not_available: the lock wait ran past lock_timeout.
    if (sqlState(err) !== '55P03') throw err;
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    throw new Refusal(
      'conflict',
      `The ${what} is held by work naming it (an escalation paging it, or an edit naming it) longer than a deletion waits; nothing was deleted, try again in ${seconds} s.`,
      undefined,
      seconds,
    );
  }
}
