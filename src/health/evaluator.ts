import type { Clock } from '../clock.ts';
import type { Queryable, Sql, Tx } from '../db/client.ts';
import { classifyDbError, isTransientDbError } from '../db/errors.ts';
import { Events } from '../events.ts';
import { readCoverage } from '../ingest/store.ts';
import type { Logger } from '../logger.ts';
import { anyWindowAhead, maintenanceSpans } from '../maintenance/store.ts';
import { backoffMs } from '../outbox/dispatcher.ts';
import type { Coverage } from './decide.ts';
import { LostLeadership, type Leadership } from './leader.ts';
import { apply, plan } from './machine.ts';
import type { DueRow, HealthWrite, PassCursor } from './model.ts';
import { deferFailedNode, earliestDue, loadDue, loadDueNodes, mostlyDue, withoutParallelWorkers } from './store.ts';

export interface EvaluatorDeps {
  leadership: Leadership;
  clock: Clock;
  log: Logger;
  intervalMs: number;
  coverageGapMs: number;
  /** Rows judged and written per transaction; 5,000 keeps one write well under a second. */
  batchSize?: number;
  /** Delay before a node that could not be judged is tried again, doubled per failure up to the cap. */
  retryBaseMs?: number;
  retryCapMs?: number;
  /**
   * Where a leading pass (`evaluator.tick`), each committed transition, each node that could not be
   * judged (`evaluator.node_error`) and a pass cut short by a transient error (`loop.error`) are
   * announced.
   */
  events?: Events;
  /**
   * A pool the next batch is read on while the last one is written on the lock's session, so a
   * pass over many batches costs about the larger of reading and writing rather than their sum
   * (both are Postgres's, on two backends). Without it each batch is read in its own transaction.
   */
  reader?: Sql;
}

export interface TickResult {
  leader: boolean;
  evaluated: number;
  transitions: number;
  /** Nodes whose judgement failed this pass (pushed out with a backoff). */
  failed: number;
  /** How long the loop may sleep: until the earliest due node, at most one interval. */
  sleepMs: number;
}

// A node woken again while being judged is due at once; 10 ms keeps that from spinning the loop.
const MIN_SLEEP_MS = 10;
// First retry of a pass cut short by a transient error (a deadlock, a cancelled statement).
const TRANSIENT_RETRY_MS = 100;

/** What a batch is judged on, read in one round trip. */
interface Read {
  coverage: Coverage | undefined;
  rows: DueRow[];
  windowAhead: boolean;
}

interface Judged {
  transitions: number;
  failed: number;
}

/** Where the batch after `rows` (read at `cursor`) starts: the same order, after its last row. */
const cursorAfter = (cursor: PassCursor | undefined, rows: DueRow[]): PassCursor => {
  const last = rows[rows.length - 1]!;
  return cursor && 'from' in cursor ? { from: cursor.from, after: last.node_id } : { dueUs: last.due_us, nodeId: last.node_id };
};

// Lower-case hex uuids sort as text as Postgres sorts them.
const inNodeOrder = (rows: DueRow[]) => rows.every((r, i) => i === 0 || rows[i - 1]!.node_id < r.node_id);

// Below every node id: a walk by node id starts here.
const FIRST_NODE = '00000000-0000-0000-0000-000000000000';

const NOTHING: Judged = { transitions: 0, failed: 0 };
const add = (a: Judged, b: Judged): Judged => ({ transitions: a.transitions + b.transitions, failed: a.failed + b.failed });

/**
 * One evaluator pass. Followers only try to take the lock. The leader walks the due nodes in
 * batches (one transaction each, on the lock's own connection) until a batch comes back short,
 * then sleeps until the earliest pending deadline so a silent node is caught at its deadline, not
 * up to a whole interval later.
 *
 * A batch that fails on its data (not on a transient error or the lost lock) is split in halves,
 * each judged in its own transaction, until the nodes that fail stand alone; those are counted,
 * logged and pushed out with a backoff, and judged alone from then on until one succeeds. The
 * rest of the fleet is judged in the same pass, and leadership is kept.
 */
export class Evaluator {
  private readonly retryBaseMs: number;
  private readonly retryCapMs: number;
  private transientFailures = 0;
  private readonly events: Events;

  constructor(private readonly deps: EvaluatorDeps) {
    this.events = deps.events ?? new Events();
    this.retryBaseMs = deps.retryBaseMs ?? 1000;
    this.retryCapMs = deps.retryCapMs ?? 5 * 60_000;
  }

