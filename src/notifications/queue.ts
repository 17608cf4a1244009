import { createHash } from 'node:crypto';
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
  /** The job's id, when not the row's own (heldJobId). */
  jobId?: string;
}

/**
 * The job of a row put back because another sender holds it, a look once that sender's lease could
 * have ended (~2 min), in case it died. Not the row's own id: that sender's retry (a Retry-After of
 * 1 s) is added under the row's id, and an add under an id that exists is a no-op, so the retry
 * waited for the look's lease-long delay instead.
 */
export const heldJobId = (id: string): string => `${id}+held`;

/**
 * What a delivery job carries: the ledger ids of a group of rows due now, or one row (a retry held
 * back until it is due, a row put back; and every job of the versions before groups, which a
 * rolling upgrade may leave in the queue). A group also names its first row as `id`: a notifier of
 * a version before groups reads only `id`, so in a rolling upgrade it sends that row and completes
 * the job, and the group's other rows are brought back by the sweeper as overdue (two minutes
 * after they were enqueued) instead of every row of the group failing at once as "does not exist".
 */
export type DeliveryJobData = { ids: string[]; id?: string } | { id: string };

/** The ledger ids a job carries, whichever its shape. */
export const rowsOf = (data: DeliveryJobData): string[] => ('ids' in data ? data.ids : [String(data.id)]);

/** A group's data: its rows, and the first of them for a notifier of a version before groups. */
export const groupData = (ids: string[]): DeliveryJobData => ({ ids, id: ids[0]! });

/**
 * Rows per job at most. BullMQ's work is per job (a `Job` built, its options packed, one add and
 * one `moveToFinished` script, four event-stream entries): ~85 µs of the engine's CPU and ~50 µs of
 * Redis's per add on the page path, ~60 µs of Redis per delivery in the notifier. A group shares
 * it among its rows: at 64 rows, Redis's CPU per delivery fell from ~75 to ~9 µs and the
 * notifiers' by ~100 µs; 16 cost ~20 µs of notifier and ~5 µs of Redis more than 64 (BENCHMARKS.md,
 * "This release beside the last", 2026-12-06 12:50), and again 20-70 µs of notifier and ~5 µs of
 * Redis in section 7b's alternated pairs of 2026-12-07 ("Groups of 64, bounded by rows held").
 * What a process holds is bounded by rows, not jobs (HeldRows, workers/notifier.ts): 1,024 rows
 * at 256 sends in flight, 16 groups, where a bound of 256 jobs let it hold 16,384 rows unleased
 * while another process may be idle.
 */
export const ROWS_PER_JOB = 64;

/**
 * A group's job id: a digest of all its rows, so adding the same rows again (a redelivered event's
 * handler, the same page of the sweeper) is a no-op while the job exists, and two different groups
 * never share one: named by their first row and size, a group formed by the sweeper's resync after
 * the job store was lost could take the name of a different group still queued, and its add be a
 * no-op for rows that have no job. BullMQ refuses `:` in a job id; `+` cannot start a ledger id.
 */
export const groupJobId = (ids: string[]): string => `+${createHash('sha256').update(ids.join('\n')).digest('base64url').slice(0, 27)}`;

/**
 * The producer side. Rows due now go in groups of up to ROWS_PER_JOB per job (`{ ids }`), named by
 * `groupJobId`; a row held back (`delayMs`, a retry) is a job of its own (`{ id }`) whose job id is
 * its ledger id. Adding the same group or row twice (a redelivered event, the sweeper racing the
 * first attempt) is a no-op while the job exists: it keeps its state and its delay. A completed
 * job is removed at once (below), so rows added after their job completed run again, and their
 * read finds them final: nothing is sent. Producers fail fast when the job store is away: the
 * ledger rows stay un-enqueued and the sweeper adds them when the store is back. A job carries
 * only ledger ids (the incident, the update and the recipient, 85-125 characters: a group's data
 * is up to ~8 KB), never text from outside: Postgres keeps job data as jsonb, which refuses U+0000.
 */
export class DeliveryQueue {
  private readonly queue: AnyQueue;

