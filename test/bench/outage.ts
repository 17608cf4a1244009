// One mass outage driven through the real on-call chain, for the on-call section: a healthy fleet
// in its own database goes silent, one evaluator pass takes every node down, and the outbox
// workers, the BullMQ notifier and a receiver in a child process carry each transition to a
// webhook. Returns raw timings; oncall.ts turns them into the report.
import { randomBytes, randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { createChannels, type ChannelRegistry } from '../../alerting/index.ts';
import { LOCAL_RECEIVERS } from '../helpers/local-receivers.ts';
import { sealSecret } from '../../alerting/secret-box.ts';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { systemClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { insertChannel } from '../../src/channels/store.ts';
import { createSql, type Sql } from '../../src/db/client.ts';
import { insertPolicy } from '../../src/oncall/store.ts';
import { Evaluator } from '../../src/health/evaluator.ts';
import { coverageGapMs } from '../../src/ingest/flusher.ts';
import { Events } from '../../src/events.ts';
import { countEvents, createMetrics } from '../../src/metrics.ts';
import { sendDigests } from '../../src/notifications/digest.ts';
import { DEFAULT_RETRY } from '../../src/notifications/retry.ts';
import { DeliveryQueue, NOTIFICATIONS_QUEUE } from '../../src/notifications/queue.ts';
import { openQueueBackend, type QueueBackend } from '../../src/queue/backend.ts';
import { registerOnCallHandlers } from '../../workers/handlers.ts';
import { OutboxDispatcher } from '../../src/outbox/dispatcher.ts';
import type { HandlerRegistry } from '../../src/outbox/registry.ts';
import { startNotifier } from '../../workers/notifier.ts';
import { startOutboxWorkers } from '../../workers/outbox.ts';
import { REDIS_URL, spawnScript } from './children.ts';
import { CommitClockLeadership, type EvaluatorCommit } from './commit-clock.ts';
import { createBenchDatabase, type BenchDatabase } from './databases.ts';
import { allDueSilent } from './evaluator.ts';
import { benchLog, progress } from './log.ts';
import type { Arrivals } from './receiver.ts';
import { int } from './report.ts';
import { sleep, waitFor, type Scope } from './scope.ts';
import { seedCoverage, seedFleet } from './seed.ts';
import { TimedRegistry, type HandlerTime } from './timed-registry.ts';
import { backendCpu, backendCpuSince } from './proc-cpu.ts';

/** The engine's defaults (LIFELINE_STORM_THRESHOLD, digest interval, outbox poll and attempts). */
export const ENGINE_DEFAULTS = loadConfig({});
export const WORKERS = 2;
export const EMPTY_POLL_MS = 20;
/** Application names of the evaluator's session and of the pool the other roles share. */
export const ENGINE_SESSIONS = ['lifeline-bench-evaluator', 'lifeline-bench-oncall'] as const;
const LOOP_SAMPLE_MS = 10;
/** The histogram holds whole sampling periods (ns); the delay is what exceeds the period. */
const lateBy = (ns: number) => Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);

export interface OutageSpec {
  label: string;
  nodes: number;
  /**
   * lifeline: startOutboxWorkers (2 loops, batches of 500, NOTIFY wake-ups);
   * one-at-a-time: a single OutboxDispatcher claiming one event per transaction.
   */
  consumer: 'lifeline' | 'one-at-a-time';
  /** Afterwards, send the email channel's held storm updates as the digest loop would. */
  digests: boolean;
  /** Start the notifier only once the outbox is empty, so the page path runs without sends competing. */
  pagesOnly: boolean;
}

export interface Delivery {
  /** The ledger id, which is also the webhook-id. */
  id: string;
  channel: 'webhook' | 'email';
  digest: boolean;
  /** Epoch ms; NaN when missing. */
  commitSentAt: number;
  enqueuedAt: number;
  sentAt: number;
  /** First arrival at the receiver (webhooks), NaN if it never arrived. */
  arrivedAt: number;
}

export interface DigestRun {
  /** Duration of each digest pass (sendDigests, as the notifier's digest loop runs it). */
  passMs: number[];
  left: number;
}

export interface OutageResult {
  spec: OutageSpec;
  commits: EvaluatorCommit[];
  passMs: number;
  /** Epoch ms of the evaluator pass start and of the first poll that found the outbox empty. */
  passStartedAt: number;
  outboxEmptyAt: number;
  /** Events inserted into the outbox during the run (the sequence; handled rows are deleted). */
  outboxEvents: number;
  deadEvents: number;
  incidents: number;
  deliveries: Delivery[];
  arrivals: Arrivals;
  handlers: HandlerTime[];
  /** This process's event-loop delay from the pass until every webhook arrived (ms): evaluator, outbox and notifier share it. */
  loopDelay: { p50: number; p99: number; max: number };
  digest?: DigestRun;
  /**
   * CPU (ms) of this process (evaluator, outbox workers, notifier) and of the Postgres backends
   * serving it, from the evaluator pass until the outbox was seen empty (`paged`: includes the
   * sends that overlapped), and until every webhook arrived and every email not held for a digest
   * was sent (`sent`: the whole chain, whatever the overlap).
   */
  cpu: { paged: CpuSpent; sent: CpuSpent };
}

export interface CpuSpent {
  engineMs: number;
  postgresMs: number;
}

interface Consumer {
  stop(): Promise<void>;
}

/** A single dispatcher claiming one event per transaction, polling every 10 ms when idle. */
function oneAtATime(sql: Sql, registry: HandlerRegistry, maxMs: number): Consumer {
  const dispatcher = new OutboxDispatcher({ sql, registry, clock: systemClock, log: benchLog, maxAttempts: ENGINE_DEFAULTS.outboxMaxAttempts, batchSize: 1 });
  let running = true;
  const until = performance.now() + maxMs;
  const loop = (async () => {
    while (running && performance.now() < until) {
      try {
        if ((await dispatcher.runOnce()) === 0) await sleep(10);
      } catch (err) {
        benchLog.error({ err }, 'one-at-a-time dispatcher pass failed');
        await sleep(100);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

export async function receiverJson<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`);
  if (!res.ok) throw new Error(`receiver ${path}: ${res.status}`);
  return (await res.json()) as T;
}

/** The receiver child; its ports come from its own listening line, so no port can clash. */
export async function startReceiver(scope: Scope, label: string, secret: string) {
  const child = spawnScript(scope, `receiver-${label}`, 'test/bench/receiver.ts', { BENCH_WEBHOOK_SECRET: secret });
  const line = await child.waitForLine('listening', (l) => l.json?.msg === 'listening', 30_000);
  const { http, smtp } = line.json as { http: number; smtp: number };
  return { base: `http://127.0.0.1:${http}`, smtpUrl: `smtp://127.0.0.1:${smtp}`, pid: child.proc.pid! };
}

/** Removes every key of the run's private BullMQ queue (completed jobs would stay a week). */
export async function obliterate(prefix: string): Promise<void> {
  const q = new Queue(NOTIFICATIONS_QUEUE, { connection: { url: REDIS_URL, maxRetriesPerRequest: 1 }, prefix });
  try {
    await q.obliterate({ force: true });
  } finally {
    await q.close();
  }
}

/** A webhook channel (sealed secret) and an email channel, both paged at level 0 of the default policy. */
export async function seedOnCall(sql: Sql, receiverBase: string, webhookSecret: string, secretKey: Buffer): Promise<void> {
  const now = systemClock.now();
  await sql.begin(async (tx) => {
    const id = randomUUID();
    const hook = await insertChannel(tx, { id, name: 'on-call webhook', type: 'webhook', config: { url: `${receiverBase}/hook` }, secret_sealed: sealSecret(webhookSecret, secretKey, id) }, now);
    const mail = await insertChannel(tx, { id: randomUUID(), name: 'on-call mailbox', type: 'email', config: { to: ['oncall@bench.invalid'] }, secret_sealed: null }, now);
    await insertPolicy(tx, { name: 'default', levels: [{ after_seconds: 0, channel_ids: [hook.id, mail.id] }], repeat: 0, is_default: true }, now);
  });
}

async function readDeliveries(sql: Sql, commits: EvaluatorCommit[], arrivals: Arrivals): Promise<Delivery[]> {
  const commitOf = new Map(commits.map((c) => [c.xmin, c.sentAt]));
  const arrivedOf = new Map(arrivals.webhooks.map(([id, at]) => [id, at]));
  const rows = await sql<{ id: string; channel_type: 'webhook' | 'email'; digest: boolean; enq: number | null; sent: number | null; xmin: string }[]>`
    select d.id, d.channel_type, d.digest,
           extract(epoch from d.enqueued_at)::float8 * 1000 as enq, extract(epoch from d.sent_at)::float8 * 1000 as sent,
           l.xmin::text as xmin
    from deliveries d
    join incidents i on i.id = d.incident_id
    join node_state_log l on l.node_id = i.node_id and l.to_state = 'down'`;
  return rows.map((r) => ({
    id: r.id,
    channel: r.channel_type,
    digest: r.digest,
    commitSentAt: commitOf.get(r.xmin) ?? Number.NaN,
    enqueuedAt: r.enq ?? Number.NaN,
    sentAt: r.sent ?? Number.NaN,
    arrivedAt: arrivedOf.get(r.id) ?? Number.NaN,
  }));
}

async function scalar(sql: Sql, query: string): Promise<number> {
  const [row] = await sql.unsafe<{ n: number }[]>(query);
  return row?.n ?? 0;
}

/** Held storm updates sent pass after pass (the notifier's digest loop without its 60 s wait). */
async function drainDigests(sql: Sql, channels: ChannelRegistry, secretKey: Buffer, maxPasses: number): Promise<DigestRun> {
  const passMs: number[] = [];
  const waiting = () => scalar(sql, `select count(*)::int as n from deliveries where digest and status in ('pending', 'failed')`);
  const until = performance.now() + 120_000;
  while (passMs.length < maxPasses && performance.now() < until && (await waiting()) > 0) {
    const t0 = performance.now();
    await sendDigests({ sql, clock: systemClock, channels, secretKey, retry: DEFAULT_RETRY });
    passMs.push(performance.now() - t0);
  }
  return { passMs, left: await waiting() };
}

export interface OutageSetup {
  /** Names the database and the private queue prefix (letters and digits). */
  label: string;
  nodes: number;
  /** Where the webhook channel points, the secret its pages are signed with and the key that seals it. */
  receiverBase: string;
  webhookSecret: string;
  secretKey: Buffer;
  /** Gets the on-call handlers; a TimedRegistry times each one. */
  registry: HandlerRegistry;
  /** Outbox workers the pool is sized for. */
  workers: number;
  /** Delivery jobs on Redis, as the engine runs by default; otherwise on Postgres (no LIFELINE_REDIS_URL). */
  redis: boolean;
}

export interface OutageRig {
  db: BenchDatabase;
  leadership: CommitClockLeadership;
  /** Holds the lock already; every node is healthy and not yet due. */
  evaluator: Evaluator;
  /** The pool the outbox and notifier roles share, its sessions named ENGINE_SESSIONS[1]. */
  pool: Sql;
  backend: QueueBackend;
  queue: DeliveryQueue;
}

/**
 * A healthy fleet in its own database with section 7's channels and policy, the evaluator on its
 * own session holding the lock, and the on-call roles' pool, queue backend (a private prefix,
 * removed afterwards) and delivery queue as workers/engine.ts wires them, the on-call handlers
 * registered. What runs the outbox and sends is the caller's: the benches differ only there.
 */
export async function setUpOutage(scope: Scope, o: OutageSetup): Promise<OutageRig> {
  const db = await createBenchDatabase(scope, o.label);
  await seedFleet(db.sql, { count: o.nodes, intervalSeconds: 30, failuresForDown: 3, state: 'healthy', lastHeartbeatAgoMs: 1000, due: 'infinity' });
  await seedCoverage(db.sql);
  await seedOnCall(db.sql, o.receiverBase, o.webhookSecret, o.secretKey);

  // The evaluator on its own session, as the engine runs it; it takes the lock before the outage.
  const leadership = new CommitClockLeadership(() => createSql(db.url, { dedicated: true, applicationName: ENGINE_SESSIONS[0] }), benchLog);
  scope.defer('close evaluator session', () => leadership.close());
  // The pool reads the next batch ahead, as the engine's does.
  const evaluator = new Evaluator({ leadership, clock: systemClock, log: benchLog, intervalMs: 1000, coverageGapMs: coverageGapMs(ENGINE_DEFAULTS.ingestFlushMs), reader: db.sql });
  if (!(await evaluator.runOnce()).leader) throw new Error('the evaluator did not take the lock in its own database');

  // The engine's pool: 10 plus one per outbox worker, shared by outbox, queue and notifier.
  const pool = createSql(db.url, { max: 10 + o.workers, applicationName: ENGINE_SESSIONS[1] });
  scope.defer('close on-call pool', () => pool.end({ timeout: 2 }));
  const prefix = `bench-${process.pid}-${o.label}-${randomBytes(3).toString('hex')}`;
  scope.defer('remove the bench queue from Redis', () => obliterate(prefix));
  const backend = await openQueueBackend({ redisUrl: o.redis ? REDIS_URL : undefined, databaseUrl: db.url, prefix });
  scope.defer('close the queue backend', () => backend.close());
  await waitFor('the queue backend', async () => (await backend.ping(), true), 10_000);
  const queue = new DeliveryQueue({ backend, sql: pool, clock: systemClock });
  scope.defer('close delivery queue', () => queue.close());
  registerOnCallHandlers(o.registry, queue, benchLog, ENGINE_DEFAULTS.stormThreshold, { emailConfigured: true });
  return { db, leadership, evaluator, pool, backend, queue };
}

/**
 * `BENCH_OUTBOX_ANALYSED=N` (N ≥ 0): the outbox analysed while it held N transitions, as autovacuum
 * leaves it in an engine that has run a while (its events live milliseconds), where a fresh
 * database's was never analysed. They are deleted unhandled before the outbox workers start.
 */
async function analyseOutboxHolding(sql: Sql, n: number): Promise<void> {
  if (n < 0) return;
  await sql`
    insert into outbox (topic, key, payload, created_at, available_at)
    select 'node.state_changed', gen_random_uuid()::text, '{}', now(), now() from generate_series(1, ${n})`;
  await sql`analyze outbox`;
  await sql`delete from outbox`;
}

export async function runOutage(scope: Scope, spec: OutageSpec): Promise<OutageResult> {
  const n = spec.nodes;
  const capMs = Math.max(120_000, n * 30);
  progress(`oncall ${spec.label}: seeding ${int(n)} healthy nodes`);
  const secretKey = randomBytes(32);
  const webhookSecret = generateWebhookSecret();
  const receiver = await startReceiver(scope, spec.label, webhookSecret);
  const registry = new TimedRegistry();
  const { db, leadership, evaluator, pool, backend, queue } = await setUpOutage(scope, {
    label: `oncall${spec.label}`,
    nodes: n,
    receiverBase: receiver.base,
    webhookSecret,
    secretKey,
    registry,
    workers: WORKERS,
    redis: true,
  });
  const channels = createChannels({ smtpUrl: receiver.smtpUrl, mailFrom: ENGINE_DEFAULTS.mailFrom, outboundAllowCidrs: LOCAL_RECEIVERS });
  scope.defer('close channels', () => channels.close());
  // Announcements counted into metrics, as the engine does.
  const events = new Events();
  countEvents(createMetrics(), events);
  const notify = () =>
    startNotifier({
      backend,
      sql: pool,
      clock: systemClock,
      log: benchLog,
      events,
      channels,
      secretKey,
      queue,
      digestMs: ENGINE_DEFAULTS.digestIntervalMs,
    });
  await analyseOutboxHolding(db.sql, Number(process.env.BENCH_OUTBOX_ANALYSED ?? -1));
  let notifier = spec.pagesOnly ? undefined : notify();
  scope.defer('stop notifier', () => notifier?.stop() ?? Promise.resolve());
  const consumer: Consumer =
    spec.consumer === 'lifeline'
      ? await startOutboxWorkers({ sql: pool, registry, clock: systemClock, log: benchLog, events, workers: WORKERS, pollMs: ENGINE_DEFAULTS.outboxPollMs, maxAttempts: ENGINE_DEFAULTS.outboxMaxAttempts })
      : oneAtATime(pool, registry, capMs);
  scope.defer('stop outbox consumer', () => consumer.stop());

  await allDueSilent(db.sql);
  progress(`oncall ${spec.label}: every node silent and due; evaluator pass (${spec.consumer} outbox consumer running)`);
  const loop = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loop.enable();
  const cpu0 = { engine: process.cpuUsage(), postgres: await backendCpu(db.sql, ENGINE_SESSIONS) };
  const cpuSpent = async (): Promise<CpuSpent> => {
    const engine = process.cpuUsage(cpu0.engine);
    return { engineMs: (engine.user + engine.system) / 1000, postgresMs: await backendCpuSince(db.sql, ENGINE_SESSIONS, cpu0.postgres) };
  };
  const passStartedAt = Date.now();
  let transitions = 0;
  let passes = 0;
  while (transitions < n && passes < 10) {
    const r = await evaluator.runOnce();
    passes += 1;
    transitions += r.transitions;
    if (r.evaluated === 0) break;
  }
  const passMs = Date.now() - passStartedAt;
  if (transitions !== n) throw new Error(`the evaluator wrote ${transitions} transitions; expected ${n}`);

  // Empty = every node.state_changed handled, and with it every incident.opened it wrote.
  const outboxEmptyAt = await waitFor(
    'the outbox to empty',
    async () => {
      const t = Date.now();
      return (await scalar(db.sql, 'select count(*)::int as n from (select 1 from outbox limit 1) x')) === 0 ? t : undefined;
    },
    capMs,
    EMPTY_POLL_MS,
  );
  const paged = await cpuSpent();
  notifier ??= notify();
  progress(`oncall ${spec.label}: outbox empty ${((outboxEmptyAt - passStartedAt) / 1000).toFixed(1)} s after the pass began; waiting for ${int(n)} webhooks`);
  await waitFor(`${n} webhooks at the receiver`, async () => ((await receiverJson<{ ids: number }>(receiver.base, '/count')).ids >= n ? true : undefined), capMs, 100);
  // Incident emails sent alone (the first LIFELINE_STORM_THRESHOLD of the storm) finish too.
  await waitFor(
    'the single incident emails',
    async () => ((await scalar(db.sql, `select count(*)::int as n from deliveries where not digest and status in ('pending', 'failed')`)) === 0 ? true : undefined),
    60_000,
    100,
  );
  const cpu = { paged, sent: await cpuSpent() };
  loop.disable();
  await consumer.stop();
  await notifier.stop();

  let digest: DigestRun | undefined;
  if (spec.digests) {
    progress(`oncall ${spec.label}: sending the held storm updates as digests`);
    digest = await drainDigests(pool, channels, secretKey, Math.ceil(n / 100) + 5);
  }
  const arrivals = await receiverJson<Arrivals>(receiver.base, '/arrivals');
  return {
    spec,
    commits: [...leadership.commits],
    passMs,
    passStartedAt,
    outboxEmptyAt,
    outboxEvents: await scalar(db.sql, 'select (case when is_called then last_value else 0 end)::int as n from outbox_id_seq'),
    deadEvents: await scalar(db.sql, 'select count(*)::int as n from outbox_dead'),
    incidents: await scalar(db.sql, `select count(*)::int as n from incidents where status = 'open'`),
    deliveries: await readDeliveries(db.sql, leadership.commits, arrivals),
    arrivals,
    handlers: registry.handlerTimes(),
    loopDelay: { p50: lateBy(loop.percentile(50)), p99: lateBy(loop.percentile(99)), max: lateBy(loop.max) },
    ...(digest ? { digest } : {}),
    cpu,
  };
}
