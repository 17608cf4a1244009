/**
 * Every advisory lock the engine takes, in one place, so no two mechanisms can pick the same id by
 * accident. Advisory locks are per database. Single-bigint keys live in 7_346_0xx; the two-int key
 * space is used with the classes below and a hash of what is locked.
 */
export const LOCKS = {
  /** Migrations: engines starting together against an empty database queue up (session lock). */
  migrations: 7_346_001,
  /** Evaluator leadership (session lock on a dedicated connection). */
  evaluatorLeader: 7_346_002,
  /**
   * Heartbeat writes against the evaluator's push-backs (transaction lock): every ingest flush
   * takes it shared for its whole transaction; an evaluator write that takes nodes out of healthy
   * takes it exclusively just before pushing their due times back (see reschedule in
   * src/health/store.ts).
   * (7_346_003 was the storm digest's lock in 0.1.0: not reused, so engines of both versions
   * running side by side in a rolling upgrade never share an id.)
   */
  heartbeatWrites: 7_346_004,
  /** The first admin key of a database without one: engines starting together make one (transaction lock). */
  firstAdminKey: 7_346_010,
  /** LIFELINE_ADMIN_TOKEN's key: engines starting together write it one after the other (transaction lock). */
  bootstrapAdmin: 7_346_011,
} as const;

/** Class of the two-int keys (pg_advisory_xact_lock(class, hash)): per-channel storm counters. */
export const STORM_LOCK_CLASS = 7346;
/** Per-channel storm digests: the one notifier sending a channel's digest (transaction lock). */
export const DIGEST_LOCK_CLASS = 7347;
/** Per status page: the one process keeping its days over (transaction lock; the leader only tries it). */
export const STATUS_PAGE_DAYS_LOCK_CLASS = 7348;
