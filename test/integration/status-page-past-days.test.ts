import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PageView } from '../../src/statuspages/model.ts';
import { STATUS_PAGE_DAYS_LOCK_CLASS } from '../../src/db/locks.ts';
import { keepPastDays, PastDays } from '../../src/statuspages/service.ts';
import { createHarness, expectError, expectInvalid, expectJson, type Harness } from '../helpers/app.ts';
import { testLog } from '../helpers/log.ts';
import { runningEngine } from '../helpers/running-engine.ts';

// A status page's past stays what it said once the day is over. Three nodes (a, b, c) were watched
// from 19 Nov, each down the second half of 20 Nov and healthy again from 21 Nov; two spares were
// healthy all along. Each page is made on 21 Nov, with days already behind its nodes, and selects
// its node by label; then that node is relabelled, deleted, or the page's components are replaced.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Nodes by name (labelled `tier: <name>`) watched from 19 Nov, all but the `spare-*` down the
 * second half of 20 Nov, healthy again from 21 Nov to 09:41. Their ids.
 */
async function watchedFleet(h: Harness, names: string[]): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  const engine = runningEngine(h, { gapMs: 2 * DAY });
  const failing = names.filter((n) => !n.startsWith('spare'));
  try {
    h.clock.set('2026-11-19T00:00:00.000Z');
    for (const name of names) {
      const n = await h.createNode(name, { labels: { tier: name }, heartbeat_interval_seconds: 86_400, failures_for_down: 1 });
      ids[name] = n.id;
      engine.agents.set(name, { token: n.token, status: 'ok' });
    }
    await engine.step();
    await engine.liveUntil('2026-11-20T12:00:00.000Z', 12 * HOUR);
    for (const name of failing) engine.agents.set(name, { ...engine.agents.get(name)!, status: 'failing' });
    await engine.step();
    await engine.liveUntil('2026-11-21T00:00:00.000Z', 12 * HOUR);
    for (const name of failing) engine.agents.set(name, { ...engine.agents.get(name)!, status: 'ok' });
    await engine.step();
    await engine.liveUntil('2026-11-21T09:41:00.000Z', 12 * HOUR);
  } finally {
    await engine.close();
  }
  return ids;
}

describe('a status page’s past days', () => {
  let h: Harness;
  const ids: Record<string, string> = {};

  before(async () => {
    h = await createHarness();
    Object.assign(ids, await watchedFleet(h, ['a', 'b', 'c', 'spare-1', 'spare-2']));
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
    const days = new PastDays(h.sql, h.clock, { log: testLog, metrics: h.metrics });
    const keptOn21 = async () => (await h.sql<Array<{ n: number }>>`select count(*)::int as n from status_page_days where day = '2026-11-21T00:00:00Z'`)[0]!.n;
    h.clock.set('2026-11-22T00:00:05.000Z');
    assert.deepEqual(await days.runOnce(), { kept: 0, forgotten: 0 }, 'a transition of 23:59:58 may not be written yet');
    assert.equal(await keptOn21(), 0);
    h.clock.set('2026-11-22T00:05:05.000Z');
    assert.deepEqual(await days.runOnce(), { kept: 0, forgotten: 0 }, 'no evaluator has judged 21 Nov’s last minutes yet');
    const engine = runningEngine(h, { gapMs: 2 * DAY });
    try {
      await engine.step();
    } finally {
      await engine.close();
    }
    // Three pages (one of two components): 4 components, each keeping 21 Nov (the days before it
    // were kept as their nodes changed) and forgetting 24 Aug, no longer among the 90 days shown.
    assert.deepEqual(await days.runOnce(), { kept: 4, forgotten: 4 });
    assert.equal(await keptOn21(), 4);
    h.clock.set('2026-11-22T23:59:59.000Z');
    assert.deepEqual(await days.runOnce(), { kept: 0, forgotten: 0 }, 'the rest of the day costs nothing');
  });
});

