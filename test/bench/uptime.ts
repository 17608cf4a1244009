// Uptime at fleet scale: a year of realistic transitions for 10k nodes seeded with SQL, the rows
// built the way production builds them (the rebuild path: set-wise rollup passes), then the API's
// answers timed beside a naive computation straight from node_state_log in the same run, the
// storage that year takes, and the outbox handler's throughput with two workers.
//
// Alone: node --import tsx test/bench/uptime.ts [--nodes 10000] [--days 365]
// prints the markdown section on stdout (progress on stderr). run.ts calls runUptimeBench.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ManualClock } from '../helpers/clock.ts';
import { ensureBootstrapAdmin } from '../../src/access/service.ts';
import type { Sql } from '../../src/db/client.ts';
import { loadConfig } from '../../src/config.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { OutboxDispatcher } from '../../src/outbox/dispatcher.ts';
import { HandlerRegistry, type OutboxHandler } from '../../src/outbox/registry.ts';
import { uptimeHandler } from '../../src/uptime/handlers.ts';
import { intervalsFromLog, msInWindow } from '../../src/uptime/intervals.ts';
import { rebuildUptime } from '../../src/uptime/rebuild.ts';
import type { Retention } from '../../src/uptime/retention.ts';
import { combine, type NodeState, type StateMs } from '../../src/uptime/state-time.ts';
import { summarize } from '../../src/uptime/summary.ts';
import { UPTIME_WINDOWS } from '../../src/uptime/windows.ts';
import { buildApp, send, type App } from '../helpers/app.ts';
import { createBenchDatabase, vacuumAnalyze } from './databases.ts';
import { benchLog, progress } from './log.ts';
import { int, ms, sec, type Row } from './report.ts';
import { Scope } from './scope.ts';
import { median, percentile, timed } from './stats.ts';

const TOKEN = 'llk_bench-uptime-admin-token';
// The targets the report holds each figure against (BENCHMARKS.md, section 8).
const ONE_NODE_TARGET_MS = 20;
const FLEET_TARGET_MS = 1000;
const STORAGE_TARGET_BYTES = 10 * 1024 ** 3;
const OUTBOX_TARGET_PER_S = 5000;
// Two incidents per node per week (four transitions): a node that flaps more is paging someone.
const INCIDENTS_PER_WEEK = 2;
const SAMPLED_NODES = 50;
// Each sampled node is asked this many times, so the p99 is not just the slowest of 50.
const ROUNDS = 4;
const FLEET_RUNS = 5;
// A page of a walk as a client reading the whole fleet asks for it.
const WALK_LIMIT = 100;

