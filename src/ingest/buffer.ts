import type { PingEvent } from '../jobs/model.ts';
import { failureOf, isOk, worseFailure, type CoalescedHeartbeat, type Heartbeat, type Report } from './model.ts';

/**
 * Heartbeats coalesced per node between flushes: the latest report wins, while the counts keep
 * what recovery needs (how many ok in a row, whether the run was broken) and the worst non-ok
 * report a later one replaced is kept beside it, so a failure followed within the flush by a
 * success is still judged (a failed run and its retry's success 100 ms apart). A node beating every
 * second costs one row write per flush, not one per request. Beside them, the pings of scheduled
 * jobs in arrival order (a start and an end make a run, so they are not coalesced); a ping's
 * success or failure is also a heartbeat of its node.
 */
/**
 * How long a kept failure outlives its node's silence: the longest interval plus the longest grace
 * (1 day each, the API's bounds). A node silent longer is overdue, judged missing by the evaluator,
 * so its failure is no longer the one its recovery follows; and a node deleted on another process,
 * moved to another ingest process or scaled away no longer holds memory here past it.
 */
const KEPT_MS = 2 * 86_400_000;

export class HeartbeatBuffer {
  private pending = new Map<string, CoalescedHeartbeat>();
  /**
   * The non-ok latest reports the last take() handed over, by node; empty when all were ok. The
   * evaluator is woken by that flush, but a pass slower than a flush (seconds for a 100,000-node
   * outage, or a leader failover) reads the node only after the next flush stored an ok over it:
   * so a node whose next reports are all ok carries that report as its failure (see add). In
   * this process only: another ingest process's next report of the node does not know it.
   */
  private flushedFailures = new Map<string, Report>();
  /**
   * Kept failures the store said to carry on (carryOn): nodes it still reads as healthy, their
   * failure not yet judged and their ok streak after it short of successes_for_recovery. Carried
   * into each of their next flushes until one says otherwise, as the flush that meets the threshold
   * records the moment only with the failure in it (see stillRecovering in store.ts). One entry a
   * node at most, dropped by its next flush, by forget when the node is deleted, or once kept
   * longer than KEPT_MS without the node's flush renewing it. In order of keeping, oldest first.
   */
  private recovering = new Map<string, { failure: Report; keptAt: number }>();
  private pings: PingEvent[] = [];
  /**
   * False once flushes have not reached Postgres for a while (PostgresReach) until one does: meanwhile what is added
   * lives only in this process's memory, which a crash loses, so the intake refuses it (503) rather
   * than answer 202 for it.
   */
  writable = true;

  /** Nodes with heartbeats plus pings waiting for the next flush. */
  get size(): number {
    return this.pending.size + this.pings.length;
  }

  addPing(p: PingEvent): void {
    this.pings.push(p);
  }

  /** Hands over the pings buffered so far. */
  takePings(): PingEvent[] {
    const out = this.pings;
    this.pings = [];
    return out;
  }

  /** Puts back pings whose write failed, before those that arrived since. */
  restorePings(batch: PingEvent[]): void {
    this.pings = batch.concat(this.pings);
  }

  /** Returns false when the heartbeat is stale (seq not above one already buffered). */
  add(hb: Heartbeat): boolean {
    const ok = isOk(hb);
    const cur = this.pending.get(hb.nodeId);
    if (!cur) {
      this.pending.set(hb.nodeId, {
        nodeId: hb.nodeId,
        at: hb.at,
        status: hb.status,
        checks: hb.checks,
        seq: hb.seq,
        okRun: ok ? 1 : 0,
        reset: !ok,
        count: 1,
        // Only an ok report may hide the last flush's failure; a non-ok one is judged itself.
        failure: ok ? this.carried(hb.nodeId) : null,
      });
      return true;
    }
    if (hb.seq !== null && cur.seq !== null && hb.seq <= cur.seq) return false;
    // Only a non-ok latest report (okRun 0) is copied: a fleet reporting ok allocates nothing here.
    if (cur.okRun === 0) cur.failure = worseFailure(cur.failure, failureOf(cur));
    cur.at = hb.at;
    cur.status = hb.status;
    cur.checks = hb.checks;
    cur.seq = hb.seq ?? cur.seq;
    cur.count += 1;
    if (ok) cur.okRun += 1;
    else {
      cur.okRun = 0;
      cur.reset = true;
    }
    return true;
  }

  /** The failure a node's first report of a flush carries, if ok; a fleet reporting ok looks up nothing. */
  private carried(nodeId: string): Report | null {
    if (this.flushedFailures.size === 0 && this.recovering.size === 0) return null;
    return this.flushedFailures.get(nodeId) ?? this.recovering.get(nodeId)?.failure ?? null;
  }

  /**
   * After a flush committed at `now`: these nodes of its batch carry their kept failure on (see
   * recovering). A node's reports heard while the flush committed are already buffered without it
   * (take() had let it go): they get it too, when all ok, as add gives it to a first ok report.
   */
  carryOn(batch: CoalescedHeartbeat[], nodeIds: string[], now: Date): void {
    const keptAt = now.getTime();
    for (const [nodeId, kept] of this.recovering) {
      if (kept.keptAt > keptAt - KEPT_MS) break;
      this.recovering.delete(nodeId);
    }
    if (nodeIds.length === 0) return;
    const ids = new Set(nodeIds);
    for (const e of batch) {
      if (!e.failure || !ids.has(e.nodeId)) continue;
      this.recovering.delete(e.nodeId);
      this.recovering.set(e.nodeId, { failure: e.failure, keptAt });
      const since = this.pending.get(e.nodeId);
      if (since && !since.reset) since.failure ??= e.failure;
    }
  }

  /** A deleted node's kept failure goes with it. */
  forget(nodeId: string): void {
    this.recovering.delete(nodeId);
  }

  /** Hands over everything buffered so far and starts a new buffer. */
  take(): CoalescedHeartbeat[] {
    const out = [...this.pending.values()];
    const failures = new Map<string, Report>();
    for (const e of out) {
      const failure = failureOf(e);
      if (failure) failures.set(e.nodeId, failure);
      if (this.recovering.size > 0) this.recovering.delete(e.nodeId);
    }
    this.flushedFailures = failures;
    this.pending = new Map();
    return out;
  }

  /**
   * Puts back a batch whose write failed, under anything that arrived since (which is newer and
   * so wins on every field but the counts, and the kept failure: the worst, the older among equals).
   */
  restore(batch: CoalescedHeartbeat[]): void {
    for (const old of batch) {
      const cur = this.pending.get(old.nodeId);
      if (!cur) {
        this.pending.set(old.nodeId, old);
        continue;
      }
      cur.count += old.count;
      cur.seq ??= old.seq;
      cur.failure = worseFailure(worseFailure(old.failure, failureOf(old)), cur.failure);
      if (!cur.reset) {
        cur.okRun += old.okRun;
        cur.reset = old.reset;
      }
    }
  }
}
