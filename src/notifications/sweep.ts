import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import type { QueuedDelivery } from './model.ts';
import { deliveriesNeverEnqueued, overdueDeliveries, unfinishedDeliveries } from './store.ts';
import type { Logger } from '../logger.ts';
import type { DeliveryJob, DeliveryQueue } from './queue.ts';

export interface SweepDeps {
  sql: Sql;
  clock: Clock;
  queue: DeliveryQueue;
  log: Logger;
  /** Where the overdue check goes on from, one sweeper's passes after another. */
  overdue: { afterId: string };
}

const PAGE = 1000;

// A row created in the last 2 s is normally being enqueued right after its commit.
const FRESH_MS = 2000;

// A healthy job leaves a trace in the ledger (a failed attempt, `sent`, `dead`) soon after its row
// is due: a send gives up after 10 s (the HTTP timeout), the `sent` write is retried for about 6 s,
// and the job of a worker that died is taken over by a stalled check at most 45 s after its last
// lock renewal (30 s lock, checked every 15 s): about a minute. Two minutes leave room for a queue
// backlog; a row past them whose job is only late costs one lookup in the job store.
const OVERDUE_MS = 120_000;
// At most 100 lookups a pass (every 5 s), each pass going on in id order where the last one
// stopped: late but healthy jobs (a backlog; answers held behind a page still being retried, for
// up to its 27 minutes) cannot keep a lost one from being reached. 10,000 overdue rows are all
// looked at within 500 s.
const OVERDUE_PAGE = 100;

/** Jobs for ledger rows: a row waiting for a retry is held back until the ledger says it is due. */
function jobsFor(rows: QueuedDelivery[], now: Date): DeliveryJob[] {
  return rows.map((r) => ({ id: r.id, delayMs: r.next_attempt_at ? Math.max(0, r.next_attempt_at.getTime() - now.getTime()) : 0 }));
}

/**
 * One pass of the notifier's sweeper, closing the gaps between the ledger and the job store:
 *
 * - rows whose job never reached the store (it was down when they committed) are enqueued;
 * - when the store may have lost jobs (Redis restarted empty, was flushed, or failed over; the
 *   engine ran on another backend before: see `QueueBackend.unsynced`), every unfinished row is
 *   added again. A job that still exists is left as it is (same job id: a no-op, so a delayed
 *   retry neither runs early nor twice); a lost one comes back delayed until the ledger's
 *   `next_attempt_at`;
 * - a row overdue by two minutes (`OVERDUE_MS`) may have lost its job in a way the store does not
 *   tell: BullMQ fails a job that stalled more than `maxStalledCount` times (its worker died twice
 *   mid-send, or its event loop was blocked past the lock twice) without the worker's 'failed'
 *   event, so the ledger row stays unfinished and adding the job again is a no-op. Its job is
 *   asked for and brought back (`DeliveryQueue.revive`); one waiting, delayed or running is left.
 *   A row sent in a group's job has no job of its own to ask for: it is added alone, even when
 *   its group's job is only late, and the ledger's lease lets only one of the two runs send it.
 *
 * The store check comes first and the marker is written last, so a second loss while re-adding
 * shows up as a new run_id (or a missing marker) and is caught on the next pass.
 */
export async function sweepDeliveries(deps: SweepDeps): Promise<void> {
  const { sql, clock, queue, log } = deps;
  const token = await queue.unsynced();
  const stray = await deliveriesNeverEnqueued(sql, new Date(clock.now().getTime() - FRESH_MS), PAGE);
  if (stray.length) {
    await queue.enqueue(jobsFor(stray, clock.now()));
    log.info({ deliveries: stray.length }, 'enqueued deliveries whose job never reached the queue');
  }
  const overdue = await overdueDeliveries(sql, new Date(clock.now().getTime() - OVERDUE_MS), deps.overdue.afterId, OVERDUE_PAGE);
  if (overdue.length) {
    const { added, retried } = await queue.revive(jobsFor(overdue, clock.now()));
    if (added + retried) log.warn({ added, retried, overdue: overdue.length }, 'brought back the lost or failed jobs of overdue deliveries');
  }
  // Moved on only once these were looked at: a pass failing on the store looks at them again.
  deps.overdue.afterId = overdue.length < OVERDUE_PAGE ? '' : overdue[overdue.length - 1]!.id;
  if (token === undefined) return;
  let added = 0;
  for (let after = ''; ; ) {
    const rows = await unfinishedDeliveries(sql, after, PAGE);
    if (rows.length === 0) break;
    await queue.enqueue(jobsFor(rows, clock.now()));
    added += rows.length;
    after = rows[rows.length - 1]!.id;
  }
  await queue.markSynced(token);
  log.info({ deliveries: added, queue_store: token }, 'gave a new or emptied job store every unfinished delivery');
}
