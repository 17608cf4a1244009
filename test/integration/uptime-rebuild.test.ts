import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../helpers/clock.ts';
import { createSql } from '../../src/db/client.ts';
import { insertMaintenance, wakeCoveredNodes } from '../../src/maintenance/store.ts';
import { createMetrics } from '../../src/metrics.ts';
import { deleteNode } from '../../src/nodes/service.ts';
import { TEST_ACTING } from '../helpers/acting.ts';
import { insertNode } from '../../src/nodes/store.ts';
import type { HeartbeatStatus } from '../../src/health/decide.ts';
import { Evaluator } from '../../src/health/evaluator.ts';
import { Leadership } from '../../src/health/leader.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { IngestFlusher } from '../../src/ingest/flusher.ts';
import { OutboxDispatcher } from '../../src/outbox/dispatcher.ts';
import { HandlerRegistry } from '../../src/outbox/registry.ts';
import { generateSecret, hashSecret } from '../../src/secrets.ts';
import { uptimeHandler } from '../../src/uptime/handlers.ts';
import { UptimeHousekeeping } from '../../src/uptime/housekeeping.ts';
import { intervalsFromLog, msInWindow } from '../../src/uptime/intervals.ts';
import { rebuildUptime } from '../../src/uptime/rebuild.ts';
import { fleetUptime } from '../../src/uptime/report.ts';
import type { NodeState } from '../../src/uptime/state-time.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { testLog } from '../helpers/log.ts';
import { HOUR, MINUTE, prng } from '../helpers/uptime-history.ts';
import { storedUptimeRows } from '../helpers/uptime-rows.ts';

// A property of the whole uptime path: whatever sequence of heartbeats, silences, maintenance
// windows, deletions, ingest outages, outbox lag and housekeeping passes the real pipeline lives
// through, the rows it maintained incrementally equal the rows a rebuild computes from the state log
// alone, and every report equals the log's own figures. Each seed is one reproducible history.

const RETENTION = { hourlyDays: 90, dailyDays: 1095 };
// Silence from ingest longer than this is the engine being blind (unknown for every node).
const GAP_MS = 2 * HOUR;
const START = Date.parse('2026-11-21T20:00:00.000Z');

