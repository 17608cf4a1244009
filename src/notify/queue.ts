import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import { markEnqueued } from '../db/deliveries.ts';

export const NOTIFICATIONS_QUEUE = 'notifications';
/** CONTRACT §6: 12 attempts, 1 s doubling, capped at 10 min (about 40 minutes in all). */
export const DELIVERY_ATTEMPTS = 12;

export interface DeliveryQueueOptions {
  redisUrl: string;
  prefix: string;
  sql: Sql;
  clock: Clock;
}

/**
 * The producer side: one job per ledger row, the job id being the ledger id, so adding the same
 * delivery twice (a redelivered event, the sweeper racing the first attempt) is a no-op while the
 * job is kept (completed jobs are kept 7 days). Producers fail fast when Redis is away (no offline
 * queue): the ledger row stays un-enqueued and the sweeper adds it when Redis is back.
 */
export class DeliveryQueue {
  private readonly redis: Redis;
  private readonly queue: Queue;

  constructor(private readonly o: DeliveryQueueOptions) {
    this.redis = new Redis(o.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => {}); // reported where an enqueue fails; reconnects on its own
    this.queue = new Queue(NOTIFICATIONS_QUEUE, {
      connection: this.redis,
      prefix: o.prefix,
      defaultJobOptions: {
        attempts: DELIVERY_ATTEMPTS,
        backoff: { type: 'lifeline' },
        removeOnComplete: { age: 7 * 24 * 3600 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
  }

  async enqueue(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.queue.addBulk(ids.map((id) => ({ name: 'deliver', data: { id }, opts: { jobId: id } })));
    await markEnqueued(this.o.sql, ids, this.o.clock.now());
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }
}
