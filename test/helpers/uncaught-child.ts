// A process with the engine's pool and its handling of uncaught errors (as workers/main.ts installs
// it), for the crash tests: `closed-write` loses a transaction's backend under it, `throw` and
// `reject` are bugs nobody caught. It speaks JSON lines on stdout, as the engine does.
import { createSql } from '../../src/db/client.ts';
import { Leadership } from '../../src/health/leader.ts';
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

/**
 * The evaluator's leader, whose lock session's backend is terminated inside one of its transactions:
 * refreshes until it leads again, at most LEADER_ATTEMPTS, each logged. `?sslmode=prefer` (managed
 * Postgres' usual) makes every reconnect of the stale connection add only an 8-byte SSLRequest,
 * which never reaches the driver's 1,024-byte flush: on the same pool it failed 12 of 12 connects.
 */
const LEADER_ATTEMPTS = 3;

async function leaderTerminated(url: string): Promise<void> {
  const prefer = new URL(url);
  prefer.searchParams.set('sslmode', 'prefer');
  const leadership = new Leadership(() => createSql(prefer.toString(), { dedicated: true, applicationName: 'lifeline-test-evaluator' }), log);
  if (!(await leadership.refresh())) throw new Error('the lock was not free');
  const ended = await leadership
    .transaction((tx) => tx`select pg_terminate_backend(pg_backend_pid())`)
    .then(() => 'committed', (err: { code?: string }) => err.code);
  log.info({ ended, leader: leadership.isLeader }, 'transaction ended');
  for (let attempt = 1; attempt <= LEADER_ATTEMPTS; attempt++) {
    const leader = await leadership.refresh();
    log.info({ leader, attempt }, 'refreshed');
    if (leader) break;
  }
  await leadership.release();
  await leadership.close();
}

const mode = process.argv[2];
if (mode === 'closed-write' || mode === 'closed-write-dedicated') await closedWrite(process.env.DATABASE_URL!, mode === 'closed-write-dedicated');
else if (mode === 'leader-terminated') await leaderTerminated(process.env.DATABASE_URL!);
else if (mode === 'throw') setImmediate(() => { throw new Error('a bug nobody caught'); });
else if (mode === 'reject') void Promise.reject(new Error('a rejection nobody handled'));
else throw new Error(`unknown mode ${mode}`);
