import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { Slots } from '../alerting/slots.ts';
import type { ChannelRegistry } from '../alerting/index.ts';
import type { Clock } from '../src/clock.ts';
import { DELIVERY_CONCURRENCY } from '../src/config.ts';
import type { Sql } from '../src/db/client.ts';
import type { Events } from '../src/events.ts';
import { throttled, throttledWarning, type Logger } from '../src/logger.ts';
import { Loop } from '../src/loop.ts';
import { deliver, HeldElsewhere, PutBack, RetryLater, SecretNotOpened } from '../src/notifications/deliver.ts';
import type { LinkSigning } from '../src/notifications/message.ts';
import { Coalescer, type Batching } from '../src/coalescer.ts';
import { sendDigests } from '../src/notifications/digest.ts';
import { DeliveryLedger, LEDGER_BATCHING, type LeaseTimes } from '../src/notifications/ledger.ts';
import { HeldRows } from '../src/notifications/held-rows.ts';
import { groupData, heldJobId, NOTIFICATIONS_QUEUE, ROWS_PER_JOB, rowsOf, type DeliveryJob, type DeliveryJobData, type DeliveryQueue } from '../src/notifications/queue.ts';
import { storeAway, type QueueBackend } from '../src/queue/backend.ts';
import { DEFAULT_RETRY, DELIVERY_ATTEMPTS, retryDelayMs, type RetrySchedule } from '../src/notifications/retry.ts';
import { recordAttempts } from '../src/notifications/store.ts';
import { sweepDeliveries } from '../src/notifications/sweep.ts';

export interface NotifierOptions {
  backend: QueueBackend;
  sql: Sql;
  clock: Clock;
  log: Logger;
  /** Where deliveries and the notifier's loops announce outcomes (metrics count them). */
  events?: Events;
  channels: ChannelRegistry;
  secretKey: Buffer;
  queue: DeliveryQueue;
  /** Sends in flight per process (DELIVERY_CONCURRENCY unless set; LIFELINE_DELIVERY_CONCURRENCY). */
  concurrency?: number;
  /** How the sends in flight share ledger statements (LEDGER_BATCHING unless set). */
  ledgerBatching?: Batching;
  /** First retry delay, doubling up to backoffCapMs (1 s and 10 min by default). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** How long a read leases a ledger row and how soon its send must start (DELIVERY_LEASE unless set). */
  lease?: LeaseTimes;
  /** How long a job may run before another worker may take it over (a crashed worker's job). */
  lockDurationMs?: number;
  /** How often the sweeper enqueues ledger rows whose job never reached the job store or was lost with it. */
  sweepMs?: number;
  /** How often held storm updates go out as digests (60 s by default). */
  digestMs?: number;
  /** Acknowledge and resolve links in messages; absent without LIFELINE_PUBLIC_URL. */
  links?: LinkSigning | undefined;
}

