import { migrate } from '../db/migrate.ts';
import type { Command } from './command.ts';
import { withDatabase } from './database.ts';
import { databaseAt } from '../embedded/database.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply the schema migrations to DATABASE_URL, or to the embedded Postgres when it is unset (creating the database if needed)',
  example: 'DATABASE_URL=postgres://db:5432/lifeline lifeline migrate',
  options: { json: { type: 'boolean', description: 'print {"applied": [...]}' } },
  async run(ctx) {
    const { where, result } = await withDatabase(ctx, async (url) => ({ where: databaseAt(url), result: await migrate(url) }), { create: true });
    ctx.print(result, () =>
      result.applied.length === 0
        ? `${where} is up to date.`
        : [`Migrated ${where}:`, ...result.applied.map((f) => `  applied ${f}`)].join('\n'),
    );
  },
};
