import type { Clock } from '../src/clock.ts';
import { createSql, ENGINE_APPLICATIONS, type Sql } from '../src/db/client.ts';
import { Events } from '../src/events.ts';
import { Evaluator } from '../src/health/evaluator.ts';
import { Leadership } from '../src/health/leader.ts';
import { DUE_CHANNEL } from '../src/health/store.ts';
import type { Logger } from '../src/logger.ts';
import { Loop } from '../src/loop.ts';

export interface EvaluatorWorkerOptions {
  databaseUrl: string;
  /**
   * The shared pool, for LISTEN and for reading the leader's next batch while the last is written
   * (the lock's own session only ever runs the leader's work).
   */
  sql: Sql;
  clock: Clock;
  log: Logger;
  /** Where passes, transitions, leadership and loop errors are announced (metrics count them). */
  events?: Events;
  intervalMs: number;
  coverageGapMs: number;
}

/** The evaluator role: its own dedicated connection for the lock, one loop, a clean release. */
export function startEvaluator(o: EvaluatorWorkerOptions) {
  const log = o.log.child({ role: 'evaluator' });
  const events = o.events ?? new Events();
  const lockSession = () => createSql(o.databaseUrl, { dedicated: true, applicationName: ENGINE_APPLICATIONS.evaluator });
  const leadership = new Leadership(lockSession, log, events);
  // A follower until the lock is taken, announced so the leader gauge reads 0 from the start.
  events.emit('evaluator.leadership', false);
  const evaluator = new Evaluator({ leadership, clock: o.clock, log, intervalMs: o.intervalMs, coverageGapMs: o.coverageGapMs, events, reader: o.sql });
  const loop = new Loop({
    name: 'evaluator',
    kind: 'evaluator',
    log,
    intervalMs: o.intervalMs,
    runOnce: async () => (await evaluator.runOnce()).sleepMs,
    events,
  });
  loop.start();
  // A write that made nodes due (an ingest flush, an operator's maintenance window or node edit)
  // commits a NOTIFY (announceDue): a pass right after it judges them at once. Notices arriving
  // during a pass make one pass after it. The loop's own timer, set to the earliest due time,
  // remains the correctness path if one is missed.
  const listening = o.sql.listen(DUE_CHANNEL, () => {
    if (leadership.isLeader) loop.wake();
  });
  return {
    evaluator,
    leadership,
    async stop() {
      await (await listening).unlisten().catch(() => {});
      await loop.stop();
      await leadership.release().catch((err) => log.warn({ err }, 'could not release the evaluator lock; closing its session releases it'));
      await leadership.close();
    },
  };
}
