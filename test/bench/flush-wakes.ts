// What each api replica costs the evaluator leader when nothing is wrong: evaluator passes and
// ingest flush notices a second with two api processes (one of them also the evaluator), idle,
// then with a healthy fleet beating, then with 1 % of it reporting degraded (ARCHITECTURE.md,
// "Capacity: past one machine"). Run: node --import tsx test/bench/flush-wakes.ts [seconds per phase]
import { DUE_CHANNEL } from '../../src/health/store.ts';
import { createApiKey, getText, metricValue, postHeartbeats } from './api.ts';
import { startEngine, type EngineChild } from './children.ts';
import { createBenchDatabase } from './databases.ts';
import { progress } from './log.ts';
import { Scope, sleep } from './scope.ts';
import { nodeName, seedFleet } from './seed.ts';

const NODES = 1000;
const PHASE_S = Number(process.argv[2] ?? 20);
// Every node once a second, in ten slices, each slice to the next replica in turn.
const SLICES = 10;

async function counter(engine: EngineChild, name: string): Promise<number> {
  return metricValue((await getText(engine.base, '/metrics')).text, name);
}

async function main(): Promise<void> {
  const scope = new Scope();
  try {
    const db = await createBenchDatabase(scope, 'wakes');
    await seedFleet(db.sql, { count: NODES, intervalSeconds: 60, failuresForDown: 3, state: 'healthy', due: 'infinity' });
    const a = await startEngine(scope, { name: 'api-evaluator', databaseUrl: db.url, roles: 'api,evaluator' });
    const b = await startEngine(scope, { name: 'api', databaseUrl: db.url, roles: 'api' });
    const key = await createApiKey(a.base, a.adminToken, 'ingest');
    let notices = 0;
    const listening = await db.sql.listen(DUE_CHANNEL, () => void notices++);
    scope.defer('unlisten', () => listening.unlisten());
    const names = Array.from({ length: NODES }, (_, i) => nodeName(i + 1));
    const degraded = new Set(names.slice(0, NODES / 100));
    const rows: string[] = [];

    const phase = async (what: string, beat: 'none' | 'ok' | 'some degraded') => {
      let sending = beat !== 'none';
      const sender = (async () => {
        for (let i = 0; sending; i++) {
          const slice = names.filter((_, n) => n % SLICES === i % SLICES);
          const target = i % 2 === 0 ? a : b;
          const batch = slice.map((node) => ({ node, status: beat === 'some degraded' && degraded.has(node) ? 'degraded' : 'ok' }));
          const res = await fetch(`${target.base}/v1/heartbeats`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ heartbeats: batch }),
          });
          await res.text();
          await sleep(1000 / SLICES);
        }
      })();
      // Settle one phase into the next before counting.
      await sleep(3000);
      const passes0 = await counter(a, 'lifeline_evaluator_tick_seconds_count');
      const flushes0 = (await counter(a, 'lifeline_ingest_flush_seconds_count')) + (await counter(b, 'lifeline_ingest_flush_seconds_count'));
      const notices0 = notices;
      const t0 = performance.now();
      await sleep(PHASE_S * 1000);
      const passes = (await counter(a, 'lifeline_evaluator_tick_seconds_count')) - passes0;
      const flushes = (await counter(a, 'lifeline_ingest_flush_seconds_count')) + (await counter(b, 'lifeline_ingest_flush_seconds_count')) - flushes0;
      const s = (performance.now() - t0) / 1000;
      sending = false;
      await sender;
      const per = (n: number) => (n / s).toFixed(2);
      rows.push(`| ${what} | ${per(flushes)} | ${per(notices - notices0)} | ${per(passes)} |`);
      progress(rows.at(-1)!);
    };

    await postHeartbeats(a.base, key, names.slice(0, 1)); // the key works
    await phase('idle: no heartbeats', 'none');
    await phase(`busy: ${NODES} healthy nodes, 1 ok heartbeat/s each`, 'ok');
    await phase(`busy: the same, ${degraded.size} of them reporting degraded`, 'some degraded');
    console.log(['| 2 api processes, evaluator interval 1 s, flush 250 ms | flushes/s | notices/s | evaluator passes/s |', '|---|---:|---:|---:|', ...rows].join('\n'));
  } finally {
    await scope.close();
  }
}

await main();