export interface UptimeBenchOptions {
  nodes: number;
  days: number;
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
const ratioOf = (m: StateMs) => summarize(m).uptime_ratio;

/**
 * Nodes (labelled team-0 … team-19), their health rows and `days` of transitions, all generated
 * inside Postgres.
 */
export async function seedHistory(sql: Sql, o: UptimeBenchOptions, now: Date): Promise<number> {
  const incidents = Math.max(1, Math.floor((o.days * INCIDENTS_PER_WEEK) / 7));
  await sql`select setseed(0.2026)`;
  await sql`
    insert into nodes (name, labels, heartbeat_interval_seconds, grace_seconds, failures_for_down, successes_for_recovery,
                       token_hash, created_at, updated_at)
    select 'node-' || lpad(i::text, 6, '0'), jsonb_build_object('team', 'team-' || (i % 20)), 30, 0, 3, 1,
           md5('bench-uptime-' || i),
           date_trunc('milliseconds', ${now}::timestamptz - ${o.days} * interval '1 day' - random() * interval '6 hours'), ${now}
    from generate_series(1, ${o.nodes}) as i`;
  // Incidents sit in equal slots of the node's life, so they never overlap: each starts somewhere
  // in its slot and lasts 1 minute to 3 hours. Kinds: mostly down, some degraded, a few
  // maintenance windows and engine blind spots (unknown). Times in whole milliseconds, as the
  // engine stamps them.
  await sql`
    with slots as (
      select n.id, n.created_at, k, (${now}::timestamptz - n.created_at - interval '1 hour') / ${incidents} as slot
      from nodes n cross join generate_series(0, ${incidents} - 1) as k
    ), inc as materialized (
      select id, k, date_trunc('milliseconds', created_at + interval '1 minute' + k * slot + random() * (slot - interval '3 hours 1 minute')) as start,
             date_trunc('milliseconds', interval '1 minute' + random() * interval '179 minutes') as length,
             (array['down', 'down', 'down', 'down', 'down', 'down', 'degraded', 'degraded', 'degraded', 'maintenance', 'maintenance', 'unknown'])
               [1 + floor(random() * 12)::int] as kind
      from slots
    )
    insert into node_state_log (node_id, state_version, from_state, to_state, at, reason)
    select id, 1, 'unknown', 'healthy', created_at + interval '30 seconds', 'seed' from nodes
    union all
    select id, 2 + 2 * k, 'healthy', kind, start, 'seed' from inc
    union all
    select id, 3 + 2 * k, kind, 'healthy', start + length, 'seed' from inc`;
  await sql`
    insert into node_health (node_id, state, since, version)
    select node_id, 'healthy', max(at), max(state_version) from node_state_log group by node_id`;
  await sql`insert into node_heartbeats (node_id) select id from nodes`;
  await sql`insert into node_due (node_id, due_at) select id, 'infinity' from nodes`;
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from node_state_log`;
  return row!.n;
}

interface NodeLog {
  createdAt: number;
  transitions: Array<{ from: NodeState; to: NodeState; at: number }>;
}

/** The naive way: read the node's whole log and add its intervals up. */
async function naiveNode(sql: Sql, id: string, from: number, to: number): Promise<StateMs> {
  const [node] = await sql<{ created_at: Date }[]>`select created_at from nodes where id = ${id}`;
  const rows = await sql<{ from_state: NodeState; to_state: NodeState; at: Date }[]>`
    select from_state, to_state, at from node_state_log where node_id = ${id} order by state_version`;
  const intervals = intervalsFromLog({
    createdAt: node!.created_at.getTime(),
    transitions: rows.map((r) => ({ from: r.from_state, to: r.to_state, at: r.at.getTime() })),
    until: to,
  });
  return msInWindow(intervals, from, to);
}

/** The naive fleet: every node's whole log, streamed, added up per node. */
async function naiveFleet(sql: Sql, from: number, to: number): Promise<StateMs[]> {
  const logs = new Map<string, NodeLog>();
  for (const n of await sql<{ id: string; created_at: Date }[]>`select id, created_at from nodes`) {
    logs.set(n.id, { createdAt: n.created_at.getTime(), transitions: [] });
  }
  await sql<{ node_id: string; from_state: NodeState; to_state: NodeState; at: Date }[]>`
    select node_id, from_state, to_state, at from node_state_log order by node_id, state_version`
    .cursor(10_000, (rows) => {
      for (const r of rows) logs.get(r.node_id)!.transitions.push({ from: r.from_state, to: r.to_state, at: r.at.getTime() });
    });
  return [...logs.values()].map((log) => msInWindow(intervalsFromLog({ ...log, until: to }), from, to));
}

async function getJson<T>(app: App, path: string): Promise<T> {
  const res = await send(app, 'GET', path, { token: TOKEN });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Drains the outbox with two dispatchers running `handler`; events per second. */
async function drainRate(sql: Sql, clock: ManualClock, handler: OutboxHandler<'node.state_changed'>): Promise<number> {
  const registry = new HandlerRegistry().on('node.state_changed', 'bench', handler);
  const workers = [0, 1].map(() => new OutboxDispatcher({ sql, registry, clock, log: benchLog, maxAttempts: 3 }));
  const [{ n }] = (await sql`select count(*)::int as n from outbox`) as unknown as [{ n: number }];
  const { ms: took } = await timed(() =>
    Promise.all(
      workers.map(async (w) => {
        while ((await w.runOnce()) > 0);
      }),
    ),
  );
  return (n / took) * 1000;
}

/** Two transitions per node in the current hour, and their events, as the evaluator writes them. */
async function queueTransitions(sql: Sql, now: Date): Promise<void> {
  await sql`
    with t as (
      select h.node_id, h.version + v.k as state_version, v.from_state, v.to_state,
             greatest(date_trunc('hour', ${now}::timestamptz, 'UTC'), ${now}::timestamptz - interval '10 minutes') + v.k * interval '1 second' as at
      from node_health h
      cross join (values (1, 'healthy', 'down'), (2, 'down', 'healthy')) as v(k, from_state, to_state)
    ), log as (
      insert into node_state_log (node_id, state_version, from_state, to_state, at, reason)
      select node_id, state_version, from_state, to_state, at, 'bench' from t
    ), moved as (
      update node_health set version = version + 2
    )
    insert into outbox (topic, key, payload, created_at, available_at)
    select 'node.state_changed', node_id::text,
           jsonb_build_object('node_id', node_id, 'from', from_state, 'to', to_state, 'at', at, 'state_version', state_version),
           ${now}, ${now}
    from t order by state_version, node_id`;
}

/** Every page of a walk in turn: the first page's time, each later page's, the whole. */
async function timedWalk(app: App, path: string): Promise<{ first: number; later: number[]; total: number }> {
  const first = await timed(() => getJson<{ next_cursor: string | null }>(app, path));
  const later: number[] = [];
  for (let cursor = first.value.next_cursor; cursor; ) {
    const next = await timed(() => getJson<{ next_cursor: string | null }>(app, `${path}&cursor=${cursor}`));
    later.push(next.ms);
    cursor = next.value.next_cursor;
  }
  return { first: first.ms, later, total: later.reduce((a, b) => a + b, first.ms) };
}

export async function runUptimeBench(opts: UptimeBenchOptions): Promise<string> {
  const scope = new Scope();
  try {
    return await measure(opts, scope);
  } finally {
    await scope.close();
  }
}

async function measure(o: UptimeBenchOptions, scope: Scope): Promise<string> {
  const defaults = loadConfig({});
  const retention: Retention = { hourlyDays: defaults.uptimeHourlyRetentionDays, dailyDays: defaults.uptimeDailyRetentionDays };
  const db = await createBenchDatabase(scope, 'uptime');
  const { sql } = db;
  const now = new Date();
  const clock = new ManualClock(now);
  const rows: Row[] = [];
  const notes: string[] = [];
  const add = (figure: string, lifeline: string, baseline: string, target: string, ok?: boolean) =>
    rows.push({ figure, lifeline, baseline, target, verdict: ok === undefined ? '' : ok ? 'pass' : 'MISS' });

  progress(`uptime: seeding ${int(o.nodes)} nodes × ${o.days} days of transitions`);
  const seeded = await timed(() => seedHistory(sql, o, now));
  await vacuumAnalyze(sql, ['nodes', 'node_health', 'node_heartbeats', 'node_due', 'node_state_log']);
  notes.push(
    `Seeded ${int(o.nodes)} nodes × ${o.days} days: ${int(seeded.value)} transitions (${INCIDENTS_PER_WEEK} incidents per node per week, ` +
      `1 min – 3 h each: down, degraded, maintenance, unknown) in ${sec(seeded.ms / 1000, 1)}.`,
  );

  progress('uptime: building the rows (uptime:rebuild --all)');
  const built = await timed(() => rebuildUptime(sql, { all: true }, now, retention));
  await vacuumAnalyze(sql, ['uptime_hourly', 'uptime_daily', 'uptime_progress']);
  add(
    `building the rows from the log (uptime:rebuild --all, ${int(o.nodes)} nodes)`,
    `${sec(built.ms / 1000, 1)} (${int(built.value.hourRows)} hour rows, ${int(built.value.dayRows)} day rows)`,
    '—',
    '',
  );

  const { app } = buildApp({ sql, clock, buffer: new HeartbeatBuffer(), autoRegister: false });
  await ensureBootstrapAdmin(sql, TOKEN, now);
  const ids = (await sql<{ id: string }[]>`select id from nodes order by md5(id::text) limit ${SAMPLED_NODES + 10}`).map((r) => r.id);
  const sample = ids.slice(0, SAMPLED_NODES);

  progress(`uptime: one node, 365 days, ${sample.length} nodes × ${ROUNDS} rounds`);
  const yearFrom = now.getTime() - UPTIME_WINDOWS['365d'];
  for (const id of ids.slice(SAMPLED_NODES)) await getJson(app, `/v1/nodes/${id}/uptime?window=365d`); // warm-up
  const apiMs: number[] = [];
  const dayMs: number[] = [];
  const naiveMs: number[] = [];
  let mismatches = 0;
  for (const id of Array.from({ length: ROUNDS }, () => sample).flat()) {
    const api = await timed(() => getJson<{ uptime_ratio: number | null }>(app, `/v1/nodes/${id}/uptime?window=365d`));
    const byDay = await timed(() => getJson<{ uptime_ratio: number | null }>(app, `/v1/nodes/${id}/uptime?window=365d&bucket=day`));
    const naive = await timed(() => naiveNode(sql, id, yearFrom, now.getTime()));
    apiMs.push(api.ms);
    dayMs.push(byDay.ms);
    naiveMs.push(naive.ms);
    if (api.value.uptime_ratio !== ratioOf(naive.value) || byDay.value.uptime_ratio !== api.value.uptime_ratio) mismatches++;
  }
  const p = (xs: number[]) => `${ms(median(xs))} / ${ms(percentile(xs, 99))}`;
  add(`one node, 365 days: p50 / p99 over ${sample.length} nodes × ${ROUNDS} (GET /v1/nodes/{id}/uptime?window=365d)`, p(apiMs), p(naiveMs), `≤ ${ONE_NODE_TARGET_MS} ms`, percentile(apiMs, 99) <= ONE_NODE_TARGET_MS);
  add('one node, 365 days, day by day (&bucket=day): p50 / p99', p(dayMs), p(naiveMs), `≤ ${ONE_NODE_TARGET_MS} ms`, percentile(dayMs, 99) <= ONE_NODE_TARGET_MS);

  for (const window of ['30d', '365d'] as const) {
    progress(`uptime: fleet, ${window}`);
    const path = `/v1/uptime?window=${window}&sort=worst&limit=50`;
    // Each run a walk's first page: the clock a millisecond apart, so no run finds the one before
    // it kept (a walk is keyed by its window), the last one at `now` for the comparison below.
    clock.set(new Date(now.getTime() + FLEET_RUNS));
    await getJson(app, path); // warm-up
    const runs: number[] = [];
    let fleetRatio: number | null = null;
    for (let i = FLEET_RUNS - 1; i >= 0; i--) {
      clock.set(new Date(now.getTime() + i));
      const run = await timed(() => getJson<{ uptime_ratio: number | null; items: unknown[] }>(app, path));
      runs.push(run.ms);
      fleetRatio = run.value.uptime_ratio;
    }
    const from = now.getTime() - UPTIME_WINDOWS[window];
    const naiveRuns: number[] = [];
    let naive: StateMs[] = [];
    for (let i = 0; i < 2; i++) {
      const run = await timed(() => naiveFleet(sql, from, now.getTime()));
      naiveRuns.push(run.ms);
      naive = run.value;
    }
    const naiveRatio = ratioOf(combine(naive));
    if (fleetRatio !== naiveRatio) mismatches++;
    add(
      `fleet of ${int(o.nodes)}, ${window}, worst first (GET /v1/uptime): median / max of ${FLEET_RUNS}`,
      `${ms(median(runs), 0)} / ${ms(Math.max(...runs), 0)}`,
      `${ms(median(naiveRuns), 0)} / ${ms(Math.max(...naiveRuns), 0)}`,
      `≤ ${FLEET_TARGET_MS} ms`,
      Math.max(...runs) <= FLEET_TARGET_MS,
    );
  }

  progress(`uptime: a whole walk of the fleet, ${WALK_LIMIT} a page`);
  const walk = await timedWalk(app, `/v1/uptime?window=30d&sort=name&limit=${WALK_LIMIT}`);
  add(
    `walking the fleet of ${int(o.nodes)}, 30d, ${WALK_LIMIT} a page (${int(walk.later.length + 1)} pages): first page / later pages median, max / whole walk`,
    `${ms(walk.first, 0)} / ${ms(median(walk.later))}, ${ms(Math.max(...walk.later))} / ${sec(walk.total / 1000, 1)}`,
    `${sec(((walk.later.length + 1) * walk.first) / 1000, 0)} (every page as the first)`,
    '',
  );

  const sizes = await sql<{ table: string; bytes: number; rows: number }[]>`
    select t as table, pg_total_relation_size(t::regclass)::float8 as bytes,
           (select reltuples::float8 from pg_class where oid = t::regclass) as rows
    from unnest(array['node_state_log', 'uptime_hourly', 'uptime_daily', 'uptime_progress']) as t`;
  const total = sizes.reduce((s, r) => s + r.bytes, 0);
  const log = sizes.find((r) => r.table === 'node_state_log')!.bytes;
  add(
    `storage of ${o.days} days of history (tables and indexes)`,
    `${gib(total)}: ${sizes.map((r) => `${r.table} ${gib(r.bytes)}`).join(', ')}`,
    `${gib(log)} (the log alone)`,
    'single-digit GB',
    total < STORAGE_TARGET_BYTES,
  );
  notes.push(
    `Rows: ${sizes.map((r) => `${r.table} ${int(r.rows)}`).join(', ')}. Hour rows are kept ${retention.hourlyDays} days ` +
      `(one row per node and day, 24 hours in arrays), day rows ${retention.dailyDays} days, as the engine's defaults.`,
  );