describe('rebuilt uptime rows equal the incrementally maintained ones', () => {
  let db: TestDatabase;
  let leadership: Leadership;

  before(async () => {
    db = await createTestDatabase();
    leadership = new Leadership(() => createSql(db.url, { dedicated: true, applicationName: 'lifeline-test-evaluator' }), testLog);
  });
  after(async () => {
    await leadership.close();
    await db.drop();
  });

  for (const seed of [1, 2, 3]) {
    it(`after a random history through the pipeline and the outbox (seed ${seed})`, async () => {
      const { sql } = db;
      await sql`truncate nodes, node_state_log, outbox, outbox_dead, maintenances, ingest_coverage, ingest_presence cascade`;
      const random = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const clock = new ManualClock(new Date(START));
      const buffer = new HeartbeatBuffer();
      const flusher = new IngestFlusher({ sql, buffer, clock, log: testLog, gapMs: GAP_MS });
      const evaluator = new Evaluator({ leadership, clock, log: testLog, intervalMs: 1000, coverageGapMs: GAP_MS });
      const registry = new HandlerRegistry().on('node.state_changed', 'uptime', uptimeHandler(RETENTION));
      // Two outbox workers, as the engine runs by default.
      const workers = [0, 1].map(() => new OutboxDispatcher({ sql, registry, clock, log: testLog, maxAttempts: 3, batchSize: 7 }));
      const upkeep = new UptimeHousekeeping({ sql, clock, retention: RETENTION, chunk: 5 });
      const drain = (d: OutboxDispatcher) => (async () => { while ((await d.runOnce()) > 0); })();

      const nodes = new Map<string, { name: string; behaviour: HeartbeatStatus | 'silent' }>();
      let created = 0;
      const addNode = async () => {
        const name = `n-${created++ % 14}`;
        if ([...nodes.values()].some((n) => n.name === name)) return;
        const id = await sql.begin((tx) =>
          insertNode(
            tx,
            {
              name,
              labels: {},
              heartbeat_interval_seconds: pick([60, 300, 900]),
              grace_seconds: pick([0, 30]),
              failures_for_down: pick([1, 2]),
              successes_for_recovery: pick([1, 2]),
              escalation_policy_id: null,
              token_hash: hashSecret(generateSecret('lln')),
            },
            clock.now(),
          ),
        );
        nodes.set(id, { name, behaviour: 'ok' });
      };
      for (let i = 0; i < 8; i++) await addNode();

      for (let step = 0; step < 160; step++) {
        // Mostly minutes apart; now and then ingest is dark for longer than the gap.
        clock.advance(random() < 0.03 ? GAP_MS + Math.floor(random() * 3 * HOUR) : Math.floor(random() * 25 * MINUTE) + 1);
        const now = clock.now();
        for (const [id, n] of nodes) {
          if (random() < 0.15) n.behaviour = pick<HeartbeatStatus | 'silent'>(['ok', 'ok', 'ok', 'degraded', 'failing', 'silent']);
          if (n.behaviour !== 'silent') buffer.add({ nodeId: id, at: now, status: n.behaviour, checks: null, seq: null });
        }
        const roll = random();
        if (roll < 0.04) await addNode();
        else if (roll < 0.06 && nodes.size > 3) {
          const [id] = pick([...nodes.entries()]);
          await deleteNode(sql, id, now, TEST_ACTING, { log: testLog, metrics: createMetrics() });
          nodes.delete(id);
        } else if (roll < 0.1) {
          const [id] = pick([...nodes.entries()]);
          const starts_at = new Date(now.getTime() + Math.floor(random() * 30 * MINUTE));
          const window = { node_ids: [id], labels: {}, starts_at, ends_at: new Date(starts_at.getTime() + (1 + Math.floor(random() * 90)) * MINUTE), reason: null };
          await sql.begin(async (tx) => {
            await insertMaintenance(tx, window, now);
            await wakeCoveredNodes(tx, window, starts_at);
          });
        }
        await flusher.runOnce();
        await evaluator.runOnce();
        // The outbox sometimes lags a step behind; upkeep sometimes runs, alongside the workers.
        await Promise.all([
          ...(random() < 0.7 ? workers.map(drain) : []),
          ...(random() < 0.4 ? [upkeep.runOnce()] : []),
        ]);
      }
      await Promise.all(workers.map(drain));
      await upkeep.runOnce();
      await leadership.release();

      const [{ transitions }] = (await sql`select count(*)::int as transitions from node_state_log`) as unknown as [{ transitions: number }];
      assert.ok(transitions > 100, `a history worth checking: ${transitions} transitions`);
      const kept = await storedUptimeRows(sql);
      assert.ok(kept.some((r) => r.kind === 'day') && kept.some((r) => r.kind === 'hour'));

      const now = clock.now();
      await rebuildUptime(sql, { all: true }, now, RETENTION, { chunk: 4 });
      assert.deepEqual(await storedUptimeRows(sql), kept);

      // And every node's report equals the log's own figures.
      const window = { from: START - HOUR, to: now.getTime() };
      const reported = await fleetUptime(sql, {}, window, now.getTime());
      const logs = await sql<{ id: string; created_at: Date; transitions: Array<{ from: NodeState; to: NodeState; at: string }> }[]>`
        select n.id, n.created_at,
               coalesce(json_agg(json_build_object('from', l.from_state, 'to', l.to_state, 'at', l.at) order by l.state_version)
                        filter (where l.node_id is not null), '[]') as transitions
        from nodes n left join node_state_log l on l.node_id = n.id group by n.id`;
      assert.equal(reported.length, logs.length);
      for (const log of logs) {
        const intervals = intervalsFromLog({
          createdAt: log.created_at.getTime(),
          transitions: log.transitions.map((t) => ({ from: t.from, to: t.to, at: Date.parse(t.at) })),
          until: now.getTime(),
        });
        assert.deepEqual(reported.find((r) => r.id === log.id)!.ms, msInWindow(intervals, window.from, window.to), log.id);
      }
    });
  }
});
