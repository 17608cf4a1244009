import { randomUUID } from 'node:crypto';
import type { StartWindow } from '../../alerting/errors.ts';
import { setMaxListeners } from 'node:events';
import { DELIVERY_LEASE_MS } from '../config.ts';
import type { Sql } from '../db/client.ts';
import { addTimeline } from '../incidents/store.ts';
import { Coalescer, type Batching } from '../coalescer.ts';
import { destinationsOf, type Destination } from './destinations.ts';
import { notificationsFor, recipientDetail, type LinkSigning } from './message.ts';
import type { DeliveryRow, Notification } from './model.ts';
import { leaseDeliveries, recordSent, releaseLeases } from './store.ts';

/**
 * What a sender holds once its read leased a row: the token, the monotonic moment
 * (performance.now()) its send must start by, and a signal aborted at that moment or at `stop()`,
 * whichever comes first, which ends a wait for a connection. It is the send's start window as the
 * channel asks it (StartWindow), so a send needs no window object and closure of its own.
 */
export class Lease implements StartWindow {
  constructor(
    private readonly ledger: DeliveryLedger,
    readonly token: string,
    readonly startBy: number,
    readonly closed: AbortSignal,
  ) {}

  mayStart(): boolean {
    return this.ledger.mayStart(this);
  }
}

/**
 * A ledger row as a send needs it: final; held by another sender's lease (not to be sent now, for
 * about `heldForMs` more); or leased to this sender, with its destination and message. Once the
 * ledger is stopped, no row is read or leased (`stopping`).
 */
export type LedgerEntry =
  | { stopping: true }
  | { row: DeliveryRow; final: true }
  | { row: DeliveryRow; final: false; lease: undefined; heldForMs: number }
  | { row: DeliveryRow; final: false; lease: Lease; destination: Destination; notification: Notification | undefined };

/**
 * How long a read leases a row (`ms`, Postgres's clock) and how long after the read was sent its
 * send may still start (`startWithinMs`, the sender's monotonic clock); DELIVERY_LEASE_MS says why
 * the start window is the first half and the exchange has the second.
 */
export interface LeaseTimes {
  ms: number;
  startWithinMs: number;
}

/** A lease of `ms` whose first half is the start window and whose second covers the exchange. */
export const leaseOf = (ms: number): LeaseTimes => ({ ms, startWithinMs: ms / 2 });

export const DELIVERY_LEASE: LeaseTimes = leaseOf(DELIVERY_LEASE_MS);

/**
 * Rows per statement, and batches of each kind out at once: one, so what arrives while it is on
 * the wire forms the next. A batch costs about what a single row did (to read: the lease, then
 * channels, people, incidents, node labels, resolve notes and acting keys' names, four to seven
 * short queries as the rows need them; to mark sent: an update and a timeline insert) whatever its
 * size; at 64 sends in flight per process it holds ~20 rows. Two batches out at once made smaller
 * batches: Postgres spent ~240 µs of CPU per delivery against ~190 µs with one (bench section 7b,
 * runs alternated, load 8-13).
 */
export const LEDGER_BATCHING: Batching = { size: 500, inFlight: 1 };

const STOPPING: LedgerEntry = { stopping: true };

/** A read batch's start window while a send may still wait for it. */
interface BatchWindow {
  controller: AbortController;
  timer: NodeJS.Timeout;
  /** The leases of the batch's sends that have not said they wait no more (`leave`). */
  waiting: Set<Lease>;
}

export interface LedgerOptions {
  sql: Sql;
  secretKey: Buffer;
  links?: LinkSigning | undefined;
  batching?: Batching;
  lease?: LeaseTimes;
}

/** Leases the rows of a read batch to `token` and reads what sending each leased one needs. */
async function leaseBatch(o: LedgerOptions, ids: string[], token: string, ms: number) {
  const rows = await leaseDeliveries(o.sql, ids, ms, token);
  const open = [...rows.values()].filter((r) => r.leased);
  const [destination, notifications] = await Promise.all([destinationsOf(o.sql, open, o.secretKey), notificationsFor(o.sql, open, o.links)]);
  return { rows, open, destination, notifications };
}

/**
 * The notifier's reads of the ledger and its `sent` marks, each shared by the sends a process has
 * in flight: the rows of every delivery starting within one event-loop turn are read and leased in
 * one batch (row, destination, message), and the `sent` marks of every send that finished in one
 * turn are written and committed together. `markSent` settles only when its own row's write
 * committed, so a job still completes after its `sent` is recorded, never before; a batch that
 * fails is run again row by row, so one bad row fails only its own job (a read batch first gives
 * back the leases it took, so each row's own read can take its lease again).
 *
 * The lease, not the job's lock, decides who may send a row: a read takes it only for an
 * unfinished row no other sender holds, and the send must start before `startWithinMs` has passed
 * since the read was sent (counted from before the statement, so never later than the lease's own
 * start) and before `stop()`. See ARCHITECTURE.md, "Who may send a row".
 */
export class DeliveryLedger {
  private readonly reads: Coalescer<string, LedgerEntry | undefined>;
  private readonly sents: Coalescer<{ row: DeliveryRow; at: Date }, void>;
  private readonly releases: Coalescer<{ id: string; token: string }, void>;
  private stopping = false;
  /**
   * The start windows some send may still wait for, one per read batch that leased rows, by their
   * signal: each with the timer that closes it and the leases of the sends not yet past their wait.
   */
  private readonly windows = new Map<AbortSignal, BatchWindow>();

