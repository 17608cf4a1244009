import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import * as v from 'valibot';
import { createKey } from '../access/service.ts';
import { migrate } from '../db/migrate.ts';
import { DisplayName } from '../http/validation.ts';
import { withDatabase } from './database.ts';
import { UsageError, type Command } from './command.ts';
import { secretBlock } from './format.ts';

/**
 * An admin key made in the database itself, for when no key is at hand to ask the API with
 * (a lost first-admin secret, an engine started without LIFELINE_ADMIN_TOKEN).
 */
export const adminCreateKeyCommand: Command = {
  name: 'admin create-key',
  summary: 'create an admin API key directly in the database (no API key needed) and print its secret once',
  example: 'lifeline admin create-key --name alice',
  options: {
    name: { type: 'string', hint: 'name', description: 'what the key is for, as keys list shows it (default: admin)' },
    json: { type: 'boolean', description: 'print the key and its secret as JSON' },
  },
  async run(ctx) {
    // The rule POST /v1/api-keys applies, checked before the database is touched: this path skips the API.
    const given = v.safeParse(DisplayName, ctx.string('name') ?? 'admin', { abortPipeEarly: true });
    if (!given.success) throw new UsageError(`--name ${given.issues[0].message}`, ctx.command);
    const name = given.output;
    const { key, secret } = await withDatabase(ctx, async (url, sql) => {
      await migrate(url); // a schema an older release left: the key is written as this release's tables take it
      // Recorded as the system account that ran it: no API key is involved.
      return createKey(sql, { name, scope: 'admin' }, new Date(), { actor: { kind: 'operator', name: userInfo().username }, via: 'cli', requestId: randomUUID() });
    });
    const shown = { id: key.id, name: key.name, scope: key.scope, secret };
    ctx.print(shown, () => `Created admin key ${key.name} (id ${key.id}).\n` + secretBlock('Secret', secret));
  },
};
