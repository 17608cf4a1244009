import type { Clock } from '../clock.ts';
import type { Sql } from '../db/client.ts';
import { bucketStart } from './buckets.ts';
import { retentionHorizons, type Retention } from './retention.ts';
import { rollUpNodes } from './rollup.ts';
import { applyRetention, nodesBehind, nodesWithRollups } from './store-rollups.ts';

export interface HousekeepingDeps {
  sql: Sql;
  clock: Clock;
  retention: Retention;
  /** Nodes per transaction. 1,000 closing one hour each is one ~50 ms transaction. */
  chunk?: number;
}

export interface HousekeepingResult {
  /** Nodes whose rows were brought up to the current hour. */
  closed: number;
  hourRowsDeleted: number;
  dayRowsDeleted: number;
}

/**
 * The periodic half of uptime: closes the hours of nodes that had no transition (so a query over a
 * long quiet stretch reads rows, not the log), and applies retention. Both walk the nodes in id
 * order, a chunk per transaction, so no lock is held for long. Safe to run anywhere and twice at
 * once (every write is a locked recompute); it runs on the evaluator leader only to do it once.
 */
export class UptimeHousekeeping {
  private readonly chunk: number;
  /** The retention horizons last applied: they move once a day, so retention runs once a day. */
  private retained: string | undefined;

  constructor(private readonly deps: HousekeepingDeps) {
    this.chunk = deps.chunk ?? 1000;
  }

  async runOnce(): Promise<HousekeepingResult> {
    const { sql, clock, retention } = this.deps;
    const now = clock.now();
    const closedBefore = bucketStart(now.getTime(), 'hour');
    let closed = 0;
    for (let after: string | undefined; ; ) {
      const ids = await nodesBehind(sql, closedBefore, after, this.chunk);
      if (ids.length > 0) closed += (await sql.begin((tx) => rollUpNodes(tx, ids, now, retention))).nodes;
      if (ids.length < this.chunk) break;
      after = ids.at(-1);
    }

    const horizon = retentionHorizons(now.getTime(), retention);
    const key = `${horizon.hours}/${horizon.days}`;
    let hourRowsDeleted = 0;
    let dayRowsDeleted = 0;
    if (key !== this.retained) {
      for (let after: string | undefined; ; ) {
        const ids = await nodesWithRollups(sql, after, this.chunk);
        if (ids.length > 0) {
          const gone = await sql.begin((tx) => applyRetention(tx, ids, horizon.hours, horizon.days));
          hourRowsDeleted += gone.hours;
          dayRowsDeleted += gone.days;
        }
        if (ids.length < this.chunk) break;
        after = ids.at(-1);
      }
      this.retained = key;
    }
    return { closed, hourRowsDeleted, dayRowsDeleted };
  }
}
