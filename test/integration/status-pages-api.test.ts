import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import type { FleetUptime, List, NodeUptime, StatusPage as PageBody } from '../../src/api/shapes.ts';
import type { PageView } from '../../src/statuspages/model.ts';
import type { StateMs } from '../../src/uptime/state-time.ts';
import { ADMIN_TOKEN, buildApp, createHarness, expectError, expectInvalid, expectJson, send, type Harness } from '../helpers/app.ts';
import { runningEngine } from '../helpers/running-engine.ts';
import { percent } from '../../src/uptime/percent.ts';
import { serveApp } from '../helpers/browser.ts';
import { rawGet } from '../helpers/raw-get.ts';

// Status pages through the API and as the public opens them. The history behind the pages comes
// from the real pipeline (heartbeats through the API, ingest, the evaluator, the outbox's uptime
// and incident handlers); the page's figures are compared with what the uptime API answers for
// the same window at the same moment.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Seconds = Record<keyof StateMs, number>;
/** GET /v1/nodes/{id}/uptime with buckets: the figures a component shows, and its days. */
type UptimeBody = Required<NodeUptime>;

const ms = (s: Seconds) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Math.round(v * 1000)]));
/** A component's seconds from its nodes': their sum divided by how many, rounded up to whole seconds. */
// Each state's time over the nodes, divided by their number, up to whole seconds; the largest
// (the first of equals) takes back what the others' rounding added, so a day sums to 86,400.
const componentSeconds = (nodes: Seconds[]) => {
  const keys = Object.keys(nodes[0]!);
  const summed = Object.fromEntries(keys.map((k) => [k, nodes.reduce((sum, n) => sum + ms(n)[k]!, 0)]));
  const per = nodes.length * 1000;
  const out = Object.fromEntries(keys.map((k) => [k, Math.ceil(summed[k]! / per)]));
  const largest = keys.reduce((a, k) => (summed[k]! > summed[a]! ? k : a));
  const others = keys.reduce((sum, k) => (k === largest ? sum : sum + out[k]!), 0);
  out[largest] = Math.max(Math.ceil(keys.reduce((sum, k) => sum + summed[k]!, 0) / per) - others, summed[largest]! > 0 ? 1 : 0);
  return out;
};