  constructor(private readonly o: DeliveryQueueOptions) {
    this.queue = o.backend.queue(NOTIFICATIONS_QUEUE, {
      defaultJobOptions: {
        attempts: DELIVERY_ATTEMPTS,
        backoff: { type: 'lifeline' },
        // Nothing needs a completed job: no producer adds a finished row (the fan-out adds the rows
        // it inserted, the sweeper unfinished ones), and the ledger, not the job, says a row is
        // done. Kept 7 days, each was a hash and a sorted-set entry in Redis, and every completion
        // also scanned the set for expired ones: removed at completion, Redis spent ~74 µs per
        // delivery against ~82 in section 7b (ten alternated pairs, lower in each; the notifier's
        // CPU unchanged). DeliveryQueue.revive adds a removed job again as it retried a kept one.
        removeOnComplete: true,
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    });
    // Without a listener BullMQ prints every connection error to stderr; the backend reports them.
    this.queue.on('error', () => {});
  }

  async enqueue(jobs: DeliveryJob[]): Promise<void> {
    if (jobs.length === 0) return;
    this.o.backend.assertConnected();
    const due = jobs.filter((j) => !j.delayMs).map((j) => j.id);
    const groups: Array<{ name: string; data: DeliveryJobData; opts: { jobId: string } }> = [];
    for (let i = 0; i < due.length; i += ROWS_PER_JOB) {
      const ids = due.slice(i, i + ROWS_PER_JOB);
      groups.push({ name: 'deliver', data: groupData(ids), opts: { jobId: groupJobId(ids) } });
    }
    await this.queue.addBulk([...groups, ...this.singles(jobs.filter((j) => j.delayMs))]);
    await markEnqueued(this.o.sql, jobs.map((j) => j.id), this.o.clock.now());
  }

  /**
   * Rows enqueued before, each to run in a job of its own (its ledger id), held back by its
   * `delayMs`: a group's row put back or to be retried, an overdue row whose job is lost. The
   * ledger is not written. A row whose own job exists already keeps that job.
   */
  async addAlone(jobs: DeliveryJob[]): Promise<void> {
    if (jobs.length === 0) return;
    this.o.backend.assertConnected();
    await this.queue.addBulk(this.singles(jobs));
  }

  private singles(jobs: DeliveryJob[]) {
    return jobs.map(({ id, delayMs, jobId }) => ({ name: 'deliver', data: { id } satisfies DeliveryJobData, opts: { jobId: jobId ?? id, ...(delayMs ? { delay: delayMs } : {}) } }));
  }

  /**
   * Brings back the jobs of ledger rows that are overdue (see `sweepDeliveries`): a job the store
   * no longer has (one that completed while its row is not final is among them) is added again
   * (delayed as given), one that is finished (failed, or completed and kept by the 7-day retention
   * of earlier versions) while its row is not is run again, and one waiting, delayed or running is
   * left as it is. A stall past BullMQ's `maxStalledCount` moves a job to the failed set without
   * the worker's 'failed' event, and adding it again would be a no-op while the failed job is kept
   * (30 days).
   * The run keeps the job's attempt count: the ledger numbers attempts, and a stall spent none.
   * The ledger's final-row check makes a second run of a row already sent send nothing.
   * A row carried by a group's job has no job under its own id, so it is added again even when
   * that group's job is only late (waiting behind a backlog): harmless, as only the run whose read
   * leases an unfinished row sends it, the other finding it held or final; it costs one more read.
   */
  async revive(jobs: DeliveryJob[]): Promise<{ added: number; retried: number }> {
    this.o.backend.assertConnected();
    const states = await Promise.all(jobs.map((j) => this.queue.getJobState(j.id)));
    const missing = jobs.filter((_, i) => states[i] === 'unknown');
    const finished = jobs.flatMap(({ id }, i) => {
      const state = states[i];
      return state === 'failed' || state === 'completed' ? [{ id, state }] : [];
    });
    // Alone, under the row's own id, which the next pass looks up: in a group, a row revived
    // alone (its group's job failed by stalling) would be named as that job, and not be added.
    await this.addAlone(missing);
    await Promise.all(
      finished.map(async ({ id, state }) => {
        const job = await this.queue.getJob(id);
        // Another notifier's sweeper may have moved it on meanwhile: only a job still there fails the pass.
        await job?.retry(state).catch(async (err: unknown) => {
          if ((await this.queue.getJobState(id)) === state) throw err;
        });
      }),
    );
    return { added: missing.length, retried: finished.length };
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
