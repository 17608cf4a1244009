import { randomUUID } from 'node:crypto';
import type { Sql } from '../db/client.ts';
import { advanceCoverage, announceFlush, leaveCoverage, resetAfterGap, writeHeartbeats } from '../db/heartbeats.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { HeartbeatBuffer } from './buffer.ts';

/**
 * Silence longer than this with no ingest process flushing means the engine could not hear its
 * fleet. Four flush intervals (1 s at the default 250 ms) would already be abnormal; the 5 s floor
 * keeps a quick rolling restart from being treated as a blind spot.
 */
export function coverageGapMs(flushMs: number): number {
  return Math.max(5_000, 4 * flushMs);
}

export interface FlusherDeps {
  sql: Sql;
  buffer: HeartbeatBuffer;
  clock: Clock;
  log: Logger;
  gapMs: number;
  onFlushed?: (written: number, seconds: number) => void;
}

/**
 * Writes the buffer every flush interval in one transaction: the batch of heartbeats plus this
 * process's coverage watermark ("everything received before `at` is stored"). Heartbeats are
 * coalesced and re-sent every interval, so this is the one write that may commit asynchronously
 * (synchronous_commit=off): a Postgres crash can lose its last few hundred ms, never its integrity.
 */
export class IngestFlusher {
  readonly instanceId = randomUUID();

  constructor(private readonly deps: FlusherDeps) {}

  async runOnce(): Promise<number> {
    const { sql, buffer, clock, log, gapMs } = this.deps;
    const at = clock.now();
    const batch = buffer.take();
    const started = performance.now();
    try {
      const written = await sql.begin(async (tx) => {
        await tx`set local synchronous_commit = off`;
        const { gapFrom } = await advanceCoverage(tx, this.instanceId, at, gapMs);
        if (gapFrom) {
          log.warn({ blind_from: gapFrom, since: at }, 'ingest coverage resumed after a gap; the gap is recorded as unknown');
          await resetAfterGap(tx, at);
        }
        const written = await writeHeartbeats(tx, batch, at);
        await announceFlush(tx);
        return written;
      });
      this.deps.onFlushed?.(written, (performance.now() - started) / 1000);
      return written;
    } catch (err) {
      buffer.restore(batch);
      throw err;
    }
  }

  /** Final flush on shutdown, then leave so the watermark no longer waits for this process. */
  async close(): Promise<void> {
    await this.runOnce();
    await leaveCoverage(this.deps.sql, this.instanceId);
  }
}
