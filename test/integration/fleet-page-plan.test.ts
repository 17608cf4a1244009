import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import type { State } from '../../src/health/decide.ts';
import { fleetCounts, fleetCursor, fleetPage, FLEET_ORDER, type FleetCursor } from '../../src/nodes/store.ts';
import { seedFleet } from '../bench/seed.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { plansOf, rowsRead } from '../helpers/plans.ts';

// The fleet's first pages at a size where the planner's own choice went wrong: 20,000 nodes, 1 %
// down, 1 % degraded, 0.5 % in maintenance. The rare states were each read by walking the name
// index (some 10,000 names each for 101 rows); they are read through the state index, and the
// name index is walked only for healthy nodes and only as far as the page.

const NODES = 20_000;
const PAGE = 101;

describe('the fleet page at 20,000 nodes', () => {
  let db: TestDatabase;
  let sizes: Record<State, number>;
  /** The fleet order, worst first then by name, sorted whole: what the pages must add up to. */
  let order: string[];

  before(async () => {
    db = await createTestDatabase();
    await seedFleet(db.sql, { count: NODES, intervalSeconds: 30, failuresForDown: 3, state: 'healthy', due: 'infinity' });
    await db.sql`
      update node_health h set state = case when k % 100 = 0 then 'down' when k % 100 = 1 then 'degraded' else 'maintenance' end
      from (select id, substring(name from 12)::int as k from nodes) x
      where h.node_id = x.id and (x.k % 100 < 2 or x.k % 200 = 2)`;
    await db.sql`vacuum analyze node_health`;
    sizes = await fleetCounts(db.sql, {});
    const all = await db.sql<{ name: string; state: State }[]>`select n.name, h.state from nodes n join node_health h on h.node_id = n.id`;
    const rank = (s: State) => FLEET_ORDER.indexOf(s);
    order = all.sort((a, b) => rank(a.state) - rank(b.state) || (a.name < b.name ? -1 : 1)).map((r) => r.name);
  });
  after(async () => {
    await db?.drop();
  });

  const plans = (run: (sql: postgres.Sql) => Promise<unknown>) => plansOf(db, run);

  it('reads the first page without walking the name index for the rare states, planned for its values or not', async () => {
    const found = await plans(async (sql) => {
      const rows = await fleetPage(sql, {}, {}, PAGE, sizes);
      assert.deepEqual(rows.map((r) => r.name), order.slice(0, PAGE));
    });
    for (const { mode, plan } of found) {
      const walked = rowsRead(plan, (p) => p['Index Name'] === 'nodes_name_key');
      assert.ok(walked <= 2 * PAGE, `${mode}: the name index was walked for ${walked} rows`);
    }
  });

  it('counts the unfiltered fleet per state without reading nodes', async () => {
    const found = await plans(async (sql) => assert.deepEqual(await fleetCounts(sql, {}), sizes));
    for (const { mode, plan } of found) assert.equal(rowsRead(plan, (p) => p['Relation Name'] === 'nodes'), 0, mode);
  });

  it('leaves a label or name filter to its indexes: a narrow filter reads a few rows, not whole states', async () => {
    const [a, b] = await db.sql<{ id: string }[]>`select id from nodes order by name limit 2 offset 7`;
    await db.sql`update nodes set labels = ${db.sql.json({ host: 'rare' })} where id in (${a!.id}, ${b!.id})`;
    await db.sql`analyze nodes`;
    const filters = [{ labels: [{ key: 'host', value: 'rare' }] }, { search: order.at(-3)! }];
    for (const f of filters) {
      const counts = await fleetCounts(db.sql, f);
      const found = await plans(async (sql) => assert.ok((await fleetPage(sql, f, {}, PAGE, counts)).length > 0));
      // Planned for its values, as the client's first executions are. A filter applied after
      // reading whole states looks up each of their nodes by primary key: ~20,000 lookups here.
      const lookups = rowsRead(found[0]!.plan, (p) => p['Index Name'] === 'nodes_pkey');
      assert.ok(lookups <= 2 * PAGE, `${JSON.stringify(f)}: ${lookups} nodes looked up one by one`);
    }
  });

  it('pages on across the boundary between the rare states and healthy, however each state is read', async () => {
    // Every state sorted, every state walked, and the shapes the counts choose: the same pages.
    const hints: Array<Record<State, number>> = [sizes, { ...sizes, healthy: 0 }, { down: NODES, degraded: NODES, unknown: NODES, maintenance: NODES, healthy: NODES }];
    const rare = sizes.down + sizes.degraded + sizes.unknown + sizes.maintenance;
    for (const hint of hints) {
      const names: string[] = [];
      let at: FleetCursor | undefined;
      while (names.length < rare + 2 * PAGE) {
        const rows = await fleetPage(db.sql, {}, { after: at }, PAGE, hint);
        names.push(...rows.map((r) => r.name));
        at = fleetCursor(rows.at(-1)!);
      }
      assert.deepEqual(names, order.slice(0, names.length), JSON.stringify(hint));
      // And back from there to the start.
      const back: string[] = [];
      let before: FleetCursor | undefined = at;
      for (;;) {
        const rows = await fleetPage(db.sql, {}, { before }, PAGE, hint);
        if (rows.length === 0) break;
        back.unshift(...rows.map((r) => r.name));
        before = fleetCursor(rows[0]!);
      }
      assert.deepEqual(back, names.slice(0, -1), `${JSON.stringify(hint)}, backwards`);
    }
  });
});
