import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../helpers/clock.ts';
import { openIncidents } from '../../src/incidents/store.ts';
import { createMetrics } from '../../src/metrics.ts';
import { NODE_DEFAULTS } from '../../src/nodes/model.ts';
import { insertNode } from '../../src/nodes/store.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { testLog } from '../helpers/log.ts';

// The fleet gauges are read from Postgres at each scrape: every state and category has a series,
// 0 where nothing is counted, so a state that empties reads 0 rather than its last count.

describe('the fleet gauges', () => {
  it('count nodes by state and open incidents by category at each scrape', async (t) => {
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
      'lifeline_incidents_open{category="node_down"} 0',
      'lifeline_incidents_open{category="node_degraded"} 0',
    ]);

    const add = (name: string) =>
      db.sql.begin((tx) => insertNode(tx, { name, labels: {}, ...NODE_DEFAULTS, escalation_policy_id: null, token_hash: `hash-${name}` }, clock.now()));
    await add('a');
    const down = await add('b');
    await add('c');
    await db.sql`update node_health set state = 'down' where node_id = ${down}`;
    await openIncidents(db.sql, [
      { nodeId: down, nodeName: 'b', category: 'node_down', severity: 'critical', title: 'b is down', reason: 'no heartbeat', policyId: null, openedAt: clock.now() },
    ]);

    assert.deepEqual(await series(), [
      'lifeline_nodes{state="unknown"} 2',
      'lifeline_nodes{state="healthy"} 0',
      'lifeline_nodes{state="degraded"} 0',
      'lifeline_nodes{state="down"} 1',
      'lifeline_nodes{state="maintenance"} 0',
      'lifeline_incidents_open{category="node_down"} 1',
      'lifeline_incidents_open{category="node_degraded"} 0',
    ]);

    // Emptied: the series stay, at 0.
    await db.sql`update node_health set state = 'healthy'`;
    await db.sql`update incidents set status = 'resolved'`;
    assert.deepEqual(await series(), [
      'lifeline_nodes{state="unknown"} 0',
      'lifeline_nodes{state="healthy"} 3',
      'lifeline_nodes{state="degraded"} 0',
      'lifeline_nodes{state="down"} 0',
      'lifeline_nodes{state="maintenance"} 0',
      'lifeline_incidents_open{category="node_down"} 0',
      'lifeline_incidents_open{category="node_degraded"} 0',
    ]);
  });
});
