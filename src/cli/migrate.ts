import { migrate } from '../db/migrate.ts';
import type { Command } from './command.ts';
import { withDatabase } from './database.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply the schema migrations to DATABASE_URL, or to the embedded Postgres when it is unset (creating the database if needed)',
  example: 'DATABASE_URL=postgres://db:5432/lifeline lifeline migrate',
  options: { json: { type: 'boolean', description: 'print {"applied": [...]}' } },
  async run(ctx) {
    // Which database: withDatabase's `Database: …` line on stderr names it, so the answer does not again.
    const result = await withDatabase(ctx, (url) => migrate(url), { create: true });
    ctx.print(result, () => (result.applied.length === 0 ? 'Up to date.' : ['Migrated:', ...result.applied.map((f) => `  applied ${f}`)].join('\n')));
  },
};
