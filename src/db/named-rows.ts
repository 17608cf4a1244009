// Channels, users and schedules are named by id inside other rows (escalation levels, schedule
// layers, a user's own channels) as arrays no foreign key reaches, so their deletion and the
// writes naming them are kept apart by row locks instead, the same two for each table: a writer
// takes FOR KEY SHARE on what it names, a deletion FOR UPDATE on what it deletes. Each then waits
// for the other to commit and sees what it committed (see deleteChannel, deleteUser and
// deleteSchedule in their services).
import { notFound, Refusal } from '../errors.ts';
import type { Queryable, Sql, Tx } from './client.ts';
import { sqlState } from './errors.ts';

export type NamedTable = 'channels' | 'users' | 'schedules';

/**
 * What an edit reads its row with when `locked` (`for no key update`, the lock its update takes
 * anyway): a second edit of the row waits for the first to commit and then reads what it wrote,
 * so each edit's audit `from` is the value it replaced, where reading before the transaction gave
 * both edits the same starting value. Writers naming the row (FOR KEY SHARE, lockExisting) do not
 * wait on it.
 */
export const editLock = (tx: Queryable, locked: boolean) => (locked ? tx`for no key update` : tx``);

/** Of these ids, the rows that exist, locked against deletion until the transaction ends. */
export async function lockExisting(tx: Queryable, table: NamedTable, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  // In id order, so the rows are locked in the same order whatever order `ids` came in. This is
  // for repeatability only: KEY SHARE locks do not conflict with each other, so two writers cannot
  // deadlock on them whatever the order; a deletion locks a single row.
  const rows = await tx<{ id: string }[]>`select id from ${tx(table)} where id = any(${ids}::uuid[]) order by id for key share`;
  return new Set(rows.map((r) => r.id));
}

/** Locks a row for deletion; false when there is no such row. */
export async function lockForDelete(tx: Queryable, table: NamedTable, id: string): Promise<boolean> {
  const rows = await tx`select 1 from ${tx(table)} where id = ${id} for update`;
  return rows.length > 0;
}

/**
 * How long deleting a channel, person or schedule waits, in all, for the writers holding its row.
 * Escalation steps hold KEY SHARE on the people they page until they commit, and in a storm their
 * batches follow each other: a FOR UPDATE queued behind them could wait minutes, and an API request
 * with it. A schedule is held by whatever saves a policy naming it or an override to it: a storm's
 * policy edits (or one stuck transaction) hold it as long.
 */
export const DELETE_LOCK_WAIT_MS = 5_000;

const TABLE_OF = { channel: 'channels', user: 'users', schedule: 'schedules' } as const satisfies Record<string, NamedTable>;

type Deleted = keyof typeof TABLE_OF;

/** Who holds a row a deletion waits for, by what is deleted (see lockExisting's callers). */
const HOLDERS = {
  channel: 'an edit naming it (an escalation policy or a user being saved)',
  user: 'work naming it (an escalation paging it, or an edit naming it)',
  schedule: 'an edit naming or changing it (an escalation policy, an override or the schedule being saved)',
} as const satisfies Record<Deleted, string>;

function heldTooLong(what: Deleted, waitMs: number): Refusal {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new Refusal(
    'conflict',
    `The ${what} is held by ${HOLDERS[what]} longer than a deletion waits; nothing was deleted, try again in ${seconds} s.`,
    undefined,
    seconds,
  );
}

/**
 * The row locked for deletion, waiting at most `waitMs` in all; false when there is no such row.
 * lock_timeout alone bounds each lock acquisition, not the wait: KEY SHARE holders do not queue
 * behind a waiting FOR UPDATE, so while escalation batches take turns holding a person (each under
 * 5 s) the FOR UPDATE waits again for each and never times out. statement_timeout bounds the
 * statement, so it is set around this one only (other statements keep the session's own).
 */
async function lockForDeleteWithin(tx: Tx, what: Deleted, id: string, waitMs: number): Promise<boolean> {
  const [set] = await tx<{ previous: string }[]>`
    select current_setting('statement_timeout') as previous, set_config('statement_timeout', ${`${waitMs}ms`}, true)`;
  let found: boolean;
  try {
    found = await lockForDelete(tx, TABLE_OF[what], id);
  } catch (err) {
    // 57014 query_canceled: this statement ran past the statement_timeout set just above.
    if (sqlState(err) === '57014') throw heldTooLong(what, waitMs);
    throw err;
  }
  await tx`select set_config('statement_timeout', ${set!.previous}, true)`;
  return found;
}

/**
 * Runs a deletion's transaction: locks the row (not found when there is none), waiting at most
 * `waitMs` for the writers holding it, then runs `fn`, whose own lock waits are each bounded by
 * `waitMs` too (lock_timeout). One that waits longer is refused as a conflict to retry
 * (Retry-After), having changed nothing.
 */
export async function deleting(sql: Sql, what: Deleted, id: string, waitMs: number, fn: (tx: Tx) => Promise<void>): Promise<void> {
  try {
    await sql.begin(async (tx) => {
      await tx`select set_config('lock_timeout', ${`${waitMs}ms`}, true)`;
      if (!(await lockForDeleteWithin(tx, what, id, waitMs))) throw notFound(`${what[0]!.toUpperCase()}${what.slice(1)} "${id}"`);
      await fn(tx);
    });
  } catch (err) {
    // 55P03 lock_not_available: a lock wait ran past lock_timeout.
    if (sqlState(err) !== '55P03') throw err;
    throw heldTooLong(what, waitMs);
  }
}
