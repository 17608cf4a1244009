import { ConfigError, redact, type Config } from '../config.ts';
import { ensureDatabase } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { runningEmbeddedUrl, startEmbeddedPostgres, type Exit } from './postgres.ts';

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

/**
 * The server DATABASE_URL names, after one connection (creating the database if it is missing and
 * the role may): a dead or wrong URL stops the start with one line naming the variable, rather
 * than a stack from deep inside the first migration.
 */
async function external(url: string): Promise<Database> {
  try {
    await ensureDatabase(url);
  } catch (err) {
    throw new ConfigError('DATABASE_URL', `cannot use ${redact(url)}: ${failure(err)}; fix it, or unset it to run the embedded Postgres`);
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

/**
 * For a command run beside the engine (`lifeline admin create-key`, `lifeline migrate`): the
 * embedded Postgres a running engine serves from this data directory, else one started for the
 * command and stopped by `stop`.
 */
export async function attachDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, log: Pick<Logger, 'info' | 'warn'>): Promise<Database> {
  if (config.databaseUrl === undefined) {
    const url = await runningEmbeddedUrl(config.dataDir);
    if (url) return { url, embedded: true, lost: NEVER, stop: async () => {} };
  }
  return openDatabase(config, log);
}
