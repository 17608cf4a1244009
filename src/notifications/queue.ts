import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import { markEnqueued } from './store.ts';
import { DELIVERY_ATTEMPTS } from './retry.ts';

export const NOTIFICATIONS_QUEUE = 'notifications';

export interface DeliveryQueueOptions {
  redisUrl: string;
  prefix: string;
  sql: Sql;
  clock: Clock;
}

/** One ledger row to add as a job; `delayMs` holds it back until its next attempt is due. */
export interface DeliveryJob {
  id: string;
  delayMs?: number;
}

/**
 * The producer side: one job per ledger row, the job id being the ledger id, so adding the same
 * delivery twice (a redelivered event, the sweeper racing the first attempt) is a no-op while the
 * job is kept (completed jobs are kept 7 days): a job that exists keeps its state and its delay.
 * Producers fail fast when Redis is away (no offline queue): the ledger row stays un-enqueued and
 * the sweeper adds it when Redis is back.
 */
export class DeliveryQueue {
  private readonly redis: Redis;
  private readonly queue: Queue;
  /** Holds the run_id of the Redis server last given every unfinished delivery (see `unsyncedRunId`). */
  private readonly syncedKey: string;

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
    this.queue.on('error', () => {}); // the same connection's errors, reported as above
    this.syncedKey = `${o.prefix}:${NOTIFICATIONS_QUEUE}:synced-run-id`;
  }

  async enqueue(jobs: DeliveryJob[]): Promise<void> {
    if (jobs.length === 0) return;
    // BullMQ waits for a connection that has never been ready instead of failing: in a process
    // started while Redis was down, the fan-out's enqueue (awaited after its commit) would hold its
    // outbox loop, and with it incidents and escalations, until Redis answered.
    if (this.redis.status !== 'ready') throw new Error(`Redis is not connected (${this.redis.status})`);
    await this.queue.addBulk(
      jobs.map(({ id, delayMs }) => ({ name: 'deliver', data: { id }, opts: { jobId: id, ...(delayMs ? { delay: delayMs } : {}) } })),
    );
    await markEnqueued(this.o.sql, jobs.map((j) => j.id), this.o.clock.now());
  }

  /**
   * The run_id of the Redis server now answering when it may be missing jobs: it is not the server
   * that was last given every unfinished delivery (a restart or failover gives a new run_id), or it
   * lost the key saying so (its data is gone). Undefined while nothing says a job was lost.
   */
  async unsyncedRunId(): Promise<string | undefined> {
    const [info, synced] = await Promise.all([this.redis.info('server'), this.redis.get(this.syncedKey)]);
    const runId = /^run_id:(\w+)/m.exec(info)?.[1];
    if (runId === undefined) throw new Error('Redis INFO server has no run_id');
    return runId === synced ? undefined : runId;
  }

  /** Records that the server with this run_id has been given every unfinished delivery. */
  async markSynced(runId: string): Promise<void> {
    await this.redis.set(this.syncedKey, runId);
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }
}
