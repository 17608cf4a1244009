/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { BrowserContextOptions, Page } from 'playwright-core';
import type { StatusPage as PageBody } from '../../src/api/shapes.ts';
import type { PageView } from '../../src/statuspages/model.ts';
import { ADMIN_TOKEN, expectJson } from '../helpers/app.ts';
import { VIEWS } from '../helpers/browser.ts';
import { consoleInBrowser } from '../helpers/console-browser.ts';

// Status pages in the console as a person uses them, with the keyboard where a form is filled:
// create one (a refused line first), see it listed, open its public page, edit it, rename a
// component keeping its past, delete it.
// Every page is also opened at desktop and phone width, light and dark, and must fit the
// screen's width; LIFELINE_SCREENSHOTS=<dir> keeps a full-page screenshot of each.

const SCREENSHOTS = process.env.LIFELINE_SCREENSHOTS;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('status pages in the console, in a browser', () => {
  // A refused form is answered 400 on purpose, and a deleted page's address 404, which
  // Chromium also logs as errors.
  const c = consoleInBrowser({ key: 'on-call laptop', refusals: [400, 404] });
  let id = '';

  before(async () => {
    await c.h.createNode('api-1', { labels: { role: 'api' } });
    await c.h.createNode('api-2', { labels: { role: 'api' } });
    await c.h.createNode('db-1', { labels: { role: 'db', region: 'eu west' } });
  });

  const signedIn = (path: string, context?: BrowserContextOptions, key?: string) => c.signedIn(path, { context, key });
  const pageBody = async () => expectJson<PageBody>(await c.h.admin('GET', `/v1/status-pages/${id}`), 200);
  /** Presses Tab until the element matching `selector` has focus. */
  async function tabTo(page: Page, selector: string) {
    for (let i = 0; i < 40 && !(await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)); i++) await page.keyboard.press('Tab');
    assert.ok(await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector), `${selector} is reachable with Tab`);
  }

  it('creates a page with the keyboard alone, keeping what was typed when a line is refused', async () => {
    const page = await signedIn('/status-pages');
    await page.getByText('No status page yet.').waitFor();
    await tabTo(page, 'a[href="/status-pages/new"]');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'New status page' }).waitFor();
    await tabTo(page, '#title');
    await page.keyboard.type('Acme status');
    await page.keyboard.press('Tab');
    await page.keyboard.type('acme');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Everything customers reach.');
    await page.keyboard.press('Tab');
    await page.keyboard.type('API: api-1, api-2, web-9');
    await page.keyboard.press('Enter');
    await page.keyboard.type('Database: role=db, region="eu west"');
    await tabTo(page, 'button[type="submit"].primary');
    await page.keyboard.press('Enter');

    await page.locator('#components-error', { hasText: 'line 1: "web-9" is not a node' }).waitFor();
    assert.equal(await page.getByLabel('Components').inputValue(), 'API: api-1, api-2, web-9\nDatabase: role=db, region="eu west"');
    assert.equal(await page.getByLabel('Title').inputValue(), 'Acme status');
    assert.equal(await page.getByLabel('Components').getAttribute('aria-invalid'), 'true');
    assert.equal(await c.h.sql`select 1 from status_pages`.then((r) => r.length), 0);

    // Fixed where it was said: the end of the first line.
    await page.getByLabel('Components').focus();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('End');
    for (let i = 0; i < ', web-9'.length; i++) await page.keyboard.press('Backspace');
    await tabTo(page, 'button[type="submit"].primary');
    await page.keyboard.press('Enter');
    await page.getByText('Created.').waitFor();
    id = /\/status-pages\/([0-9a-f-]{36})/.exec(page.url())?.[1] ?? assert.fail(`at ${page.url()}`);
    const saved = await pageBody();
    assert.deepEqual(
      [saved.slug, saved.title, saved.description, saved.public, saved.components.map((c) => [c.name, c.node_ids.length, c.labels])],
      ['acme', 'Acme status', 'Everything customers reach.', true, [['API', 2, {}], ['Database', 0, { role: 'db', region: 'eu west' }]]],
    );
    await page.close();
  });

  it('lists it, and its public page opens from the list', async () => {
    const page = await signedIn('/status-pages');
    const row = page.locator('tbody tr', { has: page.getByRole('link', { name: 'Acme status' }) });
    assert.match(await row.innerText(), /Acme status\s+acme\s+public\s+2\s+\/status\/acme/);
    await row.getByRole('link', { name: '/status/acme' }).click();
    await page.waitForURL(`${c.origin}/status/acme`);
    await page.getByRole('heading', { name: 'Acme status' }).waitFor();
    await page.getByText('Database').first().waitFor();
    await page.close();
  });

  it('edits it, and the public page says so at once', async () => {
    const page = await signedIn(`/status-pages/${id}`);
    await page.getByLabel('Title').fill('Acme platform status');
    await page.getByLabel('Components').fill('API: api-1, api-2\nDatabases: role=db');
    await page.getByLabel('Show node names, labels and reasons on it').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    const saved = await pageBody();
    assert.deepEqual([saved.title, saved.show_nodes, saved.components.map((c) => c.name)], ['Acme platform status', true, ['API', 'Databases']]);
    await page.goto(`${c.origin}/status/acme`);
    await page.getByRole('heading', { name: 'Acme platform status' }).waitFor();
    await page.getByText('Databases').first().waitFor();
    await page.close();
  });

  it('keeps the kept days of a component renamed and moved in the form; a line added is a new component', async () => {
    const [api, db] = (await pageBody()).components.map((c) => c.id);
    // Yesterday as kept of the API (the last edit kept it, from nodes with no data): made two hours
    // down, which its nodes' own data would not show.
    const day = new Date(Math.floor(c.h.clock.now().getTime() / DAY) * DAY - DAY);
    await c.h.sql`
      insert into status_page_days (page_id, component_id, day, nodes, healthy_ms, degraded_ms, down_ms, maintenance_ms, unknown_ms)
      values (${id}, ${api!}, ${day}, 2, ${44 * HOUR}, 0, ${4 * HOUR}, 0, 0)
      on conflict (page_id, day, component_id) do update set nodes = 2, node_ids = null, healthy_ms = ${44 * HOUR}, degraded_ms = 0, down_ms = ${4 * HOUR},
        maintenance_ms = 0, unknown_ms = 0`;
    const dayOf = async (name: string) => {
      c.h.clock.advance(10_001); // past the 10 s a public answer is kept
      const view = await expectJson<PageView>(await c.h.req('GET', '/status/acme.json'), 200);
      return view.components.find((c) => c.name === name)?.days.find((d) => d.date === day.toISOString().slice(0, 10))?.status;
    };
    assert.equal(await dayOf('API'), 'down');

    const page = await signedIn(`/status-pages/${id}`);
    assert.equal(await page.getByLabel('Components').inputValue(), 'API: api-1, api-2\nDatabases: role=db');
    await page.getByLabel('Components').fill('Databases: role=db\nPublic API: api-1, api-2\nSearch: role=api');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    const saved = (await pageBody()).components;
    assert.deepEqual(saved.slice(0, 2).map((c) => [c.id, c.name]), [[db, 'Databases'], [api, 'Public API']]);
    assert.ok(![api, db].includes(saved[2]!.id), 'the line added is a new component');
    assert.equal(await dayOf('Public API'), 'down', 'its kept day, under its new name');
    assert.equal(await dayOf('Search'), 'no_data', 'a new component has its nodes’ past, not another’s');

    // As the public sees it: that day's bar under the new name says the outage.
    await page.goto(`${c.origin}/status/acme`);
    const date = day.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
    await page.getByRole('group', { name: /^Public API: the last \d+ days$/ }).getByRole('img', { name: new RegExp(`^${date}: Down`) }).waitFor();
    await page.close();
  });

  it('fits every page to a desktop and a phone, light and dark', async () => {
    // A second page, private, so the list shows both kinds.
    await c.h.admin('POST', '/v1/status-pages', { slug: 'internal-tools', title: 'Internal tools', public: false, components: [{ name: 'Build farm', labels: { role: 'api' } }] });
    if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
    const pages: Array<[string, string, ((page: Page) => Promise<void>)?]> = [
      ['status-pages', '/status-pages'],
      ['status-page', `/status-pages/${id}`],
      ['status-page-new', '/status-pages/new'],
      [
        'status-page-refused',
        '/status-pages/new',
        async (page) => {
          await page.getByLabel('Title').fill('Refused');
          await page.getByLabel('Slug').fill('acme');
          await page.getByLabel('Components').fill('API api-1\nWeb: web-9');
          await page.getByRole('button', { name: 'Create' }).click();
          await page.locator('#components-error', { hasText: 'line 1: write it as' }).waitFor();
        },
      ],
      ['status-page-delete', `/status-pages/${id}/delete`],
      ['status-page-public', '/status/acme'],
    ];
    for (const view of VIEWS) {
      // An admin's navigation, the widest (API keys too).
      const page = await signedIn('/status-pages', view.context, ADMIN_TOKEN);
      for (const [name, path, act] of pages) {
        await page.goto(c.origin + path);
        await act?.(page);
        const measured = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          tables: [...document.querySelectorAll('.table-wrap')].filter((t) => t.scrollWidth > t.clientWidth + 1).length,
        }));
        assert.ok(measured.scrollWidth <= measured.innerWidth, `${name} at ${view.name} is ${measured.scrollWidth}px wide for a ${measured.innerWidth}px screen`);
        assert.equal(measured.tables, 0, `${name} at ${view.name}: a table scrolls sideways`);
        if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `${name}-${view.name}.png`), fullPage: true });
      }
      await page.close();
    }
  });

  it('asks before deleting, then deletes, and the address answers 404', async () => {
    const page = await signedIn(`/status-pages/${id}`);
    await page.getByRole('link', { name: /^Delete\s+Acme platform status\s*…$/ }).click();
    await page.getByRole('heading', { name: 'Delete Acme platform status?' }).waitFor();
    assert.equal((await c.h.admin('GET', `/v1/status-pages/${id}`)).status, 200, 'asking deletes nothing');
    await page.getByRole('button', { name: 'Delete Acme platform status' }).click();
    await page.getByText('Deleted. The status page answers 404 now.').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Acme platform status' }).count(), 0);
    assert.equal((await c.h.admin('GET', `/v1/status-pages/${id}`)).status, 404);
    const gone = await page.goto(`${c.origin}/status/acme`);
    assert.equal(gone?.status(), 404);
    await page.close();
  });

  // Last: every page the tests above opened.
  it('loaded nothing from another origin, and broke no script or CSP rule, on any page', () => {
    assert.deepEqual(c.problems, []);
  });
});
