import {
  createPostgresBackend,
  DEFAULT_SCHEMA,
  Queue,
  quoteSchemaName,
  runMigrations,
  Worker,
  type IQueueBackend,
  type JobProgress,
  type Processor,
  type QueueOptions,
  type WorkerOptions,
} from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ENGINE_APPLICATIONS, withoutApplicationName } from '../db/client.ts';
import { isConnectionError } from '../db/errors.ts';

/**
 * Where BullMQ keeps its jobs: Redis when REDIS_URL is set, else BullMQ's PostgreSQL backend in the
 * engine's own database. Everything that builds a Queue or a Worker goes through here, so the rest
 * of the engine never knows which one runs.
 */
export type QueueBackendName = 'redis' | 'postgres';

export type QueueSettings = Omit<QueueOptions, 'connection' | 'prefix'>;
export type WorkerSettings = Omit<WorkerOptions, 'connection' | 'prefix'>;
/**
 * A Queue or Worker of either backend. They differ only in their connection's type, which BullMQ
 * uses both ways (options in, factories taking options), so only `any` covers both.
 */
export type AnyQueue = Queue<any, any, string, any, any, string, IQueueBackend, any>;
export type AnyWorker = Worker<any, any, string, IQueueBackend, JobProgress, any>;

export interface QueueBackend {
  readonly name: QueueBackendName;
  queue(name: string, opts: QueueSettings): AnyQueue;
  worker(name: string, processor: Processor, opts: WorkerSettings): AnyWorker;
  /** Throws at once when a job could not be added now, instead of waiting for the store to answer. */
  assertConnected(): void;
  /** Answers when the job store answers; rejects otherwise. */
  ping(): Promise<void>;
  /**
   * A token naming the job store now answering when it may be missing jobs of `queueName` that
   * the ledger still waits on; undefined while nothing says a job was lost. Pass it to
   * `markSynced` once every unfinished job has been added again.
   */
  unsynced(queueName: string): Promise<string | undefined>;
  markSynced(queueName: string, token: string): Promise<void>;
  close(): Promise<void>;
  /**
   * Drops the connections of every Queue and Worker made here, without waiting for an answer:
   * for a stop whose closes did not finish in time. Against a Redis that does not answer, a
   * Worker's close waits for ever (ioredis holds its QUIT until Redis is back).
   */
  drop(): void;
}

export interface QueueBackendOptions {
  /** Set: Redis. Unset: Postgres, in the database at `databaseUrl`. */
  redisUrl: string | undefined;
  databaseUrl: string;
  /** Redis key prefix (several engines on one Redis); Postgres needs none (one database per engine). */
  prefix: string;
  /** Each failed connection or reconnection of the shared Redis connection (about one a second while it is away). */
  onConnectionError?: (err: Error) => void;
}

export async function openQueueBackend(o: QueueBackendOptions): Promise<QueueBackend> {
  return o.redisUrl ? redisBackend(o.redisUrl, o.prefix, o.onConnectionError) : await postgresBackend(o.databaseUrl);
}

/**
 * How long a Redis connection waits before its `attempt`-th reconnection: 50 ms more each time, at
 * most 2 s (ioredis's own schedule), for the producer and the workers alike. BullMQ's default for
 * the connections it builds waits e^attempt seconds, up to 20 s: after a Redis outage of 40 s the
 * sweeper had re-added every delivery within 2 s of Redis answering, and the jobs then sat waiting
 * another 17 s for the worker's next attempt. A failed attempt costs one refused TCP connect.
 */
const reconnectDelayMs = (attempt: number): number => Math.min(attempt * 50, 2000);

