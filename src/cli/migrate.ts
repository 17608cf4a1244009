import { loadConfig } from '../config.ts';
import { migrate } from '../db/migrate.ts';
import type { Command } from './command.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply the schema migrations to DATABASE_URL (creating the database if needed)',
  example: 'DATABASE_URL=postgres://db:5432/lifeline lifeline migrate',
  options: { json: { type: 'boolean', description: 'print {"applied": [...]}' } },
  async run(ctx) {
    // The engine's own reading of the environment, so its default and its checks apply here too.
    const { databaseUrl } = loadConfig(ctx.io.env);
    const result = await migrate(databaseUrl);
    const target = new URL(databaseUrl);
    const where = `${target.host}${target.pathname}`;
    ctx.print(result, () =>
      result.applied.length === 0
        ? `${where} is up to date.`
        : [`Migrated ${where}:`, ...result.applied.map((f) => `  applied ${f}`)].join('\n'),
    );
  },
};
