import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { incidentsSince } from '../../src/incidents/store.ts';
import type { PageView } from '../../src/statuspages/model.ts';
import { createHarness, expectJson, type Harness } from '../helpers/app.ts';

// "Recent incidents" reads the incidents open at any time in the last 14 days of the page's nodes:
// opened in them, or opened before and still open at their start, however long ago; none of a
// node on no component, none over before them. A node has one incident open at a time (followNodes
// resolves the one open when it opens another), as the rows below are.

const DAY = 86_400_000;

describe('a status page’s past incidents', () => {
  let h: Harness;
  let pageNodes: string[];
  const now = Date.parse('2026-11-21T09:41:00.000Z');

  before(async () => {
    h = await createHarness();
    h.clock.set(new Date(now).toISOString());
    const api = await h.createNode('api-1', { labels: { tier: 'api' } });
    // In a window from 35 days ago (before anything the page reads) to yesterday, through both of
    // api-1's outages in the 14 days: the API served nobody then, so they are outages, not partial.
    const api2 = await h.createNode('api-2', { labels: { tier: 'api' } });
    const serviced = [['unknown', 'healthy', 40], ['healthy', 'maintenance', 35], ['maintenance', 'healthy', 1]] as const;
    for (const [k, [from, to, daysAgo]] of serviced.entries()) {
      await h.sql`insert into node_state_log (node_id, state_version, from_state, to_state, at) values (${api2.id}, ${k + 1}, ${from}, ${to}, ${new Date(now - daysAgo * DAY)})`;
    }
    const search = await h.createNode('search-1', { labels: { tier: 'search' } });
    const search2 = await h.createNode('search-2', { labels: { tier: 'search' } });
    const other = await h.createNode('batch-1', { labels: { tier: 'batch' } });
    pageNodes = [api.id, search.id, search2.id];
    const incident = async (node: { id: string; name: string }, category: 'node_down' | 'node_degraded', openedDaysAgo: number, resolvedDaysAgo: number | null) =>
      h.sql`
        insert into incidents (node_id, node_name, category, severity, status, title, opened_at, resolved_at)
        values (${node.id}, ${node.name}, ${category}, ${category === 'node_down' ? 'critical' : 'warning'}, ${resolvedDaysAgo === null ? 'open' : 'resolved'},
                ${`${node.name} is down`}, ${new Date(now - openedDaysAgo * DAY)}, ${resolvedDaysAgo === null ? null : new Date(now - resolvedDaysAgo * DAY)})`;
    const named = { id: api.id, name: 'api-1' };
    await incident(named, 'node_down', 40, 39); // over long before
    await incident(named, 'node_down', 20, 15); // over a day before the 14 days
    await incident(named, 'node_down', 15, 13); // opened before them, over within them
    await incident(named, 'node_down', 2, 1.5);
    // Down 200 times before the 14 days, never degraded: the read must not walk them all to learn it.
    for (let k = 0; k < 200; k++) await incident({ id: search.id, name: 'search-1' }, 'node_down', 230 - k, 229.9 - k);
    await incident({ id: search2.id, name: 'search-2' }, 'node_degraded', 28, null); // still open after 28 days
    await incident({ id: other.id, name: 'batch-1' }, 'node_down', 1, null); // on no component
    // Down 10 minutes before a 4-hour window, its incident open through it (followNodes changes
    // nothing on maintenance) and resolved when the node came back healthy as the window ended.
    const cache = await h.createNode('cache-1', { labels: { tier: 'cache' } });
    const t0 = now - 3 * DAY;
    const log = [['healthy', 'down', t0], ['down', 'maintenance', t0 + 600_000], ['maintenance', 'healthy', t0 + 4 * 3_600_000 + 600_000]] as const;
    for (const [k, [from, to, at]] of log.entries()) {
      await h.sql`insert into node_state_log (node_id, state_version, from_state, to_state, at) values (${cache.id}, ${k + 1}, ${from}, ${to}, ${new Date(at)})`;
    }
    await incident({ id: cache.id, name: 'cache-1' }, 'node_down', 3, 3 - (4 * 3_600_000 + 600_000) / DAY);
    const page = await h.admin('POST', '/v1/status-pages', { slug: 'acme', title: 'Acme', components: [{ name: 'API', labels: { tier: 'api' } }, { name: 'Search', labels: { tier: 'search' } }, { name: 'Cache', labels: { tier: 'cache' } }] });
    assert.equal(page.status, 201, await page.text());
  });
  after(async () => h?.close());

  it('lists those open at any time in the last 14 days of the page’s nodes, and no other, ongoing ones first', async () => {
    const view = await expectJson<PageView>(await h.req('GET', '/status/acme.json'), 200);
    const at = (daysAgo: number) => new Date(now - daysAgo * DAY).toISOString();
    assert.deepEqual(
      view.past_incidents.filter((i) => !i.components.includes('Cache')).map((i) => [i.title, i.status, i.started_at, i.resolved_at, i.duration_seconds]),
      [
        ['Degraded service in Search', 'ongoing', at(28), null, null],
        ['Outage in API', 'resolved', at(2), at(1.5), 43_200],
        ['Outage in API', 'resolved', at(15), at(13), 172_800],
      ],
    );
  });

  it('ends an outage where its node went into maintenance, as the day’s bar counts it, not when its incident was resolved after the window', async () => {
    const view = await expectJson<PageView>(await h.req('GET', '/status/acme.json'), 200);
    const at = (daysAgo: number) => new Date(now - daysAgo * DAY).toISOString();
    assert.deepEqual(
      view.past_incidents.filter((i) => i.components.includes('Cache')).map((i) => [i.title, i.status, i.started_at, i.resolved_at, i.duration_seconds]),
      [['Outage in Cache', 'resolved', at(3), at(3 - 600_000 / DAY), 600]],
    );
    const html = await (await h.req('GET', '/status/acme')).text();
    assert.match(html, /lasted 10 min/);
    assert.doesNotMatch(html, /lasted 4 h/);
  });

  it('learns what was open at the start of the 14 days from one incident a node, not from each node’s whole history', async () => {
    const fetched = await h.sql.begin(async (tx) => {
      const read = await incidentsSince(tx, pageNodes, new Date(now - 14 * DAY));
      assert.equal(read.length, 3, 'the outage 2 days ago, the one over within the 14 days, the degradation still open');
      const [row] = await tx<[{ fetched: number }]>`select idx_tup_fetch::int as fetched from pg_stat_xact_user_tables where relid = 'incidents'::regclass`;
      return row.fetched;
    });
    // api-1's row opened within the 14 days and a probe of each node's last incident before them
    // (Postgres counts a few more a node than it returns: 8 here), not search-1's 200 outages.
    assert.ok(fetched <= 3 * 4, `${fetched} incidents fetched for 3 read, of ${200 + 6} kept`);
  });
});
