import type { Sql, Tx } from '../db/client.ts';
import { isConnectionError } from '../db/errors.ts';
import { Events } from '../events.ts';
import type { Logger } from '../logger.ts';
import { holdsLeaderLock, releaseLeaderLock, tryLeaderLock } from './store.ts';

export class LostLeadership extends Error {
  constructor() {
    super('evaluator lock is no longer held by this session');
    this.name = 'LostLeadership';
  }
}

/**
 * Leader election on a session-level advisory lock held by a dedicated connection (never the pool:
 * a pooled connection can be recycled and the lock would vanish or be unlocked elsewhere).
 *
 *   follower --pg_try_advisory_lock = true--> leader
 *   leader   --lock missing from pg_locks, or the session lost--> follower
 *
 * Every write of a leader's tick runs in a transaction on this same connection and first checks
 * that the lock is still held; if the connection dropped and reconnected, that check fails and
 * nothing is written. So "one writer at a time" is guaranteed by Postgres, not by timing.
 *
 * A lost session also costs the pool: postgres.js 3.4.9 keeps the unsent bytes of a statement
 * written after the close (sql.begin's ROLLBACK, 88 bytes) and queues each reconnect's start-up
 * behind them until 1,024 bytes pile up, so the one connection fails ~7 connects in a row
 * (~50 s), and with `sslmode=prefer`/`require` (8-byte SSLRequests) for ~20 minutes. Hence the
 * session is rebuilt from `connect` on every connection error: the next refresh reconnects at once.
 */
export class Leadership {
  private leader = false;
  private sql: Sql;

  constructor(
    /** Opens the lock's dedicated one-connection pool; called again whenever its session is lost. */
    private readonly connect: () => Sql,
    private readonly log: Logger,
    /** Where taking and losing the lock is announced (`evaluator.leadership`). */
    private readonly events: Events = new Events(),
  ) {
    this.sql = connect();
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** The lock's own connection, for the leader's reads between transactions. */
  get connection(): Sql {
    return this.sql;
  }

  /** Confirms the lock is held, or tries to take it; never throws. */
  async refresh(): Promise<boolean> {
    const sql = this.sql;
    try {
      // Check before taking: session locks stack, and a second acquisition would need two unlocks.
      const held = (await holdsLeaderLock(sql)) || (await tryLeaderLock(sql));
      this.set(held);
    } catch (err) {
      this.log.warn({ err }, 'evaluator lock check failed; acting as follower');
      this.set(false);
      if (isConnectionError(err)) this.renew(sql);
    }
    return this.leader;
  }

  /** Runs `fn` in a transaction that commits only if this session still holds the lock. */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const sql = this.sql;
    try {
      return await sql.begin(async (tx) => {
        if (!(await holdsLeaderLock(tx))) throw new LostLeadership();
        return fn(tx);
      }) as T;
    } catch (err) {
      // Step down only when the lock is really gone: not held any more, or its session ended (a
      // reconnected session does not hold it). Any other error belongs to the work that raised
      // it; the next transaction re-checks the lock before it writes anything anyway.
      if (err instanceof LostLeadership || isConnectionError(err)) this.set(false);
      if (isConnectionError(err)) this.renew(sql);
      throw err;
    }
  }

  async release(): Promise<void> {
    if (!this.leader) return;
    try {
      await releaseLeaderLock(this.sql);
    } finally {
      this.set(false);
    }
  }

  /** Closes the lock's pool and its session (the lock with it, if still held); the lock cannot be taken again after. */
  async close(): Promise<void> {
    await this.sql.end({ timeout: 2 });
  }

  /**
   * Swaps in a fresh pool for `stale`, whose session was lost, unless that was done already (a
   * second failure on it must not end the fresh one, nor a lock it may have taken since). Ended
   * without waiting (`timeout: 0` destroys it at once): nothing it holds is worth keeping.
   */
  private renew(stale: Sql): void {
    if (stale !== this.sql) return;
    this.sql = this.connect();
    stale.end({ timeout: 0 }).catch((err: unknown) => this.log.warn({ err }, 'could not end the lost evaluator lock session'));
  }

  private set(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.log.info({ leader }, leader ? 'became evaluator leader' : 'no longer evaluator leader');
    this.events.emit('evaluator.leadership', leader);
  }
}
