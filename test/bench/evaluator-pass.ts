// CPU of one every-node-due evaluator pass, split between this process and the Postgres backends
// it uses (the lock's session and the read-ahead pool), for A/B runs and --cpu-prof profiles:
//
//   nice -n 19 node --import tsx test/bench/evaluator-pass.ts [nodes] [reps]
//
// With EVAL_PASS_PROFILE=<dir>, each pass (and only the pass) is also written there as a
// .cpuprofile, for where the client's time goes. With EVAL_PASS_SPREAD_S=<s>, the due times are
// spread over that many seconds before now (the nodes' own deadlines) instead of one instant.
// With EVAL_PASS_SHUFFLE_DUE=1, node_due's rows are rewritten in random physical order before each
// pass (shuffleDue), as a fleet that has run a while has lost its creation order there.
// With EVAL_PASS_GAP_S=<s>, each rep is instead one 'gap' pass: ingest dark for that many seconds
// (every heartbeat and the coverage that old), then the flush that ends the dark time
// (advanceCoverage, resetAfterGap) makes every node due as ingest does after an outage of its own;
// every healthy node then goes unknown, one transition each. Its line also gives that flush's wall ms.
// Prints one JSON line per pass: kind ('tick' = every node healthy and due, reschedule only;
// 'outage' = every node silent and due, all go down; 'gap'), wall ms, client CPU ms, Postgres CPU ms, and of
// that the lock's session's (pgWrite: the writes, and the reads of a pass without read-ahead).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { systemClock } from '../../src/clock.ts';
import { createSql, type Sql } from '../../src/db/client.ts';
import { Evaluator } from '../../src/health/evaluator.ts';
import { Leadership } from '../../src/health/leader.ts';
import { coverageGapMs } from '../../src/ingest/flusher.ts';
import { advanceCoverage, resetAfterGap } from '../../src/ingest/store.ts';
import { createBenchDatabase, vacuumAnalyze } from './databases.ts';
import { allDueHealthy, allDueSilent, resetFleet } from './evaluator.ts';
import { benchLog } from './log.ts';
import { backendCpu, backendCpuSince } from './proc-cpu.ts';
import { Scope } from './scope.ts';
import { BENCH_INGEST_ID, FLEET_TABLES, seedCoverage, seedFleet } from './seed.ts';

const size = Number(process.argv[2] ?? 100_000);
const reps = Number(process.argv[3] ?? 3);
const APPS = ['lifeline-bench-evaluator', 'lifeline-bench'];
const profileDir = process.env.EVAL_PASS_PROFILE;
const spreadS = Number(process.env.EVAL_PASS_SPREAD_S ?? 0);
const shuffle = process.env.EVAL_PASS_SHUFFLE_DUE === '1';
const gapS = Number(process.env.EVAL_PASS_GAP_S ?? 0);
const gapMs = coverageGapMs(250);
const inspector = profileDir ? new Session() : undefined;
inspector?.connect();
await inspector?.post('Profiler.enable');

const scope = new Scope();
try {
  const db = await createBenchDatabase(scope, 'evalpass');
  await seedFleet(db.sql, { count: size, intervalSeconds: 30, failuresForDown: 3, state: 'healthy', lastHeartbeatAgoMs: 1000, due: 'infinity' });
  await seedCoverage(db.sql);
  const leadership = new Leadership(() => createSql(db.url, { dedicated: true, applicationName: 'lifeline-bench-evaluator' }), benchLog);
  scope.defer('close evaluator session', () => leadership.close());
  const evaluator = new Evaluator({
    leadership,
    clock: systemClock,
    log: benchLog,
    intervalMs: 1000,
    coverageGapMs: gapMs,
    reader: db.sql,
  });
  if (!(await evaluator.runOnce()).leader) throw new Error('the evaluator did not take the lock');

  const pass = async (kind: 'tick' | 'outage' | 'gap') => {
    let flush: number | undefined;
    if (kind === 'tick') await allDueHealthy(db.sql, spreadS);
    else {
      await resetFleet(db.sql);
      if (kind === 'outage') await allDueSilent(db.sql, spreadS);
      else flush = await endGap(db.sql, gapS);
    }
    if (shuffle) await shuffleDue(db.sql);
    const pg = await backendCpu(db.sql, APPS);
    const cpu = process.cpuUsage();
    await inspector?.post('Profiler.start');
    const t0 = performance.now();
    const r = await evaluator.runOnce();
    const wall = performance.now() - t0;
    const used = process.cpuUsage(cpu);
    const profile = await inspector?.post('Profiler.stop');
    if (profile) writeFileSync(`${profileDir}/${kind}-${Date.now()}.cpuprofile`, JSON.stringify(profile.profile));
    const pgMs = await backendCpuSince(db.sql, APPS, pg);
    const writeMs = await backendCpuSince(db.sql, [APPS[0]!], pg);
    const expected = kind === 'tick' ? 0 : size;
    if (r.evaluated !== size || r.transitions !== expected) throw new Error(`${kind}: judged ${r.evaluated}, ${r.transitions} transitions`);
    const cpuMs = { client: Math.round((used.user + used.system) / 1000), pg: Math.round(pgMs), pgWrite: Math.round(writeMs) };
    console.log(JSON.stringify({ kind, wall: Math.round(wall), ...cpuMs, ...(flush === undefined ? {} : { flush }) }));
  };
  for (let i = 0; i < reps; i++) {
    if (gapS > 0) {
      await pass('gap');
      continue;
    }
    await pass('tick');
    await pass('outage');
  }
} finally {
  await scope.close();
}

/**
 * Ingest dark for `seconds`, ended by a flush as the flusher ends it: the coverage restarts at now
 * with the dark time recorded, every node's ok streak restarts and every node is due now (in the
 * flush's transaction, which here stores no heartbeat).
 */
async function endGap(sql: Sql, seconds: number): Promise<number> {
  await sql`update node_heartbeats set last_heartbeat_at = now() - make_interval(secs => ${seconds + 1})`;
  await sql`update ingest_coverage set seen_at = now() - make_interval(secs => ${seconds}), blind_from = null`;
  await sql`update ingest_presence set seen_at = now() - make_interval(secs => ${seconds})`;
  const t0 = performance.now();
  await sql.begin(async (tx) => {
    const now = new Date();
    if ((await advanceCoverage(tx, BENCH_INGEST_ID, now, gapMs)).gapFrom === null) throw new Error('the flush found no gap');
    await resetAfterGap(tx, now);
  });
  const ms = Math.round(performance.now() - t0);
  await vacuumAnalyze(sql, FLEET_TABLES);
  return ms;
}

/**
 * node_due's rows in random heap order, as the due times just set them: copied out shuffled, the
 * table emptied and filled from the copy, vacuumed. Every judgement rewrites a node's node_due row
 * to a page with room, so a fleet that has run a while has lost its id order there (node_health
 * drifts too, by transitions; this leaves it in order).
 */
async function shuffleDue(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`create temp table due_shuffled on commit drop as select * from node_due order by random()`;
    await tx`truncate node_due`;
    await tx`insert into node_due select * from due_shuffled`;
  });
  await vacuumAnalyze(sql, ['node_due']);
}
