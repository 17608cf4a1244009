import { randomUUID } from 'node:crypto';
import type { Sql, Tx } from '../db/client.ts';
import { classifyDbError, isConnectionError, sqlState } from '../db/errors.ts';
import type { Clock } from '../clock.ts';
import { Events } from '../events.ts';
import type { Logger } from '../logger.ts';
import type { HeartbeatBuffer } from './buffer.ts';
import { blamesRows, isolateRefused } from './isolate.ts';
import type { CoalescedHeartbeat, IngestState } from './model.ts';
import { planRuns, type PingEvent } from '../jobs/model.ts';
import { openRuns, writeRuns } from '../jobs/store.ts';
import { announceDue } from '../health/store.ts';
import { advanceCoverage, leaveCoverage, resetAfterGap, shareHeartbeatWrites, writeHeartbeats, type Written } from './store.ts';

/**
 * Silence longer than this with no ingest process flushing means the engine could not hear its
 * fleet. Four flush intervals (1 s at the default 250 ms) would already be abnormal; the 5 s floor
 * keeps a quick rolling restart from being treated as a blind spot.
 */
export function coverageGapMs(flushMs: number): number {
  return Math.max(5_000, 4 * flushMs);
}

/**
 * When the intake stops answering 202 (HeartbeatBuffer.writable) because flushes cannot reach
 * Postgres. One lost connection is no outage: pg_terminate_backend (57P01), an idle connection a
 * firewall killed (ECONNRESET, EPIPE) fail one flush and the next one, 250 ms later on a fresh
 * connection, succeeds; refusing the whole fleet's heartbeats for that would turn a blip into
 * 503s. So the intake refuses only after 3 connection failures in a row, or when the last flush
 * that reached Postgres is more than 1 s old (four default flush intervals; a connect that timed
 * out has taken 10 s). Meanwhile heartbeats live in memory for at most about a second. Any answer
 * from Postgres, even a refusal (a deadlock 40P01, a cancel 57014, a bad value 22xxx), shows it
 * is reachable.
 */
export class PostgresReach {
  static readonly FAILURES = 3;
  static readonly STALE_MS = 1_000;
  private failures = 0;

  constructor(private lastReached: Date) {}

  /** A flush got an answer from Postgres (a commit, or an error Postgres itself raised). */
  reached(now: Date): void {
    this.failures = 0;
    this.lastReached = now;
  }

  /** A flush lost or could not open its connection. */
  failed(): void {
    this.failures += 1;
  }

  writable(now: Date): boolean {
    if (this.failures === 0) return true;
    return this.failures < PostgresReach.FAILURES && now.getTime() - this.lastReached.getTime() <= PostgresReach.STALE_MS;
  }
}

/** A heartbeat row or a flush's pings that Postgres refused, to be said once the flush commits. */
interface SetAside {
  err: unknown;
  fields: Record<string, unknown>;
  message: string;
}

export interface FlusherDeps {
  sql: Sql;
  buffer: HeartbeatBuffer;
  clock: Clock;
  log: Logger;
  gapMs: number;
  /** Where each flush (`ingest.flushed`) and each row set aside (`ingest.rejected`) is announced. */
  events?: Events;
}

/**
 * Writes the buffer every flush interval in one transaction: the batch of heartbeats plus this
 * process's coverage watermark ("everything received before `at` is stored", or set aside when
 * Postgres refuses it: see commitIsolating). Heartbeats are coalesced and re-sent every interval,
 * so this is the one write that may commit asynchronously (synchronous_commit=off): a Postgres
 * crash can lose its last few hundred ms, never its integrity.
 */
export class IngestFlusher {
  readonly instanceId = randomUUID();
  private readonly events: Events;
  private readonly reach: PostgresReach;
  /** What the flush in progress took from the buffer: still only in memory until it commits. */
  private taken = 0;
  private lastFlushAt: Date;

  constructor(private readonly deps: FlusherDeps) {
    this.events = deps.events ?? new Events();
    this.reach = new PostgresReach(deps.clock.now());
    this.lastFlushAt = deps.clock.now();
  }

  /**
   * What is answered 202 and not yet stored, and when a flush last committed: read by the metrics
   * at each scrape, without a query. A flush held by a lock takes its batch with it, and the
   * intake keeps answering 202; only these show it (lifeline_ingest_buffered_heartbeats,
   * lifeline_ingest_last_flush_timestamp_seconds).
   */
  state(): IngestState {
    return { buffered: this.deps.buffer.size + this.taken, lastFlushAt: this.lastFlushAt };
  }