  progress('uptime: outbox handler throughput, 2 workers');
  await queueTransitions(sql, now);
  const [{ events }] = (await sql`select count(*)::int as events from outbox`) as unknown as [{ events: number }];
  const handled = await drainRate(sql, clock, uptimeHandler(retention));
  await queueTransitions(sql, now);
  const bare = await drainRate(sql, clock, async () => {});
  add(
    `node.state_changed through the uptime handler, 2 workers (${int(events)} events, 2 per node)`,
    `${int(handled)} events/s`,
    `${int(bare)} events/s (handler that does nothing)`,
    `≥ ${int(OUTBOX_TARGET_PER_S)} events/s`,
    handled >= OUTBOX_TARGET_PER_S,
  );

  notes.push(
    mismatches === 0
      ? 'Every answer timed above equals the naive computation from node_state_log to the millisecond (ratios compared exactly).'
      : `${mismatches} answers differed from the naive computation: investigate before trusting these figures.`,
  );
  notes.push(
    'Naive baseline: the node\'s (or every node\'s) whole state log read in id/version order and added up with the same accounting ' +
      'module; Lifeline reads, per quiet node, its progress row (the stored end), the running totals at the first whole day, the hour row of ' +
      'the first partial day, and the log only at the window\'s start.',
  );

  const out = [`## Uptime (${int(o.nodes)} nodes × ${o.days} days)`, '', '| figure | Lifeline | naive baseline | target | verdict |', '|---|---:|---:|---|---|'];
  for (const r of rows) out.push(`| ${[r.figure, r.lifeline, r.baseline, r.target, r.verdict].map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
  out.push('', ...notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { nodes: { type: 'string' }, days: { type: 'string' } } });
  const nodes = Number(values.nodes ?? 10_000);
  const days = Number(values.days ?? 365);
  if (!Number.isInteger(nodes) || nodes <= 0 || !Number.isInteger(days) || days <= 0) {
    process.stderr.write('usage: node --import tsx test/bench/uptime.ts [--nodes N] [--days D]\n');
    process.exit(1);
  }
  process.stdout.write(await runUptimeBench({ nodes, days }));
  process.exit(0);
}