/** The notifier role: BullMQ workers sending ledger rows, and the sweeper that closes the gap. */
export function startNotifier(o: NotifierOptions) {
  const log = o.log.child({ role: 'notifier' });
  const retry: RetrySchedule = { baseMs: o.backoffBaseMs ?? DEFAULT_RETRY.baseMs, capMs: o.backoffCapMs ?? DEFAULT_RETRY.capMs };
  const lockDuration = o.lockDurationMs ?? 30_000;
  const digestMs = o.digestMs ?? 60_000;
  const deliverDeps = {
    sql: o.sql,
    clock: o.clock,
    channels: o.channels,
    secretKey: o.secretKey,
    retry,
    links: o.links,
    ...(o.events ? { events: o.events } : {}),
  };
  // One ledger per process: every send in flight shares its batches.
  const ledger = new DeliveryLedger({ ...deliverDeps, ...(o.ledgerBatching ? { batching: o.ledgerBatching } : {}), ...(o.lease ? { lease: o.lease } : {}) });
  const sendDeps = { ...deliverDeps, ledger };
  // Sends in flight per process, whatever the jobs carry: a row takes a slot before its ledger
  // read, so no lease is held while it waits, and frees it once its attempt settled. A row of a
  // dead receiver holds its slot as long as its job did before groups (its HTTP deadline), and the
  // group's other rows take slots of their own.
  const limit = o.concurrency ?? DELIVERY_CONCURRENCY;
  const sends = new Slots(limit);
  // Jobs taken are bounded by the rows they carry: at most four times the sends in flight (1,024 at
  // 256), enough that the next rows are read while the slots are busy, and two groups at the least.
  // Rows beyond that stay in the queue for a process with slots free, where a bound of `limit`
  // jobs let one process hold 4,096 rows at 16 a job, 16,384 at 64.
  const held = new HeldRows(Math.max(4 * limit, 2 * ROWS_PER_JOB), ROWS_PER_JOB, limit);
  // Every held row would say it every 30 s: one line a minute says it for them all.
  const secretHeld = throttled((fields, msg) => o.log.error(fields, msg));
  const attempt = async (id: string): Promise<void> => {
    // At stop() a row still waiting for a send slot goes back at once, unspent (refuseWaiting),
    // not after the exchanges ahead of it (each up to the HTTP deadline, 10 s: several in turn would outlast the stop).
    const free = await sends.take();
    try {
      await deliver(sendDeps, id);
    } catch (err) {
      if (err instanceof SecretNotOpened) secretHeld({ delivery: id, channel_id: err.channelId }, `${err.message}: held without spending an attempt; /readyz says so until a restart with the right key`);
      throw err;
    } finally {
      free();
    }
  };
  // A row put back (`PutBack`) looks again a backoff step after what it waits for (a page's next
  // attempt, another sender's lease): not before that could have ended.
  const putBackDelayMs = (err: PutBack): number => (err.retryAt ? Math.max(0, err.retryAt.getTime() - o.clock.now().getTime()) : 0) + retry.baseMs;
  // The rows of every group going back in one turn share one add.
  const goingBack = new Coalescer<DeliveryJob, void>(async (jobs) => {
    await o.queue.addAlone(jobs);
    return jobs.map(() => undefined);
  }, LEDGER_BATCHING);

  /**
   * A group's rows are attempted at once (their reads share a ledger batch) and settled row by row:
   * sent, final or gone, the row is done; put back (`PutBack`) or failed with a retry due
   * (`RetryLater`), it goes back as a job of its own as soon as it settled, delayed as a single job
   * would be (the ledger numbers attempts and decides `dead`, so a fresh job spends nothing and
   * keeps the schedule), not after the group's slowest row (a dead receiver's 10 s, or rows queued
   * for send slots). Any other error (the database unreachable) fails the job once every row
   * settled, and BullMQ runs it again with its backoff for the rows that got it; so does a failure
   * to add a row going back, for that row too. The job's data is narrowed to them first, so its
   * rerun, and the dead mark when it runs out of attempts, cover no row that was sent or went back
   * on its own.
   */
  const runGroup = async (job: Job, ids: string[]): Promise<void> => {
    const again: string[] = [];
    let error: unknown;
    const settle = async (id: string): Promise<void> => {
      try {
        await attempt(id);
      } catch (err) {
        if (err instanceof UnrecoverableError) return;
        try {
          if (err instanceof HeldElsewhere) return await goingBack.add({ id, delayMs: putBackDelayMs(err), jobId: heldJobId(id) });
          if (err instanceof PutBack) return await goingBack.add({ id, delayMs: putBackDelayMs(err) });
          if (err instanceof RetryLater) return await goingBack.add({ id, delayMs: err.delayMs });
          throw err;
        } catch (failed) {
          again.push(id);
          error ??= failed;
        }
      } finally {
        rowSettled();
      }
    };
    await Promise.all(ids.map(settle));
    if (error === undefined) return;
    // Where the store cannot take this either, the rerun covers every row: those done are final.
    await job.updateData(groupData(again)).catch(() => undefined);
    throw error;
  };

  /** A job of one row: sent, or put back without spending an attempt. */
  const runOne = async (job: Job, token: string | undefined, id: string): Promise<void> => {
    try {
      await attempt(id);
    } catch (err) {
      if (!(err instanceof PutBack)) throw err;
      // The row's own job finding it held looks again as a job of its own and ends: delayed
      // under the row's id for the lease (~120 s), it made the holder's retry or put-back, added
      // under that id a few ms later (runGroup), a no-op, and the row waited out the lease.
      if (err instanceof HeldElsewhere && job.id === id) return goingBack.add({ id, delayMs: putBackDelayMs(err), jobId: heldJobId(id) });
      // Back in the queue without spending an attempt (BullMQ's DelayedError protocol).
      await job.moveToDelayed(Date.now() + putBackDelayMs(err), token);
      throw new DelayedError();
    } finally {
      rowSettled();
    }
  };

  const worker = o.backend.worker(
    NOTIFICATIONS_QUEUE,
    async (job, token) => {
      const data = job.data as DeliveryJobData;
      const ids = rowsOf(data);
      held.started(ids.length);
      fitConcurrency();
      try {
        return await ('ids' in data ? runGroup(job, data.ids) : runOne(job, token, ids[0]!));
      } finally {
        held.ended();
        fitConcurrency();
      }
    },
    {
      // Changed as jobs start and rows settle (fitConcurrency): up to `limit` jobs of one row
      // (retries, rows put back), 16 groups of 64 rows.
      concurrency: held.concurrency,
      lockDuration,
      stalledInterval: Math.max(1000, lockDuration / 2),
      // A failed fetch of the next job is tried again after this, 15 s by BullMQ's default: as long
      // as the worst wait between the connections' reconnect attempts (2 s, src/queue/backend.ts).
      runRetryDelay: 2000,
      // deliver() knows the delay from the ledger; other errors (the database unreachable) back off
      // by the job's own count.
      settings: { backoffStrategy: (attemptsMade, _type, err) => (err instanceof RetryLater ? err.delayMs : retryDelayMs(attemptsMade, err, retry)) },
    },
  );
  /**
   * BullMQ's worker takes a job while it holds fewer than `concurrency` (read before each fetch,
   * and at each completion for the next job in the same call), and looks again only when one of
   * its jobs or fetches ends. Rows settling inside a job still running (a group with a row at a
   * dead receiver, 10 s) raise the bound without that: the loop is woken by an empty entry in its
   * queue of jobs, as a fetch that found nothing leaves one, or a process whose 16 groups each had
   * such a row would take nothing until the first ended, its other 240 slots idle. BullMQ's own
   * resume() wakes the loop the same way.
   */
  function fitConcurrency(): void {
    const next = held.concurrency;
    if (next === worker.concurrency) return;
    const more = next > worker.concurrency;
    worker.concurrency = next;
    if (more) (worker as unknown as { mainLoopQueue?: { add(entry: Promise<undefined>): void } | null }).mainLoopQueue?.add(Promise.resolve(undefined));
  }
  function rowSettled(): void {
    held.settled();
    fitConcurrency();
  }

  // A dead Redis makes the worker fail every reconnect (about once a second): one line a minute says it.
  const workerTrouble = throttledWarning(log);
  worker.on('error', (err) => workerTrouble({ error: err.message }, 'notifier worker error; deliveries wait until it clears'));
  worker.on('failed', (job, err) => {
    const rows = job ? rowsOf(job.data as DeliveryJobData) : [];
    log.warn({ job: job?.id, deliveries: rows, attempts: job?.attemptsMade, err: err.message }, 'delivery attempt failed');
    // A job out of attempts for a reason the channel never saw (the database was unreachable, say)
    // still leaves its ledger rows final, so nothing waits on them for ever; unless another sender
    // holds a row's lease (a run of it revived meanwhile): that sender's outcome counts. A group's
    // data names only the rows its last run failed (runGroup).
    if (job && rows.length && job.attemptsMade >= (job.opts.attempts ?? DELIVERY_ATTEMPTS)) {
      recordAttempts(o.sql, rows, { status: 'dead', error: `gave up: ${err.message}`, at: o.clock.now() }).catch((e) =>
        log.error({ err: e, deliveries: rows }, 'could not mark an exhausted delivery dead'),
      );
    }
  });

  const overdue = { afterId: '' };
  const sweeper = new Loop({
    name: 'delivery-sweeper',
    kind: 'delivery-sweeper',
    log,
    intervalMs: o.sweepMs ?? 5000,
    runOnce: () => sweepDeliveries({ sql: o.sql, clock: o.clock, queue: o.queue, log, overdue }),
    outage: (err) => storeAway(o.backend, err),
    ...(o.events ? { events: o.events } : {}),
  });
  const digests = new Loop({
    name: 'storm-digest',
    kind: 'storm-digest',
    log,
    intervalMs: digestMs,
    runOnce: async () => {
      const retryAt = await sendDigests(deliverDeps);
      // New updates wait for the next interval; a failed digest's retry may be due sooner.
      return retryAt ? Math.min(digestMs, Math.max(0, retryAt.getTime() - o.clock.now().getTime())) : undefined;
    },
    ...(o.events ? { events: o.events } : {}),
  });
  sweeper.start();
  digests.start();

  return {
    worker,
    async stop() {
      // Sends not started yet never start (those waiting for a connection give their leases back at
      // once), and jobs taken from now on lease nothing: they go back to the queue while it is still
      // open. The worker stops taking jobs at once, not after the loops.
      ledger.stop();
      sends.refuseWaiting(new PutBack(null, 'the notifier is stopping'));
      await Promise.all([worker.close(), sweeper.stop(), digests.stop()]);
    },
  };
}
