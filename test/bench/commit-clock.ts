import type { Tx } from '../../src/db/client.ts';
import { Leadership } from '../../src/health/leader.ts';

export interface EvaluatorCommit {
  /** The transaction id as `xmin` shows it on the rows it wrote (32 bits). */
  xmin: string;
  /** Epoch ms just before COMMIT was sent: the commit happened after this. */
  sentAt: number;
  /** Epoch ms when COMMIT was acknowledged: the rows were visible by then. */
  ackAt: number;
}

/**
 * The evaluator's Leadership, noting when each write transaction of a pass commits. Every
 * evaluator write goes through `transaction` (one per batch), so this is where a transition's
 * commit can be timed without touching the engine: at the end of the batch, inside its
 * transaction, one more statement reads the transaction id; the rows the batch wrote carry it as
 * `xmin`, which ties each node_state_log row to the commit that made it visible.
 */
export class CommitClockLeadership extends Leadership {
  readonly commits: EvaluatorCommit[] = [];

  override async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const seen: { xid?: string | null; sentAt?: number } = {};
    const value = await super.transaction(async (tx) => {
      const result = await fn(tx);
      const [row] = await tx<{ xid: string | null }[]>`select pg_current_xact_id_if_assigned()::text as xid`;
      seen.xid = row?.xid ?? null;
      seen.sentAt = Date.now();
      return result;
    });
    // A transaction that wrote nothing has no id and nothing to time.
    if (seen.xid) this.commits.push({ xmin: String(BigInt(seen.xid) % 2n ** 32n), sentAt: seen.sentAt!, ackAt: Date.now() });
    return value;
  }
}
