import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateWebhookSecret } from '../../alerting/webhook.ts';
import { createMetrics } from '../../src/metrics.ts';
import { ManualClock } from '../helpers/clock.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { testLog } from '../helpers/log.ts';
import { createOnCall, nodeGoingDown } from '../helpers/oncall.ts';
import { createPipeline } from '../helpers/pipeline.ts';

// The outbox backlog gauges feed LifelineOutboxBacklogOld (> 300 s, critical). An escalation timer
// armed for later is work scheduled, not work late: it counts in lifeline_outbox_scheduled until
// it is due, and only from then in the backlog, aged from its due time.

const T0 = new Date('2026-11-21T10:00:00.000Z');

describe('the outbox backlog gauges', () => {
  it('count an escalation timer as scheduled until it is due, then as backlog aged from its due time', async (t) => {
    const db = await createTestDatabase();
    t.after(() => db.drop());
    const clock = new ManualClock(T0);
    const p = createPipeline(db, clock);
    // No notifier: the pages wait in the queue, which these gauges do not read.
    const oc = await createOnCall(db, clock, { redisUrl: undefined, worker: false });
    t.after(async () => {
      await oc.close();
      await p.close();
    });
    await p.flush();
    const metrics = createMetrics({ sql: db.sql, clock, log: testLog });
    const gauges = async () =>
      Object.fromEntries(
        [...(await metrics.registry.metrics()).matchAll(/^lifeline_outbox_(pending|oldest_pending_seconds|scheduled) (\S+)$/gm)].map((m) => [m[1], Number(m[2])]),
      );

    const ch = await oc.webhook('hook', 'http://127.0.0.1:9/hook', generateWebhookSecret());
    const policy = await oc.policy('now and in 15 min', [
      { after_seconds: 0, channel_ids: [ch.id] },
      { after_seconds: 900, channel_ids: [ch.id] },
    ]);
    await nodeGoingDown({ p, oc, clock }, 'web-1', policy.id); // down, paged and level 1 armed at 20 s
    const downAt = clock.now().getTime();

    clock.set(new Date(downAt + 300_000 + 15_000));
    assert.deepEqual(await gauges(), { pending: 0, oldest_pending_seconds: 0, scheduled: 1 }, 'nothing is late 5 min 15 s after the node went down');

    // Level 1 is due at 900 s and no worker has handled it 15 s later: that is 15 s late, not 915.
    clock.set(new Date(downAt + 915_000));
    assert.deepEqual(await gauges(), { pending: 1, oldest_pending_seconds: 15, scheduled: 0 });

    await oc.drain();
    clock.advance(5_000);
    assert.deepEqual(await gauges(), { pending: 0, oldest_pending_seconds: 0, scheduled: 0 });
  });
});
