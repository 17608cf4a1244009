import type { Clock } from '../clock.ts';
import { earliestDue, loadDue, type DueCursor } from '../db/health.ts';
import { readCoverage } from '../db/heartbeats.ts';
import type { Logger } from '../logger.ts';
import type { Leadership } from './leader.ts';
import { apply, plan } from './machine.ts';
import { maintenanceSpans } from './maintenance.ts';
import type { State } from './decide.ts';

export interface EvaluatorDeps {
  leadership: Leadership;
  clock: Clock;
  log: Logger;
  intervalMs: number;
  coverageGapMs: number;
  /** Rows judged and written per transaction; 5,000 keeps one write well under a second. */
  batchSize?: number;
  onTick?: (seconds: number) => void;
  onTransition?: (from: State, to: State) => void;
}

export interface TickResult {
  leader: boolean;
  evaluated: number;
  transitions: number;
  /** How long the loop may sleep: until the earliest due node, at most one interval. */
  sleepMs: number;
}

// A node woken again while being judged is due at once; 10 ms keeps that from spinning the loop.
const MIN_SLEEP_MS = 10;

/**
 * One evaluator pass. Followers only try to take the lock. The leader walks the due nodes in
 * batches (one transaction each, on the lock's own connection) until a batch comes back short,
 * then sleeps until the earliest pending deadline so a silent node is caught at its deadline, not
 * up to a whole interval later.
 */
export class Evaluator {
  constructor(private readonly deps: EvaluatorDeps) {}

  async runOnce(): Promise<TickResult> {
    const { leadership, clock, intervalMs } = this.deps;
    if (!(await leadership.refresh())) return { leader: false, evaluated: 0, transitions: 0, sleepMs: intervalMs };
    const started = performance.now();
    const now = clock.now();
    const batchSize = this.deps.batchSize ?? 5000;
    let evaluated = 0;
    let transitions = 0;
    let cursor: DueCursor | undefined;
    for (;;) {
      const result = await leadership.transaction(async (tx) => {
        const coverage = await readCoverage(tx, now, this.deps.coverageGapMs);
        // No ingest has ever run: there is nothing any node could have been judged on.
        if (!coverage) return { rows: 0, won: 0, last: undefined };
        const rows = await loadDue(tx, now, cursor, batchSize);
        if (rows.length === 0) return { rows: 0, won: 0, last: undefined };
        const maintenance = await maintenanceSpans(tx, rows.map((r) => r.node_id), now);
        const won = await apply(tx, plan(rows, coverage, maintenance, now), now);
        for (const w of won) for (const t of w.transitions) this.deps.onTransition?.(t.from, t.to);
        const lastRow = rows[rows.length - 1]!;
        return {
          rows: rows.length,
          won: won.reduce((n, w) => n + w.transitions.length, 0),
          last: { dueAt: lastRow.due_at, nodeId: lastRow.node_id },
        };
      });
      evaluated += result.rows;
      transitions += result.won;
      if (result.rows < batchSize || !result.last) break;
      cursor = result.last;
    }
    const next = await earliestDue(leadership.connection);
    this.deps.onTick?.((performance.now() - started) / 1000);
    const untilNext = next ? next.getTime() - clock.now().getTime() : intervalMs;
    return { leader: true, evaluated, transitions, sleepMs: Math.max(MIN_SLEEP_MS, Math.min(intervalMs, untilNext)) };
  }
}