  async runOnce(): Promise<TickResult> {
    const { leadership, clock, intervalMs, log } = this.deps;
    if (!(await leadership.refresh())) return { leader: false, evaluated: 0, transitions: 0, failed: 0, sleepMs: intervalMs };
    const started = performance.now();
    const now = clock.now();
    const batchSize = this.deps.batchSize ?? 5000;
    let evaluated = 0;
    let judged = NOTHING;
    let cursor: PassCursor | undefined;
    let ahead = this.readAhead(now, cursor, batchSize);
    try {
      for (;;) {
        const read = await ahead;
        // The next batch starts after this one's last row, so it can be read while this is written.
        const next = read?.rows.length === batchSize ? await this.nextCursor(now, cursor, read.rows) : undefined;
        ahead = next && this.readAhead(now, next, batchSize);
        const batch = await this.judgeBatch(now, cursor, batchSize, read);
        evaluated += batch.rows.length;
        judged = add(judged, batch.judged);
        if (batch.rows.length < batchSize) break;
        cursor = next ?? (await this.nextCursor(now, cursor, batch.rows));
      }
    } catch (err) {
      if (!leadership.isLeader || !isTransientDbError(err)) throw err;
      // Nobody's fault: the same pass is tried again shortly (what committed stays committed).
      this.transientFailures += 1;
      const retryMs = backoffMs(this.transientFailures, Math.min(TRANSIENT_RETRY_MS, intervalMs), intervalMs);
      log.warn({ err, retry_in_ms: retryMs }, 'evaluator pass cut short by a transient database error; retrying');
      this.events.emit('loop.error', 'evaluator', err);
      return { leader: true, evaluated, transitions: judged.transitions, failed: judged.failed, sleepMs: retryMs };
    }
    this.transientFailures = 0;
    const next = await earliestDue(leadership.connection);
    this.events.emit('evaluator.tick', (performance.now() - started) / 1000, clock.now());
    const untilNext = next ? next.getTime() - clock.now().getTime() : intervalMs;
    const sleepMs = Math.max(MIN_SLEEP_MS, Math.min(intervalMs, untilNext));
    return { leader: true, evaluated, transitions: judged.transitions, failed: judged.failed, sleepMs };
  }

  /**
   * Where the batch after a full one starts. After the pass's first batch, if most of the fleet is
   * still due, the rest of the due set is walked by node id (loadDue in store.ts) — unless that
   * batch came in node id order already: nodes due at one instant (every node, after an ingest gap)
   * sort by id in the due index too, and there the walk measured no cheaper in all (BENCHMARKS.md).
   */
  private async nextCursor(now: Date, cursor: PassCursor | undefined, rows: DueRow[]): Promise<PassCursor> {
    const next = cursorAfter(cursor, rows);
    if (cursor || 'from' in next || inNodeOrder(rows)) return next;
    const sql = this.deps.reader ?? this.deps.leadership.connection;
    return (await mostlyDue(sql, now, next)) ? { from: next, after: FIRST_NODE } : next;
  }

  /**
   * The batch after `cursor` read on the reader, in a read-only transaction of its own; undefined
   * without a reader. Its rows are judged in the lock's transaction like rows read there: every
   * write is a compare-and-set on what was read (version, wake, heartbeat count), and each
   * statement reads its own snapshot under read committed either way.
   */
  private readAhead(now: Date, cursor: PassCursor | undefined, limit: number): Promise<Read> | undefined {
    const { reader } = this.deps;
    if (!reader) return undefined;
    const read = reader.begin('read only', (tx) => this.readDue(tx, now, cursor, limit)) as Promise<Read>;
    // Awaited by the loop unless the pass ends first (an error): then nobody wants it.
    read.catch(() => {});
    return read;
  }

  private readDue(tx: Tx, now: Date, cursor: PassCursor | undefined, limit: number): Promise<Read> {
    return this.read(tx, now, (sql) => loadDue(sql, now, cursor, limit));
  }

  /**
   * The batch's reads in one round trip, in a transaction, sent in this order: the watermark
   * before the rows.
   */
  private async read(tx: Tx, now: Date, load: (sql: Queryable) => Promise<DueRow[]>): Promise<Read> {
    const [, coverage, rows, windowAhead] = await Promise.all([
      withoutParallelWorkers(tx),
      readCoverage(tx, now, this.deps.coverageGapMs),
      load(tx),
      anyWindowAhead(tx, now),
    ]);
    return { coverage, rows, windowAhead };
  }

