import { systemClock } from '../../src/clock.ts';
import { createSql } from '../../src/db/client.ts';
import { Evaluator } from '../../src/health/evaluator.ts';
import { Leadership } from '../../src/health/leader.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { coverageGapMs, IngestFlusher } from '../../src/ingest/flusher.ts';
import { createMetrics } from '../../src/metrics.ts';
import { fleetUptime } from '../../src/uptime/report.ts';
import { createBenchDatabase } from './databases.ts';
import { allDueHealthy, rowByRow, steadyStateDue } from './evaluator.ts';
import { benchLog, progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { int, ms, row, sec, section, type Section } from './report.ts';
import type { Scope } from './scope.ts';
import { seedCoverage, seedFleet, touchCoverage } from './seed.ts';
import { median } from './stats.ts';

// The reference fleet of the capacity plan: a heartbeat a minute, down after three missed.
const INTERVAL_S = 60;
const FAILURES = 3;
const FLUSH_MS = 250;
const GAP_MS = coverageGapMs(FLUSH_MS);
const REPS = 3;
const FLUSHES = 10;
// Row-by-row baselines run this long and are extrapolated by their rate.
const BASELINE_MS = 10_000;

const took = (m: number) => (m < 1000 ? ms(m) : sec(m / 1000));

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

async function medianOf(reps: number, prepare: () => Promise<unknown>, f: () => Promise<unknown>): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    await prepare();
    out.push((await timed(f)).ms);
  }
  return median(out);
}

/**
 * The fleet of the capacity plan (ARCHITECTURE.md, "Capacity: past one machine"), on this one
 * machine: the evaluator's steady and all-due ticks, a flush of one 250 ms share of the fleet's
 * heartbeats, the fleet uptime report and /metrics, each beside the naive way in the same run.
 */
export async function benchMillion(o: BenchOptions, scope: Scope): Promise<Section> {
  const n = o.millionNodes;
  const perSecond = n / INTERVAL_S;
  const s = section(`13. ${int(n)} nodes on one machine (heartbeat every ${INTERVAL_S} s: ${int(perSecond)}/s)`);
  const db = await createBenchDatabase(scope, 'million');
  progress(`million: seeding ${int(n)} nodes`);
  const seeded = await timed(() => seedFleet(db.sql, { count: n, intervalSeconds: INTERVAL_S, failuresForDown: FAILURES, state: 'healthy', lastHeartbeatAgoMs: 1000, due: 'infinity' }));
  await seedCoverage(db.sql);

  const leadership = new Leadership(() => createSql(db.url, { dedicated: true, applicationName: 'lifeline-bench-evaluator' }), benchLog);
  scope.defer('close evaluator session', () => leadership.close());
  const evaluator = new Evaluator({ leadership, clock: systemClock, log: benchLog, intervalMs: 1000, coverageGapMs: GAP_MS, reader: db.sql });
  if (!(await evaluator.runOnce()).leader) throw new Error('the evaluator did not take the lock in its own database');

  progress('million: steady-state ticks');
  const period = INTERVAL_S * FAILURES;
  let due = 0;
  const steady = await medianOf(REPS, async () => (due = await steadyStateDue(db.sql, n, period)), () => evaluator.runOnce());
  row(s, `evaluator steady tick, ${int(due)} due (1/${period} of the fleet; median of ${REPS})`, ms(steady), '—', '≤ 1,000 ms (one tick)', steady <= 1000);

  progress('million: every node due');
  await allDueHealthy(db.sql);
  const allDue = await timed(() => evaluator.runOnce());
  if (allDue.value.evaluated !== n) throw new Error(`the all-due tick judged ${allDue.value.evaluated} of ${n}`);
  await allDueHealthy(db.sql);
  const naive = await rowByRow(db.url, 'tick', BASELINE_MS);
  const naiveRate = naive.done / naive.ms;
  row(s, 'evaluator tick with every node due (after a restart)', `${took(allDue.ms)} (${int((n / allDue.ms) * 1000)} nodes/s)`, `${sec(n / naiveRate / 1000, 0)} (${int(naiveRate * 1000)} nodes/s; ${int(naive.done)} judged in ${sec(naive.ms / 1000, 0)}, extrapolated)`, '— (report)');

  progress(`million: flushes of ${int(perSecond * FLUSH_MS / 1000)} heartbeats`);
  const batch = Math.round((perSecond * FLUSH_MS) / 1000);
  const ids = (await db.sql<{ id: string }[]>`select id from nodes order by random() limit ${batch}`).map((r) => r.id);
  await touchCoverage(db.sql);
  const buffer = new HeartbeatBuffer();
  const flusher = new IngestFlusher({ sql: db.sql, buffer, clock: systemClock, log: benchLog, gapMs: GAP_MS });
  const flush = await medianOf(
    FLUSHES,
    async () => {
      for (const nodeId of ids) buffer.add({ nodeId, at: new Date(), status: 'ok', checks: { disk: { status: 'ok', value: 0.42 } }, seq: null });
    },
    () => flusher.runOnce(),
  );
  await flusher.close();
  const single = await timed(async () => {
    for (const id of ids) await db.sql`update node_heartbeats set last_heartbeat_at = now(), received = received + 1 where node_id = ${id}`;
  });
  row(s, `flush of ${int(batch)} heartbeats (${FLUSH_MS} ms of ${int(perSecond)}/s; median of ${FLUSHES})`, `${ms(flush)} (${((flush / FLUSH_MS) * 100).toFixed(0)} % of the interval)`, `${ms(single.ms, 0)} (one UPDATE each)`, `< ${FLUSH_MS} ms`, flush < FLUSH_MS);

  progress('million: fleet uptime report');
  const now = Date.now();
  const report = await medianOf(REPS, async () => {}, () => fleetUptime(db.sql, {}, { from: now - 24 * 3_600_000, to: now }, now));
  const scan = await medianOf(REPS, async () => {}, () => db.sql`select id, name from nodes order by name`);
  row(s, `fleet uptime report, last 24 h, every node (median of ${REPS})`, took(report), `${took(scan)} (reading every node's id and name, the floor)`, '— (report)');

  progress('million: /metrics');
  const metrics = createMetrics({ sql: db.sql, clock: systemClock, log: benchLog });
  const scrape = await medianOf(REPS, async () => {}, () => metrics.registry.metrics());
  const perNode = await medianOf(REPS, async () => {}, () => db.sql`
    select n.name, h.state, extract(epoch from hb.last_heartbeat_at)::float8 as last
    from nodes n join node_health h on h.node_id = n.id join node_heartbeats hb on hb.node_id = n.id`);
  row(s, `/metrics render, fleet gauges read from Postgres (median of ${REPS})`, ms(scrape), `${ms(perNode, 0)} (the per-node exporter's query alone)`, '≤ 100 ms', scrape <= 100);

  s.notes.push(
    `Seeded set-wise in ${sec(seeded.ms / 1000, 0)} (four rows per node, vacuumed and analysed); Postgres on this machine, every figure in this process (the evaluator on its own lock session, as in section 2).`,
    `Baselines: the evaluator's row-by-row pass of section 2, run for ${BASELINE_MS / 1000} s and extrapolated by its rate; one autocommitted UPDATE per heartbeat; one scan of the nodes for the report; the per-node exporter's query (section 5) for /metrics.`,
  );
  return s;
}