describe('status pages', () => {
  let h: Harness;
  let engine: ReturnType<typeof runningEngine>;
  let nodes: Record<'web1' | 'web2' | 'api1', { id: string; token: string; badge_id: string }>;

  before(async () => {
    h = await createHarness();
    engine = runningEngine(h, { gapMs: DAY, incidents: true });
    const make = async (name: string, labels: Record<string, string>) => {
      const n = await h.createNode(name, { labels, heartbeat_interval_seconds: 7200, failures_for_down: 1 });
      return { id: n.id, token: n.token, badge_id: n.badge_id };
    };
    // Created at 2026-11-21T10:00Z: every day of the 90 before is a day nothing was watched.
    nodes = {
      web1: await make('web-1', { tier: 'frontend', rack: 'rack-07' }),
      web2: await make('web-2', { tier: 'frontend', rack: 'rack-08' }),
      api1: await make('api-1', { tier: 'backend' }),
    };
    for (const n of Object.values(nodes)) engine.agents.set(n.id, { token: n.token, status: 'ok' });
    await engine.step();
    // All of 23 Nov is a maintenance window for api-1 (it keeps reporting ok meanwhile).
    const window = await h.admin('POST', '/v1/maintenances', {
      node_ids: ['api-1'],
      starts_at: '2026-11-23T00:00:00.000Z',
      ends_at: '2026-11-24T00:00:00.000Z',
      reason: 'kernel upgrade',
    });
    assert.equal(window.status, 201, await window.text());

    await engine.liveUntil('2026-11-22T02:00:00.000Z', HOUR);
    engine.agents.delete(nodes.web2.id); // silent: down at 04:00, its deadline
    await engine.liveUntil('2026-11-22T08:00:00.000Z', HOUR);
    engine.agents.set(nodes.web2.id, { token: nodes.web2.token, status: 'ok' });
    await engine.step(); // back at 08:00
    await engine.liveUntil('2026-11-22T12:00:00.000Z', HOUR);
    engine.agents.set(nodes.api1.id, { token: nodes.api1.token, status: 'degraded' });
    await engine.step(); // degraded 12:00-14:00
    await engine.liveUntil('2026-11-22T14:00:00.000Z', HOUR);
    engine.agents.set(nodes.api1.id, { token: nodes.api1.token, status: 'ok' });
    await engine.step();
    await engine.liveUntil('2026-11-24T11:00:00.000Z', HOUR);
    engine.agents.set(nodes.web1.id, { token: nodes.web1.token, status: 'failing' });
    await engine.step(); // down at 11:00, an incident opens
    await engine.liveUntil('2026-11-24T12:00:00.000Z', HOUR);
    h.clock.set('2026-11-24T12:34:56.789Z');
  });
  after(async () => {
    await engine?.close();
    await h?.close();
  });

  const create = (json: unknown, token = ADMIN_TOKEN) => send(h.app, 'POST', '/v1/status-pages', { token, json });
  const pageJson = async (slug: string) => expectJson<PageView>(await h.req('GET', `/status/${slug}.json`), 200);
  const api = async <T,>(path: string) => expectJson<T>(await h.req('GET', path, { token: ADMIN_TOKEN }), 200);

  it('creates, reads, lists, changes and deletes a page', async () => {
    const created = await expectJson<PageBody>(
      await create({ slug: 'crud', title: '  Acme  ', components: [{ name: 'Web', labels: { tier: 'frontend' } }, { name: 'API', node_ids: ['api-1', nodes.api1.id] }] }),
      201,
    );
    assert.deepEqual(
      { ...created, id: undefined, components: created.components.map((c) => ({ ...c, id: typeof c.id })) },
      {
        id: undefined,
        slug: 'crud',
        title: 'Acme',
        description: null,
        public: true,
        show_nodes: false,
        components: [
          { id: 'string', name: 'Web', node_ids: [], labels: { tier: 'frontend' } },
          { id: 'string', name: 'API', node_ids: [nodes.api1.id], labels: {} },
        ],
        path: '/status/crud',
        created_at: h.clock.now().toISOString(),
        updated_at: h.clock.now().toISOString(),
      },
    );
    assert.deepEqual(await api<PageBody>(`/v1/status-pages/${created.id}`), created);
    assert.deepEqual(await api<PageBody>('/v1/status-pages/crud'), created, 'by slug too');

    const changed = await expectJson<PageBody>(
      await h.req('PATCH', '/v1/status-pages/crud', { token: ADMIN_TOKEN, json: { description: 'Our services', show_nodes: true } }),
      200,
    );
    assert.equal(changed.description, 'Our services');
    assert.equal(changed.show_nodes, true);
    assert.deepEqual(changed.components, created.components, 'fields left out keep their value');

    const listed = await api<List<PageBody>>('/v1/status-pages?limit=50');
    assert.ok(listed.items.some((p) => p.id === created.id));

    assert.equal((await h.req('DELETE', `/v1/status-pages/${created.id}`, { token: ADMIN_TOKEN })).status, 204);
    await expectError(await h.req('GET', '/v1/status-pages/crud', { token: ADMIN_TOKEN }), 404, 'not_found');
    await expectError(await h.req('DELETE', '/v1/status-pages/crud', { token: ADMIN_TOKEN }), 404, 'not_found');
    await expectError(await h.req('PATCH', '/v1/status-pages/crud', { token: ADMIN_TOKEN, json: { title: 'x' } }), 404, 'not_found');
    await expectError(await h.req('GET', '/status/crud.json'), 404, 'not_found');
  });

  it('refuses bad pages with every bad field named, and stores nothing', async () => {
    const count = async () => Number((await h.sql`select count(*) from status_pages`)[0]!.count);
    const before = await count();
    const good = { slug: 'good', title: 'T', components: [{ name: 'Web', labels: { tier: 'frontend' } }] };
    const cases: Array<[unknown, string[]]> = [
      [{}, ['slug', 'title', 'components']],
      [{ ...good, slug: 'Has Caps' }, ['slug']],
      [{ ...good, slug: '-edge' }, ['slug']],
      [{ ...good, slug: 'x'.repeat(65) }, ['slug']],
      [{ ...good, slug: 'acme.json' }, ['slug']],
      [{ ...good, title: '   ' }, ['title']],
      [{ ...good, description: 'x'.repeat(2001) }, ['description']],
      [{ ...good, public: 'yes' }, ['public']],
      [{ ...good, components: [] }, ['components']],
      [{ ...good, components: [{ name: 'Empty' }] }, ['components.0.node_ids', 'components.0.labels']],
      [{ ...good, components: [{ name: 'Bad', node_ids: ['no-such-node'] }] }, ['components.0.node_ids.0']],
      [{ ...good, components: [{ name: 'Bad', labels: { role: 5 } }] }, ['components.0.labels.role']],
      [{ ...good, components: [{ name: 'X', labels: { tier: 'frontend' }, colour: 'red' }] }, ['components.0.colour']],
      [{ ...good, theme: 'dark' }, ['theme']],
      [{ ...good, title: 'a\u0000b' }, ['title']],
    ];
    for (const [json, fields] of cases) await expectInvalid(await create(json), fields);
    await expectError(await send(h.app, 'POST', '/v1/status-pages', { token: ADMIN_TOKEN, body: '{"slug":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    const many = await expectInvalid(await create({ ...good, components: [{ name: 'Many', node_ids: Array.from({ length: 30 }, (_, i) => `nope-${i}`) }] }), Array.from({ length: 20 }, (_, i) => `components.0.node_ids.${i}`));
    assert.equal(many.details!.length, 20, 'at most 20 details');
    assert.equal(await count(), before);

    await expectJson(await create({ ...good, slug: 'taken' }), 201);
    await expectError(await create({ ...good, slug: 'taken' }), 409, 'conflict');
    await expectJson(await create({ ...good, slug: 'other' }), 201);
    await expectError(await h.req('PATCH', '/v1/status-pages/other', { token: ADMIN_TOKEN, json: { slug: 'taken' } }), 409, 'conflict');
    await expectInvalid(await h.req('PATCH', '/v1/status-pages/other', { token: ADMIN_TOKEN, json: { components: [{ name: 'Bad', node_ids: ['nope'] }] } }), ['components.0.node_ids.0']);
    assert.equal((await api<PageBody>('/v1/status-pages/other')).components[0]!.name, 'Web', 'a refused change changed nothing');
  });

  it('pages through the list by slug, each page once', async () => {
    for (const slug of ['pg-b', 'pga', 'pg-a']) await expectJson(await create({ slug, title: slug, components: [{ name: 'W', labels: { tier: 'frontend' } }] }), 201);
    const seen: string[] = [];
    for (let cursor: string | null = null, pages = 0; pages < 100; pages++) {
      const body: List<PageBody> = await api(`/v1/status-pages?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...body.items.map((p) => p.slug));
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    assert.deepEqual(seen, [...seen].sort((a, b) => (a < b ? -1 : 1)), 'in byte order');
    assert.equal(new Set(seen).size, seen.length, 'none twice');
    for (const slug of ['pg-a', 'pg-b', 'pga']) assert.ok(seen.includes(slug), slug);
  });

  it('lets read keys look and write keys change', async () => {
    const read = await h.createKey('read');
    const write = await h.createKey('write');
    const json = { slug: 'scoped', title: 'Scoped', components: [{ name: 'Web', labels: { tier: 'frontend' } }] };
    await expectError(await create(json, read.secret), 403, 'forbidden');
    await expectError(await send(h.app, 'POST', '/v1/status-pages', { json }), 401, 'unauthorized');
    await expectJson(await create(json, write.secret), 201);
    await expectJson(await h.req('GET', '/v1/status-pages/scoped', { token: read.secret }), 200);
  });

  it('publishes figures equal to the uptime API’s for the same window', async () => {
    await expectJson(
      await create({ slug: 'acme', title: 'Acme', components: [{ name: 'Web', labels: { tier: 'frontend' } }, { name: 'API', node_ids: ['api-1'] }] }),
      201,
    );
    const page = await pageJson('acme');
    assert.equal(page.updated_at, '2026-11-24T12:34:56.789Z');
    const [web, apiComponent] = page.components as [PageView['components'][number], PageView['components'][number]];

    // The page's 90 days run from the start of the day 89 days ago to now.
    assert.deepEqual([apiComponent.uptime.from, apiComponent.uptime.to], ['2026-08-27T00:00:00.000Z', '2026-11-24T12:34:56.789Z']);
    const window = `from=${apiComponent.uptime.from}&to=${apiComponent.uptime.to}`;

    // A one-node component: its figures are the node's over the same window, in whole seconds.
    const node = await api<UptimeBody>(`/v1/nodes/api-1/uptime?${window}&bucket=day`);
    const { buckets, node_id: _, ...figures } = node;
    assert.equal(apiComponent.uptime.uptime_ratio, figures.uptime_ratio);
    assert.deepEqual(apiComponent.uptime.seconds, componentSeconds([figures.seconds]));
    assert.equal(buckets.length, 90);
    assert.deepEqual(
      apiComponent.days.map((d) => [d.date, d.uptime_ratio, d.seconds]),
      buckets.map((b) => [b.start.slice(0, 10), b.uptime_ratio, componentSeconds([b.seconds])]),
    );

    // A label component: its ratio is the fleet report's over the same label; its days are its
    // nodes' days divided by their number, so that they do not count them.
    const fleet = await api<FleetUptime>(`/v1/uptime?${window}&label=tier:frontend`);
    assert.equal(web.uptime.uptime_ratio, fleet.uptime_ratio);
    assert.ok(fleet.uptime_ratio! < 1, 'the outage counts');
    const perNode = await Promise.all(['web-1', 'web-2'].map((n) => api<UptimeBody>(`/v1/nodes/${n}/uptime?${window}&bucket=day`)));
    web.days.forEach((day, i) => assert.deepEqual(day.seconds, componentSeconds(perNode.map((n) => n.buckets[i]!.seconds)), day.date));

    // What each day says.
    const status = (c: typeof web, date: string) => c.days.find((d) => d.date === date);
    assert.deepEqual(status(web, '2026-11-20'), { date: '2026-11-20', status: 'no_data', uptime_ratio: null, seconds: { healthy: 0, degraded: 0, down: 0, maintenance: 0, unknown: 0 } });
    assert.ok(web.days.slice(0, 86).every((d) => d.status === 'no_data' && d.uptime_ratio === null), 'nothing was watched before 21 Nov');
    assert.equal(status(web, '2026-11-21')!.status, 'operational');
    assert.equal(status(web, '2026-11-22')!.status, 'down');
    assert.equal(status(web, '2026-11-22')!.seconds.down, 2 * 3600, 'web-2 was down 04:00-08:00: half of Web for 4 h');
    assert.equal(status(apiComponent, '2026-11-22')!.status, 'degraded');
    assert.equal(status(apiComponent, '2026-11-22')!.uptime_ratio, 1, 'degraded counts as up');
    assert.deepEqual(status(apiComponent, '2026-11-23'), {
      date: '2026-11-23',
      status: 'maintenance',
      uptime_ratio: null,
      seconds: { healthy: 0, degraded: 0, down: 0, maintenance: 86_400, unknown: 0 },
    });
    assert.equal(status(web, '2026-11-24')!.status, 'down');
    assert.equal(web.state, 'down', 'web-1 is down now: the worst of Web');
    assert.equal(apiComponent.state, 'healthy');
    assert.equal(page.state, 'down');

    // The HTML draws the same days.
    const html = await (await h.req('GET', '/status/acme')).text();
    for (const bar of ['day-maintenance" aria-label="23 Nov 2026: Maintenance"', 'day-no_data" aria-label="20 Nov 2026: No data"', 'day-down" aria-label="22 Nov 2026: Down, 91.66% uptime"']) {
      assert.ok(html.includes(bar), `the page draws ${bar}`);
    }
    // Three days of history: the figures say since when, on a desktop and on a phone alike, and
    // the phone's is over its own 30 days (here the same three).
    const web91 = percent(web.uptime.uptime_ratio);
    assert.ok(html.includes(`<span class="uptime span-90">${web91} uptime since 21 Nov 2026</span><span class="uptime span-30">${web91} uptime since 21 Nov 2026</span>`), 'the figures say since when');
    assert.doesNotMatch(html, /in 90 days/);
  });

  it('lists open incidents, without node names unless the page shows nodes', async () => {
    const components = [{ name: 'Web', labels: { tier: 'frontend' } }, { name: 'Edge', node_ids: ['web-1'] }];
    await expectJson(await create({ slug: 'hidden', title: 'Hidden', components }), 201);
    await expectJson(await create({ slug: 'shown', title: 'Shown', show_nodes: true, components }), 201);
    const hidden = await pageJson('hidden');
    // web-2 still serves the Web: a partial outage, as the Web component reads.
    assert.deepEqual(hidden.incidents, [
      { title: 'Partial outage in Web, Edge', components: ['Web', 'Edge'], severity: 'critical', status: 'open', opened_at: '2026-11-24T11:00:00.000Z', acknowledged_at: null },
    ]);
    const shown = await pageJson('shown');
    assert.equal(shown.incidents[0]!.title, 'web-1 is down');
    assert.deepEqual(
      shown.components[0]!.nodes!.map((n) => [n.name, n.state]),
      [['web-1', 'down'], ['web-2', 'healthy']],
    );
    assert.deepEqual(shown.components[0]!.labels, { tier: 'frontend' });

    // Nothing a hidden page serves names a node, a label or a reason.
    const [reason] = await h.sql<{ reason: string }[]>`select reason from node_health where node_id = ${nodes.web1.id}`;
    assert.ok(reason!.reason.length > 0);
    const secrets = ['web-1', 'web-2', 'api-1', 'tier', 'frontend', 'rack', reason!.reason, nodes.web1.id];
    for (const path of ['/status/hidden', '/status/hidden.json']) {
      const text = await (await h.req('GET', path)).text();
      for (const s of secrets) assert.ok(!text.includes(s), `${path} shows "${s}"`);
    }
    const shownHtml = await (await h.req('GET', '/status/shown')).text();
    for (const s of ['web-1', 'web-2', 'tier=frontend', reason!.reason]) assert.ok(shownHtml.includes(s), `the page that shows nodes shows "${s}"`);

    // Acknowledged: the entry says so, with when.
    const [incident] = await h.sql<{ id: string }[]>`select id from incidents where node_id = ${nodes.web1.id} and status = 'open'`;
    await expectJson(await h.req('POST', `/v1/incidents/${incident!.id}/acknowledge`, { token: ADMIN_TOKEN, json: { by: 'alice' } }), 200);
    h.clock.advance(10_001);
    const acknowledged = (await pageJson('hidden')).incidents[0]!;
    assert.equal(acknowledged.status, 'acknowledged');
    assert.equal(acknowledged.acknowledged_at, '2026-11-24T12:34:56.789Z');
  });

  it('answers a page that is not public exactly like one that does not exist', async () => {
    await expectJson(await create({ slug: 'internal', title: 'Internal', public: false, components: [{ name: 'Web', labels: { tier: 'frontend' } }] }), 201);
    for (const slug of ['internal', 'no-such-page', 'Bad%20Slug', '-edge']) {
      const json = await h.req('GET', `/status/${slug}.json`);
      await expectError(json, 404, 'not_found');
      const html = await h.req('GET', `/status/${slug}`);
      assert.equal(html.status, 404);
      assert.match(await html.text(), /no public status page at this address/);
    }
    await h.req('PATCH', '/v1/status-pages/internal', { token: ADMIN_TOKEN, json: { public: true } });
    assert.equal((await h.req('GET', '/status/internal')).status, 200, 'published at once after the change');
  });

  it('serves a page with a strict CSP and a short cache, and computes it once per period', async () => {
    await expectJson(await create({ slug: 'cached', title: 'Cached', components: [{ name: 'API', node_ids: ['api-1'] }] }), 201);
    const res = await h.req('GET', '/status/cached');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=10');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script|<style|style=|https?:\/\//, 'no script, no inline style, nothing from elsewhere');
    const css = /<link rel="stylesheet" href="([^"]+)"/.exec(html)![1]!;
    const sheet = await h.req('GET', css);
    assert.equal(sheet.status, 200);
    assert.match(sheet.headers.get('content-type') ?? '', /^text\/css/);
    assert.match(sheet.headers.get('cache-control') ?? '', /immutable/);
    assert.match(await sheet.text(), /prefers-color-scheme: dark/);

    // Within the period a change is not recomputed; after it, it is.
    const first = await pageJson('cached');
    engine.agents.set(nodes.api1.id, { token: nodes.api1.token, status: 'failing' });
    await engine.step();
    assert.deepEqual(await pageJson('cached'), first);
    h.clock.advance(10_001);
    const later = await pageJson('cached');
    assert.equal(later.components[0]!.state, 'down');
    engine.agents.set(nodes.api1.id, { token: nodes.api1.token, status: 'ok' });
    await engine.step();
  });

  it('serves pages and badges over HTTP in the coding the client takes, and 304 to one that holds them', async () => {
    await expectJson(await create({ slug: 'coded', title: 'Coded', components: [{ name: 'Web', node_ids: ['web-1', 'web-2'] }] }), 201);
    const server = await serveApp(h.app);
    try {
      for (const path of ['/status/coded', '/status/coded.json', `/badge/${nodes.web1.badge_id}.svg`, `/badge/${nodes.web1.badge_id}.json`]) {
        const plain = await rawGet(server.origin, path, {});
        assert.equal(plain.status, 200, path);
        assert.equal(plain.headers['content-encoding'], undefined, path);
        assert.equal(plain.headers.vary, 'accept-encoding', path);
        const etag = plain.headers.etag as string;
        assert.match(etag, /^W\/"[\w-]+"$/, path);
        for (const [accept, coding] of [
          ['gzip, deflate, br', 'br'],
          ['gzip, deflate', 'gzip'],
          ['br;q=0, gzip', 'gzip'],
          ['*', 'br'],
          ['br;q=0, gzip;q=0', undefined],
          ['identity', undefined],
        ] as const) {
          const res = await rawGet(server.origin, path, { 'accept-encoding': accept });
          // A badge's JSON is smaller than any compression of it, and is then sent as it is.
          const sent = path.startsWith('/badge') && res.headers['content-encoding'] === undefined ? undefined : coding;
          assert.equal(res.headers['content-encoding'], sent, `${path} for ${accept}`);
          assert.equal(Number(res.headers['content-length']), res.body.length, `${path} for ${accept}`);
          assert.equal(res.headers.vary, 'accept-encoding', `${path} for ${accept}`);
          assert.equal(res.headers.etag, etag, `${path}: one tag for every coding`);
          const decoded = sent === 'br' ? brotliDecompressSync(res.body) : sent === 'gzip' ? gunzipSync(res.body) : res.body;
          assert.ok(decoded.equals(plain.body), `${path} for ${accept} decodes to the same bytes`);
          if (sent) assert.ok(res.body.length < plain.body.length, `${path} is smaller as ${sent}`);
        }
        for (const held of [etag, `W/"elsewhere", ${etag}`, etag.slice(2), '*']) {
          const res = await rawGet(server.origin, path, { 'if-none-match': held, 'accept-encoding': 'gzip, br' });
          assert.equal(res.status, 304, `${path} with If-None-Match: ${held}`);
          assert.equal(res.body.length, 0);
          assert.equal(res.headers.etag, etag);
          assert.equal(res.headers.vary, 'accept-encoding');
          assert.equal(res.headers['cache-control'], plain.headers['cache-control']);
        }
        assert.equal((await rawGet(server.origin, path, { 'if-none-match': 'W/"elsewhere"' })).status, 200, `${path} with another tag`);
      }

      // Computed afresh a minute later with nothing else changed (a node healthy all along), only
      // "Updated" differs: the page's reload each minute is a 304. The node going down is new content.
      const steady = await h.createNode('steady-1', {});
      await h.sql`update node_health set state = 'healthy' where node_id = ${steady.id}`;
      await expectJson(await create({ slug: 'steady', title: 'Steady', components: [{ name: 'Web', node_ids: ['steady-1'] }] }), 201);
      const before = await rawGet(server.origin, '/status/steady', {});
      h.clock.advance(61_000);
      const same = await rawGet(server.origin, '/status/steady', { 'if-none-match': before.headers.etag as string });
      assert.equal(same.status, 304, 'nothing but the time changed');
      await h.sql`update node_health set state = 'down' where node_id = ${steady.id}`;
      h.clock.advance(10_001);
      const after = await rawGet(server.origin, '/status/steady', { 'if-none-match': before.headers.etag as string });
      assert.equal(after.status, 200);
      assert.notEqual(after.headers.etag, before.headers.etag);
    } finally {
      server.close();
    }
  });

  it('reloads itself only when asked, at one of a few paces, and answers 304 to that too', async () => {
    // A node healthy all along: only "Updated" changes when the page is computed afresh.
    const steady = await h.createNode('wall-1', {});
    await h.sql`update node_health set state = 'healthy' where node_id = ${steady.id}`;
    await expectJson(await create({ slug: 'wall', title: 'Wall', components: [{ name: 'Web', node_ids: ['wall-1'] }] }), 201);
    const REFRESH = /<meta http-equiv="refresh" content="(\d+)"/;
    const plain = await h.req('GET', '/status/wall');
    assert.doesNotMatch(await plain.text(), REFRESH, 'a reload would put a keyboard reader back at the top every minute');
    for (const n of ['30', '60', '300', '900', '3600']) {
      const res = await h.req('GET', `/status/wall?refresh=${n}`);
      assert.equal(res.status, 200);
      assert.equal(REFRESH.exec(await res.text())?.[1], n);
      const etag = res.headers.get('etag')!;
      assert.notEqual(etag, plain.headers.get('etag'));
      h.clock.advance(10_001);
      assert.equal((await h.req('GET', `/status/wall?refresh=${n}`, { headers: { 'if-none-match': etag } })).status, 304, `?refresh=${n} revalidates`);
    }
    // Any other N would be a rendering and two compressions of its own on every request: a client
    // walking through 35..3600 is told the paces there are, as a page a person can read.
    for (const n of ['29', '31', '45', '61', '120', '599', '3599', '3601', '0', '-60', '1e3', 'abc', '', '60.5', '060']) {
      const res = await h.req('GET', `/status/wall?refresh=${encodeURIComponent(n)}`);
      assert.equal(res.status, 400, `?refresh=${n}`);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, `?refresh=${n} answers the page's reader in HTML, as its 404 and 429 do`);
      const text = await res.text();
      assert.match(text, /30, 60, 300, 900 or 3600/);
      assert.doesNotMatch(text, REFRESH);
    }
    // The JSON has no reload to ask for: the parameter is not read there.
    assert.equal((await h.req('GET', '/status/wall.json?refresh=45')).status, 200);
    assert.doesNotMatch(await (await h.req('GET', '/status/wall')).text(), REFRESH);
  });

  it('gives every node a badge id, serves its badges, and rotating it retires the old one', async () => {
    const node = await api<{ badge_id: string }>('/v1/nodes/api-1');
    assert.match(node.badge_id, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(node.badge_id, nodes.api1.badge_id);
    assert.notEqual(nodes.web1.badge_id, nodes.web2.badge_id);

    h.clock.advance(10_001);
    const state = await h.req('GET', `/badge/${node.badge_id}.json`);
    assert.equal(state.headers.get('cache-control'), 'public, max-age=30');
    assert.deepEqual(await state.json(), { schemaVersion: 1, label: 'status', message: 'up', color: '#1a7f37' });

    const uptime = await api<{ uptime_ratio: number }>('/v1/nodes/web-2/uptime?window=7d');
    const badge = await expectJson<{ message: string; label: string }>(await h.req('GET', `/badge/${nodes.web2.badge_id}.json?metric=uptime&window=7d`), 200);
    assert.equal(badge.label, 'uptime 7d');
    assert.equal(badge.message, `${(Math.floor(uptime.uptime_ratio * 10_000) / 100).toFixed(2)}%`, `the API says ${uptime.uptime_ratio}`);

    const svg = await h.req('GET', `/badge/${nodes.web1.badge_id}.svg?label=${encodeURIComponent('<api>')}`);
    assert.equal(svg.status, 200);
    assert.match(svg.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.equal(svg.headers.get('cache-control'), 'public, max-age=30');
    const text = await svg.text();
    assert.match(text, /^<svg[^>]*role="img" aria-label="&lt;api&gt;: down"/);
    assert.doesNotMatch(text, /<api>/);

    await expectInvalid(await h.req('GET', `/badge/${node.badge_id}.svg?metric=speed&window=1y`), ['metric', 'window']);
    await expectError(await h.req('GET', `/badge/${node.badge_id}.png`), 404, 'not_found');
    await expectError(await h.req('GET', `/badge/${'A'.repeat(43)}.svg`), 404, 'not_found');

    const read = await h.createKey('read', 'badge-reader');
    await expectError(await h.req('POST', '/v1/nodes/api-1/badge', { token: read.secret }), 403, 'forbidden');
    const rotated = await expectJson<{ badge_id: string; id: string }>(await h.req('POST', '/v1/nodes/api-1/badge', { token: ADMIN_TOKEN }), 200);
    assert.equal(rotated.id, nodes.api1.id);
    assert.notEqual(rotated.badge_id, node.badge_id);
    await expectError(await h.req('GET', `/badge/${node.badge_id}.json`), 404, 'not_found');
    await expectError(await h.req('GET', `/badge/${node.badge_id}.svg`), 404, 'not_found');
    assert.equal((await h.req('GET', `/badge/${rotated.badge_id}.svg`)).status, 200);
    await expectError(await h.req('POST', '/v1/nodes/no-such-node/badge', { token: ADMIN_TOKEN }), 404, 'not_found');
  });

  it('limits each client address, believing X-Forwarded-For only from trusted proxies', async () => {
    const limited = (trustProxyHops: number) =>
      buildApp({ sql: h.sql, clock: h.clock, buffer: new HeartbeatBuffer(), publicPages: { trustProxyHops }, limits: { publicRequestsPerMinute: 2 } }).app;
    const direct = limited(0);
    const get = (app: typeof direct, forwarded: string) => send(app, 'GET', `/badge/${nodes.web1.badge_id}.json`, { headers: { 'x-forwarded-for': forwarded } });
    assert.equal((await get(direct, '203.0.113.1')).status, 200);
    assert.equal((await get(direct, '203.0.113.2')).status, 200);
    const refused = await get(direct, '203.0.113.3');
    await expectError(refused.clone(), 429, 'rate_limited');
    const retry = Number(refused.headers.get('retry-after'));
    assert.ok(retry > 0 && retry <= 60, `Retry-After ${refused.headers.get('retry-after')}`);
    // A person in a browser is told in words when to come back; the JSON keeps the API's error.
    const page = await send(direct, 'GET', '/status/acme');
    assert.equal(page.status, 429, 'pages and badges share the budget');
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.ok(Number(page.headers.get('retry-after')) > 0, `Retry-After ${page.headers.get('retry-after')}`);
    assert.match(await page.text(), new RegExp(`Too many requests from this address — try again in ${page.headers.get('retry-after')} s`));
    await expectError(await send(direct, 'GET', '/status/acme.json'), 429, 'rate_limited');
    assert.equal((await h.req('GET', `/badge/${nodes.web1.badge_id}.json`)).status, 200, 'another app, another budget');

    const proxied = limited(1);
    for (const address of ['198.51.100.7', '198.51.100.7']) assert.equal((await get(proxied, `10.0.0.1, ${address}`)).status, 200);
    assert.equal((await get(proxied, '10.0.0.2, 198.51.100.7')).status, 429, 'the address the proxy saw is counted, not the claim before it');
    assert.equal((await get(proxied, '198.51.100.8')).status, 200, 'another client has its own budget');
    assert.equal((await get(proxied, '2001:db8:1:2::1')).status, 200);
    assert.equal((await get(proxied, '2001:db8:1:2::ffff')).status, 200);
    assert.equal((await get(proxied, '2001:db8:1:2:abcd::9')).status, 429, 'one budget per IPv6 /64');
  });
});
