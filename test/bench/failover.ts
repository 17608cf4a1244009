import { createApiKey, postHeartbeats } from './api.ts';
import { spawnScript, startBaseline, startEngine, type ChildLine, type ChildProc } from './children.ts';
import { createBenchDatabase } from './databases.ts';
import { progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { int, ms, row, section, type Section } from './report.ts';
import { GiveUp, sleep, waitFor, type Scope } from './scope.ts';
import { nodeName, seedCoverage, seedFleet } from './seed.ts';
import { max, median } from './stats.ts';

const TICK_MS = 250;
const FLEET = 1000;
const isLeaderLine = (l: ChildLine) => l.json?.msg === 'became evaluator leader';

interface Contender {
  child: ChildProc;
  /** As the contender last said in its log. */
  leader: boolean;
}

interface Rounds {
  took: number[];
  /** Leadership changes nobody caused, contenders dying on their own: worth a look in src/. */
  anomalies: string[];
}

/**
 * Two contenders; SIGKILL whichever leads and time (from the kill to the survivor's log line)
 * until the survivor says it leads; start a fresh contender and repeat. Who leads is read from the
 * contenders' own log lines, so a leadership change the benchmark did not cause is noticed (and
 * reported) instead of being mistaken for a failover.
 */
async function failoverRounds(label: string, rounds: number, start: (i: number) => Promise<ChildProc>): Promise<Rounds> {
  const anomalies: string[] = [];
  const killed = new Set<ChildProc>();
  const t0 = performance.now();
  const stamp = (at: number) => `+${((at - t0) / 1000).toFixed(2)} s`;
  const add = async (i: number): Promise<Contender> => {
    const child = await start(i);
    const c: Contender = { child, leader: false };
    child.onLine((l) => {
      const msg = String(l.json?.msg ?? '');
      if (isLeaderLine(l)) c.leader = true;
      else if (msg === 'no longer evaluator leader') {
        c.leader = false;
        anomalies.push(`${stamp(l.at)} ${child.name} logged "no longer evaluator leader" without being killed`);
      } else if (typeof l.json?.level === 'number' && l.json.level >= 40 && /lock|leader/i.test(msg)) {
        anomalies.push(`${stamp(l.at)} ${child.name}: ${l.text.slice(0, 300)}`);
      }
    }, true);
    void child.exited.then((e) => {
      if (!killed.has(child)) anomalies.push(`${stamp(e.at)} ${child.name} exited on its own (${e.code ?? e.signal}); last output: ${child.tail(3)}`);
    });
    return c;
  };
  const currentLeader = () =>
    waitFor(
      `one ${label} contender to lead`,
      () => {
        const leading = pool.filter((c) => c.leader && c.child.alive);
        if (leading.length > 1) throw new GiveUp(`${leading.map((c) => c.child.name).join(' and ')} both claim to lead`);
        return leading[0];
      },
      30_000,
      10,
    );

  let next = 0;
  let pool = [await add(next++), await add(next++)];
  const took: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // The survivor must have been contending for a few ticks, as a long-running follower would.
    await sleep(4 * TICK_MS);
    const leader = await currentLeader();
    const survivor = pool.find((c) => c !== leader)!;
    const killedAt = performance.now();
    killed.add(leader.child);
    leader.child.kill('SIGKILL');
    const line = await survivor.child.waitForLine('became evaluator leader', isLeaderLine, 15_000, killedAt);
    took.push(line.at - killedAt);
    progress(`failover (${label}) round ${r + 1}: ${(line.at - killedAt).toFixed(0)} ms`);
    await leader.child.exited;
    pool = [survivor, await add(next++)];
  }
  return { took, anomalies };
}

const inTicks = (millis: number) => `${ms(millis, 0)} (${(millis / TICK_MS).toFixed(2)} ticks)`;

export async function benchFailover(o: BenchOptions, scope: Scope): Promise<Section> {
  const s = section(`6. Failover (evaluator interval ${TICK_MS} ms) and graceful stop`);
  const db = await createBenchDatabase(scope, 'failover');
  await seedFleet(db.sql, { count: FLEET, intervalSeconds: 30, failuresForDown: 3, state: 'healthy', lastHeartbeatAgoMs: 1000, due: 'infinity' });
  await seedCoverage(db.sql);

  progress(`failover: ${o.failoverRounds} leader kills among evaluator-only engines`);
  const { took: life, anomalies } = await failoverRounds('Lifeline', o.failoverRounds, async (i) => {
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
  const { took: naive } = await failoverRounds('lock poller', o.failoverRounds, async (i) => {
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
  if (anomalies.length) {
    s.notes.push(`Leadership events the benchmark did not cause (${anomalies.length}):`);
    for (const a of anomalies) s.notes.push(`  ${a.replace(/\n/g, ' ')}`);
  }
  return s;
}
