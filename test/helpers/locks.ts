import { createSql, type Tx } from '../../src/db/client.ts';
import type { TestDatabase } from './db.ts';
import { until } from './wait.ts';

class Rollback extends Error {}

/**
 * Opens a transaction on its own session, runs `fn` in it and keeps it open (with whatever locks
 * `fn` took) until `release()`, which rolls it back, or `commit()`.
 */
export async function holdOpen(db: TestDatabase, fn: (tx: Tx) => Promise<unknown>) {
  const sql = createSql(db.url, { dedicated: true, applicationName: 'lifeline-test-blocker' });
  let end!: (commit: boolean) => void;
  const ended = new Promise<boolean>((r) => (end = r));
  let held!: () => void;
  const holding = new Promise<void>((r) => (held = r));
  const done = sql
    .begin(async (tx) => {
      await fn(tx);
      held();
      if (!(await ended)) throw new Rollback();
    })
    .catch((err) => {
      if (!(err instanceof Rollback)) throw err;
    });
  await Promise.race([holding, done]);
  const finish = async (commit: boolean) => {
    end(commit);
    await done;
    await sql.end({ timeout: 1 });
  };
  return { release: () => finish(false), commit: () => finish(true) };
}

/** Resolves once a session of `application` waits on a lock, or once `finished()` says it need not. */
export function waitsOnLock(db: TestDatabase, application: string, finished = () => false) {
  return until(`${application} to wait on a lock`, async () => {
    if (finished()) return true;
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and application_name = ${application} and wait_event_type = 'Lock'`;
    return row!.n > 0;
  });
}

/**
 * `tx`, running `then()` once its `n`th query has returned and before that query's caller goes on:
 * something committed between two statements of the code under test, at a point the test chooses.
 * Only executed queries count, each once however often it is awaited; fragments (sql`...` nested
 * in a query) are never awaited.
 */
export function afterQuery(tx: Tx, n: number, then: () => Promise<unknown>): Tx {
  let ran = 0;
  return new Proxy(tx, {
    apply(target, self, args) {
      const query = Reflect.apply(target, self, args);
      if (!Array.isArray(args[0]) || !('raw' in args[0])) return query;
      const run = query.then;
      let done: Promise<unknown> | undefined;
      query.then = (ok: (v: unknown) => unknown, ko: (e: unknown) => unknown) =>
        (done ??= run.call(query, async (rows: unknown) => (++ran === n && (await then()), rows))).then(ok, ko);
      return query;
    },
  });
}
