import { ConfigError, redact, type Config } from '../config.ts';
import { createSql, ensureDatabase } from '../db/client.ts';
import { appliedMigrations } from '../db/migrate.ts';
import type { Logger } from '../logger.ts';
import { hasCluster, runningEmbeddedUrl, startEmbeddedPostgres, type Exit } from './postgres.ts';

/** The Postgres this process works on: its own embedded one, or the server DATABASE_URL names. */
export interface Database {
  url: string;
  embedded: boolean;
  /** Settles if a Postgres this process started exits without being asked to; never otherwise. */
  lost: Promise<Exit>;
  /** Stops a Postgres this process started (call it after the engine's own stop); else nothing. */
  stop(): Promise<void>;
}

const NEVER = new Promise<Exit>(() => {});

/** What a failed connection means, in words that point at the fix. */
function failure(err: unknown): string {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused (no Postgres listens at that host and port)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no answer from the host (${e.code})`;
    case '28P01':
      return 'password authentication failed';
    default:
      return (e.message ?? String(err)).split('\n')[0]!;
  }
}

const unusable = (url: string, err: unknown) => new ConfigError('DATABASE_URL', `cannot use ${redact(url)}: ${failure(err)}; fix it, or unset it to run the embedded Postgres`);

/**
 * The server DATABASE_URL names, after one connection (creating the database if it is missing and
 * the role may): a dead or wrong URL stops the start with one line naming the variable, rather
 * than a stack from deep inside the first migration.
 */
async function external(url: string): Promise<Database> {
  try {
    await ensureDatabase(url);
  } catch (err) {
    throw unusable(url, err);
  }
  return { url, embedded: false, lost: NEVER, stop: async () => {} };
}

/**
 * The engine's database: DATABASE_URL when set, else Postgres started in LIFELINE_DATA_DIR
 * (src/embedded/postgres.ts) and stopped by `stop`.
 */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, log: Pick<Logger, 'info' | 'warn'>): Promise<Database> {
  if (config.databaseUrl !== undefined) return external(config.databaseUrl);
  const pg = await startEmbeddedPostgres({ dataDir: config.dataDir, log });
  let stopping = false;
  return {
    url: pg.url,
    embedded: true,
    lost: pg.exited.then((exit) => (stopping ? NEVER : exit)),
    stop: () => {
      stopping = true;
      return pg.stop();
    },
  };
}

/** What a command run beside the engine found: the database, and where it is, in words for the user. */
export interface Attached extends Database {
  /** `the embedded Postgres in /srv/.lifeline (LIFELINE_DATA_DIR), the running engine's`, or DATABASE_URL's host and database: never a password. */
  where: string;
}

/** `Database: <where>.`: the line a command run beside the engine says on stderr before its work. */
export const databaseLine = (database: Attached) => `Database: ${database.where}.\n`;

/** A command that found no database where it looked, and created none. */
export class NoDatabaseError extends Error {
  override name = 'NoDatabaseError';
}

/** `127.0.0.1:5432/lifeline`: where DATABASE_URL points, without its user or password. */
function databaseAt(url: string): string {
  const target = new URL(url);
  return `${target.host}${target.pathname}`;
}

/**
 * For a command run beside the engine (`lifeline admin create-key`, `lifeline backup`): the
 * embedded Postgres a running engine serves from this data directory, else the one the engine
 * made there, started for the command and stopped by `stop`; or DATABASE_URL's database. Only the
 * engine creates a database: with `create` false, a data directory holding no cluster, or a
 * DATABASE_URL naming a database that does not exist or that no engine migrated (a mistyped name,
 * `postgres`), is a NoDatabaseError and nothing is made (a command run in the wrong directory once
 * made an empty Postgres there and reported success; `admin create-key` on another database
 * applied every migration there). `lifeline migrate` and `lifeline restore`, which prepare a
 * database, pass `create`.
 */
export async function attachDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, log: Pick<Logger, 'info' | 'warn'>, o: { create: boolean }): Promise<Attached> {
  if (config.databaseUrl !== undefined) {
    const where = `${databaseAt(config.databaseUrl)} (DATABASE_URL)`;
    const migrations = o.create ? [] : await migrationsAt(config.databaseUrl);
    if (migrations === undefined) {
      throw new NoDatabaseError(
        `no database at ${where}: only the engine creates its database. Set DATABASE_URL to the one the engine uses, or unset it for the embedded Postgres in LIFELINE_DATA_DIR. Nothing was created`,
      );
    }
    if (!o.create && migrations.length === 0) {
      throw new NoDatabaseError(
        `no Lifeline database at ${where}: that database holds no Lifeline schema (no engine has migrated it). Set DATABASE_URL to the one the engine uses, ` +
          'or make this one Lifeline\'s with `lifeline migrate` (as an engine\'s first start on it would). Nothing was changed',
      );
    }
    return { ...(await openDatabase(config, log)), where };
  }
  const embedded = `the embedded Postgres in ${config.dataDir} (LIFELINE_DATA_DIR)`;
  const url = await runningEmbeddedUrl(config.dataDir);
  if (url) return { url, embedded: true, lost: NEVER, stop: async () => {}, where: `${embedded}, the running engine's` };
  const made = await hasCluster(config.dataDir);
  if (!made && !o.create) {
    throw new NoDatabaseError(
      `no Lifeline database in ${config.dataDir}: no engine has started with that data directory (LIFELINE_DATA_DIR, default .lifeline in the current directory). ` +
        "Run this where the engine runs, or point it at the engine's database: LIFELINE_DATA_DIR=<the engine's data directory, as its log's first line names it>, " +
        'or DATABASE_URL=<its Postgres>. Nothing was created',
    );
  }
  return { ...(await openDatabase(config, log)), where: `${embedded}, ${made ? 'started for this command and stopped after it' : 'created now: there was none'}` };
}

/**
 * The migrations applied to the database `url` names (none where no engine migrated it), or
 * undefined where it does not exist; a server that does not answer fails as the engine's start does.
 */
async function migrationsAt(url: string): Promise<string[] | undefined> {
  const sql = createSql(url, { dedicated: true, applicationName: 'lifeline-probe' });
  try {
    return await appliedMigrations(sql);
  } catch (err) {
    if ((err as { code?: string }).code === '3D000') return undefined;
    throw unusable(url, err);
  } finally {
    await sql.end({ timeout: 1 });
  }
}
