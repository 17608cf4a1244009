import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Events } from '../../src/events.ts';
import { nodeEventsHandler } from '../../src/incidents/handlers.ts';
import { countEvents, createMetrics } from '../../src/metrics.ts';
import { NODE_DEFAULTS } from '../../src/nodes/model.ts';
import { insertNode } from '../../src/nodes/store.ts';
import type { OutboxEvent } from '../../src/outbox/topics.ts';
import { createTestDatabase } from '../helpers/db.ts';

// An incident whose level paged nobody (no escalation policy, no default one) moves
// lifeline_incidents_unrouted_total once its transaction commits, and not before.

describe('an incident that pages nobody', () => {
  it('is counted in lifeline_incidents_unrouted_total by reason, after the commit', async (t) => {
    const db = await createTestDatabase();
    t.after(() => db.drop());
    const metrics = createMetrics();
    const events = new Events();
    countEvents(metrics, events);
    const unrouted = async () => (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('lifeline_incidents_unrouted_total{'));
    const at = new Date('2026-12-07T10:00:00.000Z');
    const nodeId = await db.sql.begin((tx) => insertNode(tx, { name: 'lonely', labels: {}, ...NODE_DEFAULTS, escalation_policy_id: null, token_hash: 'hash-lonely' }, at));
    const event: OutboxEvent<'node.state_changed'> = {
      id: '1',
      topic: 'node.state_changed',
      key: nodeId,
      payload: { node_id: nodeId, node_name: 'lonely', from: 'healthy', to: 'down', at: at.toISOString(), reason: 'no heartbeat', state_version: 2 },
      created_at: at,
      attempts: 0,
    };
    const after: Array<() => Promise<void>> = [];
    const handle = nodeEventsHandler(async () => {}, { emailConfigured: undefined, events });
    await db.sql.begin((tx) => handle([event], { tx, now: at, afterCommit: (fn) => after.push(fn) }));
    assert.ok((await unrouted()).includes('lifeline_incidents_unrouted_total{reason="no_policy"} 0'), 'counted before the commit');
    for (const fn of after) await fn();
    assert.deepEqual(await unrouted(), [
      'lifeline_incidents_unrouted_total{reason="no_policy"} 1',
      'lifeline_incidents_unrouted_total{reason="email_not_configured"} 0',
      'lifeline_incidents_unrouted_total{reason="nobody_on_call"} 0',
    ]);
    const [row] = await db.sql<{ reason: string }[]>`select detail->>'reason' as reason from incident_timeline where kind = 'reached_nobody'`;
    assert.equal(row?.reason, 'no escalation policy');
  });
});
