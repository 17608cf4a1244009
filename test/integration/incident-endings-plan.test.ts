import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { endingsOf } from '../../src/incidents/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { plansOf, rowsRead } from '../helpers/plans.ts';

// Every message batch reads how its incidents ended (endingsOf): a resolve note and the last
// `reason_changed` line. Most of a timeline is other lines (`notified` and the like), 150 of them
// for an incident paged all night: the read walks only the lines of the two kinds it keeps.

const INCIDENTS = 5_000;
const BATCH = 64;

describe("a message batch's read of how its incidents ended", () => {
  let db: TestDatabase;
  let batch: string[];
  /** Lines of the two kinds endingsOf reads, of the incidents in the batch. */
  let kept: number;

  before(async () => {
    db = await createTestDatabase();
    await db.sql`
      insert into incidents (node_id, node_name, category, severity, status, title, reason, opened_at)
      select gen_random_uuid(), 'n-' || g, 'node_down', 'critical', case when g % 10 = 0 then 'resolved' else 'open' end, 'n-' || g || ' is down', 'no heartbeat for 90s', now() - interval '1 hour'
      from generate_series(1, ${INCIDENTS}::int) g`;
    const lines = (kind: string, every: number, from: number, to: number) => db.sql`
      insert into incident_timeline (incident_id, at, kind, detail)
      select i.id, i.opened_at + make_interval(secs => k), ${kind}, jsonb_build_object('reason', 'exit code ' || k, 'note', 'fixed')
      from (select id, opened_at, substring(node_name from 3)::int as g from incidents) i, generate_series(${from}::int, ${to}::int) k
      where i.g % ${every}::int = 0`;
    await lines('opened', 1, 0, 0);
    await lines('notified', 1, 1, 3);
    await lines('notified', 50, 4, 150);
    await lines('reason_changed', 7, 200, 202);
    await lines('resolved', 10, 300, 300);
    await db.sql`vacuum analyze incident_timeline`;
    // Every 50th incident (its 150 lines) and some with each kind.
    [batch] = [(await db.sql<{ id: string }[]>`select id::text from incidents where substring(node_name from 3)::int % 5 = 0 order by node_name limit ${BATCH}`).map((r) => r.id)];
    [{ kept }] = await db.sql<[{ kept: number }]>`select count(*)::int as kept from incident_timeline where incident_id = any(${batch}::uuid[]) and kind in ('resolved', 'reason_changed')`;
  });
  after(async () => {
    await db?.drop();
  });

  it('reads only the resolve and reason lines of the batch, planned for its ids or not', async () => {
    const found = await plansOf(db, async (sql) => {
      const endings = await endingsOf(sql, batch);
      assert.ok([...endings.values()].some((e) => e.lastReason === 'exit code 202' && e.note === 'fixed'));
    });
    for (const { mode, plan } of found) {
      const walked = rowsRead(plan, (p) => p['Index Name']?.startsWith('incident_timeline') === true);
      assert.ok(walked <= kept, `${mode}: ${walked} timeline lines walked for ${kept} kept`);
    }
  });
});
