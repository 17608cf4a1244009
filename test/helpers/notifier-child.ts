// A notifier in its own process for the crash test: same queue (REDIS_URL and QUEUE_PREFIX, or the
// test's database without REDIS_URL) and secret key as the test.
import { createChannels } from '../../alerting/index.ts';
import { LOCAL_RECEIVERS } from './local-receivers.ts';
import { systemClock } from '../../src/clock.ts';
import { createSql } from '../../src/db/client.ts';
import { DeliveryQueue } from '../../src/notifications/queue.ts';
import { openQueueBackend } from '../../src/queue/backend.ts';
import { startNotifier } from '../../workers/notifier.ts';
import { testLog } from './log.ts';

const env = process.env as Record<string, string>;
const sql = createSql(env.DATABASE_URL!, { max: 4 });
const backend = await openQueueBackend({ redisUrl: env.REDIS_URL, databaseUrl: env.DATABASE_URL!, prefix: env.QUEUE_PREFIX! });
const queue = new DeliveryQueue({ backend, sql, clock: systemClock });
startNotifier({
  backend,
  sql,
  clock: systemClock,
  log: testLog,
  channels: createChannels({ smtpUrl: undefined, mailFrom: 'lifeline@test.local', outboundAllowCidrs: LOCAL_RECEIVERS }),
  secretKey: Buffer.from(env.SECRET_KEY!, 'hex'),
  queue,
  // Short, so the test's own notifier takes over this process's job soon after it is killed.
  lockDurationMs: 1000,
  // Short too, so its row is free to send again soon after: the lease outlives the process.
  lease: { ms: 3000, startWithinMs: 1000 },
  sweepMs: 100,
});
process.stdout.write(JSON.stringify({ msg: 'notifier ready' }) + '\n');
