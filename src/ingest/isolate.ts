import { classifyDbError } from '../db/errors.ts';

/** A row Postgres refused on its own, and why. */
export interface Refusal<T> {
  row: T;
  err: unknown;
}

/**
 * Whether an error can be blamed on the rows of a statement rather than on the statement: Postgres
 * refused their values (invalid_data) or an integrity rule (constraint). Anything else — a lost
 * connection, a bug in the statement — would fail every row alike, so splitting the batch could
 * only waste statements and then drop the whole fleet's heartbeats.
 */
export function blamesRows(err: unknown): boolean {
  const kind = classifyDbError(err);
  return kind === 'invalid_data' || kind === 'constraint';
}

/**
 * Writes `rows`, which already failed together with `failure`, in halves until each row is either
 * written or refused alone. A group that fails is halved; when the first half of a failed group
 * goes through, the fault is in the second half, which is halved without being tried whole. One
 * bad row among n costs at most 2·⌈log2 n⌉ attempts (26 for 5,000 rows), not n. A row is only ever
 * refused after failing alone.
 *
 * `attempt` must leave nothing behind when it throws (a savepoint). An error that does not blame
 * the rows (see blamesRows) is rethrown at once.
 */
export function isolateRefused<T>(
  rows: T[],
  failure: unknown,
  attempt: (group: T[]) => Promise<number>,
): Promise<{ written: number; refused: Refusal<T>[] }> {
  return halve(rows, { err: failure }, attempt);
}

async function halve<T>(
  rows: T[],
  failed: { err: unknown } | undefined,
  attempt: (group: T[]) => Promise<number>,
): Promise<{ written: number; refused: Refusal<T>[] }> {
  if (rows.length === 0) return { written: 0, refused: [] };
  let known = failed;
  if (known === undefined || rows.length === 1) {
    try {
      return { written: await attempt(rows), refused: [] };
    } catch (err) {
      if (!blamesRows(err)) throw err;
      known = { err };
    }
  }
  if (rows.length === 1) return { written: 0, refused: [{ row: rows[0]!, err: known.err }] };
  const mid = Math.ceil(rows.length / 2);
  const first = await halve(rows.slice(0, mid), undefined, attempt);
  const second = await halve(rows.slice(mid), first.refused.length === 0 ? known : undefined, attempt);
  return { written: first.written + second.written, refused: [...first.refused, ...second.refused] };
}
