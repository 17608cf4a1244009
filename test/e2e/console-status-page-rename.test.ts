/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { StatusPage as PageBody } from '../../src/api/shapes.ts';
import type { PageView } from '../../src/statuspages/model.ts';
import { createHarness, expectJson, type Harness } from '../helpers/app.ts';
import { launchBrowser, serveApp, signInToConsole, watchedPage } from '../helpers/browser.ts';

// A component renamed or moved in the console's form keeps the days its page kept of it, as a
// PATCH sending its id does; a line added is a new component. The page has a kept day of the API
// down (20 Nov) that its node's own data does not show: only the component's id finds it again.

const HOUR = 3_600_000;

describe('renaming a status page’s component in the console, in a browser', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof serveApp>>;
  let browser: Browser;
  let writeKey: string;
  let page: PageBody;

  before(async () => {
    h = await createHarness();
    h.clock.set('2026-11-21T09:41:00.000Z');
    writeKey = (await h.createKey('write', 'laptop')).secret;
    await h.createNode('api-1', { labels: { role: 'api' } });
    await h.createNode('db-1', { labels: { role: 'db' } });
    page = await expectJson<PageBody>(
      await h.admin('POST', '/v1/status-pages', {
        slug: 'acme',
        title: 'Acme',
        components: [
          { name: 'API', node_ids: ['api-1'] },
          { name: 'Database', labels: { role: 'db' } },
        ],
      }),
      201,
    );
    // Kept as the leader keeps a day once it is over: two hours down.
    await h.sql`
      insert into status_page_days (page_id, component_id, day, nodes, healthy_ms, degraded_ms, down_ms, maintenance_ms, unknown_ms)
      values (${page.id}, ${page.components[0]!.id}, '2026-11-20T00:00:00Z', 1, ${22 * HOUR}, 0, ${2 * HOUR}, 0, 0)`;
    server = await serveApp(h.app);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    server?.close();
    await h?.close();
  });

  /** The public page's JSON, past the 10 s an answer is kept. */
  const published = async () => {
    h.clock.advance(10_001);
    return expectJson<PageView>(await h.req('GET', '/status/acme.json'), 200);
  };
  const dayOf = (view: PageView, name: string) => view.components.find((c) => c.name === name)?.days.find((d) => d.date === '2026-11-20')?.status;

  it('keeps the kept days of a component renamed and moved in the form, and gives a new line a past of its own', async () => {
    assert.equal(dayOf(await published(), 'API'), 'down');
    const { page: tab, problems } = await watchedPage(browser, server.origin, { viewport: { width: 1280, height: 900 } });
    await signInToConsole(tab, server.origin, writeKey, `/status-pages/${page.id}`);
    assert.equal(await tab.getByLabel('Components').inputValue(), 'API: api-1\nDatabase: role=db');
    // Renamed, moved below the database, and a new component under it.
    await tab.getByLabel('Components').fill('Database: role=db\nPublic API: api-1\nSearch: role=api');
    await tab.getByRole('button', { name: 'Save' }).click();
    await tab.getByText('Saved.').waitFor();

    const saved = await expectJson<PageBody>(await h.admin('GET', `/v1/status-pages/${page.id}`), 200);
    const [api, db] = page.components.map((c) => c.id);
    assert.deepEqual(saved.components.slice(0, 2).map((c) => [c.id, c.name]), [[db, 'Database'], [api, 'Public API']]);
    assert.ok(![api, db].includes(saved.components[2]!.id), 'the new line is a new component');

    const view = await published();
    assert.equal(dayOf(view, 'Public API'), 'down', 'its kept day, under its new name');
    assert.equal(dayOf(view, 'Search'), 'no_data', 'a new component has its nodes’ past, not another’s');
    // As the public sees it: the bar of 20 Nov under the new name says the outage.
    await tab.goto(`${server.origin}/status/acme`);
    const bars = tab.getByRole('group', { name: /^Public API: the last \d+ days$/ });
    await bars.getByRole('img', { name: /^20 Nov 2026: Down/ }).waitFor();
    await tab.close();
    assert.deepEqual(problems, []);
  });
});