  /**
   * The next batch of due nodes (read ahead, or read here) in one transaction (the happy path),
   * then any node among them that failed before, alone. Returns every row read, for the cursor.
   */
  private async judgeBatch(now: Date, cursor: PassCursor | undefined, limit: number, readAhead: Read | undefined): Promise<{ rows: DueRow[]; judged: Judged }> {
    let rows: DueRow[] = [];
    const fresh = (r: DueRow) => r.failures === 0;
    let judged: Judged;
    try {
      judged = await this.judgeIn(async (tx) => {
        const read = readAhead ?? (await this.readDue(tx, now, cursor, limit));
        rows = read.rows;
        return { ...read, rows: rows.filter(fresh) };
      }, now);
    } catch (err) {
      const ids = rows.filter(fresh).map((r) => r.node_id);
      if (!this.blamable(err) || ids.length === 0) throw err;
      this.deps.log.warn({ err, nodes: ids.length }, 'evaluator batch failed; judging its nodes in parts to find the one at fault');
      judged = await this.split(ids, err, now);
    }
    for (const r of rows) if (!fresh(r)) judged = add(judged, await this.attempt([r.node_id], now));
    return { rows, judged };
  }

  /** Judges `ids` in one transaction; if that fails on the data, splits them until the culprits stand alone. */
  private async attempt(ids: string[], now: Date): Promise<Judged> {
    try {
      return await this.judgeIn((tx) => this.read(tx, now, (sql) => loadDueNodes(sql, now, ids)), now);
    } catch (err) {
      if (!this.blamable(err)) throw err;
      return this.split(ids, err, now);
    }
  }

  private async split(ids: string[], err: unknown, now: Date): Promise<Judged> {
    if (ids.length === 1) return this.deferFailed(ids[0]!, err);
    const mid = Math.ceil(ids.length / 2);
    return add(await this.attempt(ids.slice(0, mid), now), await this.attempt(ids.slice(mid), now));
  }

  /**
   * One transaction: take the nodes `load` returns, decide, write. Transitions are announced once
   * the transaction has committed, so a rolled-back attempt counts nothing.
   */
  private async judgeIn(load: (tx: Tx) => Promise<Read>, now: Date): Promise<Judged> {
    const won = await this.deps.leadership.transaction(async (tx): Promise<HealthWrite[]> => {
      const { coverage, rows, windowAhead } = await load(tx);
      // No ingest has ever run: there is nothing any node could have been judged on.
      if (!coverage) return [];
      return rows.length ? this.write(tx, rows, coverage, windowAhead, now) : [];
    });
    for (const w of won) for (const t of w.transitions) this.events.emit('evaluator.transition', t.from, t.to);
    return { transitions: won.reduce((n, w) => n + w.transitions.length, 0), failed: 0 };
  }

  private async write(tx: Tx, rows: DueRow[], coverage: Coverage, windowAhead: boolean, now: Date): Promise<HealthWrite[]> {
    const inMaintenance = rows.filter((r) => r.state === 'maintenance').map((r) => r.node_id);
    const maintenance = await maintenanceSpans(tx, rows.map((r) => r.node_id), now, windowAhead, inMaintenance);
    return apply(tx, plan(rows, coverage, maintenance, now), now);
  }

  /**
   * A failure is blamed on the nodes only when it is about them: not a lost lock (nothing can be
   * written) and not a transient database error (the same work may succeed unchanged).
   */
  private blamable(err: unknown): boolean {
    return !(err instanceof LostLeadership) && !isTransientDbError(err);
  }

  /** Counts and logs a node that could not be judged, and pushes it out with a backoff. */
  private async deferFailed(nodeId: string, err: unknown): Promise<Judged> {
    const { leadership, clock, log } = this.deps;
    const kind = classifyDbError(err);
    this.events.emit('evaluator.node_error', kind);
    try {
      const deferred = await leadership.transaction((tx) =>
        deferFailedNode(tx, nodeId, clock.now(), (failures) => backoffMs(failures, this.retryBaseMs, this.retryCapMs)),
      );
      log.warn({ err, node_id: nodeId, kind, failures: deferred?.failures, retry_at: deferred?.dueAt }, 'could not judge a node; it is retried alone after a backoff');
    } catch (deferErr) {
      if (!this.blamable(deferErr)) throw deferErr;
      // The node stays due and is found again by the next pass.
      log.error({ err, deferErr, node_id: nodeId, kind }, 'could not judge a node, nor record the failure');
    }
    return { transitions: 0, failed: 1 };
  }
}