  async runOnce(): Promise<number> {
    const { buffer } = this.deps;
    const at = this.deps.clock.now();
    const batch = buffer.take();
    const pings = buffer.takePings();
    const started = performance.now();
    let written: Written;
    this.taken = batch.length + pings.length;
    try {
      written = await this.commit(at, pings, (tx) => writeHeartbeats(tx, batch, at)).catch((err: unknown) => {
        if (!blamesRows(err)) throw err;
        return this.commitIsolating(batch, pings, at, err);
      });
    } catch (err) {
      buffer.restore(batch);
      buffer.restorePings(pings);
      if (isConnectionError(err)) this.reach.failed();
      // A SQLSTATE is Postgres answering; an error without one (a bug here) says nothing either way.
      else if (sqlState(err)?.length === 5) this.reach.reached(at);
      buffer.writable = this.reach.writable(this.deps.clock.now());
      throw err;
    } finally {
      this.taken = 0;
    }
    this.lastFlushAt = this.deps.clock.now();
    this.reach.reached(at);
    buffer.writable = true;
    buffer.carryOn(batch, written.recovering, at);
    this.events.emit('ingest.flushed', written.written, (performance.now() - started) / 1000);
    return written.written;
  }

  /**
   * One flush transaction: the watermark, then the heartbeats as `write` stores them, then the
   * pings' runs, then the evaluator's notice if the flush made nodes due.
   * What it set aside is logged and counted once it has committed: a flush rolled back set nothing
   * aside (its batch and pings go back in the buffer), and the flush that writes them again would
   * say each a second time.
   */
  private async commit(at: Date, pings: PingEvent[], write: (tx: Tx, setAside: SetAside[]) => Promise<Written>): Promise<Written> {
    const { sql, log, gapMs } = this.deps;
    const setAside: SetAside[] = [];
    const written = await sql.begin(async (tx) => {
      // One round trip: postgres.js pipelines queries issued together, in order.
      await Promise.all([tx`set local synchronous_commit = off`, shareHeartbeatWrites(tx)]);
      const { gapFrom } = await advanceCoverage(tx, this.instanceId, at, gapMs);
      const written = await write(tx, setAside);
      if (gapFrom) {
        log.warn({ blind_from: gapFrom, since: at }, 'ingest coverage resumed after a gap; the gap is recorded as unknown');
        // After this flush's heartbeats, received in the dark (before `at`, where coverage now
        // starts): zeroed with the rest, the streak counts only ok reports heard since coverage
        // resumed, as successes_for_recovery after a gap requires.
        await resetAfterGap(tx, at);
      }
      if (pings.length) await this.writePings(tx, pings, at, setAside);
      // Evaluators hear (on commit) that this flush made nodes due (heartbeats that may recover or
      // degrade a node, pings' runs, every node after a gap), so they are judged now, not at the
      // next interval. Only such a flush: one that woke nothing changed no due time, so a pass
      // after it would read only nodes the evaluator's own timer already wakes it for. A deadline
      // waiting on the watermark is among those: it is looked at again every WATERMARK_RECHECK_MS
      // by its own due time, and a pass before that does not read it.
      if (written.woken > 0 || pings.length > 0 || gapFrom) await announceDue(tx);
      return written;
    });
    for (const said of setAside) this.say(said);
    return written;
  }

  /** A row or the pings set aside by a committed flush: logged, and counted by why. */
  private say({ err, fields, message }: SetAside): void {
    const reason = classifyDbError(err);
    this.deps.log.error({ ...fields, code: sqlState(err), reason, error: (err as Error).message }, message);
    this.events.emit('ingest.rejected', reason);
  }

  /**
   * The runs a flush's pings make, in a savepoint: pings are checked before they are buffered, so
   * Postgres refusing them would be a bug, and then they are dropped (logged and counted once the
   * flush commits) rather than holding back every heartbeat behind them.
   */
  private async writePings(tx: Tx, pings: PingEvent[], at: Date, setAside: SetAside[]): Promise<void> {
    try {
      await tx.savepoint(async (sp) => writeRuns(sp, planRuns(pings, await openRuns(sp, [...new Set(pings.map((p) => p.nodeId))])), at));
    } catch (err) {
      if (!blamesRows(err)) throw err;
      setAside.push({ err, fields: { pings: pings.length }, message: 'pings set aside: Postgres refused their runs' });
    }
  }

  /**
   * The batch failed on a row Postgres refuses (a value it cannot store, a broken constraint). One
   * such row must not hold back the fleet: the flush runs again with the heartbeats written in
   * savepoints, halving the batch around the refused rows (see isolateRefused), so every other
   * node's heartbeat is stored and the watermark advances in this same flush. A refused row is
   * dropped, logged and counted; its node's next heartbeat replaces it.
   */
  private commitIsolating(batch: CoalescedHeartbeat[], pings: PingEvent[], at: Date, failure: unknown): Promise<Written> {
    return this.commit(at, pings, async (tx, setAside) => {
      const recovering: string[] = [];
      let woken = 0;
      const result = await isolateRefused(batch, failure, (group) =>
        tx.savepoint(async (sp) => {
          const w = await writeHeartbeats(sp, group, at);
          recovering.push(...w.recovering);
          woken += w.woken;
          return w.written;
        }),
      );
      for (const { row, err } of result.refused) {
        setAside.push({ err, fields: { node_id: row.nodeId, heartbeats: row.count }, message: 'heartbeat set aside: Postgres refused it' });
      }
      return { written: result.written, recovering, woken };
    });
  }

  /** Final flush on shutdown, then leave so the watermark no longer waits for this process. */
  async close(): Promise<void> {
    await this.runOnce();
    await leaveCoverage(this.deps.sql, this.instanceId);
  }
}
