// Child-process entry for the notifier section: one notifier process as the engine runs the role
// (startNotifier on BullMQ over Redis), sending the run's queue to the receiver child.
//   BENCH_DATABASE_URL, BENCH_QUEUE_PREFIX, BENCH_SECRET_KEY (hex): the run's database, queue and key.
//   BENCH_CONCURRENCY, BENCH_LEDGER_BATCH ("size,inFlight"): set for the baseline only.
// Prints {"msg":"notifier ready"} once its worker is waiting for jobs.
import { createChannels } from '../../alerting/index.ts';
import { systemClock } from '../../src/clock.ts';
import { createSql } from '../../src/db/client.ts';
import { DeliveryQueue } from '../../src/notifications/queue.ts';
import { openQueueBackend } from '../../src/queue/backend.ts';
import { startNotifier } from '../../workers/notifier.ts';
import { LOCAL_RECEIVERS } from '../helpers/local-receivers.ts';
import { guardChild } from './child-guard.ts';
import { REDIS_URL } from './children.ts';
import { benchLog } from './log.ts';
import { waitFor } from './scope.ts';

guardChild();
const env = process.env as Record<string, string>;
// The engine's pool size for a process running the notifier role alone.
const sql = createSql(env.BENCH_DATABASE_URL!, { max: 10, applicationName: 'lifeline-bench-notifier' });
const backend = await openQueueBackend({ redisUrl: REDIS_URL, databaseUrl: env.BENCH_DATABASE_URL!, prefix: env.BENCH_QUEUE_PREFIX! });
// The sweeper's first pass would find Redis still connecting.
await waitFor('Redis', () => backend.ping().then(() => true, () => undefined), 10_000);
const queue = new DeliveryQueue({ backend, sql, clock: systemClock });
const channels = createChannels({ smtpUrl: undefined, mailFrom: 'lifeline@bench.invalid', outboundAllowCidrs: LOCAL_RECEIVERS });
const [size, inFlight] = (env.BENCH_LEDGER_BATCH ?? '').split(',').map(Number);
const notifier = startNotifier({
  backend,
  sql,
  clock: systemClock,
  log: benchLog,
  channels,
  secretKey: Buffer.from(env.BENCH_SECRET_KEY!, 'hex'),
  queue,
  ...(env.BENCH_CONCURRENCY ? { concurrency: Number(env.BENCH_CONCURRENCY) } : {}),
  ...(size && inFlight ? { ledgerBatching: { size, inFlight } } : {}),
});
await notifier.worker.waitUntilReady();
process.stdout.write(`${JSON.stringify({ msg: 'notifier ready' })}\n`);

process.on('SIGTERM', async () => {
  await notifier.stop();
  await queue.close();
  channels.close();
  await backend.close();
  await sql.end({ timeout: 2 });
  process.exit(0);
});
