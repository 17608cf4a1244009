import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey, createNodes, getText, heartbeatBatch, metricValue } from './api.ts';
import { startBaseline, startEngine, type EngineChild } from './children.ts';
import { cpuMs } from './proc-cpu.ts';
import { commits, createBenchDatabase, secretLookups, settledUpdates, type BenchDatabase } from './databases.ts';
import { measure, postJson, runLoad, warmUp, type LoadResult, type LoadSpec } from './load.ts';
import { progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { int, ms, pct, row, section, times, type Section } from './report.ts';
import type { Scope } from './scope.ts';
import { nodeName } from './seed.ts';

// What an agent typically sends: a status and a check or two.
const HEARTBEAT = { status: 'ok', checks: { disk: { status: 'ok', value: 0.42 } } };
const BATCH_SIZE = 1000;

interface Persistence {
  /** Row updates on node_heartbeats and how many of them were HOT. */
  upd: number;
  hotUpd: number;
  /** Commits in the benchmark database over the window (every session: an upper bound). */
  commits: number;
  /** Flush transactions the engine itself counted (lifeline_ingest_flush_seconds_count), and their time. */
  flushes: number | undefined;
  flushSeconds: number | undefined;
  /** Secret-hash lookup queries (authentication cache misses). */
  lookups: number;
  /** CPU (ms, /proc) of the engine over the measured run. */
  engineCpuMs: number | undefined;
}

/**
 * Warms up, then measures `spec` and reports what the measured run did to node_heartbeats: the
 * statistics are read before and after it (each settled, see settledUpdates), so each window holds
 * that run's writes and nothing of the warm-up.
 */
async function withPersistence(db: BenchDatabase, engine: EngineChild | undefined, label: string, spec: LoadSpec) {
  const flushTotals = async () => {
    if (!engine) return undefined;
    if (!engine.child.alive) throw new Error(`the engine exited; last output:\n${engine.child.tail()}`);
    const text = (await getText(engine.base, '/metrics')).text;
    return { count: metricValue(text, 'lifeline_ingest_flush_seconds_count'), seconds: metricValue(text, 'lifeline_ingest_flush_seconds_sum') };
  };
  await warmUp(label, spec);
  const before = await settledUpdates(db.sql, 'node_heartbeats');
  const c0 = await commits(db.sql);
  const l0 = await secretLookups(db.sql);
  const f0 = await flushTotals();
  const { result, cpuMs } = await measureCpu(engine?.child.pid, label, spec);
  const f1 = await flushTotals();
  const after = await settledUpdates(db.sql, 'node_heartbeats');
  const c1 = await commits(db.sql);
  const l1 = await secretLookups(db.sql);
  const p: Persistence = {
    upd: after.upd - before.upd,
    hotUpd: after.hotUpd - before.hotUpd,
    commits: c1 - c0,
    flushes: f0 === undefined || f1 === undefined ? undefined : f1.count - f0.count,
    flushSeconds: f0 === undefined || f1 === undefined ? undefined : f1.seconds - f0.seconds,
    lookups: l1 - l0,
    engineCpuMs: engine ? cpuMs : undefined,
  };
  return { result, p };
}

/** The measured run, and the CPU the server process `pid` spent over it (0 without a pid). */
async function measureCpu(pid: number | undefined, label: string, spec: LoadSpec): Promise<{ result: LoadResult; cpuMs: number }> {
  const c0 = pid === undefined ? 0 : cpuMs(pid);
  const result = await measure(label, spec);
  return { result, cpuMs: pid === undefined ? 0 : cpuMs(pid) - c0 };
}

/** Microseconds of CPU per request. */
const cpuPerRequest = (cpuMs: number | undefined, r: LoadResult) => (cpuMs === undefined ? '?' : `${((cpuMs * 1000) / Math.max(1, r.sent)).toFixed(1)} µs`);

/**
 * One request per credential, 20 at a time, before a measured run, so it meets the engine's caches
 * (node tokens, ping keys) as a running engine does: a credential's first request costs a query.
 * The warm-up alone covers them on a quiet machine, not on a loaded one.
 */
async function oncePerCredential(what: string, credentials: string[], send: (credential: string) => Promise<Response>): Promise<void> {
  progress(`ingest: one ${what} for each of ${credentials.length} credentials`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < credentials.length) {
        const res = await send(credentials[next++]!);
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`${what}: ${res.status}`);
      }
    }),
  );
}

