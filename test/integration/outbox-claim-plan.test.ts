import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import postgres from 'postgres';
import { claimOutbox, insertOutbox } from '../../src/outbox/store.ts';
import type { NewOutboxEvent } from '../../src/outbox/topics.ts';
import { createTestDatabase } from '../helpers/db.ts';

const TOPIC = 'node.state_changed';

/** A mass outage's events: one per node. */
function burst(n: number): NewOutboxEvent[] {
  return Array.from({ length: n }, (_, k) => ({
    topic: TOPIC,
    key: `node-${k}`,
    payload: { node_id: `node-${k}`, node_name: `n${k}`, from: 'healthy', to: 'down', at: new Date(0).toISOString(), reason: 'silent' },
  })) as NewOutboxEvent[];
}

/**
 * What the planner knew of the outbox before a mass outage: never analysed (a new engine), or
 * analysed by autovacuum between outages, when it held nothing or a few events (events live
 * milliseconds).
 */
const ANALYSED = { 'never analysed': 0, 'analysed empty': 0, 'analysed with 20 events waiting': 20 } as const;

/** The claim's plan and the planner settings after it, the outbox then holding 10,000 events. */
async function claimInBurst(analysed: keyof typeof ANALYSED): Promise<{ claimed: number; plan: string | undefined; after: unknown }> {
  const db = await createTestDatabase();
  const plans: string[] = [];
  // One connection whose plans come back as notices (auto_explain at notice level).
  const conn = postgres(db.url, { max: 1, onnotice: (n) => plans.push(String(n.message)) });
  try {
    await db.sql`alter table outbox set (autovacuum_enabled = false)`;
    if (analysed !== 'never analysed') {
      await insertOutbox(db.sql, burst(ANALYSED[analysed]), new Date());
      await db.sql`analyze outbox`;
      await db.sql`delete from outbox`;
    }
    await insertOutbox(db.sql, burst(10_000), new Date());
    await conn`load 'auto_explain'`;
    await conn`select set_config('auto_explain.log_min_duration', '0', false), set_config('auto_explain.log_level', 'notice', false)`;
    const { claimed, after } = await conn.begin(async (tx) => {
      const rows = await claimOutbox(tx, new Date(), 500, [TOPIC]);
      const [settings] = await tx`select current_setting('enable_bitmapscan') as bitmap, current_setting('enable_sort') as sort`;
      return { claimed: rows.length, after: { ...settings } };
    });
    return { claimed, plan: plans.find((p) => p.includes('from outbox o')), after };
  } finally {
    await conn.end();
    await db.drop();
  }
}

// A mass outage's claims cost what a claim takes, not what the backlog holds: the key walked in
// order up to the claim, each event's predecessor looked up by its key. Planned by the statistics,
// an outbox analysed with 20 events waiting took 610 ms a claim of 500 at 10,000 events (a probe
// reading the whole key index for each); one analysed empty or never, 14-55 ms in section 7's
// outage (every waiting event read, probed and sorted).
describe('outbox claim in a burst', () => {
  for (const analysed of Object.keys(ANALYSED) as Array<keyof typeof ANALYSED>) {
    it(`walks the primary key up to the claim and probes each key by index, the outbox ${analysed}`, async () => {
      const { claimed, plan, after } = await claimInBurst(analysed);
      assert.equal(claimed, 500);
      assert.ok(plan, 'the claim was explained');
      assert.match(plan, /Index Scan using outbox_pkey on outbox o/);
      assert.match(plan, /Index Cond: \(key = o\.key\)/);
      assert.doesNotMatch(plan, /Sort|Bitmap|Join Filter/);
      assert.deepEqual(after, { bitmap: 'on', sort: 'on' }, 'the handlers plan as before');
    });
  }
});
