import { createApiKey, getText, postHeartbeats, seriesCount } from './api.ts';
import { startBaseline, startEngine } from './children.ts';
import { createBenchDatabase } from './databases.ts';
import { progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { int, ms, row, section, type Section } from './report.ts';
import type { Scope } from './scope.ts';
import { nodeName, seedCoverage, seedFleet } from './seed.ts';
import { percentile } from './stats.ts';

interface Scrapes {
  series: number;
  times: number[];
}

/** `count` sequential scrapes, each timed to the last byte of the body. */
async function scrape(base: string, count: number): Promise<Scrapes> {
  const times: number[] = [];
  let series = 0;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await getText(base, '/metrics');
    times.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
    series = seriesCount(res.text);
  }
  return { series, times };
}

export async function benchMetrics(o: BenchOptions, scope: Scope): Promise<Section> {
  const n = o.nodes;
  const s = section(`5. /metrics (${int(n)} nodes)`);
  const db = await createBenchDatabase(scope, 'metrics');
  await seedFleet(db.sql, { count: n, intervalSeconds: 30, failuresForDown: 3, state: 'healthy', lastHeartbeatAgoMs: 1000, due: 'infinity' });
  await seedCoverage(db.sql);
  const engine = await startEngine(scope, { name: 'engine-all', databaseUrl: db.url, roles: 'all' });

  // Traffic on several routes and statuses first, so the labelled series exist as in production.
  progress('metrics: traffic to populate the labelled series');
  const key = await createApiKey(engine.base, engine.adminToken, 'ingest');
  const names = Array.from({ length: n }, (_, i) => nodeName(i + 1));
  for (let i = 0; i < names.length; i += 1000) await postHeartbeats(engine.base, key, names.slice(i, i + 1000));
  await getText(engine.base, '/v1/nodes?limit=50', engine.adminToken);
  await getText(engine.base, `/v1/nodes/${names[0]}`, engine.adminToken);
  await getText(engine.base, `/v1/nodes/${names[0]}/transitions`, engine.adminToken);
  await getText(engine.base, '/v1/nodes/no-such-node', engine.adminToken);
  await getText(engine.base, '/v1/nodes', 'not-a-valid-secret');
  await getText(engine.base, '/no-such-route');
  await getText(engine.base, '/readyz');

  progress(`metrics: ${o.scrapes} scrapes of the engine`);
  await scrape(engine.base, 3); // warm-up
  const life = await scrape(engine.base, o.scrapes);
  const naiveServer = await startBaseline(scope, 'metrics', { DATABASE_URL: db.url });
  progress(`metrics: ${o.scrapes} scrapes of the per-node exporter`);
  await scrape(naiveServer.base, 3);
  const naive = await scrape(naiveServer.base, o.scrapes);

  const p99 = percentile(life.times, 99);
  row(s, 'series exposed', int(life.series), int(naive.series), '≤ 2,000', life.series <= 2000);
  row(s, `scrape time p50 (${o.scrapes} scrapes)`, ms(percentile(life.times, 50)), ms(percentile(naive.times, 50)), '—');
  row(s, `scrape time p99 (${o.scrapes} scrapes)`, ms(p99), ms(percentile(naive.times, 99)), '≤ 100 ms', p99 <= 100);
  s.notes.push(
    'Lifeline: engine child with every role, after heartbeats and a few read, 404 and 401 requests; series = non-comment sample lines; time = request to last byte, scrapes back to back.',
    'Baseline: a prom-client exporter with one `node_up` and one `node_last_heartbeat_seconds` series per node, refreshed by a query per scrape, plus the default process metrics.',
  );
  return s;
}
