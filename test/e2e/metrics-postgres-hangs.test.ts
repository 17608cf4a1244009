import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { dropDatabases, freshDatabaseName, urlFor } from '../helpers/db.ts';
import { EngineProcess, engineEnv } from '../helpers/engine-process.ts';
import { postgresProxy } from '../helpers/postgres-proxy.ts';
import { until } from '../helpers/wait.ts';

/** Prometheus's default scrape_timeout: a scrape not answered by then counts as the target down. */
const SCRAPE_TIMEOUT_MS = 10_000;

/** `name{labels} value` lines of a scrape, as a map from the series to its value. */
const series = (text: string) => new Map(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));

// Postgres hanging under an api (packets go nowhere, nothing is refused): /metrics waited on its
// reads with no deadline, 2.8-11.7 s a scrape, most of them timing out, so the target flapped and
// nothing said why. It must answer, from the last values, and say what is wrong.
describe('/metrics while Postgres hangs', () => {
  const database = freshDatabaseName();
  let engine: EngineProcess | undefined;
  const proxy = postgresProxy();
  after(async () => {
    engine?.kill('SIGKILL');
    if (engine) await engine.exited;
    await (await proxy).cut();
    await dropDatabases([database]);
  });

  it('answers every scrape within a scrape timeout, with Postgres down, the reads ageing and the heartbeats it holds', async () => {
    const { via, pause } = await proxy;
    const admin = `admin-${randomBytes(12).toString('hex')}`;
    engine = EngineProcess.start({ ...engineEnv(database, admin, { LIFELINE_ROLES: 'api' }), DATABASE_URL: via(urlFor(database)) });
    const base = `http://127.0.0.1:${await engine.listeningPort()}`;
    const scrape = async () => series(await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) })).text());
    const post = (path: string, token: string, body: unknown) =>
      fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const node = (await (await post('/v1/nodes', admin, { name: 'web-1', heartbeat_interval_seconds: 30 })).json()) as { token: string };
    assert.equal((await post('/v1/heartbeats', node.token, { status: 'ok' })).status, 202);
    const before = await until('the fleet reads and Postgres up', async () => {
      const s = await scrape();
      return s.get('lifeline_dependency_up{dependency="postgres"}') === 1 && Number.isFinite(s.get('lifeline_metrics_read_age_seconds{read="nodes"}')) && s;
    });
    assert.ok([...before.keys()].some((k) => /^lifeline_build_info\{version="[^"]+",roles="api"\}$/.test(k)), 'no build info naming the api role');
    assert.ok(before.get('lifeline_ingest_last_flush_timestamp_seconds')! > 0);

    pause();
    const pausedAt = Date.now() / 1000;
    // Held by the flush that hangs, still answered 202: only the metrics can tell.
    assert.equal((await post('/v1/heartbeats', node.token, { status: 'ok' })).status, 202);
    // Past one read period (5 s), every read is asked again and hangs; each scrape still answers.
    const during = await until('Postgres down and the reads ageing past a read period', async () => {
      const s = await scrape();
      return s.get('lifeline_dependency_up{dependency="postgres"}') === 0 && s.get('lifeline_metrics_read_age_seconds{read="nodes"}')! > 5 && s;
    });
    assert.ok(during.get('lifeline_ingest_buffered_heartbeats')! >= 1, String(during.get('lifeline_ingest_buffered_heartbeats')));
    assert.ok(during.get('lifeline_ingest_last_flush_timestamp_seconds')! <= pausedAt, 'no flush commits while Postgres hangs');
    assert.equal(during.get('lifeline_dependency_up{dependency="redis"}'), 1);
  });
});
