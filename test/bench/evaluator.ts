import { systemClock } from '../../src/clock.ts';
import { createSql, type Sql } from '../../src/db/client.ts';
import { loadDueNodes } from '../../src/health/store.ts';
import { readCoverage } from '../../src/ingest/store.ts';
import type { Coverage } from '../../src/health/decide.ts';
import { Evaluator } from '../../src/health/evaluator.ts';
import { Leadership } from '../../src/health/leader.ts';
import { plan } from '../../src/health/machine.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { coverageGapMs, IngestFlusher } from '../../src/ingest/flusher.ts';
import { createBenchDatabase, vacuumAnalyze } from './databases.ts';
import { benchLog, progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { int, ms, row, sec, section, type Section } from './report.ts';
import { Scope, sleep } from './scope.ts';
import { FLEET_TABLES, seedCoverage, seedFleet, touchCoverage } from './seed.ts';
import { median, percentile } from './stats.ts';

const REPS = 3;
// Heartbeat period of the seeded fleet: 30 s interval × 3 failures.
const STEADY_PERIOD_S = 90;
const EMPTY_REPS = 5;
const GAP_MS = coverageGapMs(250);
// Flushes measured beside the evaluator: this many ok heartbeats each, this far apart.
const FLUSH_BATCH = 1000;
const FLUSH_GAP_MS = 20;
const FLUSHER_GAP_MS = 60 * 60_000;
const FLUSHES_ALONE = 30;

/** Tick targets by fleet size; a size between two is held to the next larger one's. */
function tickTargetMs(size: number): number {
  if (size <= 10_000) return 100;
  if (size <= 100_000) return 500;
  return 3_000;
}

const rate = (nodes: number, millis: number) => (nodes / millis) * 1000;
const timing = (millis: number, nodes: number) => `${millis < 1000 ? ms(millis) : sec(millis / 1000)} (${int(rate(nodes, millis))} nodes/s)`;

/**
 * Every node due, by `spreadS` seconds at most: 0 (one instant) is the pass after an ingest gap,
 * which makes every node due at once; a spread is the nodes' own deadlines (a mass outage, a new
 * leader). With one instant, due order is node id order (the index's tie-break), so the pass reads
 * and writes the fleet in primary-key order whichever order it asks for.
 */
const dueWithin = (sql: Sql, spreadS: number) => sql`update node_due set due_at = now() - random() * make_interval(secs => ${spreadS})`;

/** Every node healthy, its heartbeat fresh, due now: the reschedule-only worst case. */
export async function allDueHealthy(sql: Sql, spreadS = 0): Promise<void> {
  await sql`update node_heartbeats set last_heartbeat_at = now()`;
  await dueWithin(sql, spreadS);
  await touchCoverage(sql);
  // The due index would otherwise carry every previous round's dead tuples into the timing.
  await vacuumAnalyze(sql, ['node_due', 'node_heartbeats']);
}

/**
 * A running fleet's tick: heartbeats every 30 s and down after 3 missed, so each node's due time
 * comes round once per 90 s and a 1 s tick judges about 1/90 of the fleet (the rest are not due).
 */
export async function steadyStateDue(sql: Sql, size: number, periodS = STEADY_PERIOD_S): Promise<number> {
  const due = Math.ceil(size / periodS);
  await sql`update node_heartbeats set last_heartbeat_at = now()`;
  await sql`update node_due set due_at = now() + make_interval(secs => ${periodS})`;
  await sql`update node_due set due_at = now() where node_id in (select node_id from node_due order by node_id limit ${due})`;
  await touchCoverage(sql);
  await vacuumAnalyze(sql, ['node_due', 'node_heartbeats']);
  return due;
}

/** Every node silent for a day and due now: one tick must take the whole fleet down. */
export async function allDueSilent(sql: Sql, spreadS = 0): Promise<void> {
  await sql`update node_heartbeats set last_heartbeat_at = now() - interval '1 day'`;
  await dueWithin(sql, spreadS);
  await touchCoverage(sql);
  await vacuumAnalyze(sql, ['node_due', 'node_heartbeats']);
}

/** Back to the seeded healthy fleet with no history, for the baseline to start where Lifeline did. */
export async function resetFleet(sql: Sql): Promise<void> {
  await sql`update node_health set state = 'healthy', since = now() - interval '1 hour', reason = null, version = 1, received_at_entry = 0`;
  await sql`truncate node_state_log, outbox`;
  await vacuumAnalyze(sql, [...FLEET_TABLES, 'node_state_log', 'outbox']);
}

export interface BaselineRun {
  done: number;
  total: number;
  ms: number;
}

/**
 * The naive evaluator: list the due nodes, then per node its own transaction — SELECT its row,
 * decide (the same pure code), and write with single-row statements: a reschedule UPDATE of
 * node_due, or for a transition UPDATE node_health + INSERT node_state_log + INSERT outbox (it does
 * not even reschedule, which only flatters it). Stops at `capMs` and reports how far it got.
 */
export async function rowByRow(url: string, kind: 'tick' | 'outage', capMs: number): Promise<BaselineRun> {
  const sql = createSql(url, { dedicated: true, applicationName: 'lifeline-bench-rowbyrow' });
  try {
    const now = new Date();
    const coverage = (await readCoverage(sql, now, GAP_MS)) as Coverage;
    const ids = (await sql<{ node_id: string }[]>`select node_id from node_due where due_at <= ${now} order by due_at, node_id`).map((r) => r.node_id);
    const started = performance.now();
    let done = 0;
    for (const id of ids) {
      if (performance.now() - started > capMs) break;
      await sql.begin(async (tx) => {
        const [r] = await loadDueNodes(tx, now, [id]);
        if (!r) return;
        const p = plan([r], coverage, new Map(), now);
        const w = p.writes[0];
        if (kind === 'tick' || !w) {
          const next = p.reschedules[0]!;
          await tx`update node_due set due_at = ${next.dueAt ? next.dueAt.toISOString() : 'infinity'}::timestamptz where node_id = ${id} and wake = ${r.wake}`;
          return;
        }
        const t = w.transitions[w.transitions.length - 1]!;
        await tx`update node_health set state = ${w.state}, since = ${w.since}, reason = ${w.reason}, version = version + 1
                 where node_id = ${id} and version = ${w.expectedVersion}`;
        await tx`insert into node_state_log (node_id, state_version, from_state, to_state, at, reason)
                 values (${id}, ${w.expectedVersion + 1}, ${t.from}, ${t.to}, ${t.at}, ${t.reason})`;
        await tx`insert into outbox (topic, key, payload, created_at, available_at)
                 values ('node.state_changed', ${id},
                         ${JSON.stringify({ node_id: id, node_name: w.nodeName, from: t.from, to: t.to, at: t.at.toISOString(), reason: t.reason, state_version: w.expectedVersion + 1 })}::jsonb,
                         ${now}, ${now})`;
      });
      done += 1;
    }
    return { done, total: ids.length, ms: performance.now() - started };
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/**
 * What ingest and the evaluator cost each other. Every flush takes the heartbeat-write lock
 * shared; a pass takes it exclusively only to push back nodes it takes out of healthy (a mass
 * outage), and a flush may then wait for that push-back and its commit. Flushes of FLUSH_BATCH ok
 * heartbeats (nothing is woken), first alone, then back to back alongside every-node-due passes:
 * reschedule-only ones (no lock) and mass outages (the lock).
 */
async function flushesAlongside(sql: Sql, evaluator: Evaluator) {
  const buffer = new HeartbeatBuffer();
  // The bench stops flushing while it reseeds the fleet between passes (seconds at 100,000 nodes
  // on a loaded machine). With the engine's gap the next flush would take that pause for an
  // outage of ingest and make every node due afresh mid-pass, which is not what is measured here.
  const flusher = new IngestFlusher({ sql, buffer, clock: systemClock, log: benchLog, gapMs: FLUSHER_GAP_MS });
  const ids = (await sql<{ id: string }[]>`select id from nodes order by id limit ${FLUSH_BATCH}`).map((r) => r.id);
  const flush = async () => {
    for (const nodeId of ids) buffer.add({ nodeId, at: new Date(), status: 'ok', checks: null, seq: null });
    const t0 = performance.now();
    await flusher.runOnce();
    return performance.now() - t0;
  };
  const alone: number[] = [];
  for (let i = 0; i < FLUSHES_ALONE; i++) alone.push(await flush());
  const during = async (prepare: () => Promise<void>) => {
    const flushes: number[] = [];
    const passes: number[] = [];
    for (let i = 0; i < REPS; i++) {
      await prepare();
      let running = true;
      const flushing = (async () => {
        while (running) {
          flushes.push(await flush());
          await sleep(FLUSH_GAP_MS);
        }
      })();
      const t0 = performance.now();
      await evaluator.runOnce();
      passes.push(performance.now() - t0);
      running = false;
      await flushing;
    }
    return { flushes, passes };
  };
  const rescheduling = await during(() => allDueHealthy(sql));
  const outages = await during(async () => {
    await resetFleet(sql);
    await allDueSilent(sql);
  });
  await flusher.close();
  return { alone, rescheduling, outages };
}

async function counts(sql: Sql) {
  const [r] = await sql<{ down: number; log: number; outbox: number }[]>`
    select (select count(*)::int from node_health where state = 'down') as down,
           (select count(*)::int from node_state_log where to_state = 'down') as log,
           (select count(*)::int from outbox) as outbox`;
  return r!;
}

export async function benchEvaluator(o: BenchOptions, _scope: Scope): Promise<Section> {
  const s = section('2. Evaluator tick and mass outage');
  const sizes = [...o.evalSizes].sort((a, b) => a - b);
  const capMs = o.baselineCapSeconds * 1000;
  // Row-by-row rates from the smallest size, to decide whether a larger size fits the cap.
  let naiveRate: { tick: number; outage: number; size: number } | undefined;

  for (const size of sizes) {
    // One database per size, dropped before the next is seeded.
    const scope = new Scope();
    try {
      const db = await createBenchDatabase(scope, `eval${size}`);
      progress(`evaluator: seeding ${int(size)} nodes`);
      await seedFleet(db.sql, { count: size, intervalSeconds: 30, failuresForDown: 3, state: 'healthy', lastHeartbeatAgoMs: 1000, due: 'infinity' });
      await seedCoverage(db.sql);

      const leadership = new Leadership(() => createSql(db.url, { dedicated: true, applicationName: 'lifeline-bench-evaluator' }), benchLog);
      scope.defer('close evaluator session', () => leadership.close());
      // The pool reads the next batch ahead, as the engine's does (unless asked not to, to compare).
      const reader = o.evalNoReadAhead ? {} : { reader: db.sql };
      const evaluator = new Evaluator({ leadership, clock: systemClock, log: benchLog, intervalMs: 1000, coverageGapMs: GAP_MS, ...reader });
      const first = await evaluator.runOnce();
      if (!first.leader) throw new Error('the evaluator did not take the lock in its own database');

      const empty: number[] = [];
      for (let i = 0; i < EMPTY_REPS; i++) {
        const t0 = performance.now();
        await evaluator.runOnce();
        empty.push(performance.now() - t0);
      }

      const target = tickTargetMs(size);
      progress(`evaluator: ${int(size)} nodes — steady-state ticks`);
      const steady: number[] = [];
      let steadyDue = 0;
      for (let i = 0; i < REPS; i++) {
        steadyDue = await steadyStateDue(db.sql, size);
        const t0 = performance.now();
        const r = await evaluator.runOnce();
        steady.push(performance.now() - t0);
        if (r.evaluated !== steadyDue || r.transitions !== 0) throw new Error(`steady tick judged ${r.evaluated} nodes; expected ${steadyDue}`);
      }

      progress(`evaluator: ${int(size)} nodes — reschedule-only ticks`);
      const ticks: number[] = [];
      for (let i = 0; i < REPS; i++) {
        await allDueHealthy(db.sql);
        const t0 = performance.now();
        const r = await evaluator.runOnce();
        ticks.push(performance.now() - t0);
        if (r.evaluated !== size || r.transitions !== 0) throw new Error(`tick judged ${r.evaluated} nodes with ${r.transitions} transitions; expected ${size} and 0`);
      }

      progress(`evaluator: ${int(size)} nodes — mass outage`);
      await allDueSilent(db.sql);
      const t0 = performance.now();
      let transitions = 0;
      let passes = 0;
      while (transitions < size && passes < 10) {
        const r = await evaluator.runOnce();
        passes += 1;
        transitions += r.transitions;
        if (r.evaluated === 0) break;
      }
      const outageMs = performance.now() - t0;
      const after = await counts(db.sql);
      if (after.down !== size || after.log !== size || after.outbox !== size) {
        throw new Error(`after the outage: ${after.down} down, ${after.log} log rows, ${after.outbox} outbox rows; expected ${size} each`);
      }

      progress(`evaluator: ${int(size)} nodes — flushes alongside passes`);
      const alongside = await flushesAlongside(db.sql, evaluator);

      // Baseline on the same fleet, reset; run when it fits the cap by the smaller size's rate.
      let naiveTick: BaselineRun | undefined;
      let naiveOutage: BaselineRun | undefined;
      // Both baseline runs together must fit the cap (the estimate is what they would take together).
      const estimate = naiveRate ? (size / naiveRate.tick + size / naiveRate.outage) * 1000 : 0;
      if (!naiveRate || estimate <= capMs) {
        progress(`evaluator: ${int(size)} nodes — row-by-row baseline`);
        await resetFleet(db.sql);
        await allDueHealthy(db.sql);
        naiveTick = await rowByRow(db.url, 'tick', capMs);
        await allDueSilent(db.sql);
        naiveOutage = await rowByRow(db.url, 'outage', Math.max(1000, capMs - naiveTick.ms));
        if (!naiveRate) naiveRate = { tick: rate(naiveTick.done, naiveTick.ms), outage: rate(naiveOutage.done, naiveOutage.ms), size };
      } else {
        s.notes.push(
          `Row-by-row baseline not run at ${int(size)} nodes: at its ${int(naiveRate.size)}-node rate it would take about ${sec(estimate / 1000, 0)} (cap ${o.baselineCapSeconds} s); the ${int(naiveRate.size)}-node rates are shown instead.`,
        );
      }
      const naiveCell = (run: BaselineRun | undefined, which: 'tick' | 'outage') => {
        if (run) {
          const partial = run.done < run.total ? ` — stopped at the cap after ${int(run.done)}/${int(run.total)}` : '';
          return `${timing(run.ms, run.done)}${partial}`;
        }
        return naiveRate ? `not run; ${int(naiveRate[which])} nodes/s at ${int(naiveRate.size)}` : '—';
      };

      const tick = median(ticks);
      row(s, `${int(size)} nodes — tick with nothing due`, ms(median(empty), 2), '—', '—');
      const steadyTick = median(steady);
      row(s, `${int(size)} nodes — steady-state tick, ${int(steadyDue)} due (1/${STEADY_PERIOD_S} of the fleet; median of ${REPS})`, timing(steadyTick, steadyDue), '—', `≤ ${int(target)} ms`, steadyTick <= target);
      row(s, `${int(size)} nodes — worst case: tick with every node due, reschedule only (median of ${REPS})`, timing(tick, size), naiveCell(naiveTick, 'tick'), `≤ ${int(target)} ms`, tick <= target);
      const spread = (xs: number[]) => `${ms(median(xs), 1)} / ${ms(percentile(xs, 90), 1)}`;
      const { alone, rescheduling, outages } = alongside;
      row(s, `${int(size)} nodes — flush of ${int(FLUSH_BATCH)} ok heartbeats alone, median / p90 (${alone.length})`, spread(alone), '—', '—');
      row(s, `${int(size)} nodes — the same flush during reschedule-only passes, median / p90 (${rescheduling.flushes.length})`, spread(rescheduling.flushes), '—', '—');
      row(s, `${int(size)} nodes — the same flush during mass-outage passes, median / p90 (${outages.flushes.length})`, spread(outages.flushes), '—', '—');
      row(s, `${int(size)} nodes — reschedule-only / mass-outage pass with those flushes alongside (medians of ${REPS})`, `${timing(median(rescheduling.passes), size)} / ${timing(median(outages.passes), size)}`, '—', '—');
      const outageTarget = size === 100_000 ? '≤ 3 s' : '— (100k: ≤ 3 s)';
      row(s, `${int(size)} nodes — mass outage committed (${passes} pass${passes === 1 ? '' : 'es'})`, timing(outageMs, size), naiveCell(naiveOutage, 'outage'), outageTarget, size === 100_000 ? outageMs <= 3_000 : undefined);
      s.notes.push(`${int(size)} nodes: ticks ${ticks.map((t) => ms(t, 0)).join(', ')}; outage left ${int(after.down)} nodes down with ${int(after.log)} log and ${int(after.outbox)} outbox rows.`);
    } finally {
      await scope.close();
    }
  }
  s.notes.unshift(
    `Flushes alongside: an \`IngestFlusher\` in this process writes ${int(FLUSH_BATCH)} ok heartbeats per flush, ${FLUSH_GAP_MS} ms apart, while the evaluator judges every node; in a mass outage the push-back takes the heartbeat-write lock that every flush shares (see ARCHITECTURE.md), so each may wait for the other. Those ${int(FLUSH_BATCH)} nodes are heard from during the outage passes, so fewer than all go down there.`,
    `Lifeline: \`Evaluator.runOnce()\` in this process on a dedicated session holding the lock (batches of 5,000, each one transaction: pure decide on the due rows, set-wise writes), ${o.evalNoReadAhead ? 'each batch read in its own transaction (--eval-no-read-ahead)' : 'the next batch read on the pool meanwhile, as the engine does'}. Seeded fleet: 30 s interval, 3 failures; tables vacuumed and analysed before each timing, as autovacuum would keep them.`,
    `Baseline: the same decision per node, one transaction per node of single-row statements (SELECT; then UPDATE node_due, or UPDATE node_health + INSERT node_state_log + INSERT outbox), on one session; its tick and outage runs together are capped at ${o.baselineCapSeconds} s.`,
  );
  return s;
}
