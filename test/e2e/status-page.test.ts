import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { PageView } from '../../src/statuspages/model.ts';
import { ADMIN_TOKEN, createHarness, expectJson, type Harness } from '../helpers/app.ts';
import { launchBrowser, serveApp, VIEWS, watchedPage } from '../helpers/browser.ts';
import { runningEngine } from '../helpers/running-engine.ts';

// A status page as a person sees it: 90 days of history made by the real pipeline, the page loaded
// by Chromium from the app over HTTP under its own CSP, on a desktop and a phone, light and dark.
// LIFELINE_SCREENSHOTS=<dir> keeps a full-page screenshot of each.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SCREENSHOTS = process.env.LIFELINE_SCREENSHOTS;

describe('a status page in a browser', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof serveApp>>;
  let browser: Browser;

  before(async () => {
    h = await createHarness();
    const engine = runningEngine(h, { gapMs: 2 * DAY, incidents: true });
    try {
      h.clock.set('2026-08-20T00:00:00.000Z');
      const agents: Record<string, string> = {};
      const add = async (name: string, tier: string) => {
        const n = await h.createNode(name, { labels: { tier }, heartbeat_interval_seconds: 86_400, failures_for_down: 1 });
        agents[name] = n.token;
        engine.agents.set(name, { token: n.token, status: 'ok' });
      };
      const report = (name: string, status: 'ok' | 'degraded' | 'failing' | 'silent') => {
        if (status === 'silent') engine.agents.delete(name);
        else engine.agents.set(name, { token: agents[name]!, status });
      };
      for (const name of ['web-1', 'web-2', 'web-3']) await add(name, 'web');
      for (const name of ['api-1', 'api-2', 'api-3', 'api-4']) await add(name, 'api');
      for (const name of ['db-1', 'db-2']) await add(name, 'db');
      // On no page: its outage is nobody's past incident there.
      await add('batch-1', 'batch');
      await engine.step();
      const maintenance = await h.admin('POST', '/v1/maintenances', { labels: { tier: 'db' }, starts_at: '2026-10-10T00:00:00.000Z', ends_at: '2026-10-11T00:00:00.000Z' });
      assert.equal(maintenance.status, 201, await maintenance.text());

      // Day by day, in steps of 12 h: a silent web node (down for a day), a degraded API node, a
      // database maintenance day, a queue added in October, an API node down for 12 h six days ago
      // (and a node on no page with it), then today's outage.
      const script: Array<[string, () => Promise<void> | void]> = [
        ['2026-09-14T12:00:00.000Z', () => report('web-2', 'silent')],
        ['2026-09-16T12:00:00.000Z', () => report('web-2', 'ok')],
        ['2026-10-03T00:00:00.000Z', () => report('api-3', 'degraded')],
        ['2026-10-04T00:00:00.000Z', () => report('api-3', 'ok')],
        ['2026-10-12T00:00:00.000Z', async () => {
          await add('queue-1', 'queue');
          await add('queue-2', 'queue');
        }],
        ['2026-10-28T00:00:00.000Z', () => report('api-1', 'failing')],
        ['2026-10-28T12:00:00.000Z', () => report('api-1', 'ok')],
        ['2026-11-15T00:00:00.000Z', () => {
          report('api-4', 'failing');
          report('batch-1', 'failing');
        }],
        ['2026-11-15T12:00:00.000Z', () => report('api-4', 'ok')],
        ['2026-11-20T12:00:00.000Z', () => report('api-2', 'degraded')],
        ['2026-11-21T00:00:00.000Z', () => report('web-1', 'failing')],
      ];
      for (const [at, change] of script) {
        await engine.liveUntil(at, 12 * HOUR);
        await change();
        await engine.step();
      }
      await engine.liveUntil('2026-11-21T09:00:00.000Z', 12 * HOUR);
      h.clock.set('2026-11-21T09:41:00.000Z');
    } finally {
      await engine.close();
    }
    const [degraded] = await h.sql<{ id: string }[]>`select i.id from incidents i join nodes n on n.id = i.node_id where n.name = 'api-2' and i.status = 'open'`;
    const ack = await h.req('POST', `/v1/incidents/${degraded!.id}/acknowledge`, { token: ADMIN_TOKEN, json: { by: 'alice' } });
    assert.equal(ack.status, 200, await ack.text());

    const page = await h.admin('POST', '/v1/status-pages', {
      slug: 'acme',
      title: 'Acme Cloud',
      description: 'Live status of the Acme website, API and background services.',
      components: [
        { name: 'Website', labels: { tier: 'web' } },
        { name: 'Public API', labels: { tier: 'api' } },
        { name: 'Database', labels: { tier: 'db' } },
        { name: 'Background jobs', labels: { tier: 'queue' } },
      ],
    });
    assert.equal(page.status, 201, await page.text());

    server = await serveApp(h.app);
    browser = await launchBrowser();
    if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    server?.close();
    await h?.close();
  });

  for (const view of VIEWS) {
    // The frame shows 90 days on a desktop, the last 30 on a phone.
    const daysShown = view.phone ? 30 : 90;
    it(`shows components, their bars, the open incidents and those of the last 14 days (${view.name}), loading nothing from elsewhere`, async () => {
      const { page, problems } = await watchedPage(browser, server.origin, view.context);
      const res = await page.goto(`${server.origin}/status/acme`);
      assert.equal(res?.status(), 200);
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `status-${view.name}.png`), fullPage: true });
      assert.equal(await page.locator('h1').textContent(), 'Acme Cloud');
      assert.equal((await page.locator('.banner').textContent())?.startsWith('Partial outage'), true, 'no component is wholly out');

      const components = page.locator('.component');
      assert.equal(await components.count(), 4);
      assert.deepEqual(await page.locator('.component-name').allTextContents(), ['Website', 'Public API', 'Database', 'Background jobs']);
      assert.deepEqual(await page.locator('.component .state').allTextContents(), ['Partial outage', 'Degraded', 'Operational', 'Operational'], 'one of three web nodes is down');
      for (let i = 0; i < 4; i++) {
        const bars = components.nth(i).locator('.bars [role="img"]');
        assert.equal(await bars.count(), 90);
        // Count the bars inside the frame.
        const frame = (await components.nth(i).locator('.bars-frame').boundingBox())!;
        assert.ok(frame.width > 250 && frame.height >= 30, `the bars are drawn (${JSON.stringify(frame)})`);
        const shown = await bars.evaluateAll(
          (all, f) => all.filter((u) => {
            const r = u.getBoundingClientRect();
            return r.width > 0 && r.left >= f.x - 0.5 && r.right <= f.x + f.width + 0.5;
          }).length,
          frame,
        );
        assert.equal(shown, daysShown, `component ${i} shows ${daysShown} days`);
      }
      const uptime = await components.nth(0).locator('.uptime:visible').textContent();
      assert.match(uptime ?? '', daysShown === 90 ? /^99\.\d\d% uptime$/ : /^\d+\.\d\d% in 30 days$/, 'the figure covers the days the bar shows, and says so');
      // The queue came in October: 90 days of bars, data since then.
      assert.match((await components.nth(3).locator('.uptime:visible').textContent()) ?? '', daysShown === 90 ? /^100% uptime since 12 Oct 2026$/ : /^100% in 30 days$/);
      // The days follow the history: the maintenance day, the queue's days before it existed.
      const days = (i: number, status: string) =>
        components.nth(i).locator(`.bars .day-${status}`).evaluateAll((bars) => bars.map((b) => b.getAttribute('aria-label')!.split(': ')[0]));
      assert.deepEqual(await days(2, 'maintenance'), ['10 Oct 2026']);
      assert.ok((await days(3, 'no_data')).includes('11 Oct 2026'), 'no data before the queue existed');
      assert.deepEqual(await days(0, 'down'), ['15 Sep 2026', '16 Sep 2026', '21 Nov 2026']);
      assert.equal(await components.nth(2).locator('.bars .day-maintenance').getAttribute('aria-label'), '10 Oct 2026: Maintenance');

      const incidents = page.getByRole('list', { name: 'Open incidents' }).locator('.incident');
      assert.deepEqual(await incidents.locator('.incident-title').allTextContents(), ['Partial outage in Website', 'Degraded service in Public API']);
      assert.match((await incidents.nth(0).textContent()) ?? '', /Since Sat 21 Nov 2026, 00:00 UTC · identified by monitoring, not yet acknowledged/);
      assert.match((await incidents.nth(1).textContent()) ?? '', /investigating since Sat 21 Nov 2026, 09:41 UTC/);

      // The last 14 days, newest first, ongoing ones too; api-1's outage of 28 Oct is older, and
      // batch-1 is on no component.
      const past = page.getByRole('list', { name: 'Recent incidents last 14 days' }).locator('.incident');
      assert.deepEqual(
        await past.evaluateAll((items) => items.map((i) => i.textContent)),
        [
          'Partial outage in WebsiteOngoing · since Sat 21 Nov 2026, 00:00 UTC',
          'Degraded service in Public APIOngoing · since Fri 20 Nov 2026, 12:00 UTC',
          'Partial outage in Public APIResolved · Sun 15 Nov 2026, 00:00 UTC to 12:00 UTC · lasted 12 h',
        ],
      );

      const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      assert.equal(background, view.context.colorScheme === 'dark' ? 'rgb(13, 17, 23)' : 'rgb(246, 248, 250)');
      const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      assert.equal(overflow, 0, 'nothing wider than the screen');

      // Sent compressed, and a reload within the period revalidates: the server's 304 (which the
      // browser reports as the 200 it kept, with the 304's own headers) still shows the page.
      const first = await res!.allHeaders();
      assert.match(first['content-encoding'] ?? '', /^(br|gzip)$/);
      assert.equal(first.vary, 'accept-encoding');
      const reloaded = page.waitForRequest((r) => r.url() === `${server.origin}/status/acme`);
      await page.reload();
      const request = await reloaded;
      assert.equal((await request.allHeaders())['if-none-match'], first.etag);
      const answer = await (await request.response())!.allHeaders();
      assert.equal(answer.etag, first.etag);
      assert.equal(answer['content-type'], undefined, 'no body was sent again');
      assert.equal(await page.locator('h1').textContent(), 'Acme Cloud');
      assert.deepEqual(problems, []);
    });
  }

  it('gives the past incidents in its JSON too, by component only', async () => {
    const view = await expectJson<PageView>(await h.req('GET', '/status/acme.json'), 200);
    assert.deepEqual(view.past_incidents, [
      { title: 'Partial outage in Website', components: ['Website'], severity: 'critical', status: 'ongoing', started_at: '2026-11-21T00:00:00.000Z', resolved_at: null, duration_seconds: null },
      { title: 'Degraded service in Public API', components: ['Public API'], severity: 'warning', status: 'ongoing', started_at: '2026-11-20T12:00:00.000Z', resolved_at: null, duration_seconds: null },
      { title: 'Partial outage in Public API', components: ['Public API'], severity: 'critical', status: 'resolved', started_at: '2026-11-15T00:00:00.000Z', resolved_at: '2026-11-15T12:00:00.000Z', duration_seconds: 43_200 },
    ]);
    assert.equal(view.past_incidents_more, 0);
  });

  it('keeps the legend\'s swatches and the states\' dots in forced colours, as the bars keep theirs', async () => {
    const { page, problems } = await watchedPage(browser, server.origin, { ...VIEWS[0]!.context, forcedColors: 'active' });
    await page.goto(`${server.origin}/status/acme`);
    const fills = await page.evaluate(() => ({
      swatches: [...document.querySelectorAll('.legend .swatch')].map((e) => getComputedStyle(e).backgroundColor),
      dots: [...document.querySelectorAll('.component .state')].map((e) => getComputedStyle(e, '::before').backgroundColor),
      canvas: getComputedStyle(document.body).backgroundColor,
    }));
    // Forced colours paint every background the page's own (Canvas): a swatch so painted is not there.
    assert.equal(new Set(fills.swatches).size, 5, `five swatches, each its own colour: ${fills.swatches.join(' ')}`);
    assert.ok(!fills.swatches.includes(fills.canvas), 'no swatch is the page\'s own background');
    assert.deepEqual(fills.dots.map((d) => d !== fills.canvas && d !== 'rgba(0, 0, 0, 0)'), [true, true, true, true], `dots: ${fills.dots.join(' ')}`);
    assert.equal(new Set(fills.dots).size, 3, 'partial outage, degraded and operational, each in its colour');
    assert.deepEqual(problems, []);
  });
});
