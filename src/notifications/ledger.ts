import type { Sql } from '../db/client.ts';
import { addTimeline } from '../incidents/store.ts';
import { Coalescer, type Batching } from './coalescer.ts';
import { destinationsOf, type Destination } from './destinations.ts';
import { notificationsFor, recipientDetail, type LinkSigning } from './message.ts';
import type { DeliveryRow, Notification } from './model.ts';
import { getDeliveries, recordSent } from './store.ts';

/** A ledger row as a send needs it; destination and message only while the row is unfinished. */
export type LedgerEntry = { row: DeliveryRow; final: true } | { row: DeliveryRow; final: false; destination: Destination; notification: Notification | undefined };

/**
 * Rows per statement, and batches of each kind out at once: one, so what arrives while it is on
 * the wire forms the next. A batch costs about what a single row did (four short queries to read,
 * an update and a timeline insert to mark sent) whatever its size; at 64 sends in flight per
 * process it holds ~20 rows. Two batches out at once made smaller batches: Postgres spent ~240 µs
 * of CPU per delivery against ~190 µs with one (bench section 7b, runs alternated, load 8-13).
 */
export const LEDGER_BATCHING: Batching = { size: 500, inFlight: 1 };

export interface LedgerOptions {
  sql: Sql;
  secretKey: Buffer;
  links?: LinkSigning | undefined;
  batching?: Batching;
}

/**
 * The notifier's reads of the ledger and its `sent` marks, each shared by the sends a process has
 * in flight: the rows of every delivery starting within one event-loop turn are read in one batch
 * (row, destination, message), and the `sent` marks of every send that finished in one turn are
 * written and committed together. `markSent` settles only when its own row's write committed,
 * so a job still completes after its `sent` is recorded, never before; a batch that fails is
 * written again row by row, so one bad row fails only its own job.
 */
export class DeliveryLedger {
  private readonly reads: Coalescer<string, LedgerEntry | undefined>;
  private readonly sents: Coalescer<{ row: DeliveryRow; at: Date }, void>;

  constructor(o: LedgerOptions) {
    const { sql } = o;
    const batching = o.batching ?? LEDGER_BATCHING;
    this.reads = new Coalescer(async (ids) => {
      const rows = await getDeliveries(sql, ids);
      const open = [...rows.values()].filter((r) => r.status !== 'sent' && r.status !== 'dead');
      const [destination, notifications] = await Promise.all([destinationsOf(sql, open, o.secretKey), notificationsFor(sql, open, o.links)]);
      return ids.map((id): LedgerEntry | undefined => {
        const row = rows.get(id);
        if (!row) return undefined;
        if (row.status === 'sent' || row.status === 'dead') return { row, final: true };
        return { row, final: false, destination: destination(row), notification: notifications.get(id) };
      });
    }, batching);
    this.sents = new Coalescer(async (sent) => {
      await recordSent(sql, sent.map(({ row, at }) => ({ id: row.id, at })));
      await addTimeline(
        sql,
        sent.map(({ row, at }) => ({ incident_id: row.incident_id, at, kind: 'notified', detail: { ...recipientDetail(row), channel_type: row.channel_type, event: row.event } })),
      );
      return sent.map(() => undefined);
    }, batching);
  }

  /** The row with what sending it needs; undefined when there is no such row. */
  read(id: string): Promise<LedgerEntry | undefined> {
    return this.reads.add(id);
  }

  /** Resolves once the row is marked sent at `at` (the moment its channel accepted) and committed. */
  markSent(row: DeliveryRow, at: Date): Promise<void> {
    return this.sents.add({ row, at });
  }
}
