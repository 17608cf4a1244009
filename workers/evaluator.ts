import type { Clock } from '../src/clock.ts';
import { createSql, type Sql } from '../src/db/client.ts';
import { FLUSH_CHANNEL } from '../src/ingest/store.ts';
import { Evaluator } from '../src/health/evaluator.ts';
import { Leadership } from '../src/health/leader.ts';
import type { Events } from '../src/events.ts';
import type { Logger } from '../src/logger.ts';
import { Loop } from '../src/loop.ts';
import type { Metrics } from '../src/metrics.ts';

export interface EvaluatorWorkerOptions {
  databaseUrl: string;
  /** The shared pool, for LISTEN (the lock's own session only ever runs the leader's work). */
  sql: Sql;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  events?: Events;
  intervalMs: number;
  coverageGapMs: number;
}

/** The evaluator role: its own dedicated connection for the lock, one loop, a clean release. */
export function startEvaluator(o: EvaluatorWorkerOptions) {
  const lockSql = createSql(o.databaseUrl, { dedicated: true, applicationName: 'lifeline-evaluator' });
  const log = o.log.child({ role: 'evaluator' });
  const leadership = new Leadership(lockSql, log, (leader) => o.metrics.leader.set(leader ? 1 : 0));
  o.metrics.leader.set(0);
  const evaluator = new Evaluator({
    leadership,
    clock: o.clock,
    log,
    intervalMs: o.intervalMs,
    coverageGapMs: o.coverageGapMs,
    onTick: (s) => o.metrics.tick.observe(s),
    onTransition: (from, to) => o.metrics.transitions.inc({ from, to }),
    onNodeError: (kind) => o.metrics.evaluatorNodeErrors.inc({ kind }),
    onPassError: () => o.metrics.loopErrors.inc({ loop: 'evaluator' }),
  });
  const loop = new Loop({
    name: 'evaluator',
    log,
    intervalMs: o.intervalMs,
    runOnce: async () => (await evaluator.runOnce()).sleepMs,
    ...(o.events ? { events: o.events } : {}),
  });
  loop.start();
  // Each ingest flush commits a NOTIFY: a pass right after it judges new heartbeats and passed
  // deadlines at once. The loop's own timer remains the correctness path if a notification is missed.
  const listening = o.sql.listen(FLUSH_CHANNEL, () => {
    if (leadership.isLeader) loop.wake();
  });
  return {
    evaluator,
    leadership,
    async stop() {
      await (await listening).unlisten().catch(() => {});
      await loop.stop();
      await leadership.release().catch((err) => log.warn({ err }, 'could not release the evaluator lock; closing its session releases it'));
      await lockSql.end({ timeout: 2 });
    },
  };
}
