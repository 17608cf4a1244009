import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { engineSecretKey, opensStoredSecrets } from '../channels/secret-key.ts';
import { ensureDatabase, type Queryable, type Sql } from '../db/client.ts';
import { appliedMigrations, knownMigrations, migrate } from '../db/migrate.ts';
import {
  BackupFileError,
  END_OF_ROWS,
  FORMAT,
  FORMAT_VERSION,
  LineReader,
  MAX_ROW_CHARS,
  MAX_SECTION_CHARS,
  parseHeader,
  parseSection,
  RestoreRefused,
  schemaRefusal,
  type BackupHeader,
  type BackupTrailer,
  type TableHeader,
} from './model.ts';
import { leaderLockHeld } from '../health/store.ts';
import { copyIn, copyOut, engineSessions, engineTables, resetSequences, restoring, snapshot, tablesWithRows } from './store.ts';

export interface BackupSummary {
  file: string;
  migrations: string[];
  tables: Record<string, number>;
}

/** Counts rows (lines) in COPY text as it passes: every row, and nothing else, ends in "\n". */
function countLines(chunk: Buffer): number {
  let n = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) n += 1;
  return n;
}

/**
 * Writes every engine table's rows to `file`, read in one snapshot and streamed through gzip (a
 * table of a million rows never sits in memory). The file appears under its name only once whole:
 * it is written beside it first, so a failed backup leaves nothing that looks like one.
 */
export async function backupDatabase(sql: Sql, file: string, now: Date): Promise<BackupSummary> {
  const partial = `${file}.partial`;
  const gzip = createGzip();
  // 0600 from its first byte: where LIFELINE_SECRET_KEY is unset the channel secret key is a row
  // of engine_keys, so the file opens every sealed secret it holds, as the database does. The mode
  // applies only to a file created, so one left by a backup killed midway is removed first.
  await rm(partial, { force: true });
  const written = pipeline(gzip, createWriteStream(partial, { mode: 0o600 }));
  written.catch(() => {}); // awaited below; until then a failed write must not end the process
  const put = async (data: string | Buffer) => {
    if (!gzip.write(data)) await Promise.race([once(gzip, 'drain'), written]);
  };
  try {
    const summary = await snapshot(sql, async (tx) => {
      const migrations = await appliedMigrations(tx);
      if (!migrations.length) throw new Error('the database has no Lifeline schema (no migration applied): nothing to back up');
      const header: BackupHeader = { format: FORMAT, version: FORMAT_VERSION, migrations, taken_at: now.toISOString() };
      await put(JSON.stringify(header) + '\n');
      const tables: Record<string, number> = {};
      for (const t of await engineTables(tx)) {
        await put(JSON.stringify(t) + '\n');
        let rows = 0;
        for await (const chunk of copyOut(tx, t)) {
          rows += countLines(chunk);
          await put(chunk);
        }
        await put(END_OF_ROWS + '\n');
        tables[t.table] = rows;
      }
      const trailer: BackupTrailer = { end: true, tables };
      await put(JSON.stringify(trailer) + '\n');
      return { file, migrations, tables };
    });
    gzip.end();
    await written;
    await rename(partial, file);
    return summary;
  } catch (err) {
    gzip.destroy();
    await written.catch(() => {});
    await rm(partial, { force: true });
    // An embedded data directory no engine has started in has a cluster but no database yet.
    if ((err as { code?: string }).code === '3D000') throw new Error(`${(err as Error).message}: nothing to back up (is DATABASE_URL or LIFELINE_DATA_DIR the engine's?)`);
    throw err;
  }
}

/** COPY text handed on in pieces of about this many characters, not a write per row. */
const BATCH_CHARS = 64 * 1024;

/**
 * Reads a backup from end to end, handing each table's rows to `load` as they stream by (rows
 * `load` leaves unread are read past), and checks the trailer against what it saw: a file cut
 * short, damaged inside the gzip stream or in its lines is a BackupFileError.
 */
async function readBackup(file: string, load: (t: TableHeader, rows: AsyncIterable<string>) => Promise<void>): Promise<{ header: BackupHeader; trailer: BackupTrailer }> {
  // pipeline hands a read or gzip error on to the stream the lines come from.
  const input = streamPipeline(createReadStream(file), createGunzip().setEncoding('utf8'), () => {});
  const bad = (why: string) => new BackupFileError(file, why);
  const lines = new LineReader(input, bad);
  const next = () => lines.next(MAX_SECTION_CHARS);
  try {
    const header = parseHeader(await next());
    if (typeof header === 'string') throw bad(header);
    const seen: Record<string, number> = {};
    for (;;) {
      const line = await next();
      if (line === undefined) throw bad('it ends before its trailer (cut short?)');
      const section = parseSection(line);
      if (section === undefined) throw bad(`a line where a table or the trailer should start: ${line.slice(0, 80)}`);
      if ('end' in section) {
        if ((await next()) !== undefined) throw bad('there is more after its trailer');
        const expected = JSON.stringify(section.tables);
        if (JSON.stringify(seen) !== expected) throw bad(`its trailer counts ${expected} rows, the file holds ${JSON.stringify(seen)}`);
        return { header, trailer: section };
      }
      if (section.table in seen) throw bad(`table ${section.table} appears twice`);
      seen[section.table] = 0;
      let ended = false;
      const rows = async function* () {
        let batch = '';
        for (;;) {
          const row = await lines.next(MAX_ROW_CHARS);
          if (row === undefined) throw bad(`it ends inside table ${section.table} (cut short?)`);
          if (row === END_OF_ROWS) break;
          seen[section.table]! += 1;
          batch += row + '\n';
          if (batch.length >= BATCH_CHARS) {
            yield batch;
            batch = '';
          }
        }
        ended = true;
        if (batch) yield batch;
      };
      const iterator = rows();
      await load(section, iterator);
      if (!ended) for await (const _ of iterator);
    }
  } catch (err) {
    if (err instanceof BackupFileError) throw err;
    const e = err as { code?: string; message?: string };
    if (e.code?.startsWith('Z_') || e.code === 'ENOENT' || e.code === 'EISDIR' || e.code === 'EACCES') throw bad(e.message ?? String(err));
    throw err;
  } finally {
    input.destroy();
  }
}

