// A notifier in its own process for the crash test: same queue prefix and secret key as the test.
import { createChannels } from '../../alerting/index.ts';
import { LOCAL_RECEIVERS } from './local-receivers.ts';
import { systemClock } from '../../src/clock.ts';
import { createSql } from '../../src/db/client.ts';
import { DeliveryQueue } from '../../src/notifications/queue.ts';
import { startNotifier } from '../../workers/notifier.ts';
import { testLog } from './log.ts';

const env = process.env as Record<string, string>;
const sql = createSql(env.DATABASE_URL!, { max: 4 });
const queue = new DeliveryQueue({ redisUrl: env.REDIS_URL!, prefix: env.QUEUE_PREFIX!, sql, clock: systemClock });
startNotifier({
  redisUrl: env.REDIS_URL!,
  prefix: env.QUEUE_PREFIX!,
  sql,
  clock: systemClock,
  log: testLog,
  channels: createChannels({ smtpUrl: undefined, mailFrom: 'lifeline@test.local', outboundAllowCidrs: LOCAL_RECEIVERS }),
  secretKey: Buffer.from(env.SECRET_KEY!, 'hex'),
  queue,
  // Short, so the test's own notifier takes over this process's job soon after it is killed.
  lockDurationMs: 1000,
  sweepMs: 100,
});
process.stdout.write(JSON.stringify({ msg: 'notifier ready' }) + '\n');
