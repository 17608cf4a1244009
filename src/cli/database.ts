import { pino } from 'pino';
import { loadConfig } from '../config.ts';
import { createSql, type Sql } from '../db/client.ts';
import { attachDatabase, databaseLine } from '../embedded/database.ts';
import type { Context } from './command.ts';

/**
 * Runs `work` on the engine's own database, as the engine would find it: DATABASE_URL, else the
 * embedded Postgres in LIFELINE_DATA_DIR (the running engine's, or started for this command).
 * Only `create` (`migrate`, `restore`) may make it where there is none; every other command
 * refuses, naming where it looked (attachDatabase). Which database it used goes to stderr as
 * one line before the work, so stdout stays the command's answer (`--json`, `$(…)`); the
 * embedded launcher's warnings go to stderr as plain lines too.
 */
export async function withDatabase<T>(ctx: Context, work: (url: string, sql: Sql) => Promise<T>, o: { create: boolean } = { create: false }): Promise<T> {
  // The engine's own reading of the environment, so its defaults and its checks apply here too.
  const config = loadConfig(ctx.io.env);
  const log = pino({ level: 'warn' }, { write: (line: string) => ctx.io.stderr(`${(JSON.parse(line) as { msg: string }).msg}\n`) });
  const database = await attachDatabase(config, log, o);
  ctx.io.stderr(databaseLine(database));
  const sql = createSql(database.url, { max: 1, applicationName: 'lifeline-cli' });
  try {
    return await work(database.url, sql);
  } finally {
    await sql.end({ timeout: 2 });
    await database.stop();
  }
}
