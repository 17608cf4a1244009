import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createFirstAdminKey, ensureBootstrapAdmin, FIRST_ADMIN_KEY_NAME, opensAdminKey } from '../src/access/service.ts';
import { DEFAULT_DATA_DIR, DEFAULT_URL } from '../src/config.ts';
import type { Sql } from '../src/db/client.ts';
import type { Logger } from '../src/logger.ts';
import { shellWord } from '../src/shell-word.ts';

/** Where, in the data directory, the first admin key's secret is kept. */
export const FIRST_ADMIN_FILE = 'admin-secret';

/**
 * The file for `databaseUrl`'s first admin key when FIRST_ADMIN_FILE holds another's: named by
 * host, port and database (never the URL's user or password), so each database of one data
 * directory keeps its own.
 */
export function firstAdminFileFor(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  return `${FIRST_ADMIN_FILE}-${`${url.hostname}-${url.port || '5432'}-${database}`.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/**
 * What a process serving the API does with LIFELINE_ADMIN_TOKEN, once it listens: the bootstrap
 * admin key takes the token's secret, or is revoked without it, and then, when no admin key works
 * any more, the first admin key replaces it in the same transaction (a secret that cannot be kept
 * in the data directory rolls the revocation back: the start fails and the key still works). Said
 * in the log when it changes the key.
 *
 * Only the api role calls it, and only once its port is bound: a worker or an evaluator is often
 * started without the variable (it serves no API), and every such start revoked the key for the
 * whole cluster, or made a first admin key in its own data directory; a start that then failed
 * on a PORT in use had already changed it. So admin access flipped during a rolling deploy.
 */
export async function applyAdminToken(sql: Sql, o: { token: string | undefined } & FirstAdminPlace, log: Logger, now: Date): Promise<void> {
  const secretFile = o.token ? undefined : firstAdminSecretFile(o.dataDir, o.databaseUrl);
  const { changed, firstAdmin } = await ensureBootstrapAdmin(sql, o.token, now, secretFile?.keep);
  if (o.token) {
    if (changed) log.info('LIFELINE_ADMIN_TOKEN: the bootstrap-admin key now has its secret');
    return;
  }
  if (changed) log.warn('LIFELINE_ADMIN_TOKEN is not set: the bootstrap-admin key it gave was revoked (start api processes with it to restore that key)');
  if (firstAdmin && secretFile) sayFirstAdmin(log, firstAdmin, secretFile, o);
  else await sayFirstAdminKept(sql, o, log);
}

/** Where the engine is and what it runs on, for the first admin key's file and the commands the log gives. */
export interface FirstAdminPlace {
  dataDir: string;
  databaseUrl: string;
  /** The engine's own Postgres in dataDir, rather than DATABASE_URL's. */
  embedded: boolean;
  consoleUrl: string;
  /** The URL the CLI reaches this engine at (cliUrl). */
  apiUrl: string;
}

/**
 * The two commands the first-run line gives, as they work when pasted in the engine's directory:
 * LIFELINE_URL when the CLI's default (DEFAULT_URL) does not reach this engine (another PORT or
 * HOST, LIFELINE_PUBLIC_URL), LIFELINE_DATA_DIR when it is not the default `.lifeline` there. A
 * DATABASE_URL cannot be printed (its password), so the line names the variable instead. The
 * hints once left both out, and with PORT=9090 `keys create` failed "cannot reach
 * http://127.0.0.1:8080".
 */
export function firstAdminCommands(place: Omit<FirstAdminPlace, 'consoleUrl' | 'databaseUrl'>, file: string, cwd: string): { keys: string; admin: string } {
  const url = place.apiUrl === DEFAULT_URL ? '' : `LIFELINE_URL=${shellWord(place.apiUrl)} `;
  const dataDir = !place.embedded || place.dataDir === resolve(cwd, DEFAULT_DATA_DIR) ? '' : `LIFELINE_DATA_DIR=${shellWord(place.dataDir)} `;
  return {
    keys: `export ${url}LIFELINE_TOKEN=$(cat ${shellWord(file)}); npx lifeline keys create --name you --scope admin`,
    admin: `${dataDir}npx lifeline admin create-key --name you`,
  };
}

/**
 * Where the first admin key's secret is kept (mode 0600, readable by the engine's user alone).
 *
 * One data directory may serve several databases over time (the embedded one, then DATABASE_URL,
 * then the embedded one again): an existing FIRST_ADMIN_FILE is never overwritten, since it may be
 * the only way into another database. The new secret then goes to a file of this database's own
 * (firstAdminFileFor), and the log says so.
 */
function firstAdminSecretFile(dataDir: string, databaseUrl: string): { keep: (secret: string) => Promise<void>; file: () => string; kept: () => string | undefined } {
  let file = join(dataDir, FIRST_ADMIN_FILE);
  let kept: string | undefined;
  return {
    file: () => file,
    kept: () => kept,
    keep: async (secret) => {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      try {
        await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      kept = file;
      // This database's own file: a secret there can only be of a key of this database, which has
      // no admin key left, so it opens nothing any more.
      file = join(dataDir, firstAdminFileFor(databaseUrl));
      await writeFile(file, `${secret}\n`, { mode: 0o600 });
      await chmod(file, 0o600); // an older file keeps its mode through writeFile
    },
  };
}

/**
 * Without LIFELINE_ADMIN_TOKEN and without any admin key in the database, every request would be
 * a 401 with no way in: make one key, keep its secret in the data directory (firstAdminSecretFile),
 * and say once, in the log, where it is and how to use it: at `consoleUrl`. The secret itself is
 * never logged.
 */
export async function offerFirstAdmin(sql: Sql, place: FirstAdminPlace, log: Logger, now: Date): Promise<void> {
  const secretFile = firstAdminSecretFile(place.dataDir, place.databaseUrl);
  const key = await createFirstAdminKey(sql, now, secretFile.keep);
  if (key) sayFirstAdmin(log, key, secretFile, place);
}

function sayFirstAdmin(log: Logger, key: { id: string }, secretFile: { file: () => string; kept: () => string | undefined }, place: FirstAdminPlace): void {
  const file = secretFile.file();
  const kept = secretFile.kept();
  const keptSaid = kept ? `${kept} was kept as it was (it may open another database this data directory served, such as the embedded one); ` : '';
  const commands = firstAdminCommands(place, file, process.cwd());
  log.warn(
    { file, key: key.id, ...(kept ? { kept } : {}), console_url: place.consoleUrl, commands },
    `first run: no admin API key existed, so one named ${FIRST_ADMIN_KEY_NAME} was created; its secret is in ${file} (mode 0600, shown nowhere else). ` +
      keptSaid +
      `Sign in to the console at ${place.consoleUrl} with it, or use it as a Bearer token: \`${commands.keys}\`; ` +
      `or make another in the database directly: \`${commands.admin}\`${place.embedded ? '' : " with this engine's DATABASE_URL set"}`,
  );
}

/**
 * At every later start: where the first admin key's secret still is, when the file still opens
 * an admin key of this database, so a first run's line scrolled away or missed is not the only
 * way to find it. The file of this database's own (firstAdminFileFor) first.
 */
async function sayFirstAdminKept(sql: Sql, place: FirstAdminPlace, log: Logger): Promise<void> {
  for (const file of [join(place.dataDir, firstAdminFileFor(place.databaseUrl)), join(place.dataDir, FIRST_ADMIN_FILE)]) {
    const secret = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (secret && (await opensAdminKey(sql, secret))) {
      log.info({ file, console_url: place.consoleUrl }, `the first admin key's secret is still in ${file}: sign in at ${place.consoleUrl} with it (delete the file once the secret is kept elsewhere)`);
      return;
    }
  }
}
