import { loadConfig } from '../config.ts';
import { backupDatabase, checkBackup, restoreDatabase } from '../backup/service.ts';
import { UsageError, type Command } from './command.ts';
import { withDatabase } from './database.ts';

const rowsIn = (tables: Record<string, number>) => Object.values(tables).reduce((a, b) => a + b, 0);

/** `lifeline-2026-01-31T030000Z.backup.gz`: sorts by time, and no colon for filesystems that refuse one. */
const defaultFile = (now: Date) => `lifeline-${now.toISOString().replace(/[:-]|\.\d+/g, '')}.backup.gz`;

/**
 * Finds the database as `lifeline migrate` does: DATABASE_URL, else the embedded Postgres in
 * LIFELINE_DATA_DIR, a running engine's or one started for the command (and stopped after it);
 * but one it does not find is refused, not created (a backup of a new empty one, "Backed up 2
 * rows of 31 tables", looked like success).
 */
export const backupCommand: Command = {
  name: 'backup',
  summary: 'write every table of DATABASE_URL, or of the embedded Postgres when it is unset, to one gzip file read in one snapshot (engines may keep running)',
  example: 'lifeline backup --out /backups/lifeline-$(date +%F).backup.gz',
  options: {
    out: { type: 'string', hint: 'file', description: 'where to write it, mode 0600, replacing a file there once whole (default: lifeline-<UTC time>.backup.gz here)' },
    json: { type: 'boolean', description: 'print {"file", "migrations", "tables": {table: rows}}' },
  },
  async run(ctx) {
    const now = new Date();
    const file = ctx.string('out') ?? defaultFile(now);
    // ctx prints strings, not a gzip stream: `-` would otherwise become a file of that name.
    if (file === '-') throw new UsageError('--out -: a backup is written to a file, not to stdout', backupCommand);
    const summary = await withDatabase(ctx, (_url, sql) => backupDatabase(sql, file, now));
    ctx.print(summary, () => `Backed up ${rowsIn(summary.tables)} rows of ${Object.keys(summary.tables).length} tables (schema ${summary.migrations.at(-1)}) to ${file}.`);
  },
};

export const restoreCommand: Command = {
  name: 'restore',
  args: ['<file>'],
  summary:
    'load a lifeline backup into an empty DATABASE_URL, or embedded Postgres when it is unset (no engine started on it yet); the next start applies newer migrations',
  example: 'DATABASE_URL=postgres://db:5432/lifeline LIFELINE_SECRET_KEY=… lifeline restore lifeline-20260131T030000Z.backup.gz',
  options: {
    json: { type: 'boolean', description: 'print {"file", "migrations", "tables": {table: rows}}' },
    force: { type: 'boolean', description: 'restore although engines are connected to the database (their writes mix with the backup\'s rows)' },
  },
  async run(ctx) {
    const file = ctx.arg(0);
    // The whole file is read first: a damaged or foreign one is refused before any database is touched.
    const checked = await checkBackup(file);
    const { secretKey } = loadConfig(ctx.io.env);
    const trailer = await withDatabase(ctx, (url, sql) => restoreDatabase(sql, url, file, checked, secretKey, ctx.flag('force')), { create: true });
    const shown = { file, migrations: checked.header.migrations, tables: trailer.tables };
    ctx.print(shown, () =>
      [
        `Restored ${rowsIn(trailer.tables)} rows of ${Object.keys(trailer.tables).length} tables from ${file} (backup taken ${checked.header.taken_at}).`,
        'Start Lifeline on this database: it applies any newer migrations, and API keys, node tokens and channel secrets work as before.',
      ].join('\n'),
    );
  },
};
