import { DelayedError, Worker } from 'bullmq';
import type { ChannelRegistry } from '../alerting/index.ts';
import { DeliveryError } from '../alerting/errors.ts';
import type { Clock } from '../src/clock.ts';
import type { Sql } from '../src/db/client.ts';
import { deliveriesToEnqueue, recordAttempts } from '../src/db/deliveries.ts';
import type { Logger } from '../src/logger.ts';
import { Loop } from '../src/loop.ts';
import type { Metrics } from '../src/metrics.ts';
import { deliver, WaitingForPage } from '../src/notify/deliver.ts';
import { sendDigests } from '../src/notify/digest.ts';
import { DELIVERY_ATTEMPTS, NOTIFICATIONS_QUEUE, type DeliveryQueue } from '../src/notify/queue.ts';

export interface NotifierOptions {
  redisUrl: string;
  prefix: string;
  sql: Sql;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  channels: ChannelRegistry;
  secretKey: Buffer;
  queue: DeliveryQueue;
  /** Sends in flight per process; deliveries wait on the network, not the CPU. */
  concurrency?: number;
  /** First retry delay (doubling, capped at backoffCapMs); CONTRACT §6: 1 s and 10 min. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** How long a job may run before another worker may take it over (a crashed worker's job). */
  lockDurationMs?: number;
  /** How often the sweeper enqueues ledger rows whose job never reached Redis. */
  sweepMs?: number;
  /** How often storm digests go out (CONTRACT is silent; 60 s by default). */
  digestMs?: number;
}

export function retryDelayMs(attemptsMade: number, err: Error | undefined, baseMs: number, capMs: number): number {
  const doubled = Math.min(capMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  const asked = err instanceof DeliveryError ? (err.retryAfterMs ?? 0) : 0;
  return Math.min(capMs, Math.max(doubled, asked));
}

/** The notifier role: BullMQ workers sending ledger rows, and the sweeper that closes the gap. */
export function startNotifier(o: NotifierOptions) {
  const log = o.log.child({ role: 'notifier' });
  const base = o.backoffBaseMs ?? 1000;
  const cap = o.backoffCapMs ?? 600_000;
  const lockDuration = o.lockDurationMs ?? 30_000;
  const deliverDeps = {
    sql: o.sql,
    clock: o.clock,
    channels: o.channels,
    secretKey: o.secretKey,
    onResult: (channel_type: string, result: 'sent' | 'failed' | 'dead', latency?: number) => {
      o.metrics.notifications.inc({ channel_type, result });
      if (latency !== undefined) o.metrics.notificationLatency.observe(latency);
    },
  };
  const worker = new Worker(
    NOTIFICATIONS_QUEUE,
    async (job, token) => {
      try {
        await deliver(deliverDeps, String(job.data.id), job.attemptsMade + 1, job.opts.attempts ?? DELIVERY_ATTEMPTS);
      } catch (err) {
        if (!(err instanceof WaitingForPage)) throw err;
        // Back in the queue without spending an attempt (BullMQ's DelayedError protocol).
        await job.moveToDelayed(Date.now() + base, token);
        throw new DelayedError();
      }
    },
    {
      connection: { url: o.redisUrl, maxRetriesPerRequest: null },
      prefix: o.prefix,
      concurrency: o.concurrency ?? 16,
      lockDuration,
      stalledInterval: Math.max(1000, lockDuration / 2),
      settings: { backoffStrategy: (attemptsMade, _type, err) => retryDelayMs(attemptsMade, err, base, cap) },
    },
  );
  worker.on('error', (err) => log.warn({ err }, 'notifier worker error'));
  worker.on('failed', (job, err) => {
    log.warn({ delivery: job?.id, attempts: job?.attemptsMade, err: err.message }, 'delivery attempt failed');
    // A job out of attempts for a reason the channel never saw (the database was unreachable, say)
    // still leaves its ledger row final, so nothing waits on it for ever.
    if (job?.id && job.attemptsMade >= (job.opts.attempts ?? DELIVERY_ATTEMPTS)) {
      recordAttempts(o.sql, [job.id], { status: 'dead', error: `gave up: ${err.message}`, at: o.clock.now() }).catch((e) =>
        log.error({ err: e, delivery: job.id }, 'could not mark an exhausted delivery dead'),
      );
    }
  });

  const sweeper = new Loop({
    name: 'delivery-sweeper',
    log,
    intervalMs: o.sweepMs ?? 5000,
    runOnce: async () => {
      // Rows younger than 2 s are normally being enqueued right after their commit; a job enqueued
      // 15 min ago for a row still unfinished is re-added in case Redis lost it (no-op if not).
      const now = o.clock.now().getTime();
      const ids = await deliveriesToEnqueue(o.sql, new Date(now - 2000), new Date(now - 15 * 60_000), 1000);
      if (ids.length) {
        await o.queue.enqueue(ids);
        log.info({ deliveries: ids.length }, 'enqueued deliveries whose job was not confirmed in the queue');
      }
    },
    onError: () => o.metrics.loopErrors.inc({ loop: 'delivery-sweeper' }),
  });
  const digests = new Loop({
    name: 'storm-digest',
    log,
    intervalMs: o.digestMs ?? 60_000,
    runOnce: async () => {
      await sendDigests({
        sql: o.sql,
        clock: o.clock,
        channels: o.channels,
        secretKey: o.secretKey,
        onResult: (channel_type, result, n) => o.metrics.notifications.inc({ channel_type, result }, n),
      });
    },
    onError: () => o.metrics.loopErrors.inc({ loop: 'storm-digest' }),
  });
  sweeper.start();
  digests.start();

  return {
    worker,
    async stop() {
      await Promise.all([sweeper.stop(), digests.stop()]);
      await worker.close();
    },
  };
}
