// The notification queue on each backend: how fast jobs are added and taken, with BullMQ on Redis
// (REDIS_URL set) beside BullMQ's PostgreSQL backend in the engine's database (REDIS_URL unset).
// Both run through src/queue/backend.ts and DeliveryQueue exactly as the engine builds them; the
// worker's processor does nothing, so the figures are the queue's own cost, not a channel's.
import { randomBytes, randomUUID } from 'node:crypto';
import { systemClock } from '../../src/clock.ts';
import { DeliveryQueue, NOTIFICATIONS_QUEUE } from '../../src/notifications/queue.ts';
import { openQueueBackend, QUEUE_POOL_MAX, type QueueBackendName } from '../../src/queue/backend.ts';
import { DELIVERY_CONCURRENCY } from '../../src/config.ts';
import { REDIS_URL } from './children.ts';
import { createBenchDatabase } from './databases.ts';
import { progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { int, row, sec, section, times, type Section } from './report.ts';
import { waitFor, type Scope } from './scope.ts';

/** Jobs per addBulk: the sweeper's page. */
const PAGE = 1000;

interface QueueRun {
  addMs: number;
  drainMs: number;
}

async function runQueue(scope: Scope, name: QueueBackendName, jobs: number): Promise<QueueRun> {
  const db = await createBenchDatabase(scope, `queues_${name}`);
  const prefix = `bench-${process.pid}-queues-${randomBytes(3).toString('hex')}`;
  const backend = await openQueueBackend({ redisUrl: name === 'redis' ? REDIS_URL : undefined, databaseUrl: db.url, prefix });
  scope.defer(`close the ${name} queue backend`, () => backend.close());
  // Producers fail fast while Redis is still connecting.
  await waitFor(`the ${name} queue store`, () => backend.ping().then(() => true, () => undefined), 10_000);
  if (name === 'redis') {
    // Completed jobs would stay a week under the run's private prefix.
    const admin = backend.queue(NOTIFICATIONS_QUEUE, {});
    scope.defer('remove the bench queue from Redis', async () => {
      await admin.obliterate({ force: true });
      await admin.close();
    });
  }
  const queue = new DeliveryQueue({ backend, sql: db.sql, clock: systemClock });
  scope.defer(`close the ${name} delivery queue`, () => queue.close());

  // Added with no worker running: the producer's cost alone (the sweeper's pages, the fan-out's bulks).
  const ids = Array.from({ length: jobs }, () => randomUUID());
  const addStart = performance.now();
  for (let i = 0; i < jobs; i += PAGE) await queue.enqueue(ids.slice(i, i + PAGE).map((id) => ({ id })));
  const addMs = performance.now() - addStart;

  // Taken by one worker with the notifier's concurrency; counted on the worker's own completions
  // (QueueEvents may drop events on Postgres, the worker's do not).
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const drainStart = performance.now();
  const worker = backend.worker(NOTIFICATIONS_QUEUE, async () => {}, { concurrency: DELIVERY_CONCURRENCY });
  worker.on('completed', () => {
    done += 1;
    if (done === jobs) finished();
  });
  scope.defer(`close the ${name} worker`, () => worker.close());
  await all;
  const drainMs = performance.now() - drainStart;
  await worker.close();
  return { addMs, drainMs };
}

export async function benchQueues(o: BenchOptions, scope: Scope): Promise<Section> {
  const n = o.queueJobs;
  const s = section(`12. Notification queues: Postgres beside Redis (${int(n)} jobs)`);
  progress(`queues: Redis — ${int(n)} jobs`);
  const redis = await runQueue(scope, 'redis', n);
  progress(`queues: Postgres — ${int(n)} jobs`);
  const pg = await runQueue(scope, 'postgres', n);
  const rate = (r: number) => `${int(n / (r / 1000))} jobs/s`;
  row(s, `add (addBulk of ${int(PAGE)}, ledger stamped), no worker running`, `${rate(pg.addMs)} (${sec(pg.addMs / 1000)})`, `${rate(redis.addMs)} (${sec(redis.addMs / 1000)})`, '— (report)');
  row(
    s,
    `take and complete (one worker, concurrency ${DELIVERY_CONCURRENCY}, no-op processor)`,
    `${rate(pg.drainMs)} (${sec(pg.drainMs / 1000)})`,
    `${rate(redis.drainMs)} (${sec(redis.drainMs / 1000)})`,
    '— (report)',
  );
  row(s, 'Postgres relative to Redis (add / take)', `${times(redis.addMs / pg.addMs)} / ${times(redis.drainMs / pg.drainMs)}`, '1.00× / 1.00×', '—');
  s.notes.push(
    `Lifeline column: REDIS_URL unset, BullMQ's PostgreSQL backend in a fresh database of this run (one pg pool of ${QUEUE_POOL_MAX} per process, as in the engine). ` +
      `Baseline column: the same code with REDIS_URL set (local Redis, a private prefix removed afterwards). Each run adds ${int(n)} jobs through DeliveryQueue.enqueue ` +
      `(BullMQ addBulk, then deliveries.enqueued_at stamped), then starts one worker and times until it has completed every job.`,
    `A notifier sends ${DELIVERY_CONCURRENCY} deliveries at once and each waits on its channel, so the take rate bounds deliveries/s only where it is below what the channels answer; ` +
      `Redis remains the recommendation for large fleets and mass outages (section 7 measures the whole chain on Redis).`,
  );
  return s;
}
