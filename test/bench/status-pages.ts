// Section 10: a status page of 20 components over 500 nodes with 90+ days of history, computed and
// rendered in this process (the server's own time), with nothing kept and then with its days over
// kept by the leader's pass, beside the naive way in the same run — each node's days asked one by
// one, as the uptime API answers one node; a badge the same way; then an
// engine under heartbeat load, alone and with 1,000 status page requests/s from 1,000 addresses.
import { execFileSync } from 'node:child_process';
import { backendCpu, backendCpuSince, cpuMs } from './proc-cpu.ts';
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { currentBadge } from '../../src/badges/service.ts';
import { badgeSvg } from '../../src/badges/model.ts';
import { loadConfig } from '../../src/config.ts';
import { windowsAhead } from '../../src/maintenance/store.ts';
import type { Sql } from '../../src/db/client.ts';
import { pageWindow, pastSince } from '../../src/statuspages/model.ts';
import { incidentsSince } from '../../src/incidents/store.ts';
import { createStatusPage, PastDays, publishedPage } from '../../src/statuspages/service.ts';
import type { PageView } from '../../src/statuspages/model.ts';
import { testLog } from '../helpers/log.ts';
import { TEST_ACTING } from '../helpers/acting.ts';
import { rawGet } from '../helpers/raw-get.ts';
import { groupBreakdown, nodeBreakdown } from '../../src/uptime/report.ts';
import type { Bucket } from '../../src/uptime/buckets.ts';
import { addStateMs, combine } from '../../src/uptime/state-time.ts';
import { summarize } from '../../src/uptime/summary.ts';
import { rebuildUptime } from '../../src/uptime/rebuild.ts';
import { renderStatusPage } from '../../src/web/status-page.tsx';
import { createNodes } from './api.ts';
import { startBaseline, startEngine } from './children.ts';
import { createBenchDatabase, vacuumAnalyze } from './databases.ts';
import { measure, warmUp, type LoadResult, type LoadSpec } from './load.ts';
import { steadyLoadInChild, type SteadyLoad, type SteadyResult } from './steady-client.ts';
import { progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { int, ms, pct, row, section, type Section } from './report.ts';
import { sleep, type Scope } from './scope.ts';
import { nodeName } from './seed.ts';
import { median, percentile, timed } from './stats.ts';
import { seedHistory } from './uptime.ts';

const COMPONENTS = 20;
const HISTORY_DAYS = 100;
const PAGE_TARGET_MS = 100;
const BADGE_TARGET_MS = 10;
const PAGE_RUNS = 40;
const NAIVE_RUNS = 3;
const BADGE_RUNS = 200;
// Distinct client addresses of the viral load (sent as X-Forwarded-For to an engine that trusts one
// proxy hop): at 1,000 requests/s each sends 60 a minute, inside the default per-address budget.
const VIRAL_ADDRESSES = 1000;
const INGEST_TOLERANCE = 0.1;
// Maintenance history: a window every 45 minutes over 2 years of 1–5 of the page's nodes (one in ten
// by team label), all over, beside a few ahead — what the page's windowsAhead read must skip.
const PAST_WINDOWS = 23_000;
const WINDOWS_AHEAD = 5;
const READ_RUNS = 200;
// The bench database's pool (createBenchDatabase), whose Postgres backends' CPU a page is charged.
const POOL = ['lifeline-bench'];

/**
 * Past maintenance windows and a few ahead (the third open-ended) over the page's nodes. Returns
 * how many were kept.
 */
async function seedMaintenance(sql: Sql, now: Date): Promise<number> {
  await sql`
    insert into maintenances (node_ids, labels, starts_at, ends_at, reason, created_at)
    select array(select id from nodes order by name offset (i * 7) % (select count(*) from nodes) limit 1 + i % 5),
           case when i % 10 = 0 then jsonb_build_object('team', 'team-' || (i % 20)) else '{}'::jsonb end,
           ${now}::timestamptz - i * interval '45 minutes' - interval '2 hours',
           ${now}::timestamptz - i * interval '45 minutes' - interval '1 hour',
           'past', ${now}::timestamptz - i * interval '45 minutes' - interval '1 day'
    from generate_series(1, ${PAST_WINDOWS}::int) i`;
  await sql`
    insert into maintenances (node_ids, starts_at, ends_at, reason, created_at)
    select array(select id from nodes order by name offset i * 37 limit 3),
           ${now}::timestamptz + i * interval '1 day',
           case when i = 3 then null else ${now}::timestamptz + i * interval '1 day' + interval '2 hours' end,
           'ahead', ${now}
    from generate_series(1, ${WINDOWS_AHEAD}::int) i`;
  return PAST_WINDOWS + WINDOWS_AHEAD;
}

/**
 * An incident for each down or degraded spell of the seeded history, resolved when it ended, as
 * the engine would have opened them: what the page's past incidents read (about 1,500 of ~10,000
 * in its 14 days). How many.
 */
async function seedIncidents(sql: Sql): Promise<number> {
  const rows = await sql`
    insert into incidents (node_id, node_name, category, severity, status, title, opened_at, resolved_at)
    select l.node_id, n.name, 'node_' || l.to_state, case l.to_state when 'down' then 'critical' else 'warning' end, 'resolved',
           n.name || ' is ' || l.to_state, l.at, e.at
    from node_state_log l join nodes n on n.id = l.node_id
    join node_state_log e on e.node_id = l.node_id and e.state_version = l.state_version + 1
    where l.to_state in ('down', 'degraded')`;
  return rows.count;
}

/**
 * The section's page and what it shows: `nodes` nodes' history, their maintenance and incidents,
 * and the public page "bench" of one component per team label. How many of each were seeded.
 */
export async function seedStatusPage(sql: Sql, nodes: number, now: Date): Promise<{ transitions: number; windows: number; incidents: number }> {
  const defaults = loadConfig({});
  const transitions = await seedHistory(sql, { nodes, days: HISTORY_DAYS }, now);
  await rebuildUptime(sql, { all: true }, now, { hourlyDays: defaults.uptimeHourlyRetentionDays, dailyDays: defaults.uptimeDailyRetentionDays });
  const windows = await seedMaintenance(sql, now);
  const incidents = await seedIncidents(sql);
  await vacuumAnalyze(sql, ['nodes', 'node_health', 'node_state_log', 'uptime_hourly', 'uptime_daily', 'uptime_progress', 'maintenances', 'incidents']);
  // The seeded nodes carry team-0 … team-19: one component each.
  await createStatusPage(
    sql,
    {
      slug: 'bench',
      title: 'Bench',
      description: null,
      public: true,
      show_nodes: false,
      components: Array.from({ length: COMPONENTS }, (_, k) => ({ name: `Team ${k}`, node_ids: [], labels: { team: `team-${k}` } })),
    },
    now,
    TEST_ACTING,
  );
  return { transitions, windows, incidents };
}

/** READ_RUNS timings of `read`, after 10 not timed, and its last answer. */
async function timedReads<T>(read: () => Promise<T>): Promise<{ ms: number[]; last: T }> {
  const ms: number[] = [];
  let last: T | undefined;
  for (let i = 0; i < READ_RUNS + 10; i++) {
    const run = await timed(read);
    if (i >= 10) ms.push(run.ms);
    last = run.value;
  }
  return { ms, last: last! };
}

/** The naive page: every node's 90 days asked one by one, then added up per component. */
async function naiveComponents(sql: Sql, members: string[][], now: number): Promise<Bucket[][]> {
  const byNode = new Map<string, Bucket[]>();
  for (const id of new Set(members.flat())) byNode.set(id, (await nodeBreakdown(sql, id, pageWindow(now), 'day', now))!);
  return members.map((ids) => {
    const days = byNode.get(ids[0]!)!.map((b) => ({ start: b.start, ms: b.ms }));
    for (const id of ids.slice(1)) byNode.get(id)!.forEach((b, i) => (days[i]!.ms = addStateMs(days[i]!.ms, b.ms)));
    return days;
  });
}

/** What the checks against the naive figures found, as the section's note says it. */
function agreement(unkept: number, kept: number, grouped: number): string {
  if (unkept + kept + grouped === 0) return "In both states every component's ratio and every day equals the naive figures exactly, as does the group breakdown's every bucket.";
  return `Components differing from the naive figures: ${unkept} with nothing kept, ${kept} with the days kept, ${grouped} in the group breakdown: investigate before trusting these figures.`;
}

/** How many of the page's components differ from the naive figures: their ratio, or a day's. */
function mismatchesOf(view: PageView, naive: Bucket[][]): number {
  return view.components.filter((c, k) => {
    const days = naive[k]!;
    return c.uptime.uptime_ratio !== summarize(combine(days.map((d) => d.ms))).uptime_ratio || c.days.some((d, i) => d.uptime_ratio !== summarize(days[i]!.ms).uptime_ratio);
  }).length;
}

/**
 * The page computed and rendered PAGE_RUNS times after 3 not timed, as the routes' cache does once
 * per period: each run's wall time, of which computing its data; the CPU per page of this process
 * and of the pool's Postgres backends (what it costs, where the wall time on a busy machine is
 * mostly the wait for a core); and how many components of its last answer differ from the naive
 * figures.
 */
async function timedPages(sql: Sql, t: number, naive: Bucket[][]): Promise<{ pageMs: number[]; computeMs: number[]; cpu: { process: number; postgres: number }; view: PageView; html: string; mismatches: number }> {
  for (let i = 0; i < 3; i++) renderStatusPage((await publishedPage(sql, 'bench', t))!); // warm-up
  const pageMs: number[] = [];
  const computeMs: number[] = [];
  let view: PageView | undefined;
  let html = '';
  const backends = await backendCpu(sql, POOL);
  const own = process.cpuUsage();
  for (let i = 0; i < PAGE_RUNS; i++) {
    const compute = await timed(() => publishedPage(sql, 'bench', t));
    const render = await timed(async () => renderStatusPage(compute.value!));
    computeMs.push(compute.ms);
    pageMs.push(compute.ms + render.ms);
    view = compute.value!;
    html = render.value;
  }
  const used = process.cpuUsage(own);
  const postgres = await backendCpuSince(sql, POOL, backends);
  const cpu = { process: (used.user + used.system) / 1000 / PAGE_RUNS, postgres: postgres / PAGE_RUNS };
  return { pageMs, computeMs, cpu, view: view!, html, mismatches: mismatchesOf(view!, naive) };
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
const cpuSeconds = (pid: number): number => cpuMs(pid) / 1000;

interface PerRequest {
  /** CPU of the server per answered request, less what it spends idle over as long (µs). */
  server: number;
  /** The readers' client's own CPU per request (µs). */
  client: number;
}

/**
 * What serving `load` costs the process `pid`: its CPU over an idle stretch as long as the load is
 * taken from its CPU under the load (timers, pollers and the pool keep running either way), per
 * answered request.
 */
async function cpuPerRequest(scope: Scope, name: string, pid: number, load: SteadyLoad): Promise<PerRequest> {
  const idleFrom = cpuSeconds(pid);
  await sleep(load.seconds * 1000);
  const idle = cpuSeconds(pid) - idleFrom;
  const from = cpuSeconds(pid);
  const r = await steadyLoadInChild(scope, name, load);
  const busy = cpuSeconds(pid) - from;
  return { server: ((busy - idle) / r.ok) * 1e6, client: r.cpuMicros / (r.ok + r.failed) };
}

const p50p99 = (xs: number[]) => `${ms(median(xs))} / ${ms(percentile(xs, 99))}`;
const cpuCell = (cpu: { process: number; postgres: number }) => `${ms(cpu.process)} + ${ms(cpu.postgres)}`;

export async function benchStatusPages(o: BenchOptions, scope: Scope): Promise<Section> {
  const s = section(`10. Status pages and badges (${COMPONENTS} components over ${int(o.statusNodes)} nodes)`);
  const db = await createBenchDatabase(scope, 'status');
  const { sql } = db;
  const now = new Date();
  const defaults = loadConfig({});

  progress(`status: seeding ${int(o.statusNodes)} nodes × ${HISTORY_DAYS} days of transitions`);
  const { transitions, windows, incidents } = await seedStatusPage(sql, o.statusNodes, now);
  const members = await sql<{ team: string; ids: string[] }[]>`
    select labels->>'team' as team, array_agg(id order by name) as ids from nodes group by 1 order by (substr(labels->>'team', 6))::int`;

  progress(`status: the page with nothing kept, ${PAGE_RUNS} times, and the naive way ${NAIVE_RUNS} times`);
  const t = now.getTime();
  const naiveMs: number[] = [];
  let naive: Bucket[][] = [];
  for (let i = 0; i < NAIVE_RUNS; i++) {
    const run = await timed(() => naiveComponents(sql, members.map((m) => m.ids), t));
    naiveMs.push(run.ms);
    naive = run.value;
  }
  const grouped = await groupBreakdown(sql, members.map((m) => m.ids), pageWindow(t), 'day', t);
  const groupedMismatches = grouped.filter((g, k) => JSON.stringify(g.buckets) !== JSON.stringify(naive[k])).length;
  const unkept = await timedPages(sql, t, naive);
  // The leader's housekeeping pass, as it runs at the bench's moment: every page's days over kept.
  progress('status: the leader keeps the days over (PastDays), then the page again');
  let keepFailures = 0;
  const pastDays = new PastDays(sql, { now: () => new Date(t) }, { log: testLog, metrics: { statusPageHistoryFailures: { inc: () => void keepFailures++ } } });
  const keeping = await timed(() => pastDays.runOnce());
  const [{ kept, provisional }] = (await sql`
    select count(*)::int as kept, count(*) filter (where healthy_ms is null)::int as provisional from status_page_days`) as unknown as [{ kept: number; provisional: number }];
  const steady = await timedPages(sql, t, naive);
  const view = steady.view;
  const html = steady.html;
  const naiveCell = p50p99(naiveMs);
  row(
    s,
    `status page, past days kept (what readers meet from the leader's next pass on): computed and rendered as HTML, p50 / p99 of ${PAGE_RUNS}`,
    p50p99(steady.pageMs),
    naiveCell,
    `≤ ${PAGE_TARGET_MS} ms`,
    percentile(steady.pageMs, 99) <= PAGE_TARGET_MS,
  );
  row(s, 'status page, past days kept: of which computing its data (p50 / p99)', p50p99(steady.computeMs), '—', '');
  row(s, 'status page, past days kept: CPU per page, this process + its Postgres backends', cpuCell(steady.cpu), '—', '');
  row(s, `status page, nothing kept yet (a new page until the leader's next pass: a minute, longer behind a full pass): computed and rendered as HTML, p50 / p99 of ${PAGE_RUNS}`, p50p99(unkept.pageMs), naiveCell, '');
  row(s, 'status page, nothing kept yet: of which computing its data (p50 / p99)', p50p99(unkept.computeMs), '—', '');
  row(s, 'status page, nothing kept yet: CPU per page, this process + its Postgres backends', cpuCell(unkept.cpu), '—', '');
  const pageNodes = members.flatMap((m) => m.ids);
  const ahead = await timedReads(() => windowsAhead(sql, pageNodes, now));
  row(s, `status page: of which its maintenance read (windowsAhead, ${ahead.last.length} of ${int(windows)} windows), p50 / p99 of ${READ_RUNS}`, p50p99(ahead.ms), '—', '');
  const history = await timedReads(() => incidentsSince(sql, pageNodes, new Date(pastSince(t))));
  row(
    s,
    `status page: of which its incidents read (incidentsSince, open and past: ${int(history.last.length)} of ${int(incidents)} incidents; ${view.past_incidents.length} entries shown, ${int(view.past_incidents_more)} more), p50 / p99 of ${READ_RUNS}`,
    p50p99(history.ms),
    '—',
    '',
  );

  progress(`status: badges, ${BADGE_RUNS} times each`);
  const [{ badge_id: badgeId }] = (await sql`select badge_id from nodes order by name limit 1`) as unknown as [{ badge_id: string }];
  for (const metric of ['state', 'uptime'] as const) {
    const runs: number[] = [];
    for (let i = 0; i < BADGE_RUNS + 10; i++) {
      const run = await timed(async () => badgeSvg((await currentBadge(sql, badgeId, { metric, window: '30d' }, t))!));
      if (i >= 10) runs.push(run.ms);
    }
    row(s, `badge (${metric === 'state' ? 'state' : 'uptime over 30 days'}), SVG: p50 / p99 of ${BADGE_RUNS}`, p50p99(runs), '—', `≤ ${BADGE_TARGET_MS} ms`, percentile(runs, 99) <= BADGE_TARGET_MS);
  }

  progress('status: heartbeat ingest alone and beside a viral status page');
  const engine = await startEngine(scope, { name: 'engine-api', databaseUrl: db.url, roles: 'api', env: { LIFELINE_TRUST_PROXY_HOPS: '1' } });
  const nodes = await createNodes(engine.base, engine.adminToken, Array.from({ length: o.ingestNodes }, (_, i) => nodeName(i + 1)));
  await sql`update node_health h set state = 'healthy', version = 1, since = now() from nodes n where n.id = h.node_id and n.name like 'bench-node-%'`;
  const ingest: LoadSpec = {
    url: engine.base,
    connections: o.connections,
    seconds: o.duration,
    requests: nodes.map((n) => ({
      method: 'POST',
      path: '/v1/heartbeats',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${n.token}` },
      body: JSON.stringify({ status: 'ok' }),
    })),
  };
  const viral: SteadyLoad = {
    url: engine.base,
    rate: o.statusRate,
    // A second longer than the ingest run it must cover.
    seconds: o.duration + 1,
    // Readers do not wait for each other: enough connections that a slow answer delays no other.
    connections: 300,
    requests: Array.from({ length: VIRAL_ADDRESSES }, (_, i) => ({
      path: '/status/bench',
      // As browsers ask: the page is kept in brotli and gzip, and brotli is sent.
      headers: { 'x-forwarded-for': `198.18.${i >> 8}.${i & 255}`, 'accept-encoding': 'gzip, deflate, br' },
    })),
  };
  await warmUp('ingest', ingest);
  await steadyLoadInChild(scope, 'readers-warm-up', { ...viral, seconds: 2 });

  // The engine's CPU per page request with nothing else to do, beside a bare node:http server
  // sending the very bytes the engine sends (its answer to the readers' Accept-Encoding): what is
  // left between the two is the engine's own work per request. Alternated, medians of 3.
  progress(`status: engine CPU per page request at ${o.statusRate}/s, and node:http sending the same bytes`);
  const sizes = Object.fromEntries(
    await Promise.all(
      ['br', 'gzip', 'identity'].map(async (coding) => [coding, (await rawGet(engine.base, '/status/bench', { 'accept-encoding': coding })).body.length] as const),
    ),
  );
  const sent = await rawGet(engine.base, '/status/bench', viral.requests[0]!.headers);
  const pageFile = join(os.tmpdir(), `lifeline-bench-${process.pid}-page`);
  await writeFile(pageFile, sent.body);
  scope.defer('remove page file', () => rm(pageFile, { force: true }));
  // Left out: what node:http writes itself (the floor server's adds its own) and the request's id.
  const perAnswer = new Set(['date', 'connection', 'keep-alive', 'x-request-id']);
  const sentHeaders = Object.fromEntries(Object.entries(sent.headers).filter(([name]) => !perAnswer.has(name)));
  const floor = await startBaseline(scope, 'page', { BENCH_PAGE_FILE: pageFile, BENCH_PAGE_HEADERS: JSON.stringify(sentHeaders) });
  const paced = { ...viral, seconds: o.duration };
  const perPage = { engine: [] as PerRequest[], floor: [] as PerRequest[] };
  for (let round = 0; round < 3; round++) {
    perPage.engine.push(await cpuPerRequest(scope, `readers-alone-${round}`, engine.child.pid, paced));
    perPage.floor.push(await cpuPerRequest(scope, `readers-floor-${round}`, floor.child.pid, { ...paced, url: floor.base }));
  }
  const enginePerPage = median(perPage.engine.map((r) => r.server));
  // Alone and beside, interleaved (A B A B A B), so a machine whose other load drifts during the
  // section shifts both alike; each compared by its median. `readerCpus` pins each readers'
  // client to those CPUs (taskset), as the runs with the engine on a core of its own do.
  const alternate = async (label: string, readerCpus?: string) => {
    const rounds = { alone: [] as LoadResult[], beside: [] as LoadResult[], pages: [] as SteadyResult[], cpu: { alone: [] as number[], beside: [] as number[] } };
    for (let round = 0; round < 6; round++) {
      const before = cpuSeconds(engine.child.pid);
      if (round % 2 === 0) {
        rounds.alone.push(await measure(`ingest alone${label} (${round / 2 + 1} of 3)`, ingest));
      } else {
        const [r, p] = await Promise.all([measure(`ingest beside ${o.statusRate} status pages/s${label}`, ingest), steadyLoadInChild(scope, `readers-${label}${round}`, viral, readerCpus)]);
        rounds.beside.push(r);
        rounds.pages.push(p);
      }
      (round % 2 === 0 ? rounds.cpu.alone : rounds.cpu.beside).push((cpuSeconds(engine.child.pid) - before) / o.duration);
    }
    return rounds;
  };
  const loadBefore = os.loadavg()[0]!;
  const { alone, beside, pages, cpu } = await alternate('');
  // Again with the engine on CPU 0 and everything that stands for other machines (this process's
  // ingest generator, the readers' client) on CPU 1; Postgres is left free. On two shared cores
  // the readers' client otherwise takes its ~0.1 core partly from the engine (its CPU falls from
  // ~1.1 to ~1.0 cores beside them) where remote readers would take nothing: pinned, the engine
  // has the same one core in both runs and what it loses is what serving the pages costs it.
  const pin = (cpus: string, pid: number) => execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  pin('0', engine.child.pid);
  pin('1', process.pid);
  const pinned = await alternate(' (pinned)', '1').finally(() => {
    pin('0,1', engine.child.pid);
    pin('0,1', process.pid);
  });
  const aloneRps = median(alone.map((r) => r.rps));
  const besideRps = median(beside.map((r) => r.rps));
  const change = besideRps / aloneRps - 1;
  const runs = (rs: LoadResult[]) => rs.map((r) => int(r.rps)).join(', ');
  const loadAfter = os.loadavg()[0]!;
  row(s, `heartbeat ingest (single heartbeats, ${o.connections} conn) alone: median of 3 runs`, `${int(aloneRps)} req/s (${runs(alone)})`, '—', '');
  row(
    s,
    `heartbeat ingest beside ${int(o.statusRate)} status page requests/s: median of 3 runs`,
    `${int(besideRps)} req/s (${runs(beside)}), ${change >= 0 ? '+' : ''}${pct(change)}`,
    '—',
    `within ${pct(INGEST_TOLERANCE, 0)} of alone`,
    change >= -INGEST_TOLERANCE,
  );
  const answered = pages.reduce((sum, p) => sum + p.ok, 0) / (pages.length * viral.seconds);
  const failed = pages.reduce((sum, p) => sum + p.failed, 0);
  const latencies = pages.flatMap((p) => p.latencies);
  row(
    s,
    `status page requests answered meanwhile (${int(VIRAL_ADDRESSES)} client addresses, brotli)`,
    `${int(answered)} req/s, p50 / p99 ${p50p99(latencies)}, ${int(failed)} not 2xx, ${int(pages.reduce((sum, p) => sum + p.behind, 0))} not sent (every connection busy)`,
    '—',
    `${int(o.statusRate)} req/s`,
    failed === 0 && answered >= o.statusRate * 0.95,
  );
  row(
    s,
    `engine CPU per status page request, pages alone at ${int(o.statusRate)}/s (page kept): median of 3`,
    `${enginePerPage.toFixed(0)} µs, ${pct((enginePerPage * o.statusRate) / 1e6)} of a core at ${int(o.statusRate)}/s`,
    `${median(perPage.floor.map((r) => r.server)).toFixed(0)} µs (node:http, same bytes)`,
    '',
  );
  row(
    s,
    "readers' client CPU per request: pages alone / beside ingest",
    `${median(perPage.engine.map((r) => r.client)).toFixed(0)} / ${median(pages.map((p) => p.cpuMicros / (p.ok + p.failed))).toFixed(0)} µs`,
    '—',
    '',
  );
  row(s, 'engine CPU (cores): ingest alone / beside the status pages', `${median(cpu.alone).toFixed(2)} / ${median(cpu.beside).toFixed(2)}`, '—', '');
  const pinnedAlone = median(pinned.alone.map((r) => r.rps));
  const pinnedChange = median(pinned.beside.map((r) => r.rps)) / pinnedAlone - 1;
  row(s, 'engine on a core of its own, generators on the other: ingest alone, median of 3', `${int(pinnedAlone)} req/s (${runs(pinned.alone)})`, '—', '');
  row(
    s,
    `engine on a core of its own: ingest beside ${int(o.statusRate)} status page requests/s, median of 3`,
    `${int(median(pinned.beside.map((r) => r.rps)))} req/s (${runs(pinned.beside)}), ${pinnedChange >= 0 ? '+' : ''}${pct(pinnedChange)}; pages answered ${int(pinned.pages.reduce((sum, p) => sum + p.ok, 0) / (pinned.pages.length * viral.seconds))} req/s`,
    '—',
    `within ${pct(INGEST_TOLERANCE, 0)} of alone`,
    pinnedChange >= -INGEST_TOLERANCE,
  );
  row(s, 'engine on a core of its own: its CPU (cores), alone / beside', `${median(pinned.cpu.alone).toFixed(2)} / ${median(pinned.cpu.beside).toFixed(2)}`, '—', '');

  s.notes.push(
    `History: ${int(o.statusNodes)} nodes × ${HISTORY_DAYS} days, ${int(transitions)} transitions (the uptime section's generator: two incidents per node per week), rows built by uptime:rebuild; the page has ${COMPONENTS} components, one per team label (${int(o.statusNodes / COMPONENTS)} nodes each) with ${int(windows)} maintenance windows over its nodes (${WINDOWS_AHEAD} ahead, the rest over) and ${int(incidents)} incidents (one per down or degraded spell, all resolved), and is ${int(html.length / 1024)} KiB of HTML; as sent, ${int(sizes.br! / 1024)} KiB in brotli, ${int(sizes.gzip! / 1024)} KiB gzipped (${int(sizes.identity!)} bytes as it is).`,
    `Lifeline: publishedPage + renderStatusPage in this process, without the cache the routes put in front (that is what one computation per period costs), in two states of the same page at the same moment. Nothing kept yet: every one of the 90 days worked out from the ~${int(o.statusNodes * HISTORY_DAYS)} uptime_daily rows at each computation, as a page is until the leader's housekeeping keeps its days over: a page made (or given a component) at its next pass (a minute, longer behind a full pass); every page after an upgrade at its first pass, at start; a page that could not be kept (a node's uptime rows missing), until the next night's pass after uptime:rebuild. Past days kept: after that pass (PastDays.runOnce, what the leader's housekeeping calls, with the bench's moment: ${int(kept)} days kept in ${ms(keeping.ms)}, ${int(provisional)} of them provisional, ${keepFailures} pages that could not be kept), the page reads its kept days and works out today alone. The ≤ ${PAGE_TARGET_MS} ms target is the kept state's: it is what readers meet from the leader's next pass on (a minute, longer behind a full pass), for as long as the page exists; the figure with nothing kept is reported beside it, not judged. Naive baseline: each node's 90 days asked one by one (${int(o.statusNodes)} calls of the one-node breakdown GET /v1/nodes/{id}/uptime?bucket=day makes), added up per component. ${agreement(unkept.mismatches, steady.mismatches, groupedMismatches)}`,
    `Badges: the node looked up by badge id, its state or its 30-day uptime (the uptime report's figure), drawn by badge-maker; uncached.`,
    `Viral load: the engine (LIFELINE_ROLES=api, LIFELINE_TRUST_PROXY_HOPS=1) takes single heartbeats from ${int(o.ingestNodes)} node tokens (autocannon, ${o.connections} connections) while GET /status/bench is sent at ${int(o.statusRate)}/s from ${int(VIRAL_ADDRESSES)} X-Forwarded-For addresses (60 a minute each, inside the default budget of ${defaults.limits.publicRequestsPerMinute}) by steady-client.ts in a process of its own, a lean keep-alive client: autocannon spends about 0.4 ms of CPU parsing each page answer, and in the benchmark's process would share the ingest generator's event loop; either would take time from what is measured rather than from the readers' own machines. The page is computed once per 10 s and served from memory in between, in brotli (kept with the gzip and the bytes as they are, each with its headers). Engine CPU is read from /proc; on loopback the kernel's delivery of each answer is charged to the engine, as a network card would not be. CPU per page request: the engine (api role, no ingest) over ${o.duration} s of pages at ${int(o.statusRate)}/s, less its CPU over ${o.duration} s idle, per answer (the page's computation once per 10 s included); beside it a bare node:http server (baseline-server.ts, mode page) answering every request with the same bytes and headers, measured the same way: at this rate each request arrives alone to a waiting event loop, so both include the wake-up, which a busy engine shares between requests. The readers' client reports its own CPU (process.cpuUsage): it reads every answer to its last byte but keeps only the heads, and it runs on the same cores as the engine and the ingest generator, as remote readers' machines would not; the second set of runs therefore holds the engine (every thread) to CPU 0 and this process's ingest generator and the readers' client to CPU 1 (taskset; Postgres runs on either), so the engine has one core alone and beside the readers, and what ingest loses there is what serving the pages costs the engine. Load average (1 min) ${loadBefore.toFixed(1)} before these runs and ${loadAfter.toFixed(1)} after: other work on the machine moves the ingest figures more than anything measured here when it is high.`,
  );
  return s;
}
