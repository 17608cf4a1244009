import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { State } from '../../src/health/decide.ts';
import type { PageView } from '../../src/statuspages/model.ts';
import { openIncidents } from '../../src/incidents/store.ts';
import { createHarness, expectJson, type Harness } from '../helpers/app.ts';

// How much of a component is out, as the public page, its JSON and its headline say it. The
// nodes' states are set in node_health, as the evaluator writes them: what is tested is what the
// page makes of them, not how a node comes to be down.

describe('a status page’s outages', () => {
  let h: Harness;
  const ids: Record<string, string> = {};

  before(async () => {
    h = await createHarness();
    const tiers: Array<[string, string]> = [['web-1', 'web'], ['web-2', 'web'], ['api-1', 'api'], ['db-1', 'db']];
    for (const [name, tier] of tiers) ids[name] = (await h.createNode(name, { labels: { tier } })).id;
    const page = await h.admin('POST', '/v1/status-pages', {
      slug: 'acme',
      title: 'Acme',
      components: [
        { name: 'Website', labels: { tier: 'web' } },
        { name: 'API', labels: { tier: 'api' } },
        { name: 'Database', labels: { tier: 'db' } },
      ],
    });
    assert.equal(page.status, 201, await page.text());
  });
  after(async () => h?.close());

  /** The nodes in these states (the rest healthy), and the page as it is served past its kept period. */
  const pageWith = async (states: Record<string, State>): Promise<{ json: PageView; html: string }> => {
    for (const [name, id] of Object.entries(ids)) await h.sql`update node_health set state = ${states[name] ?? 'healthy'} where node_id = ${id}`;
    h.clock.advance(10_001);
    const json = await expectJson<PageView>(await h.req('GET', '/status/acme.json'), 200);
    const html = await (await h.req('GET', '/status/acme')).text();
    return { json, html };
  };
  const words = (html: string) => [...html.matchAll(/<span class="state fg-(\w+)">([^<]+)<\/span>/g)].map((m) => `${m[2]} (${m[1]})`);

  it('calls a component with some of its nodes down a partial outage, and with all of them a major one', async () => {
    const partial = await pageWith({ 'web-1': 'down' });
    assert.deepEqual(partial.json.components.map((c) => [c.name, c.state, c.status]), [
      ['Website', 'down', 'partial_outage'],
      ['API', 'healthy', 'operational'],
      ['Database', 'healthy', 'operational'],
    ]);
    assert.deepEqual(words(partial.html), ['Partial outage (down)', 'Operational (healthy)', 'Operational (healthy)']);

    const major = await pageWith({ 'web-1': 'down', 'web-2': 'down', 'api-1': 'degraded' });
    assert.deepEqual(major.json.components.map((c) => c.status), ['major_outage', 'degraded', 'operational']);
    assert.deepEqual(words(major.html), ['Major outage (down)', 'Degraded (degraded)', 'Operational (healthy)']);
  });

  it('heads the page by what is affected, by name, with the incidents and maintenance above the components', async () => {
    const headline = (html: string) => {
      const [, colour, lines] = /<div class="banner bg-(\w+)" role="status"><span class="dot"><\/span><span>(.*?)<small class="updated">/.exec(html)!;
      return [colour, ...[...lines!.matchAll(/<span class="banner-line[^"]*">([^<]+)<\/span>/g)].map((m) => m[1])].join(' | ');
    };
    const calm = await pageWith({});
    assert.equal(calm.json.status, 'operational');
    assert.equal(headline(calm.html), 'healthy | All systems operational');

    const some = await pageWith({ 'web-1': 'down' });
    assert.equal(some.json.status, 'partial_outage');
    assert.equal(headline(some.html), 'down | Partial outage in Website', 'web-2 still serves the website: nothing is wholly down');

    const oneComponent = await pageWith({ 'api-1': 'down' });
    assert.equal(oneComponent.json.status, 'partial_outage');
    assert.equal(headline(oneComponent.html), 'down | API is down');

    const all = await pageWith({ 'web-1': 'down', 'web-2': 'down', 'api-1': 'down', 'db-1': 'down' });
    assert.deepEqual([all.json.state, all.json.status], ['down', 'major_outage']);
    assert.equal(headline(all.html), 'down | Major outage: every component is down');

    const allButOneNode = await pageWith({ 'web-1': 'down', 'api-1': 'down', 'db-1': 'down' });
    assert.equal(allButOneNode.json.status, 'partial_outage', 'web-2 still serves the website');
    assert.equal(headline(allButOneNode.html), 'down | API and Database are down; Partial outage in Website');

    const mixed = await pageWith({ 'api-1': 'degraded', 'db-1': 'unknown' });
    assert.equal(headline(mixed.html), 'degraded | API is degraded; Database is not reporting');

    // The incidents come before the components, which keep their configured order, the troubled one marked.
    const html = allButOneNode.html;
    assert.ok(html.indexOf('<h2>Open incidents</h2>') < html.indexOf('<h2>Components</h2>'), 'incidents above the components');
    assert.deepEqual([...html.matchAll(/<li class="(component[^"]*)"><div class="component-head"><span class="component-name">(\w+)/g)].map((m) => `${m[2]}: ${m[1]}`), [
      'Website: component attention edge-down',
      'API: component attention edge-down',
      'Database: component attention edge-down',
    ]);
    assert.deepEqual([...some.html.matchAll(/<li class="(component[^"]*)">/g)].map((m) => m[1]), ['component attention edge-down', 'component', 'component']);
  });

  it('says until when maintenance lasts, and what is scheduled, naming no node and no reason', async () => {
    const window = async (json: Record<string, unknown>) => assert.equal((await h.admin('POST', '/v1/maintenances', json)).status, 201);
    const now = h.clock.now().toISOString();
    await window({ node_ids: ['web-1', 'web-2'], starts_at: now, ends_at: '2026-11-21T14:00:00.000Z', reason: 'disk swap on rack-07' });
    // Two windows that read the same on the page (the API's nodes, by id and by label) are one entry.
    await window({ node_ids: ['api-1'], starts_at: '2026-11-22T02:00:00.000Z', ends_at: '2026-11-22T04:00:00.000Z', reason: 'kernel upgrade' });
    await window({ labels: { tier: 'api' }, starts_at: '2026-11-22T02:00:00.000Z', ends_at: '2026-11-22T04:00:00.000Z' });
    await window({ node_ids: ['db-1', 'web-1'], starts_at: '2026-11-23T00:00:00.000Z', reason: 'migration' });

    const serviced = await pageWith({ 'web-1': 'maintenance', 'web-2': 'maintenance' });
    assert.equal(serviced.json.status, 'maintenance');
    const swap = { from: now, until: '2026-11-21T14:00:00.000Z', time_zone: null };
    assert.deepEqual(serviced.json.maintenance, { ...swap, windows: [swap] });
    assert.deepEqual(serviced.json.components.map((c) => c.maintenance), [{ ...swap, windows: [swap] }, null, null]);
    assert.match(serviced.html, /<div class="banner bg-maintenance" role="status"><span class="dot"><\/span><span><span class="banner-line">Maintenance on Website until 14:00 UTC<\/span><small class="updated">/);
    assert.match(serviced.html, /<span class="state fg-maintenance">Maintenance<small class="until"> until 14:00 UTC<\/small><\/span>/);

    assert.deepEqual(serviced.json.scheduled, [
      { components: ['API'], from: '2026-11-22T02:00:00.000Z', until: '2026-11-22T04:00:00.000Z', time_zone: null },
      { components: ['Website', 'Database'], from: '2026-11-23T00:00:00.000Z', until: null, time_zone: null },
    ]);
    const scheduled = serviced.html.slice(serviced.html.indexOf('<h2>Scheduled maintenance</h2>'));
    assert.deepEqual([...scheduled.matchAll(/<li class="incident scheduled">(.*?)<\/li>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, '')), [
      'APIFrom Sun 22 Nov 2026, 02:00 UTC until 04:00 UTC',
      'Website, DatabaseFrom Mon 23 Nov 2026, 00:00 UTC until further notice',
    ]);
    for (const text of [serviced.html, JSON.stringify(serviced.json)]) {
      for (const secret of ['web-1', 'api-1', 'db-1', 'tier', 'rack-07', 'disk swap', 'kernel', 'migration']) assert.ok(!text.includes(secret), `shows "${secret}"`);
    }

    // Once it has begun, an open-ended window lasts until someone ends it.
    h.clock.set('2026-11-23T01:00:00.000Z');
    const open = await pageWith({ 'db-1': 'maintenance' });
    assert.deepEqual(open.json.scheduled, []);
    assert.match(open.html, /<span class="banner-line">Maintenance on Database until further notice<\/span><small class="updated">/);
    assert.doesNotMatch(open.html, /Scheduled maintenance/);
  });

  it('says the UTC day when it is not the one said before it, the local day left out', async () => {
    h.clock.set('2026-11-27T22:00:00.000Z');
    await h.sql`delete from maintenances`;
    // Sat 00:30-02:00 in Berlin (UTC+1): Fri 23:30-Sat 01:00 UTC, over midnight in UTC only.
    const created = await h.admin('POST', '/v1/maintenances', { node_ids: ['api-1'], starts_at: '2026-11-27T23:30:00.000Z', ends_at: '2026-11-28T01:00:00.000Z', time_zone: 'Europe/Berlin' });
    assert.equal(created.status, 201);
    const ahead = await pageWith({});
    const scheduled = ahead.html.slice(ahead.html.indexOf('<h2>Scheduled maintenance</h2>'));
    assert.deepEqual([...scheduled.matchAll(/<li class="incident scheduled">(.*?)<\/li>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, '')), [
      'APIFrom Sat 28 Nov 2026, 00:30 Europe/Berlin (Fri 27 Nov 2026, 23:30 UTC) until 02:00 Europe/Berlin (Sat 28 Nov 2026, 01:00 UTC)',
    ]);
    // Sat 00:45 in Berlin, still Friday in UTC.
    h.clock.set('2026-11-27T23:45:00.000Z');
    const during = await pageWith({ 'api-1': 'maintenance' });
    assert.match(during.html, /<span class="banner-line">Maintenance on API until 02:00 Europe\/Berlin \(Sat 28 Nov 2026, 01:00 UTC\)<\/span><small/);
  });

  it('says a window whose zone this engine does not know in UTC, and is served', async () => {
    // A hand-written row, a restore, a zone of a newer ICU.
    h.clock.set('2026-11-27T23:50:00.000Z');
    await h.sql`delete from maintenances`;
    const created = await h.admin('POST', '/v1/maintenances', { node_ids: ['api-1'], starts_at: '2026-11-27T23:30:00.000Z', ends_at: '2026-11-28T01:00:00.000Z', time_zone: 'Europe/Berlin' });
    assert.equal(created.status, 201);
    await h.sql`update maintenances set time_zone = 'Bogus/Zone'`;
    const unknown = await pageWith({ 'api-1': 'maintenance' });
    assert.equal((await h.req('GET', '/status/acme')).status, 200);
    assert.equal(unknown.json.maintenance?.time_zone, null);
    assert.match(unknown.html, /<span class="banner-line">Maintenance on API until Sat 28 Nov 2026, 01:00 UTC<\/span><small/);
  });

  it('says a window announced on a zone\'s clock on that clock, UTC beside, with its day; the incidents in UTC, with theirs', async () => {
    const window = async (json: Record<string, unknown>) => assert.equal((await h.admin('POST', '/v1/maintenances', json)).status, 201);
    h.clock.set('2026-11-28T10:00:00.000Z');
    // The windows of the test before (one still open, without an end) would share the spans.
    await h.sql`delete from maintenances`;
    // Tonight 22:30-01:30 in Berlin (UTC+1): 21:30-00:30 UTC, over midnight on both clocks.
    await window({ node_ids: ['api-1'], starts_at: '2026-11-28T21:30:00.000Z', ends_at: '2026-11-29T00:30:00.000Z', time_zone: 'Europe/Berlin' });
    // Now until 23:30 in New York (UTC-5): 04:30 UTC tomorrow, typed with its name in another case.
    await window({ node_ids: ['web-1', 'web-2'], starts_at: '2026-11-28T10:00:00.000Z', ends_at: '2026-11-29T04:30:00.000Z', time_zone: 'America/New_York' });
    await h.sql`update maintenances set time_zone = 'america/new_york' where time_zone = 'America/New_York'`;
    const page = await pageWith({ 'web-1': 'maintenance', 'web-2': 'maintenance' });
    const typed = { from: '2026-11-28T10:00:00.000Z', until: '2026-11-29T04:30:00.000Z', time_zone: 'America/New_York' };
    assert.deepEqual(page.json.maintenance, { ...typed, windows: [typed] });
    assert.match(page.html, /<span class="state fg-maintenance">Maintenance<small class="until"> until 23:30 America\/New_York \(Sun 29 Nov 2026, 04:30 UTC\)<\/small><\/span>/);
    assert.match(page.html, /Maintenance on Website until 23:30 America\/New_York \(Sun 29 Nov 2026, 04:30 UTC\)<\/span><small class="updated">/);
    assert.deepEqual(page.json.scheduled, [{ components: ['API'], from: '2026-11-28T21:30:00.000Z', until: '2026-11-29T00:30:00.000Z', time_zone: 'Europe/Berlin' }]);
    const scheduled = page.html.slice(page.html.indexOf('<h2>Scheduled maintenance</h2>'));
    assert.deepEqual([...scheduled.matchAll(/<li class="incident scheduled">(.*?)<\/li>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, '')), [
      'APIFrom Sat 28 Nov 2026, 22:30 Europe/Berlin (21:30 UTC) until Sun 29 Nov 2026, 01:30 Europe/Berlin (00:30 UTC)',
    ]);
    // An incident has no zone of its own: UTC, with its day, as the page's other times.
    const [incident] = await openIncidents(h.sql, [
      { nodeId: ids['db-1']!, nodeName: 'db-1', category: 'node_down', severity: 'critical', title: 'db-1 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    assert.ok(incident);
    const withIncident = await pageWith({ 'web-1': 'maintenance', 'web-2': 'maintenance', 'db-1': 'down' });
    // Something else down keeps the maintenance in the banner, a line of its own.
    assert.match(withIncident.html, /<span><span class="banner-line">Database is down<\/span><span class="banner-line secondary">Maintenance on Website until 23:30 America\/New_York \(Sun 29 Nov 2026, 04:30 UTC\)<\/span><small class="updated">/);
    assert.match(withIncident.html, /Since <time datetime="2026-11-28T10:00:[\d.]+Z">Sat 28 Nov 2026, 10:00 UTC<\/time> · identified by monitoring, not yet acknowledged/);
  });

  it('gives each window of a maintenance its own zone, and says its end on the clock of the window that ends last', async () => {
    const window = async (json: Record<string, unknown>) => assert.equal((await h.admin('POST', '/v1/maintenances', json)).status, 201);
    // An hour after the test before: its page, kept for 10 s, is not this one.
    h.clock.set('2026-11-28T11:00:00.000Z');
    await h.sql`delete from maintenances`;
    // Website's two nodes in two windows: until 02:00 in Berlin (01:00 UTC), until 23:30 in New York (04:30 UTC).
    await window({ node_ids: ['web-1'], starts_at: '2026-11-28T11:00:00.000Z', ends_at: '2026-11-29T01:00:00.000Z', time_zone: 'Europe/Berlin' });
    await window({ node_ids: ['web-2'], starts_at: '2026-11-28T11:00:00.000Z', ends_at: '2026-11-29T04:30:00.000Z', time_zone: 'America/New_York' });
    const page = await pageWith({ 'web-1': 'maintenance', 'web-2': 'maintenance' });
    const windows = [
      { from: '2026-11-28T11:00:00.000Z', until: '2026-11-29T01:00:00.000Z', time_zone: 'Europe/Berlin' },
      { from: '2026-11-28T11:00:00.000Z', until: '2026-11-29T04:30:00.000Z', time_zone: 'America/New_York' },
    ];
    const website = { from: '2026-11-28T11:00:00.000Z', until: '2026-11-29T04:30:00.000Z', time_zone: null, windows };
    assert.deepEqual(page.json.components[0]!.maintenance, website, 'two zones: none for the span, each window its own');
    assert.deepEqual(page.json.maintenance, website);
    assert.match(page.html, /Maintenance on Website until 23:30 America\/New_York \(Sun 29 Nov 2026, 04:30 UTC\)<\/span><small class="updated">/);
  });
});
