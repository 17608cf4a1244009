// The page path alone, for CPU per page: a fleet goes down in one evaluator pass while no outbox
// worker runs, so its node.state_changed events wait in the outbox; then the outbox workers start
// (two unless --workers says otherwise, as the engine's outbox role runs them, with the on-call
// handlers) and the clock and the CPU counters run from just before they start until every
// webhook page is enqueued. No notifier runs, so nothing but the hop from transition to enqueued
// job is measured: this process (handlers, postgres.js, BullMQ's adds), the pool's Postgres
// backends and the Redis server, from /proc. Fleet, channels and wiring are section 7's
// (setUpOutage in outage.ts).
//
// node --import tsx test/bench/page-path.ts [--nodes 10000] [--queue redis|postgres|none] [--workers 2]
// --queue none stands a bare ledger stamp in for the job add, to tell the queue's share apart.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { systemClock } from '../../src/clock.ts';
import type { DeliveryJob } from '../../src/notifications/queue.ts';
import { markEnqueued } from '../../src/notifications/store.ts';
import { HandlerRegistry } from '../../src/outbox/registry.ts';
import { startOutboxWorkers } from '../../workers/outbox.ts';
import { REDIS_URL } from './children.ts';
import { allDueSilent } from './evaluator.ts';
import { benchLog } from './log.ts';
import { ENGINE_DEFAULTS, ENGINE_SESSIONS, setUpOutage, WORKERS } from './outage.ts';
import { backendCpu, backendCpuSince, cpuMs, redisPid } from './proc-cpu.ts';
import { Scope, waitFor } from './scope.ts';

const { values } = parseArgs({ options: { nodes: { type: 'string' }, queue: { type: 'string' }, workers: { type: 'string' } } });
const n = Number(values.nodes ?? 10_000);
const queueKind = values.queue ?? 'redis';
const workerCount = Number(values.workers ?? WORKERS);
// The pool's sessions, and those BullMQ's Postgres backend opens in the same database.
const SESSIONS = [ENGINE_SESSIONS[1], 'lifeline-queue'];

const scope = new Scope();
try {
  const registry = new HandlerRegistry();
  // The webhook is never sent to here (no notifier runs).
  const { db, evaluator, pool, queue } = await setUpOutage(scope, {
    label: 'pagepath',
    nodes: n,
    receiverBase: 'http://127.0.0.1:9',
    webhookSecret: generateWebhookSecret(),
    secretKey: randomBytes(32),
    registry,
    workers: workerCount,
    redis: queueKind !== 'postgres',
  });
  if (queueKind === 'none') queue.enqueue = (jobs: DeliveryJob[]) => markEnqueued(pool, jobs.map((j) => j.id), systemClock.now());
  await allDueSilent(db.sql);
  // Passes are capped: an evaluator that judges nothing would loop here.
  let down = 0;
  for (let pass = 0; down < n && pass < 10; pass++) down += (await evaluator.runOnce()).transitions;
  if (down < n) throw new Error(`the evaluator took ${down} of ${n} nodes down in 10 passes`);

  // Redis's CPU only when the jobs go there; its pid from the Redis the queue is on.
  const redis = queueKind === 'redis' ? await redisPid(REDIS_URL) : undefined;
  const redisCpu = () => (redis === undefined ? 0 : cpuMs(redis));
  const before = { pg: await backendCpu(db.sql, SESSIONS), engine: process.cpuUsage(), redis: redisCpu(), at: Date.now() };
  const workers = await startOutboxWorkers({ sql: pool, registry, clock: systemClock, log: benchLog, workers: workerCount, pollMs: ENGINE_DEFAULTS.outboxPollMs, maxAttempts: ENGINE_DEFAULTS.outboxMaxAttempts });
  scope.defer('stop outbox workers', () => workers.stop());
  await waitFor(
    'every page enqueued',
    async () => {
      const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from deliveries where channel_type = 'webhook' and enqueued_at is not null`;
      return row!.n >= n ? true : undefined;
    },
    300_000,
    20,
  );
  const wallMs = Date.now() - before.at;
  const engine = process.cpuUsage(before.engine);
  const pgMs = await backendCpuSince(db.sql, SESSIONS, before.pg);
  const redisMs = redisCpu() - before.redis;
  const [lag] = await db.sql<{ p50: number; p99: number }[]>`
    select percentile_cont(0.5) within group (order by ms) as p50, percentile_cont(0.99) within group (order by ms) as p99
    from (select extract(epoch from enqueued_at - ${new Date(before.at)}) * 1000 as ms from deliveries where channel_type = 'webhook') x`;
  const perPage = (ms: number) => Math.round((ms * 1000) / n);
  process.stdout.write(
    `${JSON.stringify({
      nodes: n,
      queue: queueKind,
      workers: workerCount,
      wall_ms: wallMs,
      workers_start_to_enqueued_ms: { p50: Math.round(lag!.p50), p99: Math.round(lag!.p99) },
      cpu_us_per_page: { engine: perPage((engine.user + engine.system) / 1000), postgres: perPage(pgMs), redis: perPage(redisMs) },
    })}\n`,
  );
} finally {
  await scope.close();
}
process.exit(0);