  constructor(o: LedgerOptions) {
    const { sql } = o;
    const batching = o.batching ?? LEDGER_BATCHING;
    const lease = o.lease ?? DELIVERY_LEASE;
    this.reads = new Coalescer(async (ids) => {
      if (this.stopping) return ids.map(() => STOPPING);
      const startBy = performance.now() + lease.startWithinMs;
      const unique = [...new Set(ids)];
      // One token for every row the batch leases, chosen here rather than by Postgres, so a batch
      // that fails can give back what it took even when it never learnt what that was: a lease
      // statement that committed but whose reply was lost (the connection dropped) left its rows
      // held ~120 s for a read that no longer existed. Rows are only ever compared with their id
      // and token together, and a row of the batch goes to one send only (below), so two sends
      // never hold one row under one token.
      const token = randomUUID();
      const { rows, open, destination, notifications } = await leaseBatch(o, unique, token, lease.ms).catch(async (err: unknown) => {
        // Kept, each row of the batch would wait ~120 s for its lease to lapse, its rerun alone (the
        // Coalescer's) finding it held by this lost read, and a row whose reads always fail would be
        // put back for ever instead of failing its job. A lease statement still running when its
        // connection dropped can commit after this: its rows then wait for the lapse, as before.
        await releaseLeases(sql, unique.map((id) => ({ id, token }))).catch(() => undefined);
        throw err;
      });
      const window = open.length > 0 ? new AbortController() : undefined;
      // Two sends of one row in one batch (a job run again in the same process): the first has the lease.
      const given = new Map<string, Lease>();
      const entries = ids.map((id): LedgerEntry | undefined => {
        const row = rows.get(id);
        if (!row) return undefined;
        if (row.status === 'sent' || row.status === 'dead') return { row, final: true };
        if (!row.leased) return { row, final: false, lease: undefined, heldForMs: row.lease_left_ms };
        if (given.has(id)) return { row, final: false, lease: undefined, heldForMs: lease.ms };
        const leased = new Lease(this, token, startBy, window!.signal);
        given.set(id, leased);
        return { row, final: false, lease: leased, destination: destination(row), notification: notifications.get(id) };
      });
      if (window) this.open(window, startBy, new Set(given.values()));
      return entries;
    }, batching);
    this.sents = new Coalescer(async (sent) => {
      await recordSent(sql, sent.map(({ row, at }) => ({ id: row.id, at })));
      await addTimeline(
        sql,
        sent.map(({ row, at }) => ({ incident_id: row.incident_id, at, kind: 'notified', detail: { ...recipientDetail(row), channel_type: row.channel_type, event: row.event } })),
      );
      return sent.map(() => undefined);
    }, batching);
    this.releases = new Coalescer(async (leases) => {
      await releaseLeases(sql, leases);
      return leases.map(() => undefined);
    }, batching);
  }

  /**
   * Keeps a read batch's start window until it closes, at `startBy` or at `stop()`, or until none
   * of `waiting` (its sends) can wait for it any more: one per batch (~1 KB with its timer), not
   * per send. Kept to `startBy` whatever its sends did, the windows of the last 60 s took 2 to 7 MB
   * at ~2,400 deliveries/s in batches of 20 to 65 (ARCHITECTURE.md); now one lives until the last
   * of its batch's sends has started or given up. A batch read while the stop came gets it aborted
   * already.
   */
  private open(window: AbortController, startBy: number, waiting: Set<Lease>): void {
    // Every send of the batch waiting for a connection listens: up to the batch's size, not a leak.
    setMaxListeners(0, window.signal);
    if (this.stopping) return window.abort();
    this.windows.set(window.signal, { controller: window, timer: setTimeout(() => this.close(window.signal), startBy - performance.now()).unref(), waiting });
  }

  private close(signal: AbortSignal): void {
    const window = this.windows.get(signal);
    if (!window) return;
    this.forget(signal, window);
    window.controller.abort();
  }

  private forget(signal: AbortSignal, window: BatchWindow): void {
    clearTimeout(window.timer);
    this.windows.delete(signal);
  }

  /**
   * Says the send holding `lease` waits for its start window no more: it is past its wait for a
   * connection (it asks `mayStart`, which says so itself), or its run ended. Once no send of the
   * batch can wait for it, the window is forgotten, neither aborted nor kept: no one listens. Any
   * number of times per lease.
   */
  leave(lease: Lease): void {
    const window = this.windows.get(lease.closed);
    if (window?.waiting.delete(lease) && window.waiting.size === 0) this.forget(lease.closed, window);
  }

  /** The row with what sending it needs, leased to the caller when it may send it; undefined when there is no such row. */
  read(id: string): Promise<LedgerEntry | undefined> {
    return this.reads.add(id);
  }

  /**
   * Whether a send holding `lease` may still start writing its message. A channel asks once it no
   * longer waits for a connection, at the last moment before the first byte (StartWindow), so the
   * send leaves its window here.
   */
  mayStart(lease: Lease): boolean {
    this.leave(lease);
    return !this.stopping && performance.now() < lease.startBy;
  }

  /**
   * Gives back a lease whose send never started, so the row's next run can take it at once. The
   * leases given back in one turn (every send waiting for a connection at a stop) share a statement.
   */
  release(id: string, lease: Lease): Promise<void> {
    return this.releases.add({ id, token: lease.token });
  }

  /** Resolves once the row is marked sent at `at` (the moment its channel accepted) and committed. */
  markSent(row: DeliveryRow, at: Date): Promise<void> {
    return this.sents.add({ row, at });
  }

  /**
   * From now on no send starts: one still waiting (for a connection, say) gives up at once, gives
   * its lease back and its job goes back to the queue unspent, where the process would otherwise
   * start sends it cannot mark, and its row would stay leased to it (up to 120 s) while another
   * process could send it; and no read takes a lease, so a job taken while the worker closes goes
   * back without one.
   */
  stop(): void {
    this.stopping = true;
    for (const signal of [...this.windows.keys()]) this.close(signal);
  }
}
