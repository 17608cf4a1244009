import { randomBytes } from 'node:crypto';
import { createSql, type Sql } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { progress } from './log.ts';
import { sleep, type Scope } from './scope.ts';

// Only the maintenance database is used to create and drop; every figure is measured in a database
// this run created (named lifeline_bench_<pid>_…) and dropped again, whatever else lives here.
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

export function urlFor(database: string): string {
  const u = new URL(BASE_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface BenchDatabase {
  name: string;
  url: string;
  /** A small pool for seeding and reading results; engines under test open their own. */
  sql: Sql;
}

async function withAdmin<T>(fn: (admin: Sql) => Promise<T>): Promise<T> {
  const admin = createSql(BASE_URL, { dedicated: true, applicationName: 'lifeline-bench-admin' });
  try {
    return await fn(admin);
  } finally {
    await admin.end({ timeout: 1 });
  }
}

/**
 * A fresh database migrated with the project's own migrations (the engine under test would apply
 * the same on start), dropped when `scope` closes.
 */
export async function createBenchDatabase(scope: Scope, label: string): Promise<BenchDatabase> {
  const name = `lifeline_bench_${process.pid}_${label}_${randomBytes(3).toString('hex')}`;
  await withAdmin((admin) => admin`create database ${admin(name)}`);
  const url = urlFor(name);
  scope.defer(`drop ${name}`, () => withAdmin((admin) => admin`drop database if exists ${admin(name)} with (force)`).then(() => undefined));
  await migrate(url);
  const sql = createSql(url, { max: 4, applicationName: 'lifeline-bench' });
  // Registered after the drop, so it runs before it.
  scope.defer(`close pool of ${name}`, () => sql.end({ timeout: 2 }));
  return { name, url, sql };
}

/**
 * Drops what is left of this run's databases with `label`: for a module that creates and drops its
 * own database inside one call (uptime.ts), so an interrupted run still removes it.
 */
export async function dropRunDatabases(label: string): Promise<void> {
  await withAdmin(async (admin) => {
    const rows = await admin<{ datname: string }[]>`
      select datname from pg_database where starts_with(datname, ${`lifeline_bench_${process.pid}_${label}_`})`;
    for (const { datname } of rows) await admin`drop database if exists ${admin(datname)} with (force)`;
  });
}

export async function postgresVersion(): Promise<string> {
  return withAdmin(async (admin) => {
    const [row] = await admin<{ server_version: string }[]>`show server_version`;
    return row?.server_version ?? 'unknown';
  });
}

/** Planner statistics and visibility maps as autovacuum would leave them after a bulk load. */
export async function vacuumAnalyze(sql: Sql, tables: string[]): Promise<void> {
  for (const t of tables) await sql.unsafe(`vacuum analyze ${t}`);
}

export interface UpdateStats {
  upd: number;
  hotUpd: number;
}

export async function tableUpdates(sql: Sql, table: string): Promise<UpdateStats> {
  const [row] = await sql<{ upd: number; hot: number }[]>`
    select n_tup_upd::float8 as upd, n_tup_hot_upd::float8 as hot from pg_stat_user_tables where relname = ${table}`;
  return { upd: row?.upd ?? 0, hotUpd: row?.hot ?? 0 };
}

/**
 * Index scans on the secret-hash lookups (api_keys, then nodes): one per query the authenticator
 * makes when its cache misses.
 */
export async function secretLookups(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select coalesce(sum(idx_scan), 0)::float8 as n from pg_stat_user_indexes
    where relname in ('api_keys', 'nodes') and indexrelname like '%hash%'`;
  return row?.n ?? 0;
}

export async function commits(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select xact_commit::float8 as n from pg_stat_database where datname = current_database()`;
  return row?.n ?? 0;
}

/**
 * Table statistics as of now. Backends publish their counters to the shared statistics at most
 * once a second (and idle ones on a timer), and pg_stat_force_next_flush() only affects the
 * calling backend, so other sessions' counts are read by polling until they stop moving.
 */
export async function settledUpdates(sql: Sql, table: string, quietMs = 1_500, capMs = 12_000): Promise<UpdateStats> {
  const start = performance.now();
  let last = await tableUpdates(sql, table);
  let stableSince = performance.now();
  while (performance.now() - start < capMs) {
    await sleep(250);
    const now = await tableUpdates(sql, table);
    if (now.upd !== last.upd || now.hotUpd !== last.hotUpd) {
      last = now;
      stableSince = performance.now();
    } else if (performance.now() - stableSince >= quietMs) {
      return now;
    }
  }
  progress(`statistics for ${table} still moving after ${capMs} ms; using the latest reading`);
  return last;
}
