import { ConfigError, loadConfig, redact, type Config } from '../src/config.ts';
import { openDatabase, type Database } from '../src/embedded/database.ts';
import { createLogger, type Logger } from '../src/logger.ts';
import { handleUncaught } from '../src/uncaught.ts';
import { drainWindowMs, ENGINE_STOP_MS, startEngine, type Engine } from './engine.ts';

let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`lifeline: invalid configuration: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

/** The log's first line: which Postgres and which queues this process runs on, and where its data is. */
function announceMode(log: Logger, c: Config): void {
  const database = c.databaseUrl === undefined ? 'embedded' : 'external';
  const where = c.databaseUrl === undefined ? `embedded Postgres in ${c.dataDir}` : `external Postgres at ${redact(c.databaseUrl)}`;
  const queues = c.redisUrl === undefined ? 'Postgres (REDIS_URL is unset)' : `Redis at ${redact(c.redisUrl)}`;
  log.info(
    { database, dataDir: c.dataDir, queues: c.redisUrl === undefined ? 'postgres' : 'redis' },
    `lifeline starting: ${where}; notification queues on ${queues}`,
  );
}

/**
 * A start that fails for a reason the operator can fix (a dead DATABASE_URL, a data directory
 * Postgres cannot enter) says so in one line, without a stack; anything else is a bug and keeps it.
 */
function startFailed(log: Logger, err: unknown, fixable: boolean): never {
  if (fixable) log.fatal(`lifeline could not start: ${(err as Error).message}`);
  else log.fatal({ err }, 'lifeline could not start');
  process.exit(1);
}

// After the engine's stop (ENGINE_STOP_MS, 13 s: a send's 10 s HTTP limit, its `sent` write, the
// pool's end), an embedded Postgres is stopped in this much (a fast shutdown: SIGINT, then the
// checkpoint; well under a second for this engine's data). Only then: with DATABASE_URL there is no
// Postgres of ours to stop, and reserving its time anyway cut the sends' drain to 5 s. So a stop
// takes up to 13 s, 15 s with the embedded Postgres; compose.yaml's stop_grace_period (15 s)
// covers it, where Docker's default 10 s would not. Before all that, an api process drains for up
// to LIFELINE_DRAIN_MS (10 s by default; sooner once no connection has been open for 1 s), so its
// deadline is that much later (compose.yaml gives the api 25 s).
const DATABASE_STOP_MS = 2_000;
const DRAIN_MS = drainWindowMs(config);
const STOP_DEADLINE_MS = DRAIN_MS + ENGINE_STOP_MS + (config.databaseUrl === undefined ? DATABASE_STOP_MS : 0);

const log = createLogger(config.logLevel);
// Before anything can fail unseen: a crash is one JSON line, and a terminated backend is not one.
handleUncaught(log);

interface Running {
  database: Database;
  engine: Engine;
}

/** Postgres first (embedded or not), then the engine on it; a failure says what to fix and exits 1. */
async function start(): Promise<Running> {
  let database: Database;
  try {
    database = await openDatabase(config, log);
  } catch (err) {
    // The embedded launcher's errors name the directory, the account or the log file to read.
    return startFailed(log, err, true);
  }
  try {
    return { database, engine: await startEngine({ ...config, databaseUrl: database.url, databaseEmbedded: database.embedded }, log) };
  } catch (err) {
    await database.stop();
    return startFailed(log, err, err instanceof ConfigError);
  }
}

// Signals are taken from the first moment: a stop asked for while Postgres is still being created
// waits for the start to finish, then stops both in order. The handlers are in place before the
// first line is written: a SIGTERM sent on seeing it (a supervisor, a test) once found them missing
// and killed the process by the signal, on a busy machine, 2 times in 4.
let stopping = false;
async function shutdown(reason: string, code: number) {
  if (stopping) return;
  stopping = true;
  // Only the api role drains its clients; a process without it closes its port at once, and says nothing of a drain.
  if (DRAIN_MS > 0) {
    log.info(
      { reason, drain_ms: DRAIN_MS },
      `stopping: /readyz answers 503 and answers close their connections while clients remain (up to ${DRAIN_MS} ms); then the port closes, heartbeats are flushed, work drains`,
    );
  } else log.info({ reason }, 'stopping: the port closes, work in progress finishes');
  const startedAt = Date.now();
  const deadline = setTimeout(() => {
    log.error('graceful stop exceeded its deadline; exiting');
    process.exit(1);
  }, STOP_DEADLINE_MS);
  deadline.unref();
  const { database, engine } = await running;
  await engine.drain();
  // The parts' budget starts when the drain ends, and never past the deadline above.
  await engine.stop(Math.min(Date.now(), startedAt + DRAIN_MS) + ENGINE_STOP_MS);
  // Only now: the engine's last writes (flushed heartbeats, finished outbox batches) needed it.
  await database.stop();
  log.info('stopped');
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
process.on('SIGINT', () => void shutdown('SIGINT', 0));
announceMode(log, config);
const running = start();
const { database } = await running;
void database.lost.then((exit) => {
  log.fatal({ exit }, 'the embedded Postgres exited on its own; stopping (its log is postgres/postgres.log in the data directory)');
  void shutdown('embedded Postgres exited', 1);
});