/** Reads the whole file once, writing nothing: the checks a restore runs before it touches a database. */
export async function checkBackup(file: string): Promise<{ header: BackupHeader; trailer: BackupTrailer }> {
  const read = await readBackup(file, async () => {});
  const refusal = schemaRefusal(read.header.migrations, await knownMigrations());
  if (refusal) throw new RestoreRefused(refusal);
  return read;
}

/** The engine's tables, when none holds a row; a RestoreRefused naming those that do otherwise. */
async function refuseRows(sql: Queryable): Promise<TableHeader[]> {
  const tables = await engineTables(sql);
  const held = await tablesWithRows(sql, tables.map((t) => t.table));
  if (held.length) throw new RestoreRefused(`the database is not empty (rows in ${held.join(', ')}): restore only into an empty database, one no engine has started on`);
  return tables;
}

/**
 * Refuses a database a running engine is connected to, unless `force`: its writes (heartbeats,
 * the evaluator's ticks, deliveries) would land between and after the loaded rows, leaving a mix
 * of the backup and the live engine. Named by its sessions' application_name and the evaluator's
 * leader lock, so the message says which engine to stop.
 */
async function refuseEngines(sql: Queryable, force: boolean): Promise<void> {
  if (force) return;
  const [sessions, leader] = await Promise.all([engineSessions(sql), leaderLockHeld(sql)]);
  if (!sessions.length && !leader) return;
  const what = [...(sessions.length ? [`sessions ${sessions.join(', ')}`] : []), ...(leader ? ['the evaluator leader lock is held'] : [])];
  throw new RestoreRefused(`engines are connected to the database (${what.join('; ')}): stop them first, or restore with --force`);
}

/**
 * Loads a checked backup into the empty database at `url`: migrates it up to the backup's schema,
 * then, in one transaction, loads every table in the order the file holds (the source's foreign-key
 * order), moves the sequences past the loaded ids and checks that the channel secret key an engine
 * would use here opens the sealed secrets. A database an engine is connected to is refused, both
 * before migrating and once the load holds the migrations lock, unless `force`. Anything refused or failing rolls the load back whole;
 * the migrations run before it stay, and leave the database empty.
 */
export async function restoreDatabase(
  sql: Sql,
  url: string,
  file: string,
  checked: { header: BackupHeader },
  configuredKey: string | undefined,
  force = false,
): Promise<BackupTrailer> {
  const { migrations } = checked.header;
  await ensureDatabase(url); // a fresh embedded cluster has no database yet; migrate would make it, but is not first
  const before = await appliedMigrations(sql);
  const ahead = before.filter((m) => !migrations.includes(m));
  if (ahead.length) throw new RestoreRefused(`the database is already migrated past the backup's schema (${ahead.join(', ')}): restore into an empty database`);
  // Before migrating: a database holding rows at an older schema would otherwise be upgraded
  // first and refused after. The check in the load's transaction below still catches an engine
  // that starts writing in between.
  await refuseRows(sql);
  await refuseEngines(sql, force);
  await migrate(url, { through: migrations.at(-1)! });
  return restoring(sql, async (tx) => {
    const tables = await refuseRows(tx);
    await refuseEngines(tx, force);
    const columns = new Map(tables.map((t) => [t.table, t.columns.join(',')]));
    const { trailer } = await readBackup(file, async (t, rows) => {
      if (columns.get(t.table) !== t.columns.join(',')) throw new RestoreRefused(`table ${t.table} of the backup does not match this database's (columns ${t.columns.join(', ')})`);
      await pipeline(Readable.from(rows), await copyIn(tx, t));
    });
    await resetSequences(tx);
    if (!(await opensStoredSecrets(tx, await engineSecretKey(tx, configuredKey)))) {
      throw new RestoreRefused(
        configuredKey === undefined
          ? "the backup's channel secrets were sealed with LIFELINE_SECRET_KEY, which is not set: set it to the key the backed-up engines used and restore again"
          : "LIFELINE_SECRET_KEY does not open the backup's channel secrets: set it to the key the backed-up engines used (unset it if they had none) and restore again",
      );
    }
    return trailer;
  });
}
