import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFirstAdminKey, FIRST_ADMIN_KEY_NAME } from '../src/access/service.ts';
import type { Sql } from '../src/db/client.ts';
import type { Logger } from '../src/logger.ts';

/** Where, in the data directory, the first admin key's secret is kept. */
export const FIRST_ADMIN_FILE = 'admin-secret';

/**
 * Without LIFELINE_ADMIN_TOKEN and without any admin key in the database, every request would be
 * a 401 with no way in: make one key, keep its secret in the data directory (mode 0600, readable
 * by the engine's user alone), and say once, in the log, where it is and how to use it: at
 * `consoleUrl` when the console's address is known before listening. The secret itself is never
 * logged.
 */
export async function offerFirstAdmin(sql: Sql, dataDir: string, log: Logger, now: Date, consoleUrl: string | undefined): Promise<void> {
  const file = join(dataDir, FIRST_ADMIN_FILE);
  const key = await createFirstAdminKey(sql, now, async (secret) => {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
    await chmod(file, 0o600); // an older file keeps its mode through writeFile
  });
  if (!key) return;
  const signIn = consoleUrl ? `Sign in to the console at ${consoleUrl} with it` : "Sign in to the console with it (its address is on the 'lifeline listening' line)";
  log.warn(
    { file, key: key.id, ...(consoleUrl ? { console_url: consoleUrl } : {}) },
    `first run: no admin API key existed, so one named ${FIRST_ADMIN_KEY_NAME} was created; its secret is in ${file} (mode 0600, shown nowhere else). ` +
      `${signIn}, or use it as a Bearer token (export LIFELINE_TOKEN=$(cat ${file}); npx lifeline keys create --name you --scope admin); ` +
      'or make another with `npx lifeline admin create-key` beside this data directory',
  );
}