function redisBackend(url: string, prefix: string, onConnectionError: (err: Error) => void = () => {}): QueueBackend {
  // Producers fail fast when Redis is away (no offline queue): the ledger row stays un-enqueued
  // and the notifier's sweeper adds it when Redis is back.
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: reconnectDelayMs });
  redis.on('error', onConnectionError); // also reported where an enqueue or a ping fails; reconnects on its own
  const syncedKey = (queueName: string) => `${prefix}:${queueName}:synced-run-id`;
  const made: Array<AnyQueue | AnyWorker> = [];
  const keep = <T extends AnyQueue | AnyWorker>(q: T): T => (made.push(q), q);
  return {
    name: 'redis',
    queue: (name, opts) => keep(new Queue(name, { ...opts, connection: redis, prefix })),
    // Workers block on their own connections, retrying for ever while Redis is away. The jobs whose
    // `sent` marks commit in one ledger batch complete in the same tick: auto-pipelining sends their
    // completions as one write and Redis reads them as one, instead of one each (the notifier's
    // write syscalls per webhook delivery went from 2.7 to 1.7, bench section 7b).
    worker: (name, processor, opts) =>
      keep(new Worker(name, processor, { ...opts, connection: { url, maxRetriesPerRequest: null, enableAutoPipelining: true, retryStrategy: reconnectDelayMs }, prefix })),
    assertConnected() {
      // BullMQ waits for a connection that has never been ready instead of failing: in a process
      // started while Redis was down, the fan-out's enqueue (awaited after its commit) would hold
      // its outbox loop, and with it incidents and escalations, until Redis answered.
      if (redis.status !== 'ready') throw new Error(`Redis is not connected (${redis.status})`);
    },
    ping: async () => void (await redis.ping()),
    /**
     * Redis keeps jobs apart from the ledger: a restart without persistence, a FLUSHALL or a
     * failover to a replica that lagged loses them. The run_id changes on every restart and
     * failover, and the marker naming the last run_id given every job is lost with the data.
     */
    async unsynced(queueName) {
      const [info, synced] = await Promise.all([redis.info('server'), redis.get(syncedKey(queueName))]);
      const runId = /^run_id:(\w+)/m.exec(info)?.[1];
      if (runId === undefined) throw new Error('Redis INFO server has no run_id');
      return runId === synced ? undefined : runId;
    },
    async markSynced(queueName, token) {
      await redis.set(syncedKey(queueName), token);
    },
    async close() {
      redis.disconnect();
    },
    drop() {
      // BullMQ's disconnect waits for the socket's end, which a connection retrying a dead Redis
      // never reaches; it does stop the retries at once, and nothing here waits for the rest.
      for (const q of made) q.disconnect().catch(() => {});
      redis.disconnect();
    },
  };
}

/**
 * Connections BullMQ may hold per process, besides the engine's own pool (LIFELINE_DB_POOL_MAX):
 * a worker keeps one for LISTEN, and claims, completions and adds share the rest, each holding a
 * connection for its query. With 16 sends in flight, 2,000 no-op jobs on a loaded
 * 2-core machine went at 150-180 jobs/s with 5, 200-300 with 10 and 220-400 with 17: 10 keeps
 * most of the gain for a bounded cost.
 */
export const QUEUE_POOL_MAX = 10;

async function postgresBackend(databaseUrl: string): Promise<QueueBackend> {
  // One pool for every Queue and Worker of the process, handed to BullMQ ready-made: given a URL,
  // BullMQ opens a pool per Queue and per Worker (and loads `pg` with require(), which an ES
  // module does not have).
  const pool = new pg.Pool({
    connectionString: withoutApplicationName(databaseUrl),
    max: QUEUE_POOL_MAX,
    application_name: ENGINE_APPLICATIONS.queue,
    // BullMQ's SQL names its tables and functions unqualified: a pool it did not build must
    // resolve them in its schema.
    options: `-c search_path=${quoteSchemaName(DEFAULT_SCHEMA)}`,
    // A producer finds the database away within 5 s rather than waiting for it for ever.
    connectionTimeoutMillis: 5000,
    keepAlive: true,
    idleTimeoutMillis: 60_000,
  });
  pool.on('error', () => {}); // an idle connection dropped; the next query opens another
  // BullMQ only checks the schema of a pool it did not build: migrate it here, once per process
  // (its own advisory lock, 0x42554c4c, serialises engines starting together).
  const client = await pool.connect();
  try {
    await runMigrations(client, DEFAULT_SCHEMA);
  } finally {
    client.release();
  }
  const synced = new Set<string>();
  return {
    name: 'postgres',
    queue: (name, opts) => new Queue(name, { ...opts, connection: pool }, createPostgresBackend),
    worker: (name, processor, opts) => new Worker(name, processor, { ...opts, connection: pool }, createPostgresBackend),
    assertConnected() {},
    ping: async () => void (await pool.query('select 1')),
    /**
     * Jobs live in the ledger's database: a restart, a failover or a restore from backup keeps
     * or loses them with the ledger, and a job is added before its row is marked enqueued, so a
     * row marked enqueued always has its job. What remains is an engine that ran on Redis before:
     * each process gives Postgres every unfinished delivery once, as it starts (adding a job
     * that exists is a no-op).
     */
    unsynced: async (queueName) => (synced.has(queueName) ? undefined : 'postgres'),
    async markSynced(queueName) {
      synced.add(queueName);
    },
    async close() {
      await pool.end();
    },
    // The pool is the engine's own Postgres: close() ends it, and a process that stops closes its sockets.
    drop() {},
  };
}

/**
 * The store a failed pass waited on, when the failure is that store being away: the queues' store
 * not connected, or Postgres' connection lost or refused. Undefined for any other failure (a bug
 * keeps its stack). For Loop's `outage`.
 */
export function storeAway(backend: Pick<QueueBackend, 'name' | 'assertConnected'>, err: unknown): string | undefined {
  try {
    backend.assertConnected();
  } catch {
    return backend.name === 'redis' ? 'Redis' : 'Postgres';
  }
  return isConnectionError(err) ? 'Postgres' : undefined;
}
