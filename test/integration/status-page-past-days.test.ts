import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PageView } from '../../src/statuspages/model.ts';
import { PastDays } from '../../src/statuspages/service.ts';
import { createHarness, expectJson, type Harness } from '../helpers/app.ts';
import { runningEngine } from '../helpers/running-engine.ts';

// A status page's past stays what it said once the day is over. Three nodes (a, b, c) were watched
// from 19 Nov, each down the second half of 20 Nov and healthy again from 21 Nov; two spares were
// healthy all along. Each page is made on 21 Nov, with days already behind its nodes, and selects
// its node by label; then that node is relabelled, deleted, or the page's components are replaced.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('a status page’s past days', () => {
  let h: Harness;
  const ids: Record<string, string> = {};

  before(async () => {
    h = await createHarness();
    const engine = runningEngine(h, { gapMs: 2 * DAY });
    try {
      h.clock.set('2026-11-19T00:00:00.000Z');
      for (const name of ['a', 'b', 'c', 'spare-1', 'spare-2']) {
        const n = await h.createNode(name, { labels: { tier: name }, heartbeat_interval_seconds: 86_400, failures_for_down: 1 });
        ids[name] = n.id;
        engine.agents.set(name, { token: n.token, status: 'ok' });
      }
      await engine.step();
      await engine.liveUntil('2026-11-20T12:00:00.000Z', 12 * HOUR);
      for (const name of ['a', 'b', 'c']) engine.agents.set(name, { ...engine.agents.get(name)!, status: 'failing' });
      await engine.step();
      await engine.liveUntil('2026-11-21T00:00:00.000Z', 12 * HOUR);
      for (const name of ['a', 'b', 'c']) engine.agents.set(name, { ...engine.agents.get(name)!, status: 'ok' });
      await engine.step();
      await engine.liveUntil('2026-11-21T09:41:00.000Z', 12 * HOUR);
    } finally {
      await engine.close();
    }
    for (const [slug, tier] of [['relabelled', 'a'], ['deleted', 'b'], ['patched', 'c']]) {
      const page = await h.admin('POST', '/v1/status-pages', { slug, title: slug, components: [{ name: 'Website', labels: { tier } }] });
      assert.equal(page.status, 201, await page.text());
    }
  });
  after(async () => h?.close());

  /** The page's one component as served now, past the 10 s an answer is kept. */
  const website = async (slug: string) => {
    h.clock.advance(10_001);
    return (await expectJson<PageView>(await h.req('GET', `/status/${slug}.json`), 200)).components[0]!;
  };

  /** Made today, the page shows the days its node had before it, yesterday's outage among them. */
  const pastOf = async (slug: string) => {
    const shown = await website(slug);
    assert.deepEqual(shown.days.slice(-3).map((d) => [d.date, d.status]), [['2026-11-19', 'operational'], ['2026-11-20', 'down'], ['2026-11-21', 'operational']]);
    return shown;
  };

  it('keeps yesterday’s outage after the node is relabelled, while today follows the nodes selected now', async () => {
    const before = await pastOf('relabelled');
    assert.ok(before.days.at(-2)!.uptime_ratio! < 1);
    assert.equal((await h.admin('PATCH', `/v1/nodes/${ids.a}`, { labels: { tier: 'retired' } })).status, 200);
    const alone = await website('relabelled');
    assert.deepEqual(alone.days.slice(0, -1), before.days.slice(0, -1), 'every day over reads as it did');
    assert.deepEqual([alone.days.at(-1)!.status, alone.days.at(-1)!.uptime_ratio], ['no_data', null], 'a is no longer selected today');
    assert.ok(alone.uptime.uptime_ratio! < 1, 'the 90-day figure still holds the outage');

    assert.equal((await h.admin('PATCH', `/v1/nodes/${ids['spare-1']}`, { labels: { tier: 'a' } })).status, 200);
    const joined = await website('relabelled');
    assert.deepEqual(joined.days.slice(0, -1), before.days.slice(0, -1), 'spare-1’s past is not the component’s');
    assert.deepEqual([joined.days.at(-1)!.status, joined.days.at(-1)!.uptime_ratio], ['operational', 1], 'today is spare-1’s');
  });

  it('keeps yesterday’s outage after the node is deleted, today then without data', async () => {
    const before = await pastOf('deleted');
    assert.equal((await h.admin('DELETE', `/v1/nodes/${ids.b}`)).status, 204);
    const shown = await website('deleted');
    assert.deepEqual(shown.days.slice(0, -1), before.days.slice(0, -1));
    assert.deepEqual([shown.days.at(-1)!.status, shown.days.at(-1)!.uptime_ratio], ['no_data', null], 'no node is selected today');
  });

  it('keeps yesterday’s outage after the page’s components are replaced; a component new to the page gets its nodes’ past', async () => {
    const before = await pastOf('patched');
    const patched = await h.admin('PATCH', '/v1/status-pages/patched', {
      components: [
        { name: 'Status', labels: { tier: 'c' } },
        { name: 'Website', labels: { tier: 'spare-2' } },
      ],
    });
    assert.equal(patched.status, 200, await patched.text());
    h.clock.advance(10_001);
    const [added, shown] = (await expectJson<PageView>(await h.req('GET', '/status/patched.json'), 200)).components;
    assert.deepEqual(shown!.days.slice(0, -1), before.days.slice(0, -1), 'Website by its name, wherever it stands in the list');
    assert.deepEqual([shown!.days.at(-1)!.status, shown!.days.at(-1)!.uptime_ratio], ['operational', 1], 'today is spare-2’s');
    assert.equal(added!.days.at(-2)!.status, 'down', 'Status is new today: its past is what node c did');

    // Once kept, that past stays too: c leaves Status.
    assert.equal((await h.admin('PATCH', `/v1/nodes/${ids.c}`, { labels: { tier: 'gone' } })).status, 200);
    const later = await website('patched');
    assert.deepEqual(later.days.slice(0, -1), added!.days.slice(0, -1));
  });

  it('keeps the day just over for every page at the first pass 5 minutes after midnight, and once a day only', async () => {
    const days = new PastDays(h.sql, h.clock);
    const keptOn21 = async () => (await h.sql<Array<{ n: number }>>`select count(*)::int as n from status_page_days where day = '2026-11-21T00:00:00Z'`)[0]!.n;
    h.clock.set('2026-11-22T00:00:05.000Z');
    assert.deepEqual(await days.runOnce(), { kept: 0, forgotten: 0 }, 'a transition of 23:59:58 may not be written yet');
    assert.equal(await keptOn21(), 0);
    h.clock.set('2026-11-22T00:05:05.000Z');
    // Three pages (one of two components): 4 components, each keeping 21 Nov (the days before it
    // were kept as their nodes changed) and forgetting 24 Aug, no longer among the 90 days shown.
    assert.deepEqual(await days.runOnce(), { kept: 4, forgotten: 4 });
    assert.equal(await keptOn21(), 4);
    h.clock.set('2026-11-22T23:59:59.000Z');
    assert.deepEqual(await days.runOnce(), { kept: 0, forgotten: 0 }, 'the rest of the day costs nothing');
  });
});
