import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PageView } from '../../src/statuspages/model.ts';
import { createHarness, expectJson, type Harness } from '../helpers/app.ts';

// "Past incidents" reads the incidents open at any time in the last 14 days of the page's nodes:
// opened in them, or opened before and still open at their start, however long ago; none of a
// node on no component, none over before them.

const DAY = 86_400_000;

describe('a status page’s past incidents', () => {
  let h: Harness;
  const now = Date.parse('2026-11-21T09:41:00.000Z');

  before(async () => {
    h = await createHarness();
    h.clock.set(new Date(now).toISOString());
    const api = await h.createNode('api-1', { labels: { tier: 'api' } });
    const other = await h.createNode('batch-1', { labels: { tier: 'batch' } });
    const incident = async (node: { id: string; name: string }, category: 'node_down' | 'node_degraded', openedDaysAgo: number, resolvedDaysAgo: number | null) =>
      h.sql`
        insert into incidents (node_id, node_name, category, severity, status, title, opened_at, resolved_at)
        values (${node.id}, ${node.name}, ${category}, ${category === 'node_down' ? 'critical' : 'warning'}, ${resolvedDaysAgo === null ? 'open' : 'resolved'},
                ${`${node.name} is down`}, ${new Date(now - openedDaysAgo * DAY)}, ${resolvedDaysAgo === null ? null : new Date(now - resolvedDaysAgo * DAY)})`;
    const named = { id: api.id, name: 'api-1' };
    await incident(named, 'node_down', 40, 39); // over long before
    await incident(named, 'node_down', 20, 15); // over a day before the 14 days
    await incident(named, 'node_down', 15, 13); // opened before them, over within them
    await incident(named, 'node_degraded', 30, null); // still open after 30 days
    await incident(named, 'node_down', 2, 1.5);
    await incident({ id: other.id, name: 'batch-1' }, 'node_down', 1, null); // on no component
    const page = await h.admin('POST', '/v1/status-pages', { slug: 'acme', title: 'Acme', components: [{ name: 'API', labels: { tier: 'api' } }] });
    assert.equal(page.status, 201, await page.text());
  });
  after(async () => h?.close());

  it('lists those open at any time in the last 14 days of the page’s nodes, and no other', async () => {
    const view = await expectJson<PageView>(await h.req('GET', '/status/acme.json'), 200);
    const at = (daysAgo: number) => new Date(now - daysAgo * DAY).toISOString();
    assert.deepEqual(
      view.past_incidents.map((i) => [i.title, i.status, i.started_at, i.resolved_at, i.duration_seconds]),
      [
        ['Outage in API', 'resolved', at(2), at(1.5), 43_200],
        ['Outage in API', 'resolved', at(15), at(13), 172_800],
        ['Degraded service in API', 'ongoing', at(30), null, null],
      ],
    );
  });
});
