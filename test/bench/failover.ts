import { createApiKey, postHeartbeats } from './api.ts';
import { spawnScript, startBaseline, startEngine, type ChildLine, type ChildProc } from './children.ts';
import { createBenchDatabase } from './databases.ts';
import { progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { int, ms, row, section, type Section } from './report.ts';
import { sleep, type Scope } from './scope.ts';
import { nodeName, seedCoverage, seedFleet } from './seed.ts';
import { max, median } from './stats.ts';

const TICK_MS = 250;
const FLEET = 1000;
const isLeaderLine = (l: ChildLine) => l.json?.msg === 'became evaluator leader';

/**
 * Two contenders; SIGKILL whichever leads and time (from the kill to the survivor's log line)
 * until the survivor says it leads; start a fresh contender and repeat with the survivor as leader.
 */
async function failoverRounds(label: string, rounds: number, start: (i: number) => Promise<ChildProc>): Promise<number[]> {
  let started = 0;
  let procs = [await start(started++), await start(started++)];
  let leader = await Promise.any(procs.map((p) => p.waitForLine('became evaluator leader', isLeaderLine, 30_000).then(() => p)));
  const took: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const survivor = procs.find((p) => p !== leader)!;
    // The survivor must have been contending for a few ticks, as a long-running follower would.
    await sleep(4 * TICK_MS);
    const killedAt = performance.now();
    leader.kill('SIGKILL');
    const line = await survivor.waitForLine('became evaluator leader', isLeaderLine, 15_000, killedAt);
    took.push(line.at - killedAt);
    progress(`failover (${label}) round ${r + 1}: ${(line.at - killedAt).toFixed(0)} ms`);
    await leader.exited;
    procs = [survivor, await start(started++)];
    leader = survivor;
  }
  return took;
}

const inTicks = (millis: number) => `${ms(millis, 0)} (${(millis / TICK_MS).toFixed(2)} ticks)`;

export async function benchFailover(o: BenchOptions, scope: Scope): Promise<Section> {
  const s = section(`6. Failover (evaluator interval ${TICK_MS} ms) and graceful stop`);
  const db = await createBenchDatabase(scope, 'failover');
  await seedFleet(db.sql, { count: FLEET, intervalSeconds: 30, failuresForDown: 3, state: 'healthy', lastHeartbeatAgoMs: 1000, due: 'infinity' });
  await seedCoverage(db.sql);

  progress(`failover: ${o.failoverRounds} leader kills among evaluator-only engines`);
  const life = await failoverRounds('Lifeline', o.failoverRounds, async (i) => {
    const e = await startEngine(scope, {
      name: `engine-evaluator-${i}`,
      databaseUrl: db.url,
      roles: 'evaluator',
      logLevel: 'info',
      env: { LIFELINE_EVALUATOR_INTERVAL_MS: String(TICK_MS) },
    });
    return e.child;
  });
  progress(`failover: ${o.failoverRounds} kills among bare advisory-lock pollers`);
  const naive = await failoverRounds('lock poller', o.failoverRounds, async (i) => {
    const c = spawnScript(scope, `lock-poller-${i}`, 'test/bench/lock-poller.ts', { DATABASE_URL: db.url, BENCH_INTERVAL_MS: String(TICK_MS) });
    await c.waitForLine('polling', (l) => l.json?.msg === 'polling', 30_000);
    return c;
  });

  progress(`graceful stop: ${o.stopRounds} SIGTERMs of an all-roles engine with buffered heartbeats`);
  const stops: number[] = [];
  for (let r = 0; r < o.stopRounds; r++) {
    const e = await startEngine(scope, { name: `engine-stop-${r}`, databaseUrl: db.url, roles: 'all' });
    const key = await createApiKey(e.base, e.adminToken, 'ingest');
    // Heartbeats just accepted are still in the buffer: the stop has a final flush to do.
    await postHeartbeats(e.base, key, Array.from({ length: FLEET }, (_, i) => nodeName(i + 1)));
    const t0 = performance.now();
    e.child.kill('SIGTERM');
    const exit = await e.child.exited;
    if (exit.code !== 0) throw new Error(`engine exited with ${exit.code ?? exit.signal} on SIGTERM; last output:\n${e.child.tail()}`);
    stops.push(exit.at - t0);
  }
  const bareStops: number[] = [];
  for (let r = 0; r < o.stopRounds; r++) {
    const b = await startBaseline(scope, 'bare');
    const t0 = performance.now();
    b.child.kill('SIGTERM');
    bareStops.push((await b.child.exited).at - t0);
  }

  row(s, `leader SIGKILL → survivor leads, max of ${life.length}`, inTicks(max(life)), inTicks(max(naive)), `≤ 2 ticks (${int(2 * TICK_MS)} ms)`, max(life) <= 2 * TICK_MS);
  row(s, `leader SIGKILL → survivor leads, median`, inTicks(median(life)), inTicks(median(naive)), '—');
  row(s, `graceful stop, SIGTERM → exit 0, max of ${stops.length}`, ms(max(stops), 0), ms(max(bareStops), 0), '≤ 1,000 ms', max(stops) <= 1000);
  s.notes.push(
    `Lifeline: two engine children with \`LIFELINE_ROLES=evaluator\`, \`LIFELINE_EVALUATOR_INTERVAL_MS=${TICK_MS}\`, \`LOG_LEVEL=info\`, on a ${int(FLEET)}-node fleet; the leader is whichever logged "became evaluator leader"; time runs from the SIGKILL to the survivor's line reaching the benchmark. Rounds: ${life.map((t) => ms(t, 0)).join(', ')}.`,
    `Baseline (the floor of the mechanism): two processes doing nothing but \`pg_try_advisory_lock\` every ${TICK_MS} ms on a dedicated connection. Rounds: ${naive.map((t) => ms(t, 0)).join(', ')}.`,
    `Graceful stop: an engine with every role, SIGTERM right after a 1,000-heartbeat batch was accepted; baseline: a bare node:http server closing on SIGTERM. Rounds: ${stops.map((t) => ms(t, 0)).join(', ')} (bare ${bareStops.map((t) => ms(t, 0)).join(', ')}).`,
  );
  return s;
}
