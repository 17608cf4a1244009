import type { Readable, Writable } from 'node:stream';
import { ENGINE_APPLICATIONS, type Queryable, type Sql, type Tx } from '../db/client.ts';
import { LOCKS } from '../db/locks.ts';
import { dependencyOrder, type TableHeader } from './model.ts';

/**
 * The engine's tables: the public schema but for schema_migrations, whose names travel in the
 * backup's header instead. The `bullmq` schema (the notification queues on Postgres) is left out:
 * it holds only in-flight jobs, which the notifier adds again from the delivery ledger.
 */
export async function engineTables(sql: Queryable): Promise<TableHeader[]> {
  const rows = await sql<{ name: string; columns: string[]; references: string[] }[]>`
    select c.relname as name,
           array(select a.attname::text from pg_attribute a
                 where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
                 order by a.attnum) as columns,
           array(select distinct f.confrelid::regclass::text from pg_constraint f
                 where f.conrelid = c.oid and f.contype = 'f') as references
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname <> 'schema_migrations'`;
  const byName = new Map(rows.map((r) => [r.name, r]));
  return dependencyOrder(rows).map((name) => ({ table: name, columns: byName.get(name)!.columns }));
}

/** The tables among `tables` that hold at least one row. */
export async function tablesWithRows(sql: Queryable, tables: readonly string[]): Promise<string[]> {
  const held: string[] = [];
  for (const t of tables) {
    const [row] = await sql<{ any: boolean }[]>`select exists (select 1 from ${sql(t)}) as any`;
    if (row!.any) held.push(t);
  }
  return held;
}

/** The engine's sessions connected to this database but for the caller's own, by application_name, sorted. */
export async function engineSessions(sql: Queryable): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select distinct application_name as name from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid()
      and application_name in ${sql(Object.values(ENGINE_APPLICATIONS))}
    order by name`;
  return rows.map((r) => r.name);
}

/**
 * A table's rows in COPY's text format, streamed as the server sends them. Once they are read the
 * stream's own read() is called once more, resuming the connection's socket: postgres.js 3.4.9
 * pauses it when a row fills the stream's buffer, and when the server's end-of-copy message came in
 * the same packet the stream ends with the socket still paused, so the next query on the
 * connection never answers (porsager/postgres#499). Here 4 backups in 10 of a 1M-row table hung
 * on the COPY after it; resuming a socket that is not paused does nothing.
 */
export async function* copyOut(tx: Tx, t: TableHeader): AsyncGenerator<Buffer> {
  const rows: Readable = await tx`copy ${tx(t.table)} (${tx(t.columns)}) to stdout`.readable();
  try {
    for await (const chunk of rows) yield chunk as Buffer;
  } finally {
    rows._read(0);
  }
}

/** A stream that loads rows in COPY's text format into a table; the rows count once it finishes. */
export function copyIn(tx: Tx, t: TableHeader): Promise<Writable> {
  return tx`copy ${tx(t.table)} (${tx(t.columns)}) from stdin`.writable();
}

/**
 * One repeatable-read, read-only transaction: every table read in it sees the same moment, while
 * engines go on writing (they neither wait for it nor make it fail).
 */
export function snapshot<T>(sql: Sql, work: (tx: Tx) => Promise<T>): Promise<T> {
  return sql.begin('isolation level repeatable read read only', work) as Promise<T>;
}

/**
 * One transaction holding the migrations lock: an engine starting meanwhile waits at its
 * migrations until the restore commits, instead of writing a first admin key into the tables
 * being loaded.
 */
export function restoring<T>(sql: Sql, work: (tx: Tx) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCKS.migrations})`;
    return work(tx);
  }) as Promise<T>;
}

/**
 * Moves every sequence behind a column (bigserial and identity ids: the state log, timelines,
 * the audit log, runs) past the largest id loaded, so the next insert does not collide with one.
 */
export async function resetSequences(tx: Tx): Promise<void> {
  const owned = await tx<{ table: string; column: string; sequence: string }[]>`
    select c.relname as table, a.attname as column, s.oid::regclass::text as sequence
    from pg_depend d
    join pg_class s on s.oid = d.objid and s.relkind = 'S'
    join pg_class c on c.oid = d.refobjid
    join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
    join pg_attribute a on a.attrelid = c.oid and a.attnum = d.refobjsubid
    where d.classid = 'pg_class'::regclass and d.deptype in ('a', 'i')`;
  for (const o of owned) {
    await tx`select setval(${o.sequence}::regclass, coalesce(max(${tx(o.column)}), 1), max(${tx(o.column)}) is not null) from ${tx(o.table)}`;
  }
}
