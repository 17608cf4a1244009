import type { Clock } from '../clock.ts';
import { Events } from '../events.ts';
import type { Sql } from '../db/client.ts';
import { buryOutbox, type ClaimedEvent, claimOutbox, deferOutbox, deleteOutbox, reclaimOutbox } from './store.ts';
import type { Logger } from '../logger.ts';
import type { HandlerRegistry } from './registry.ts';

export interface DispatcherDeps {
  sql: Sql;
  registry: HandlerRegistry;
  clock: Clock;
  log: Logger;
  maxAttempts: number;
  /** Events claimed per transaction. 500 amortises the claim and the delete over many events. */
  batchSize?: number;
  /** First retry delay, doubled per attempt up to `backoffCapMs`. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Where each event's outcome is announced (`outbox.event`), with its latency once handled. */
  events?: Events;
}

export function backoffMs(attempts: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * Claims a batch with FOR UPDATE SKIP LOCKED and handles it inside the claiming transaction, so
 * the handlers' database effects and the events' deletion commit together: a crash anywhere rolls
 * both back and the events are handled again, once. The batch is the fast path; if any handler
 * fails, the batch is rolled back and its events are retried one by one, so a single bad event
 * delays only its own key (whose later events wait behind it, preserving order).
 */
export class OutboxDispatcher {
  private readonly batchSize: number;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly events: Events;

  constructor(private readonly deps: DispatcherDeps) {
    this.events = deps.events ?? new Events();
    this.batchSize = deps.batchSize ?? 500;
    this.baseMs = deps.backoffBaseMs ?? 1000;
    this.capMs = deps.backoffCapMs ?? 5 * 60_000;
  }

  /**
   * Handles one batch; returns how many events were claimed. Anything claimed means: go again at
   * once, since handling a batch makes each key's next event claimable; a full batch may as well
   * have been the last one. Only an empty claim says nothing is due.
   */
  async runOnce(): Promise<number> {
    const now = this.deps.clock.now();
    let claimed: ClaimedEvent[] = [];
    const after: Array<() => Promise<void>> = [];
    try {
      await this.deps.sql.begin(async (tx) => {
        claimed = await claimOutbox(tx, now, this.batchSize, this.deps.registry.topics());
        if (claimed.length === 0) return;
        await this.deps.registry.dispatch(claimed, { tx, now, afterCommit: (fn) => after.push(fn) });
        await deleteOutbox(tx, claimed.map((e) => e.id));
      });
    } catch (err) {
      if (claimed.length === 0) throw err;
      this.deps.log.warn({ err, events: claimed.length }, 'outbox batch failed; retrying its events one by one');
      for (const e of claimed) await this.handleAlone(e.id);
      return claimed.length;
    }
    await this.runAfterCommit(after);
    this.completed(claimed, now);
    return claimed.length;
  }

  private async handleAlone(id: string): Promise<void> {
    const { sql, registry, clock } = this.deps;
    const now = clock.now();
    const after: Array<() => Promise<void>> = [];
    let event: ClaimedEvent | undefined;
    try {
      await sql.begin(async (tx) => {
        event = await reclaimOutbox(tx, id);
        if (!event) return; // handled or claimed by another worker meanwhile
        await registry.dispatch([event], { tx, now, afterCommit: (fn) => after.push(fn) });
        await deleteOutbox(tx, [id]);
      });
    } catch (err) {
      await this.recordFailure(id, err);
      return;
    }
    if (!event) return;
    await this.runAfterCommit(after);
    this.completed([event], now);
  }

  private async recordFailure(id: string, err: unknown): Promise<void> {
    const { sql, clock, log, maxAttempts } = this.deps;
    const now = clock.now();
    const message = err instanceof Error ? err.message : String(err);
    await sql.begin(async (tx) => {
      const event = await reclaimOutbox(tx, id);
      if (!event) return;
      const attempts = event.attempts + 1;
      if (attempts >= maxAttempts) {
        await buryOutbox(tx, id, message, now);
        log.error({ event_id: id, topic: event.topic, key: event.key, attempts, err }, 'outbox event is dead after its last attempt');
        this.events.emit('outbox.event', event.topic, 'dead');
      } else {
        const delay = backoffMs(attempts, this.baseMs, this.capMs);
        await deferOutbox(tx, id, new Date(now.getTime() + delay), message);
        log.warn({ event_id: id, topic: event.topic, key: event.key, attempts, retry_in_ms: delay, err }, 'outbox handler failed; will retry');
        this.events.emit('outbox.event', event.topic, 'failed');
      }
    });
  }

  /** After-commit work is idempotent by contract; a failure here is logged, never re-raised. */
  private async runAfterCommit(after: Array<() => Promise<void>>): Promise<void> {
    for (const fn of after) {
      try {
        await fn();
      } catch (err) {
        this.deps.log.error({ err }, 'after-commit step failed');
      }
    }
  }

  /**
   * Latency from when each event came due, not when it was written: an escalation timer written
   * an hour ahead measured from its writing landed past the histogram's last bucket (60 s), and its
   * p99 read the escalation delay rather than how late the dispatcher was.
   */
  private completed(events: ClaimedEvent[], now: Date): void {
    for (const e of events) {
      this.events.emit('outbox.event', e.topic, 'handled', Math.max(0, (now.getTime() - e.due_at.getTime()) / 1000));
    }
  }
}
