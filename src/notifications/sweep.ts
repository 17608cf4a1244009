import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import type { QueuedDelivery } from './model.ts';
import { deliveriesNeverEnqueued, unfinishedDeliveries } from './store.ts';
import type { Logger } from '../logger.ts';
import type { DeliveryJob, DeliveryQueue } from './queue.ts';

export interface SweepDeps {
  sql: Sql;
  clock: Clock;
  queue: DeliveryQueue;
  log: Logger;
}

const PAGE = 1000;

// A row created in the last 2 s is normally being enqueued right after its commit.
const FRESH_MS = 2000;

/** Jobs for ledger rows: a row waiting for a retry is held back until the ledger says it is due. */
function jobsFor(rows: QueuedDelivery[], now: Date): DeliveryJob[] {
  return rows.map((r) => ({ id: r.id, delayMs: r.next_attempt_at ? Math.max(0, r.next_attempt_at.getTime() - now.getTime()) : 0 }));
}

/**
 * One pass of the notifier's sweeper, closing the two gaps between the ledger and the job store:
 *
 * - rows whose job never reached the store (it was down when they committed) are enqueued;
 * - when the store may have lost jobs (Redis restarted empty, was flushed, or failed over; the
 *   engine ran on another backend before: see `QueueBackend.unsynced`), every unfinished row is
 *   added again. A job that still exists is left as it is (same job id: a no-op, so a delayed
 *   retry neither runs early nor twice); a lost one comes back delayed until the ledger's
 *   `next_attempt_at`.
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
