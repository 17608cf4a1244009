// A process with the engine's pool and its handling of uncaught errors (as workers/main.ts installs
// it), for the crash tests: `closed-write` loses a transaction's backend under it, `throw` and
// `reject` are bugs nobody caught. It speaks JSON lines on stdout, as the engine does.
import { createSql } from '../../src/db/client.ts';
import { createLogger } from '../../src/logger.ts';
import { handleUncaught } from '../../src/uncaught.ts';

const log = createLogger('info');
handleUncaught(log);

// The connection the write failed on holds its next start-ups (184 bytes each) behind the failed
// ROLLBACK (88) until the driver's 1,024-byte flush: 5 connects time out, the flush's 2 fail, the
// 8th answers. 10 leaves room; the test fails if none does.
const MAX_ATTEMPTS = 10;

/**
 * `dedicated` is the evaluator lock's single-connection pool: the driver leaves the connection whose
 * write failed unable to send its next start-up, so a few connects time out before it recovers.
 */
async function closedWrite(url: string, dedicated: boolean): Promise<void> {
  const sql = createSql(url, dedicated ? { dedicated, applicationName: 'lifeline-test' } : { max: 2, applicationName: 'lifeline-test' });
  // The backend ends itself, so its connection closes before the statement fails: no race with a
  // second connection's answer. sql.begin then sends its ROLLBACK to the closed connection.
  const ended = await sql
    .begin((tx) => tx`select pg_terminate_backend(pg_backend_pid())`)
    .then(() => 'committed', (err: { code?: string }) => err.code);
  log.info({ ended }, 'transaction ended');
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      const [row] = await sql<{ n: number }[]>`select 2 as n`;
      log.info({ n: row!.n, attempt }, 'next query answered');
      break;
    } catch (err) {
      log.info({ code: (err as { code?: string }).code, attempt }, 'next query failed');
    }
  }
  await sql.end({ timeout: 1 });
}

const mode = process.argv[2];
if (mode === 'closed-write' || mode === 'closed-write-dedicated') await closedWrite(process.env.DATABASE_URL!, mode === 'closed-write-dedicated');
else if (mode === 'throw') setImmediate(() => { throw new Error('a bug nobody caught'); });
else if (mode === 'reject') void Promise.reject(new Error('a rejection nobody handled'));
else throw new Error(`unknown mode ${mode}`);
