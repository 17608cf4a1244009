import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../package-files.ts';
import { createSql, ensureDatabase, type Queryable } from './client.ts';
import { LOCKS } from './locks.ts';

const SQL_DIR = fileURLToPath(new URL('sql/', PACKAGE_ROOT));

export interface MigrationResult {
  applied: string[];
}

/** The migration files this release ships, in the order they apply. */
export async function knownMigrations(): Promise<string[]> {
  return (await readdir(SQL_DIR)).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
}

/** The migrations applied, by name; none where no engine ever migrated. */
export async function appliedMigrations(sql: Queryable): Promise<string[]> {
  const [table] = await sql<{ exists: boolean }[]>`select to_regclass('public.schema_migrations') is not null as exists`;
  if (!table!.exists) return [];
  return (await sql<{ name: string }[]>`select name from schema_migrations order by name`).map((r) => r.name);
}

/** What a caller hears of a migration run besides its result (the engine logs both). */
export interface MigrateWatch {
  /** Each file as it commits, with how long it took. */
  applied?: (file: string, ms: number) => void;
  /** Names the database records that this release has no file for: a newer release migrated it. */
  unknown?: (files: string[]) => void;
}

/**
 * Applies the numbered files in sql/ that this database has not seen, each in its own transaction,
 * under an advisory lock so engines starting together against an empty database queue up instead of
 * racing on CREATE TABLE. Files are append-only: a landed file is never edited, only followed.
 * `through` stops after that file (`lifeline restore`).
 */
export async function migrate(url: string, opts: MigrateWatch & { through?: string } = {}): Promise<MigrationResult> {
  await ensureDatabase(url);
  const sql = createSql(url, { dedicated: true, applicationName: 'lifeline-migrate' });
  const applied: string[] = [];
  try {
    await sql`select pg_advisory_lock(${LOCKS.migrations})`;
    await sql`
      create table if not exists schema_migrations (
        name text primary key,
        applied_at timestamptz not null default now()
      )`;
    const done = new Set((await sql<{ name: string }[]>`select name from schema_migrations`).map((r) => r.name));
    const files = await knownMigrations();
    const known = new Set(files);
    const unknown = [...done].filter((name) => !known.has(name)).sort();
    if (unknown.length) opts.unknown?.(unknown);
    for (const file of files) {
      // A restore stops at the backup's own schema, so its rows load into the tables they came from.
      if (done.has(file) || (opts.through !== undefined && file > opts.through)) continue;
      const body = await readFile(SQL_DIR + file, 'utf8');
      const started = performance.now();
      await sql.begin(async (tx) => {
        await tx.unsafe(body);
        await tx`insert into schema_migrations (name) values (${file})`;
      });
      applied.push(file);
      opts.applied?.(file, Math.round(performance.now() - started));
    }
    await sql`select pg_advisory_unlock(${LOCKS.migrations})`;
  } finally {
    await sql.end({ timeout: 5 });
  }
  return { applied };
}
