import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../helpers/clock.ts';
import { openIncidents } from '../../src/incidents/store.ts';
import { FLEET_READ_MS, createMetrics } from '../../src/metrics.ts';
import { NODE_DEFAULTS } from '../../src/nodes/model.ts';
import { insertNode } from '../../src/nodes/store.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { testLog } from '../helpers/log.ts';
import { until } from '../helpers/wait.ts';

// The fleet gauges are read from Postgres, at most once per FLEET_READ_MS: every state, category and
// acknowledged has a series, 0 where nothing is counted, so a state that empties reads 0 rather than its last count.

describe('the fleet gauges', () => {
  it('count nodes by state and open incidents by category', async (t) => {
    const db = await createTestDatabase();
    t.after(() => db.drop());
    const clock = new ManualClock('2026-11-21T10:00:00.000Z');
    const metrics = createMetrics({ sql: db.sql, clock, log: testLog });
    const series = async () =>
      (await metrics.registry.metrics()).split('\n').filter((l) => /^lifeline_(nodes|incidents_open)\{/.test(l));

    assert.deepEqual(await series(), [
      'lifeline_nodes{state="unknown"} 0',
      'lifeline_nodes{state="healthy"} 0',
      'lifeline_nodes{state="degraded"} 0',
      'lifeline_nodes{state="down"} 0',
      'lifeline_nodes{state="maintenance"} 0',
      'lifeline_incidents_open{category="node_down",acknowledged="true"} 0',
      'lifeline_incidents_open{category="node_down",acknowledged="false"} 0',
      'lifeline_incidents_open{category="node_degraded",acknowledged="true"} 0',
      'lifeline_incidents_open{category="node_degraded",acknowledged="false"} 0',
    ]);

    const add = (name: string) =>
      db.sql.begin((tx) => insertNode(tx, { name, labels: {}, ...NODE_DEFAULTS, escalation_policy_id: null, token_hash: `hash-${name}` }, clock.now()));
    await add('a');
    const down = await add('b');
    await add('c');
    await db.sql`update node_health set state = 'down' where node_id = ${down}`;
    clock.advance(FLEET_READ_MS);
    const acked = await add('d');
    await openIncidents(db.sql, [
      { nodeId: down, nodeName: 'b', category: 'node_down', severity: 'critical', title: 'b is down', reason: 'no heartbeat', policyId: null, openedAt: clock.now() },
      { nodeId: acked, nodeName: 'd', category: 'node_down', severity: 'critical', title: 'd is down', reason: 'no heartbeat', policyId: null, openedAt: clock.now() },
    ]);
    // Acknowledged incidents are told apart from those nobody has taken yet.
    await db.sql`update incidents set status = 'acknowledged', acknowledged_at = now(), acknowledged_by = 'ops' where node_id = ${acked}`;

    assert.deepEqual(await series(), [
      'lifeline_nodes{state="unknown"} 3',
      'lifeline_nodes{state="healthy"} 0',
      'lifeline_nodes{state="degraded"} 0',
      'lifeline_nodes{state="down"} 1',
      'lifeline_nodes{state="maintenance"} 0',
      'lifeline_incidents_open{category="node_down",acknowledged="true"} 1',
      'lifeline_incidents_open{category="node_down",acknowledged="false"} 1',
      'lifeline_incidents_open{category="node_degraded",acknowledged="true"} 0',
      'lifeline_incidents_open{category="node_degraded",acknowledged="false"} 0',
    ]);

    // Emptied: the series stay, at 0.
    await db.sql`update node_health set state = 'healthy'`;
    await db.sql`update incidents set status = 'resolved'`;
    clock.advance(FLEET_READ_MS);
    assert.deepEqual(await series(), [
      'lifeline_nodes{state="unknown"} 0',
      'lifeline_nodes{state="healthy"} 4',
      'lifeline_nodes{state="degraded"} 0',
      'lifeline_nodes{state="down"} 0',
      'lifeline_nodes{state="maintenance"} 0',
      'lifeline_incidents_open{category="node_down",acknowledged="true"} 0',
      'lifeline_incidents_open{category="node_down",acknowledged="false"} 0',
      'lifeline_incidents_open{category="node_degraded",acknowledged="true"} 0',
      'lifeline_incidents_open{category="node_degraded",acknowledged="false"} 0',
    ]);
  });

  it('are read at most once per FLEET_READ_MS however many scrapes come, concurrent or not', async (t) => {
    const db = await createTestDatabase();
    t.after(() => db.drop());
    const clock = new ManualClock('2026-11-21T10:00:00.000Z');
    let queries = 0;
    const sql = new Proxy(db.sql, {
      apply(target, self, args: Parameters<typeof db.sql>) {
        queries++;
        return Reflect.apply(target, self, args);
      },
    });
    const metrics = createMetrics({ sql, clock, log: testLog });
    const nodes = async () => /^lifeline_nodes\{state="unknown"\} (\d+)$/m.exec(await metrics.registry.metrics())?.[1];

    // A flood: 50 scrapes at once, then 50 one after another, within the same FLEET_READ_MS.
    // A scrape waits for a read at most READ_DEADLINE_MS: one answered before the first read has no counts.
    const counted = (v: string | undefined) => v === undefined || v === '0';
    assert.ok((await Promise.all(Array.from({ length: 50 }, nodes))).every(counted));
    for (let i = 0; i < 50; i++) assert.ok(counted(await nodes()));
    await until('the first read', async () => (await nodes()) === '0');
    assert.equal(queries, 4, 'nodes, incidents, the outbox and the deliveries: one query each');

    await db.sql.begin((tx) => insertNode(tx, { name: 'late', labels: {}, ...NODE_DEFAULTS, escalation_policy_id: null, token_hash: 'hash-late' }, clock.now()));
    clock.advance(FLEET_READ_MS - 1);
    assert.equal(await nodes(), '0', 'still the read of under FLEET_READ_MS ago');
    assert.equal(queries, 4);
    clock.advance(1);
    await until('read again once FLEET_READ_MS has passed', async () => (await nodes()) === '1');
    assert.equal(queries, 8);
  });
});
