import { createSql, type Sql } from '../../src/db/client.ts';
import { createApiKey, getText, histogramSummary, postHeartbeats } from './api.ts';
import { startEngine } from './children.ts';
import { createBenchDatabase } from './databases.ts';
import { progress } from './log.ts';
import type { BenchOptions } from './options.ts';
import { int, ms, row, section, type Section } from './report.ts';
import { sleep, waitFor, type Scope } from './scope.ts';
import { nodeName, seedFleet } from './seed.ts';
import { max, percentile } from './stats.ts';

const POLL_MS = 50;
const INTERVAL_MS = 1000;
const BATCH = 1000;

interface Seen {
  to: string;
  /** The transition's own `at` (for down: the deadline), epoch ms. */
  at: number;
  /** When the benchmark first saw it committed, epoch ms (an upper bound within POLL_MS). */
  seen: number;
}

/** A background loop: `pass` again and again until stopped or `maxMs` has gone by. */
interface Loop {
  /** Ends the loop after the pass under way. */
  stop(): Promise<void>;
}

function repeat(maxMs: number, pass: () => Promise<void>, firstDelayMs = 0): Loop {
  let running = true;
  const until = performance.now() + maxMs;
  const done = (async () => {
    if (firstDelayMs > 0) await sleep(firstDelayMs);
    while (running && performance.now() < until) await pass();
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

/**
 * Records when each transition becomes visible, without adding anything to the engine: every
 * POLL_MS it reads the outbox rows written since the last poll. A transition's outbox row commits
 * in the same transaction as its log row, and one evaluator writes at a time, so outbox ids grow
 * in commit order and `id > last` never skips a row. The time taken just before the query is an
 * upper bound on the commit (the query's snapshot comes after it) and at most one poll late.
 */
class TransitionWatcher {
  readonly seen: Seen[] = [];
  private last = '0';
  private loop: Loop | undefined;

  constructor(private readonly sql: Sql) {}

  start(maxMs: number): void {
    this.loop = repeat(maxMs, async () => {
      const t = Date.now();
      const rows = await this.sql<{ id: string; to: string; at: number }[]>`
        select o.id::text as id, o.payload->>'to' as to,
               (extract(epoch from (o.payload->>'at')::timestamptz) * 1000)::float8 as at
        from outbox o where o.id > ${this.last}::bigint order by o.id limit 100000`;
      for (const r of rows) this.seen.push({ to: r.to, at: r.at, seen: t });
      if (rows.length) this.last = rows[rows.length - 1]!.id;
      await sleep(POLL_MS);
    });
  }

  count(to: string): number {
    return this.seen.filter((s) => s.to === to).length;
  }

  lags(to: string): number[] {
    return this.seen.filter((s) => s.to === to).map((s) => s.seen - s.at);
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }
}

/**
 * The naive detector: every INTERVAL_MS (from an arbitrary phase), scan every node and mark the
 * ones past their deadline down — with the log and outbox rows, set-wise in one transaction, so
 * only the scheduling differs from Lifeline: it finds a deadline when the next scan comes round.
 */
class ScanningDetector {
  private loop: Loop | undefined;

  constructor(private readonly sql: Sql) {}

  start(maxMs: number): void {
    this.loop = repeat(
      maxMs,
      async () => {
        const started = performance.now();
        await this.sql`
          with due as (
            select h.node_id, h.state, hb.last_heartbeat_at
                   + make_interval(secs => n.heartbeat_interval_seconds * n.failures_for_down + n.grace_seconds) as deadline
            from node_health h join nodes n on n.id = h.node_id join node_heartbeats hb on hb.node_id = h.node_id
            where h.state <> 'down' and hb.last_heartbeat_at is not null
          ), gone as (
            update node_health h set state = 'down', since = due.deadline, reason = 'no heartbeat', version = h.version + 1
            from due where h.node_id = due.node_id and due.deadline <= now()
            returning h.node_id, h.version, due.state as from_state, due.deadline
          ), log as (
            insert into node_state_log (node_id, state_version, from_state, to_state, at, reason)
            select node_id, version, from_state, 'down', deadline, 'no heartbeat' from gone
          )
          insert into outbox (topic, key, payload, created_at, available_at)
          select 'node.state_changed', node_id::text, jsonb_build_object('from', from_state, 'to', 'down', 'at', deadline), now(), now()
          from gone`;
        await sleep(Math.max(0, INTERVAL_MS - (performance.now() - started)));
      },
      Math.random() * INTERVAL_MS,
    );
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }
}

/** Calls `post` for each group of up to BATCH names, the groups evenly paced over `spreadMs`. */
async function paced(names: string[], spreadMs: number, post: (group: string[]) => Promise<void>): Promise<void> {
  const groups: string[][] = [];
  for (let i = 0; i < names.length; i += BATCH) groups.push(names.slice(i, i + BATCH));
  const start = performance.now();
  for (const [i, g] of groups.entries()) {
    const due = start + (i * spreadMs) / groups.length;
    await sleep(Math.max(0, due - performance.now()));
    await post(g);
  }
}

export async function benchDetection(o: BenchOptions, scope: Scope): Promise<Section> {
  const n = o.nodes;
  const s = section(`3. Detection latency (${int(n)} nodes, heartbeat interval 2 s, 1 failure for down)`);
  const names = Array.from({ length: n }, (_, i) => nodeName(i + 1));
  const fleet = { count: n, intervalSeconds: 2, failuresForDown: 1, state: 'unknown', due: 'infinity' } as const;
  const waitMs = o.detectSpreadMs + 2_000 + 30_000;

  // Lifeline: the real engine; heartbeats through the batch endpoint, then silence.
  const db = await createBenchDatabase(scope, 'detect');
  await seedFleet(db.sql, fleet);
  const engine = await startEngine(scope, {
    name: 'engine-detect',
    databaseUrl: db.url,
    roles: 'api,evaluator',
    env: { LIFELINE_EVALUATOR_INTERVAL_MS: String(INTERVAL_MS) },
  });
  const key = await createApiKey(engine.base, engine.adminToken, 'ingest');
  const watcher = new TransitionWatcher(db.sql);
  watcher.start(waitMs + 10_000);
  progress(`detection: Lifeline — one heartbeat for each of ${int(n)} nodes over ${o.detectSpreadMs} ms, then silence`);
  await paced(names, o.detectSpreadMs, (g) => postHeartbeats(engine.base, key, g));
  await waitFor(`${n} nodes down`, () => (watcher.count('down') >= n ? true : undefined), waitMs, 100);
  await watcher.stop();
  // Ingest and the evaluator ran side by side the whole time: what each cost while the other ran.
  const exposition = (await getText(engine.base, '/metrics')).text;
  const flushes = histogramSummary(exposition, 'lifeline_ingest_flush_seconds', 0.99);
  const passes = histogramSummary(exposition, 'lifeline_evaluator_tick_seconds', 0.99);
  await engine.child.stop();

  // Baseline: the same fleet in its own database; "ingest" is a direct UPDATE per group.
  const naiveDb = await createBenchDatabase(scope, 'detectnaive');
  await seedFleet(naiveDb.sql, fleet);
  const scanSql = createSql(naiveDb.url, { dedicated: true, applicationName: 'lifeline-bench-scanner' });
  scope.defer('close scanner session', () => scanSql.end({ timeout: 2 }));
  const scanner = new ScanningDetector(scanSql);
  const naiveWatcher = new TransitionWatcher(naiveDb.sql);
  scanner.start(waitMs + 10_000);
  naiveWatcher.start(waitMs + 10_000);
  progress('detection: scanning baseline');
  await paced(names, o.detectSpreadMs, async (g) => {
    await naiveDb.sql`update node_heartbeats set last_heartbeat_at = now(), received = received + 1
                      where node_id in (select id from nodes where name = any(${g}::text[]))`;
  });
  await waitFor(`${n} nodes down (baseline)`, () => (naiveWatcher.count('down') >= n ? true : undefined), waitMs, 100);
  await naiveWatcher.stop();
  await scanner.stop();

  const down = watcher.lags('down');
  const naiveDown = naiveWatcher.lags('down');
  const recovery = watcher.lags('healthy');
  row(s, 'deadline → down committed, p50', ms(percentile(down, 50), 0), ms(percentile(naiveDown, 50), 0), '—');
  row(s, 'deadline → down committed, p99', ms(percentile(down, 99), 0), ms(percentile(naiveDown, 99), 0), '≤ 1,000 ms', percentile(down, 99) <= 1000);
  row(s, 'deadline → down committed, max', ms(max(down), 0), ms(max(naiveDown), 0), '—');
  row(s, 'heartbeat received → unknown→healthy committed, p50/p99', `${ms(percentile(recovery, 50), 0)}/${ms(percentile(recovery, 99), 0)}`, '—', `within one tick (${int(INTERVAL_MS)} ms)`, percentile(recovery, 99) <= INTERVAL_MS);
  const summary = (h: ReturnType<typeof histogramSummary>) => `${ms(h.mean * 1000, 2)}, ≤ ${ms(h.bound * 1000, 0)} (${int(h.count)})`;
  row(s, 'ingest flush during the run — mean, p99 bucket bound (flushes)', summary(flushes), '—', '—');
  row(s, 'evaluator pass during the run — mean, p99 bucket bound (passes)', summary(passes), '—', '—');
  s.notes.push(
    `Lifeline: engine child with \`LIFELINE_ROLES=api,evaluator\`, \`LIFELINE_EVALUATOR_INTERVAL_MS=${INTERVAL_MS}\`; ${Math.ceil(n / BATCH)} batch requests (ingest key, by name) evenly over ${o.detectSpreadMs} ms, so deadlines spread alike. Down transitions seen: ${int(down.length)}, recoveries: ${int(recovery.length)}.`,
    `Baseline: a detector that scans every node each ${INTERVAL_MS} ms (set-wise UPDATE + log + outbox in one transaction); the same nodes and pacing, heartbeats written straight to node_heartbeats.`,
    `Commit time is when a ${POLL_MS} ms poll of the outbox (same transaction as the log row) first saw the row: figures are upper bounds, at most ${POLL_MS} ms high. Lag is measured from the transition's own \`at\` (the deadline; for recovery the heartbeat's receive time).`,
  );
  return s;
}
