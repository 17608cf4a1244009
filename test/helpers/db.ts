import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSql, type Sql } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { until } from './wait.ts';

export const BASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TEMPLATE_LOCK = 7_346_100;

export function urlFor(database: string): string {
  const u = new URL(BASE_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The template is named after the migrations' content, so a new migration gets a new template. */
function templateName(): string {
  const dir = fileURLToPath(new URL('../../sql/', import.meta.url));
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(dir + f));
  return `lifeline_tpl_${h.digest('hex').slice(0, 12)}`;
}

export interface TestDatabase {
  name: string;
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file, cloned from a template (a clone takes ~100 ms). */
export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const admin = createSql(BASE_URL, { dedicated: true, applicationName: 'lifeline-test-admin' });
  const name = `lifeline_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  try {
    // Cloning needs the template to have no other sessions; one lock serialises every file's setup.
    await admin`select pg_advisory_lock(${TEMPLATE_LOCK})`;
    if (opts.migrated === false) {
      // Left for the engine under test to create.
    } else {
      const template = templateName();
      const [exists] = await admin`select 1 from pg_database where datname = ${template}`;
      if (!exists) {
        const building = `${template}_building`;
        await admin`drop database if exists ${admin(building)} with (force)`;
        await migrate(urlFor(building));
        await admin`alter database ${admin(building)} rename to ${admin(template)}`;
      }
      await admin`create database ${admin(name)} template ${admin(template)}`;
    }
  } finally {
    await admin`select pg_advisory_unlock(${TEMPLATE_LOCK})`.catch(() => {});
    await admin.end({ timeout: 1 });
  }
  const url = urlFor(name);
  const sql = createSql(url, { max: 10, applicationName: 'lifeline-test' });
  return {
    name,
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 1 });
      const a = createSql(BASE_URL, { dedicated: true });
      await a`drop database if exists ${a(name)} with (force)`;
      await a.end({ timeout: 1 });
    },
  };
}

/** A database name no other test uses, for engines that create their own database. */
export function freshDatabaseName(): string {
  return `lifeline_e2e_${randomBytes(4).toString('hex')}`;
}

export async function dropDatabases(names: string[]): Promise<void> {
  const admin = createSql(BASE_URL, { dedicated: true });
  for (const name of names) await admin`drop database if exists ${admin(name)} with (force)`;
  await admin.end();
}

/** Resolves once a session of this database waits on a lock: a write has reached a held transaction. */
export async function lockWaiter(sql: Sql): Promise<void> {
  await until('a session waiting on a lock', async () => {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
    return row!.n > 0;
  });
}
