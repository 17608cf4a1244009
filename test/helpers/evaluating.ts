import { createSql } from '../../src/db/client.ts';
import { Evaluator } from '../../src/health/evaluator.ts';
import { Leadership } from '../../src/health/leader.ts';
import type { Harness } from './app.ts';
import { testLog } from './log.ts';

/**
 * The evaluator over a harness's database on its manual clock, for tests that move time by hand:
 * `tickAt(t)` sets the clock, flushes ingest (its watermark reaches t), runs one pass and then
 * `after` (an outbox drained to the end, say).
 */
export function evaluating(h: Harness, after: () => Promise<void> = async () => {}) {
  const leadership = new Leadership(() => createSql(h.db.url, { dedicated: true, applicationName: 'lifeline-test-evaluator' }), testLog);
  const evaluator = new Evaluator({ leadership, clock: h.clock, log: testLog, intervalMs: 1000, coverageGapMs: 60_000 });
  return {
    evaluator,
    tickAt: async (t: Date) => {
      h.clock.set(t);
      await h.flush();
      await evaluator.runOnce();
      await after();
    },
    close: async () => {
      await leadership.release().catch(() => {});
      await leadership.close();
    },
  };
}
