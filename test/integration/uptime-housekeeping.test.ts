import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../helpers/clock.ts';
import { createMetrics } from '../../src/metrics.ts';
import { NODE_DEFAULTS } from '../../src/nodes/model.ts';
import { insertNode } from '../../src/nodes/store.ts';
import { generateSecret, hashSecret } from '../../src/secrets.ts';
import { startUptimeHousekeeping } from '../../workers/uptime-housekeeping.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { testLog } from '../helpers/log.ts';

describe('the uptime housekeeping job', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  it('closes quiet nodes’ hours only while this process leads the evaluators', async () => {
    const clock = new ManualClock('2026-11-21T10:20:00.000Z');
    const id = await db.sql.begin((tx) =>
      insertNode(
        tx,
        {
          name: 'quiet',
          labels: {},
          ...NODE_DEFAULTS,
          escalation_policy_id: null,
          token_hash: hashSecret(generateSecret('lln')),
        },
        clock.now(),
      ),
    );
    clock.set('2026-11-21T13:00:05.000Z');
    const leadership = { isLeader: false };
    // A schedule that does not come round during the test: ticks are driven by hand.
    const job = startUptimeHousekeeping({
      sql: db.sql,
      clock,
      log: testLog,
      metrics: createMetrics(),
      leadership,
      retention: { hourlyDays: 90, dailyDays: 1095 },
      cronTime: '0 0 0 1 1 *',
    });
    try {
      assert.equal(job.tick(), undefined, 'a follower does nothing');
      assert.equal((await db.sql`select count(*)::int as n from uptime_progress`)[0]!.n, 0);

      leadership.isLeader = true;
      await job.tick();
      const [progress] = await db.sql`select node_id, closed_until from uptime_progress`;
      assert.deepEqual([progress!.node_id, progress!.closed_until.toISOString()], [id, '2026-11-21T13:00:00.000Z']);
      const [row] = await db.sql<{ unknown_ms: number[] }[]>`select unknown_ms from uptime_hourly where node_id = ${id}`;
      // Running totals through the day: 40 minutes of hour 10, then hours 11 and 12, all unknown.
      assert.deepEqual(row!.unknown_ms.slice(9, 14), [0, 40 * 60_000, 100 * 60_000, 160 * 60_000, 160 * 60_000]);
    } finally {
      await job.stop();
    }
  });
});
