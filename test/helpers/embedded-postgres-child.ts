// An engine stand-in for the embedded Postgres tests: starts Postgres in the data directory given
// as argv[2] and logs JSON like the engine. On SIGINT it does what the engine's graceful stop
// does (a last query, then stops Postgres) and says whether that query still got through.
import { createSql } from '../../src/db/client.ts';
import { startEmbeddedPostgres } from '../../src/embedded/postgres.ts';
import { createLogger } from '../../src/logger.ts';

const log = createLogger('info');
const starting = startEmbeddedPostgres({ dataDir: process.argv[2]!, log });

// Installed before the "ready" line can be seen, so a test may signal as soon as it reads it.
process.once('SIGINT', () => {
  void (async () => {
    const pg = await starting;
    const url = new URL(pg.url);
    url.pathname = '/postgres';
    const sql = createSql(url.toString(), { dedicated: true });
    try {
      await sql`select 1`;
      log.info('last query answered');
    } catch (err) {
      log.error({ err }, 'last query failed');
    } finally {
      await sql.end({ timeout: 1 });
    }
    await pg.stop();
    process.exit(0);
  })();
});
await starting;