const per1000 = (p: Persistence, heartbeats: number) => (p.commits / Math.max(1, heartbeats)) * 1000;
const hotRatio = (p: Persistence) => (p.upd > 0 ? p.hotUpd / p.upd : Number.NaN);
const flushMeanMs = (p: Persistence) => (p.flushes && p.flushSeconds !== undefined ? (p.flushSeconds / p.flushes) * 1000 : Number.NaN);

export async function benchIngest(o: BenchOptions, scope: Scope): Promise<Section> {
  const s = section(`1. Heartbeat and ping ingest (single process, ${int(o.ingestNodes)} nodes)`);
  const db = await createBenchDatabase(scope, 'ingest');
  // The ping limit is counted as in production, high enough never to answer 429 to this load.
  const engine = await startEngine(scope, { name: 'engine-api', databaseUrl: db.url, roles: 'api', env: { LIFELINE_PING_RATE_LIMIT: '1000000' } });

  progress(`ingest: creating ${o.ingestNodes} nodes through POST /v1/nodes`);
  const nodes = await createNodes(engine.base, engine.adminToken, Array.from({ length: o.ingestNodes }, (_, i) => nodeName(i + 1)));
  // A fleet that has been running is healthy; judged that way, a heartbeat only rewrites the node's
  // own row (an unknown node's heartbeat would also wake the evaluator through node_due). The
  // engine runs the api role alone here, so no evaluator would have made them healthy.
  await db.sql`update node_health set state = 'healthy', version = 1, since = now()`;
  const ingestKey = await createApiKey(engine.base, engine.adminToken, 'ingest');

  const mapFile = join(tmpdir(), `lifeline-bench-${process.pid}-nodes.json`);
  await writeFile(mapFile, JSON.stringify({
    byToken: Object.fromEntries(nodes.map((n) => [n.token, n.id])),
    byName: Object.fromEntries(nodes.map((n) => [n.name, n.id])),
  }));
  scope.defer('remove node map', () => rm(mapFile, { force: true }));
  const bare = await startBaseline(scope, 'bare');
  const naive = await startBaseline(scope, 'update', { DATABASE_URL: db.url, BENCH_NODE_MAP: mapFile });

  const single = nodes.map((n) => postJson('/v1/heartbeats', n.token, HEARTBEAT));
  const batches: ReturnType<typeof postJson>[] = [];
  for (let i = 0; i < nodes.length; i += BATCH_SIZE) {
    const names = nodes.slice(i, i + BATCH_SIZE).map((n) => n.name);
    batches.push(postJson('/v1/heartbeats', ingestKey, heartbeatBatch(names)));
  }
  const perBatch = Math.min(BATCH_SIZE, nodes.length);
  const singleSpec = (url: string): LoadSpec => ({ url, connections: o.connections, seconds: o.duration, requests: single });
  const batchSpec = (url: string): LoadSpec => ({ url, connections: o.batchConnections, seconds: o.duration, requests: batches });

  // (a) one heartbeat per request, 100 connections, the same requests to all three servers.
  await warmUp('bare 202, single', singleSpec(bare.base));
  const { result: bareSingle, cpuMs: bareCpuMs } = await measureCpu(bare.child.pid, 'bare 202, single', singleSpec(bare.base));
  await oncePerCredential('heartbeat', nodes.map((n) => n.token), (token) =>
    fetch(`${engine.base}/v1/heartbeats`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(HEARTBEAT) }),
  );
  const life = await withPersistence(db, engine, 'Lifeline, single', singleSpec(engine.base));
  const naiveSingle = await withPersistence(db, undefined, 'naive UPDATE per request, single', singleSpec(naive.base));

  // (b) batches of up to 1000 heartbeats by node name with an ingest key.
  const bareBatch = await runLoad('bare 202, batch', batchSpec(bare.base));
  const lifeBatch = await withPersistence(db, engine, 'Lifeline, batch', batchSpec(engine.base));
  const naiveBatch = await withPersistence(db, undefined, 'naive UPDATE per heartbeat, batch', batchSpec(naive.base));

  // (c) ping URLs on the same engine and nodes: a plain success ping (a crontab's curl), then a job
  // wrapped by `lifeline run` (start, then its exit code with a 1 KB output: a run row each).
  const successPings = nodes.map((n) => ({ method: 'GET', path: `/ping/${n.ping_key}` }));
  const output = 'x'.repeat(1023) + '\n';
  const runPings = nodes.flatMap((n) => [
    { method: 'GET', path: `/ping/${n.ping_key}/start` },
    { method: 'POST', path: `/ping/${n.ping_key}/0`, headers: { 'content-type': 'text/plain' }, body: output },
  ]);
  const pingSpec = (requests: typeof successPings): LoadSpec => ({ url: engine.base, connections: o.connections, seconds: o.duration, requests });
  // A HEAD is a success ping: it makes no run row.
  await oncePerCredential('ping', nodes.map((n) => n.ping_key), (key) => fetch(`${engine.base}/ping/${key}`, { method: 'HEAD' }));
  const pingRun = await withPersistence(db, engine, 'Lifeline, success ping', pingSpec(successPings));
  const wrappedRun = await withPersistence(db, engine, 'Lifeline, start + exit code ping', pingSpec(runPings));
  const runRows = await db.sql<{ n: number }[]>`select count(*)::int as n from node_runs`;

  const L = life.result;
  const N = naiveSingle.result;
  row(s, `reference: bare node:http 202 — req/s, p50/p99 (${o.connections} conn)`, '—', `${int(bareSingle.rps)}, ${ms(bareSingle.p50, 0)}/${ms(bareSingle.p99, 0)}`, 'the yardstick');
  row(s, 'single heartbeat — req/s', int(L.rps), int(N.rps), `≥ 0.5 × bare = ${int(bareSingle.rps / 2)}`, L.rps >= bareSingle.rps / 2);
  row(s, 'single heartbeat — ratio to bare', times(L.rps / bareSingle.rps), times(N.rps / bareSingle.rps), '≥ 0.50×', L.rps / bareSingle.rps >= 0.5);
  // The figure a loaded machine disturbs least: requests/s move with whatever else runs.
  row(s, 'single heartbeat — server CPU per request (/proc)', cpuPerRequest(life.p.engineCpuMs, L), '—', '—');
  row(s, 'reference: bare node:http 202 — server CPU per request', '—', cpuPerRequest(bareCpuMs, bareSingle), 'the yardstick');
  row(s, 'single heartbeat — p50 latency', ms(L.p50, 0), ms(N.p50, 0), '—');
  row(s, 'single heartbeat — p99 latency', ms(L.p99, 0), ms(N.p99, 0), '≤ 50 ms', L.p99 <= 50);
  const P = pingRun.result;
  const W = wrappedRun.result;
  row(s, 'ping URL, success (GET /ping/{key}) — req/s', int(P.rps), '—', `≥ 0.5 × single heartbeat = ${int(L.rps / 2)}`, P.rps >= L.rps / 2);
  row(s, 'ping URL, success — ratio to single heartbeat', times(P.rps / L.rps), '—', '≥ 0.50×', P.rps / L.rps >= 0.5);
  row(s, 'ping URL, success — p50/p99 latency', `${ms(P.p50, 0)}/${ms(P.p99, 0)}`, '—', '—');
  row(s, 'ping URL, start + POST exit code with 1 KB — req/s', int(W.rps), '—', `≥ 0.5 × single heartbeat = ${int(L.rps / 2)}`, W.rps >= L.rps / 2);
  row(s, 'ping URL, start + exit code — p50/p99 latency', `${ms(W.p50, 0)}/${ms(W.p99, 0)}`, '—', '—');
  row(s, 'database commits per 1,000 pings (success / start + exit code)', `${per1000(pingRun.p, P.sent).toFixed(1)} / ${per1000(wrappedRun.p, W.sent).toFixed(1)}`, '—', 'no per-request commit', per1000(pingRun.p, P.sent) < 100 && per1000(wrappedRun.p, W.sent) < 100);
  row(s, `batch (${perBatch}/request, ${o.batchConnections} conn) — heartbeats/s`, int(lifeBatch.result.rps * perBatch), int(naiveBatch.result.rps * perBatch), '≥ 50,000', lifeBatch.result.rps * perBatch >= 50_000);
  row(s, 'batch — p50/p99 latency per request', `${ms(lifeBatch.result.p50, 0)}/${ms(lifeBatch.result.p99, 0)}`, `${ms(naiveBatch.result.p50, 0)}/${ms(naiveBatch.result.p99, 0)}`, '—');
  row(s, 'reference: bare 202 with the batch bodies — heartbeats/s', '—', int(bareBatch.rps * perBatch), 'the yardstick');

  const hotL = hotRatio(life.p);
  const hotB = hotRatio(lifeBatch.p);
  row(s, 'HOT updates on node_heartbeats (single run)', pct(hotL), pct(hotRatio(naiveSingle.p)), '≥ 90 %', hotL >= 0.9);
  row(s, 'HOT updates on node_heartbeats (batch run)', pct(hotB), pct(hotRatio(naiveBatch.p)), '≥ 90 %', hotB >= 0.9);
  row(s, 'flush transaction, mean (single run / batch run)', `${ms(flushMeanMs(life.p), 2)} / ${ms(flushMeanMs(lifeBatch.p), 2)}`, '—', '—');
  const perRequest = (p: Persistence, r: LoadResult) => p.upd / Math.max(1, r.sent);
  row(s, 'row updates per heartbeat (single run)', perRequest(life.p, L).toFixed(3), perRequest(naiveSingle.p, N).toFixed(3), 'coalesced per node (< 1)', perRequest(life.p, L) < 1);
  const lifeCommits = per1000(life.p, L.sent);
  row(s, 'database commits per 1,000 heartbeats (single run)', lifeCommits.toFixed(1), per1000(naiveSingle.p, N.sent).toFixed(1), 'no per-request commit (≪ 1,000)', lifeCommits < 100);
  const per1000lookups = (p: Persistence, requests: number) => (p.lookups / Math.max(1, requests)) * 1000;
  const batchHeartbeats = (r: LoadResult) => r.sent * perBatch;
  row(s, 'authentication queries per 1,000 requests (single run)', per1000lookups(life.p, L.sent).toFixed(1), '0 (none)', '—');
  row(s, 'database commits per 1,000 heartbeats (batch run)', per1000(lifeBatch.p, batchHeartbeats(lifeBatch.result)).toFixed(2), per1000(naiveBatch.p, batchHeartbeats(naiveBatch.result)).toFixed(1), 'no per-request commit', per1000(lifeBatch.p, batchHeartbeats(lifeBatch.result)) < 100);

  s.notes.push(
    `Load: autocannon in the benchmark process, keep-alive, ${o.duration} s per run after a short warm-up; the engine (\`LIFELINE_ROLES=api\`) and both baselines are separate processes. Each connection cycles through its own share of the ${int(nodes.length)} node tokens (single) or of the ${batches.length} batch bodies.`,
    `Naive baseline: node:http, no authentication, one \`update node_heartbeats … where node_id = $1\` per heartbeat on a postgres.js pool of 10 (each its own commit).`,
    `Single run: ${int(L.ok)} heartbeats accepted; ${int(life.p.upd)} row updates (${int(life.p.hotUpd)} HOT) in ${life.p.flushes ?? '?'} flush transactions; ${int(life.p.commits)} commits in the database over the window (all sessions: besides the flushes, ${int(life.p.lookups)} authentication queries — cached secrets are looked up again after the cache's TTL, api_keys first, then nodes — and the idle 250 ms flushes and statistics reads while it settled).`,
    `Batch run: ${int(lifeBatch.result.ok * perBatch)} heartbeats accepted in ${int(lifeBatch.result.ok)} requests; ${int(lifeBatch.p.upd)} row updates (${int(lifeBatch.p.hotUpd)} HOT) in ${lifeBatch.p.flushes ?? '?'} flush transactions.`,
    `Ping runs: the same engine and nodes, each connection cycling through its share of the ${int(nodes.length)} ping keys without a header; the limit per key (LIFELINE_PING_RATE_LIMIT) is counted but set too high to refuse. Success pings are ok heartbeats written by the flush and make no run row; the start + exit code run alternated /start and a POST of /0 with a 1 KB body per key and left ${int(runRows[0]?.n ?? 0)} run rows (the newest 100 per node are kept).`,
    `Statistics come from pg_stat_user_tables / pg_stat_database, read once they stopped moving (other backends publish counters about once a second).`,
  );
  const failures = [bareSingle, L, N, P, W, bareBatch, lifeBatch.result, naiveBatch.result].reduce((n, r) => n + r.failed, 0);
  if (failures) s.notes.push(`${int(failures)} requests failed across the runs (non-2xx, errors or timeouts); see the progress log.`);
  return s;
}
