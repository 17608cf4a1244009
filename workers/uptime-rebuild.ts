// `npm run uptime:rebuild -- --node <id|name> [--node …] | --all`: recomputes uptime rows from
// node_state_log alone (after a restore, a hand-edited log, or to check the rows). Reads
// DATABASE_URL (or the embedded Postgres in LIFELINE_DATA_DIR) and the retention settings like the
// engine; exits 0 when done, 4 where it finds no Lifeline database (as the CLI's database commands
// do), 1 on any other problem.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createSql, ENGINE_APPLICATIONS } from '../src/db/client.ts';
import { attachDatabase, databaseLine, NoDatabaseError, type Attached } from '../src/embedded/database.ts';
import { Events } from '../src/events.ts';
import { createLogger } from '../src/logger.ts';
import { bucketStart } from '../src/uptime/buckets.ts';
import { rebuildUptime, UnknownNodes, type RebuildTarget } from '../src/uptime/rebuild.ts';

const USAGE = 'usage: npm run uptime:rebuild -- --node <id|name> [--node <id|name> …] | --all';

function target(argv: string[]): RebuildTarget {
  const { values } = parseArgs({ args: argv, strict: true, options: { node: { type: 'string', multiple: true }, all: { type: 'boolean' } } });
  const refs = values.node ?? [];
  if (values.all === true && refs.length === 0) return { all: true };
  if (values.all !== true && refs.length > 0) return { refs };
  throw new Error('give either --all or one or more --node');
}

async function main(): Promise<number> {
  let config;
  let what: RebuildTarget;
  try {
    what = target(process.argv.slice(2));
    config = loadConfig(process.env);
  } catch (err) {
    const message = err instanceof ConfigError ? `invalid configuration: ${err.message}` : (err as Error).message;
    process.stderr.write(`uptime:rebuild: ${message}\n${USAGE}\n`);
    return 1;
  }
  let database: Attached;
  try {
    database = await attachDatabase(config, createLogger('warn'), { create: false });
    process.stderr.write(databaseLine(database));
  } catch (err) {
    process.stderr.write(`uptime:rebuild: ${(err as Error).message}\n`);
    // As the CLI's database commands: 4 for no database where it looked (README, CLI exit codes).
    return err instanceof NoDatabaseError ? 4 : 1;
  }
  const sql = createSql(database.url, { max: 2, applicationName: ENGINE_APPLICATIONS.uptimeRebuild });
  const started = performance.now();
  const now = new Date();
  const events = new Events();
  events.on('uptime.rebuilt', () => process.stderr.write('.'));
  try {
    const done = await rebuildUptime(sql, what, now, { hourlyDays: config.uptimeHourlyRetentionDays, dailyDays: config.uptimeDailyRetentionDays }, { events });
    process.stderr.write('\n');
    process.stdout.write(
      `rebuilt uptime of ${done.nodes} node${done.nodes === 1 ? '' : 's'} from node_state_log, closed up to ${new Date(bucketStart(now.getTime(), 'hour')).toISOString()}: ` +
        `${done.hourRows} hour rows (days of 24 hours), ${done.dayRows} day rows, in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`uptime:rebuild: ${err instanceof UnknownNodes ? err.message : (err as Error).stack ?? String(err)}\n`);
    return 1;
  } finally {
    await sql.end({ timeout: 2 });
    await database.stop();
  }
}

process.exit(await main());
