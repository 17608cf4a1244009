import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import type { AnyQueue, QueueBackend } from '../queue/backend.ts';
import { markEnqueued } from './store.ts';
import { DELIVERY_ATTEMPTS } from './retry.ts';

export const NOTIFICATIONS_QUEUE = 'notifications';

export interface DeliveryQueueOptions {
  backend: QueueBackend;
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
 * Producers fail fast when the job store is away: the ledger row stays un-enqueued and the
 * sweeper adds it when the store is back. A job carries only the ledger id (a UUID), never text
 * from outside: Postgres keeps job data as jsonb, which refuses U+0000.
 */
export class DeliveryQueue {
  private readonly queue: AnyQueue;

  constructor(private readonly o: DeliveryQueueOptions) {
    this.queue = o.backend.queue(NOTIFICATIONS_QUEUE, {
      defaultJobOptions: {
        attempts: DELIVERY_ATTEMPTS,
        backoff: { type: 'lifeline' },
        removeOnComplete: { age: 7 * 24 * 3600 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
    // Without a listener BullMQ prints every connection error to stderr; the backend reports them.
    this.queue.on('error', () => {});
  }

  async enqueue(jobs: DeliveryJob[]): Promise<void> {
    if (jobs.length === 0) return;
    this.o.backend.assertConnected();
    await this.queue.addBulk(
      jobs.map(({ id, delayMs }) => ({ name: 'deliver', data: { id }, opts: { jobId: id, ...(delayMs ? { delay: delayMs } : {}) } })),
    );
    await markEnqueued(this.o.sql, jobs.map((j) => j.id), this.o.clock.now());
  }

  /** A token naming the job store when it may be missing deliveries (see QueueBackend.unsynced). */
  unsynced(): Promise<string | undefined> {
    return this.o.backend.unsynced(NOTIFICATIONS_QUEUE);
  }

  /** Records that the store named by `token` has been given every unfinished delivery. */
  markSynced(token: string): Promise<void> {
    return this.o.backend.markSynced(NOTIFICATIONS_QUEUE, token);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