describe('keeping a page’s past on a node write', () => {
  let h: Harness;
  let ids: Record<string, string>;
  const keptOf = async (slug: string) =>
    (await h.sql<Array<{ n: number }>>`select count(*)::int as n from status_page_days d join status_pages p on p.id = d.page_id where p.slug = ${slug}`)[0]!.n;
  const failures = async () => (await h.metrics.registry.getSingleMetric('lifeline_status_page_history_failures_total')?.get())?.values[0]?.value ?? 0;

  before(async () => {
    h = await createHarness();
    ids = await watchedFleet(h, ['a', 'b', 'broken']);
    for (const tier of ['a', 'b', 'broken']) {
      const page = await h.admin('POST', '/v1/status-pages', { slug: `page-${tier}`, title: tier, components: [{ name: 'Website', labels: { tier } }] });
      assert.equal(page.status, 201, await page.text());
    }
    // A node whose day rows are gone (until `npm run uptime:rebuild`): its page's past cannot be worked out.
    await h.sql`delete from uptime_daily where node_id = ${ids.broken!}`;
  });
  after(async () => h?.close());

  it('keeps only the pages that select the node, and refuses an unknown node before keeping anything', async () => {
    await expectError(await h.admin('PATCH', '/v1/nodes/no-such-node', { labels: { tier: 'b' } }), 404, 'not_found');
    assert.deepEqual([await keptOf('page-a'), await keptOf('page-b')], [0, 0], 'a refused request keeps nothing');
    assert.equal((await h.admin('PATCH', `/v1/nodes/${ids.a}`, { labels: { tier: 'moved' } })).status, 200);
    assert.equal(await keptOf('page-a'), 89, 'the page that selected a keeps its 89 days over');
    assert.equal(await keptOf('page-b'), 0, 'a page that never selected a is not kept by its write');
  });

  it('lets a node write go ahead when a page’s past cannot be kept, logging and counting it', async () => {
    const before = await failures();
    const patched = await h.admin('PATCH', `/v1/nodes/${ids.broken}`, { labels: { tier: 'elsewhere' } });
    assert.equal(patched.status, 200, await patched.text());
    assert.equal(await failures(), before + 1);
    assert.equal(await keptOf('page-broken'), 0);
    const created = await h.admin('POST', '/v1/nodes', { name: 'joins-b', labels: { tier: 'b' } });
    assert.equal(created.status, 201, await created.text());
    assert.equal(await keptOf('page-b'), 89, 'a labelled create keeps the page it joins');
  });

  it('passes over a page another process is keeping instead of keeping it again beside it', async () => {
    const made = await expectJson<{ id: string }>(await h.admin('POST', '/v1/status-pages', { slug: 'page-fresh', title: 'fresh', components: [{ name: 'B', labels: { tier: 'b' } }] }), 201);
    const report = { log: testLog, metrics: h.metrics };
    // Another process holds the page (its first keep, 89 days, may take a while): the leader does not wait on it nor repeat it.
    await h.sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${STATUS_PAGE_DAYS_LOCK_CLASS}, hashtext(${made.id}))`;
      await keepPastDays(h.sql, h.clock.now().getTime(), report);
    });
    assert.equal(await keptOf('page-fresh'), 0);
    await keepPastDays(h.sql, h.clock.now().getTime(), report);
    assert.equal(await keptOf('page-fresh'), 89, 'the next pass keeps it');
  });

  it('keeps a day with numbers only once the evaluator has judged past its end; a write before then records who it held', async () => {
    const report = { log: testLog, metrics: h.metrics };
    const keptDay = async () =>
      (
        await h.sql<Array<{ healthy: number | null; down: number | null; node_ids: string[] | null }>>`
          select d.healthy_ms::float8 as healthy, d.down_ms::float8 as down, d.node_ids from status_page_days d join status_pages p on p.id = d.page_id
          where p.slug = 'page-b' and d.day = '2026-11-21T00:00:00Z'`
      )[0];
    const joinsB = (await expectJson<{ id: string }>(await h.admin('GET', '/v1/nodes/joins-b'), 200)).id;
    // The node without day rows would stop the engine's housekeeping below.
    assert.equal((await h.admin('DELETE', `/v1/nodes/${ids.broken}`)).status, 204);
    // Just past midnight no evaluator has judged 21 Nov's last minutes (none ran since 09:41): b leaves page-b.
    h.clock.set('2026-11-22T00:01:00.000Z');
    assert.equal((await h.admin('PATCH', `/v1/nodes/${ids.b}`, { labels: { tier: 'b-retired' } })).status, 200);
    const provisional = await keptDay();
    assert.deepEqual([provisional?.healthy, provisional?.down], [null, null], 'no numbers before the day is judged');
    assert.deepEqual([...(provisional?.node_ids ?? [])].sort(), [ids.b!, joinsB].sort(), 'the nodes it held, b among them');
    // Meanwhile the page works 21 Nov out from the nodes it held, b's healthy day among them.
    h.clock.advance(10_001);
    const shown = (await expectJson<PageView>(await h.req('GET', '/status/page-b.json'), 200)).components[0]!;
    assert.equal(shown.days.at(-2)!.status, 'operational');
    assert.ok(shown.days.at(-2)!.seconds.healthy > 0);
    // The evaluator judges past 00:05; the leader's next pass works the numbers out from those nodes.
    assert.deepEqual(await new PastDays(h.sql, h.clock, report).runOnce(), { kept: 0, forgotten: 0 }, 'not judged yet: nothing to settle');
    const engine = runningEngine(h, { gapMs: 2 * DAY });
    try {
      h.clock.set('2026-11-22T00:06:00.000Z');
      await engine.step();
    } finally {
      await engine.close();
    }
    await new PastDays(h.sql, h.clock, report).runOnce();
    const settled = await keptDay();
    assert.equal(settled?.healthy, DAY, 'b healthy all day (joins-b never reported: unknown), though b is no longer on the page');
  });

  it('keeps a component’s past through a rename when the PATCH sends its id', async () => {
    h.clock.advance(60_000);
    const page = await expectJson<{ components: Array<{ id: string; name: string }> }>(await h.admin('GET', '/v1/status-pages/page-a'), 200);
    const before = (await expectJson<PageView>(await h.req('GET', '/status/page-a.json'), 200)).components[0]!;
    assert.equal(before.days.find((d) => d.date === '2026-11-20')!.status, 'down');
    const renamed = await h.admin('PATCH', '/v1/status-pages/page-a', { components: [{ id: page.components[0]!.id, name: 'Web site', labels: { tier: 'a' } }] });
    assert.equal(renamed.status, 200, await renamed.clone().text());
    assert.deepEqual((await renamed.json()).components.map((c: { id: string; name: string }) => [c.id, c.name]), [[page.components[0]!.id, 'Web site']]);
    h.clock.advance(10_001);
    const after = (await expectJson<PageView>(await h.req('GET', '/status/page-a.json'), 200)).components[0]!;
    assert.deepEqual(after.days.slice(0, -1), before.days.slice(0, -1), 'its days over, not a new component’s');
    const unknown = await h.admin('PATCH', '/v1/status-pages/page-a', { components: [{ id: '00000000-0000-4000-8000-000000000000', name: 'X', labels: { tier: 'a' } }] });
    await expectInvalid(unknown, ['components.0.id']);
  });
});

describe('keeping the days of a page made during the day', () => {
  let h: Harness;
  const report = () => ({ log: testLog, metrics: h.metrics });
  const keptOf = async (slug: string) =>
    (await h.sql<Array<{ n: number }>>`select count(*)::int as n from status_page_days d join status_pages p on p.id = d.page_id where p.slug = ${slug}`)[0]!.n;

  before(async () => {
    h = await createHarness();
    h.clock.set('2026-11-21T09:41:00.000Z');
  });
  after(async () => h?.close());

  it('keeps a page over nodes that never reported, with no ingest ever run: nothing waits to be judged', async () => {
    await h.createNode('quiet', { labels: { tier: 'quiet' } });
    assert.equal((await h.admin('POST', '/v1/status-pages', { slug: 'quiet', title: 'quiet', components: [{ name: 'Quiet', labels: { tier: 'quiet' } }] })).status, 201);
    assert.equal(await keepPastDays(h.sql, h.clock.now().getTime(), report()), 89);
  });

  it('keeps a page made, or given a component, since the day’s pass at the leader’s next pass, not the next night', async () => {
    const days = new PastDays(h.sql, h.clock, report());
    await days.runOnce();
    const made = await h.admin('POST', '/v1/status-pages', { slug: 'made-today', title: 'made', components: [{ name: 'Quiet', labels: { tier: 'quiet' } }] });
    assert.equal(made.status, 201, await made.text());
    h.clock.advance(60_000);
    assert.deepEqual(await days.runOnce(), { kept: 89, forgotten: 0 }, 'its 89 days over, read from then on instead of worked out at each read');
    const page = await expectJson<{ components: Array<{ id: string }> }>(await h.admin('GET', '/v1/status-pages/made-today'), 200);
    h.clock.advance(60_000);
    const patched = await h.admin('PATCH', '/v1/status-pages/made-today', { components: [{ id: page.components[0]!.id, name: 'Quiet', labels: { tier: 'quiet' } }, { name: 'Also quiet', labels: { tier: 'quiet' } }] });
    assert.equal(patched.status, 200, await patched.text());
    h.clock.advance(60_000);
    assert.deepEqual(await days.runOnce(), { kept: 89, forgotten: 0 }, 'the added component’s');
    assert.equal(await keptOf('made-today'), 178);
    h.clock.advance(60_000);
    assert.deepEqual(await days.runOnce(), { kept: 0, forgotten: 0 }, 'nothing new: nothing kept');
  });
});
