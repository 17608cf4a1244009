import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import postgres from 'postgres';
import type { Sql } from '../../src/db/client.ts';
import { claimOutbox, insertOutbox } from '../../src/outbox/store.ts';
import type { NewOutboxEvent } from '../../src/outbox/topics.ts';
import { createTestDatabase } from '../helpers/db.ts';

const TOPIC = 'node.state_changed';

/** One event per node (a mass outage's), due at `availableAt` (now when not given). */
function events(n: number, prefix: string, availableAt?: Date): NewOutboxEvent[] {
  return Array.from({ length: n }, (_, k) => ({
    topic: TOPIC,
    key: `${prefix}-${k}`,
    availableAt,
    payload: { node_id: `${prefix}-${k}`, node_name: `n${k}`, from: 'healthy', to: 'down', at: new Date(0).toISOString(), reason: 'silent' },
  })) as NewOutboxEvent[];
}

/**
 * One claim of 500 after `fill` wrote the outbox, with its plan as executed (`auto_explain` with
 * `log_analyze`, which needs a superuser, as the tests' role is): the rows each node read, kept and
 * removed.
 */
async function explainClaim(fill: (sql: Sql) => Promise<void>): Promise<{ claimed: number; plan: string; after: unknown }> {
  const db = await createTestDatabase();
  const plans: string[] = [];
  // One connection whose plans come back as notices (auto_explain at notice level).
  const conn = postgres(db.url, { max: 1, onnotice: (n) => plans.push(String(n.message)) });
  try {
    await db.sql`alter table outbox set (autovacuum_enabled = false)`;
    await fill(db.sql);
    await conn`load 'auto_explain'`;
    await conn`
      select set_config('auto_explain.log_min_duration', '0', false), set_config('auto_explain.log_analyze', 'on', false),
             set_config('auto_explain.log_level', 'notice', false)`;
    const { claimed, after } = await conn.begin(async (tx) => {
      const rows = await claimOutbox(tx, new Date(), 500, [TOPIC]);
      const [settings] = await tx`select current_setting('enable_bitmapscan') as bitmap, current_setting('enable_sort') as sort`;
      return { claimed: rows.length, after: { ...settings } };
    });
    const plan = plans.find((p) => p.includes('from outbox o'));
    assert.ok(plan, 'the claim was explained');
    return { claimed, plan, after };
  } finally {
    await conn.end();
    await db.drop();
  }
}

/** The most rows any one node of the plan returned, threw away, or ran for (a probe per event). */
function mostRead(plan: string): number {
  const counts = [...plan.matchAll(/rows=(\d+) loops=(\d+)\)|Rows Removed by (?:Join )?Filter: (\d+)/g)]
    .flatMap((m) => (m[3] !== undefined ? [Number(m[3])] : [Number(m[1]), Number(m[2])]));
  return Math.max(...counts);
}

/**
 * What the planner knew of the outbox before a mass outage: never analysed (a new engine), or
 * analysed by autovacuum between outages, when it held nothing or a few events (events live
 * milliseconds).
 */
const ANALYSED = { 'never analysed': -1, 'analysed empty': 0, 'analysed with 20 events waiting': 20 } as const;

async function analysedHolding(sql: Sql, n: number): Promise<void> {
  if (n < 0) return;
  await insertOutbox(sql, events(n, 'before'), new Date());
  await sql`analyze outbox`;
  await sql`delete from outbox`;
}

// A claim reads what it takes, not what waits. Planned with a join filter, an outbox analysed
// with 20 events waiting took 610 ms in this test for a claim of 500 at 10,000 events (a probe
// reading the whole key index for each event); analysed empty or never, every waiting event was
// read, probed and sorted (40-180 ms a claim at load ~11); walking the primary key in id order,
// every timer not yet due ahead of the due events was read and filtered on every claim (4 ms with
// 10,000 timers, against 0.07 ms through `outbox_available`).
describe('outbox claim plan', () => {
  for (const [analysed, n] of Object.entries(ANALYSED)) {
    it(`claims 500 of 10,000 due events without reading the key index for each, the outbox ${analysed}`, async () => {
      const { claimed, plan, after } = await explainClaim(async (sql) => {
        await analysedHolding(sql, n);
        await insertOutbox(sql, events(10_000, 'node'), new Date());
      });
      assert.equal(claimed, 500);
      assert.match(plan, /Index Cond: \(key = o\.key\)/, 'each predecessor is probed by its key');
      assert.doesNotMatch(plan, /Join Filter/);
      assert.ok(mostRead(plan) <= 500, `the claim read what it took, not all that waits:\n${plan}`);
      assert.deepEqual(after, { bitmap: 'on', sort: 'on' }, 'the handlers plan as before');
    });
  }

  for (const analysed of ['never analysed', 'analysed with the timers waiting']) {
    it(`finds the due events behind 10,000 timers not yet due without reading the timers, the outbox ${analysed}`, async () => {
      const { claimed, plan } = await explainClaim(async (sql) => {
        // Escalation, ack-timeout and re-check timers wait minutes to a day, with ids below what comes due.
        await insertOutbox(sql, events(10_000, 'timer', new Date(Date.now() + 15 * 60_000)), new Date());
        if (analysed !== 'never analysed') await sql`analyze outbox`;
        await insertOutbox(sql, events(5, 'node'), new Date());
      });
      assert.equal(claimed, 5);
      assert.ok(mostRead(plan) <= 5, `the timers were not read one by one:\n${plan}`);
    });
  }
});
