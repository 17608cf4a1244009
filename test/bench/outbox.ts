import { systemClock } from '../../src/clock.ts';
import { createSql, type Sql } from '../../src/db/client.ts';
import { claimOutbox, deleteOutbox, insertOutbox } from '../../src/outbox/store.ts';
import type { NewOutboxEvent, OutboxEvent } from '../../src/outbox/topics.ts';
import { Events } from '../../src/events.ts';
import { countEvents, createMetrics } from '../../src/metrics.ts';
import { HandlerRegistry, type HandlerContext } from '../../src/outbox/registry.ts';
import { startOutboxWorkers } from '../../workers/outbox.ts';
import { createBenchDatabase, vacuumAnalyze, type BenchDatabase } from './databases.ts';
import { benchLog, progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { int, ms, row, section, type Section } from './report.ts';
import { sleep, waitFor, type Scope } from './scope.ts';
import { percentile } from './stats.ts';

const TOPIC = 'node.state_changed';
const WORKERS = 2;
// How often the producer commits in the latency phase; each commit carries rate × TICK_MS events.
const TICK_MS = 20;

/**
 * What every consumer does with an event: insert its id (and key, to check per-key order) into a
 * scratch table in the claiming transaction, and note how long after its commit it was handled
 * (the handler's `now` minus created_at, as the dispatcher's latency histogram does).
 */
class Sink {
  handled = 0;
  lags: number[] = [];
  /** Epoch ms latency is counted from at the earliest: a backlog waits for the consumers to start. */
  private floor = 0;

  async handle(events: OutboxEvent[], ctx: Pick<HandlerContext, 'tx' | 'now'>): Promise<void> {
    await ctx.tx`insert into bench_handled (event_id, key) select * from unnest(${events.map((e) => e.id)}::bigint[], ${events.map((e) => e.key)}::text[])`;
    for (const e of events) this.lags.push(ctx.now.getTime() - Math.max(this.floor, e.created_at.getTime()));
    this.handled += events.length;
  }

  reset(floor = 0): void {
    this.handled = 0;
    this.lags = [];
    this.floor = floor;
  }
}

interface Consumer {
  stop(): Promise<void>;
}

/** Lifeline: the outbox role as the engine wires it — 2 dispatcher loops, NOTIFY wake-ups. */
async function lifelineConsumer(sql: Sql, sink: Sink): Promise<Consumer> {
  const registry = new HandlerRegistry().on(TOPIC, 'bench-sink', (events, ctx) => sink.handle(events, ctx));
  // Announcements counted into metrics, as the engine does.
  const events = new Events();
  countEvents(createMetrics(), events);
  return startOutboxWorkers({ sql, registry, clock: systemClock, log: benchLog, events, workers: WORKERS, pollMs: 1000, maxAttempts: 10 });
}

/**
 * Baseline: 2 loops each claiming one event per transaction (the same per-key-order claim with
 * LIMIT 1 … FOR UPDATE SKIP LOCKED), handling it, deleting it and committing; polling every 50 ms
 * when idle. Bounded by `maxMs`.
 */
function oneAtATimeConsumer(sql: Sql, sink: Sink, maxMs: number): Consumer {
  let running = true;
  const until = performance.now() + maxMs;
  const loops = Array.from({ length: WORKERS }, async () => {
    while (running && performance.now() < until) {
      const now = systemClock.now();
      const claimed = await sql.begin(async (tx) => {
        const [e] = await claimOutbox(tx, now, 1, [TOPIC]);
        if (!e) return 0;
        await sink.handle([e], { tx, now });
        await deleteOutbox(tx, [e.id]);
        return 1;
      });
      if (!claimed) await sleep(50);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** `count` events round-robin over `keys` keys, like the evaluator's transition events. */
async function fillBacklog(sql: Sql, count: number, keys: number): Promise<void> {
  await sql`truncate outbox, bench_handled restart identity`;
  await sql`
    insert into outbox (topic, key, payload, created_at, available_at)
    select ${TOPIC}, 'node-' || (i % ${keys}),
           jsonb_build_object('node_id', 'node-' || (i % ${keys}), 'from', 'healthy', 'to', 'down', 'at', now(), 'reason', 'no heartbeat for 90s', 'state_version', i / ${keys} + 1),
           now(), now()
    from generate_series(0, ${count - 1}::int) as i`;
  await vacuumAnalyze(sql, ['outbox', 'bench_handled']);
}

async function orderViolations(sql: Sql): Promise<number> {
  const [r] = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select event_id < lag(event_id) over (partition by key order by seq) as backwards from bench_handled
    ) x where backwards`;
  return r?.n ?? 0;
}

interface DrainResult {
  events: number;
  ms: number;
  lags: number[];
  violations: number;
}

async function drain(db: BenchDatabase, pool: Sql, sink: Sink, count: number, keys: number, make: () => Promise<Consumer>): Promise<DrainResult> {
  await fillBacklog(db.sql, count, keys);
  sink.reset(Date.now());
  const t0 = performance.now();
  const consumer = await make();
  try {
    await waitFor(`${count} events handled`, () => (sink.handled >= count ? true : undefined), Math.max(120_000, count), 5);
  } finally {
    await consumer.stop();
  }
  const elapsed = performance.now() - t0;
  const [left] = await pool<{ n: number }[]>`select count(*)::int as n from outbox`;
  if (left!.n !== 0) throw new Error(`${left!.n} events still in the outbox after ${count} were handled`);
  return { events: count, ms: elapsed, lags: [...sink.lags], violations: await orderViolations(db.sql) };
}

interface SteadyResult {
  offered: number;
  handled: number;
  lags: number[];
  /** Time after the producer stopped until the backlog was empty (or the wait gave up). */
  tailMs: number;
  drained: boolean;
}

/**
 * Offered load: a producer commits `rate` events/s in TICK_MS batches through insertOutbox (which
 * NOTIFYs, as the evaluator's writes do) for `seconds`, then waits up to 30 s for the consumer to
 * empty the outbox. Latency is measured on every event handled.
 */
async function steady(db: BenchDatabase, sink: Sink, rate: number, seconds: number, keys: number, consumer: Consumer): Promise<SteadyResult> {
  const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
  const ticks = Math.round((seconds * 1000) / TICK_MS);
  let offered = 0;
  try {
    const t0 = performance.now();
    for (let i = 0; i < ticks; i++) {
      await sleep(Math.max(0, t0 + i * TICK_MS - performance.now()));
      const events: NewOutboxEvent[] = Array.from({ length: perTick }, (_, j) => {
        const k = `node-${(offered + j) % keys}`;
        return { topic: TOPIC, key: k, payload: { node_id: k, node_name: k, from: 'healthy', to: 'down', at: new Date().toISOString(), reason: 'no heartbeat for 90s', state_version: 1 } };
      });
      await db.sql.begin((tx) => insertOutbox(tx, events, systemClock.now()));
      offered += perTick;
    }
    const t1 = performance.now();
    let drained = true;
    try {
      await waitFor('the outbox to drain', () => (sink.handled >= offered ? true : undefined), 30_000, 10);
    } catch {
      drained = false;
    }
    return { offered, handled: sink.handled, lags: [...sink.lags], tailMs: performance.now() - t1, drained };
  } finally {
    await consumer.stop();
  }
}

export async function benchOutbox(o: BenchOptions, scope: Scope): Promise<Section> {
  const s = section('4. Outbox dispatch (2 workers)');
  const db = await createBenchDatabase(scope, 'outbox');
  await db.sql`create table bench_handled (seq bigserial primary key, event_id bigint not null, key text not null)`;
  // The workers' own pool, sized as the engine sizes it (10 + one per worker).
  const pool = createSql(db.url, { max: 10 + WORKERS, applicationName: 'lifeline-bench-outbox' });
  scope.defer('close outbox pool', () => pool.end({ timeout: 2 }));
  const sink = new Sink();

  progress(`outbox: Lifeline drains ${int(o.outboxEvents)} events over ${int(o.outboxKeys)} keys`);
  const life = await drain(db, pool, sink, o.outboxEvents, o.outboxKeys, () => lifelineConsumer(pool, sink));
  progress(`outbox: one-at-a-time baseline drains ${int(o.outboxBaselineEvents)} events`);
  const naive = await drain(db, pool, sink, o.outboxBaselineEvents, Math.min(o.outboxKeys, o.outboxBaselineEvents), async () =>
    oneAtATimeConsumer(pool, sink, Math.max(120_000, o.outboxBaselineEvents)),
  );

  progress(`outbox: Lifeline at ${int(o.outboxRate)} events/s for ${o.duration} s`);
  await db.sql`truncate outbox, bench_handled restart identity`;
  sink.reset();
  const lifeSteady = await steady(db, sink, o.outboxRate, o.duration, o.outboxKeys, await lifelineConsumer(pool, sink));
  progress(`outbox: one-at-a-time baseline at ${int(o.outboxRate)} events/s for ${o.duration} s`);
  await db.sql`truncate outbox, bench_handled restart identity`;
  sink.reset();
  const naiveSteady = await steady(db, sink, o.outboxRate, o.duration, o.outboxKeys, oneAtATimeConsumer(pool, sink, o.duration * 1000 + 40_000));

  const eps = (d: DrainResult) => (d.events / d.ms) * 1000;
  const p = (xs: number[], q: number) => percentile(xs, q);
  const steadyCell = (r: SteadyResult) =>
    r.drained ? `${ms(p(r.lags, 50), 0)}/${ms(p(r.lags, 99), 0)}` : `${ms(p(r.lags, 50), 0)}/${ms(p(r.lags, 99), 0)} of ${int(r.handled)} handled; ${int(r.offered - r.handled)} left after 30 s`;
  row(s, `drain a backlog — events/s (Lifeline ${int(life.events)}, baseline ${int(naive.events)} events)`, int(eps(life)), int(eps(naive)), '≥ 5,000', eps(life) >= 5000);
  row(s, 'drain a backlog — consumers started → event handled, p50/p99', `${ms(p(life.lags, 50), 0)}/${ms(p(life.lags, 99), 0)}`, `${ms(p(naive.lags, 50), 0)}/${ms(p(naive.lags, 99), 0)}`, '—');
  row(s, `offered ${int(o.outboxRate)} events/s for ${o.duration} s — commit → handled p50/p99`, steadyCell(lifeSteady), steadyCell(naiveSteady), 'p99 ≤ 1,000 ms', lifeSteady.drained && p(lifeSteady.lags, 99) <= 1000);
  row(s, `offered ${int(o.outboxRate)} events/s — backlog drained after the producer stopped`, ms(lifeSteady.tailMs, 0), naiveSteady.drained ? ms(naiveSteady.tailMs, 0) : 'not within 30 s', 'sustained (≈ 0)', lifeSteady.drained && lifeSteady.tailMs < 1000);
  row(s, 'per-key order violations while draining', int(life.violations), int(naive.violations), '0', life.violations === 0);
  s.notes.push(
    `Lifeline: \`startOutboxWorkers\` (workers/outbox.ts) with 2 \`OutboxDispatcher\` loops in this process on a pool of ${10 + WORKERS}, LISTEN/NOTIFY wake-ups, batches of 500; one handler inserting the batch's ids into a scratch table in the claiming transaction. Backlog: ${int(o.outboxEvents)} \`${TOPIC}\` events round-robin over ${int(o.outboxKeys)} keys, committed before the workers start.`,
    `Latency is the handler's \`now\` minus the event's created_at (stamped just before its commit), as the dispatcher's own histogram measures it; the producer of the offered-load phase commits every ${TICK_MS} ms in this process.`,
    `Baseline: 2 loops claiming one event per transaction (\`claimOutbox(tx, now, 1, [topic])\`: per-key order, FOR UPDATE SKIP LOCKED), handle, delete, commit.`,
  );
  return s;
}
