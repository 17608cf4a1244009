/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { openIncidents } from '../../src/incidents/store.ts';
import { expectJson } from '../helpers/app.ts';
import { focusedAfterRendering, VIEWS } from '../helpers/browser.ts';
import { consoleInBrowser } from '../helpers/console-browser.ts';

// The console as the on-call engineer meets it at night, on a phone (390 × 844) and a laptop
// (1280 px): what the first screen holds, how much of it the navigation takes, and where a refused
// form's field is. The app over HTTP under its CSP, on the harness's manual clock (Saturday
// 2026-11-21 10:00 UTC).

const DESKTOP = VIEWS.find((v) => v.name === 'desktop-light')!.context;
const PHONE = VIEWS.find((v) => v.name === 'phone-light')!.context;

describe('the console on call, on a phone and a laptop', () => {
  // A refused form is answered 400 on purpose, which Chromium also logs as an error.
  const c = consoleInBrowser({ refusals: [400] });
  after(() => assert.deepEqual(c.problems, []));

  /** Signed in with the bootstrap admin key (every section in the navigation, its name beside it). */
  const signedIn = (path: string, context = DESKTOP) => c.signedIn(path, { context });

  const api = async (method: string, path: string, json?: unknown) => expectJson<Record<string, unknown>>(await c.h.admin(method, path, json), method === 'POST' ? 201 : 200);

  /** A node that is down and its open incident. */
  async function downIncident(name: string): Promise<string> {
    const node = await c.h.createNode(name);
    await c.h.sql`update node_health set state = 'down' where node_id = ${node.id}`;
    const [incident] = await openIncidents(c.h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: `${name} is down`, reason: 'no heartbeat', policyId: null, openedAt: c.h.clock.now() },
    ]);
    return incident!.id;
  }

  /** The header's height, the distinct tops of the navigation's entries, and whether the navigation hides some of them. */
  const header = (page: Page) =>
    page.evaluate(() => {
      const nav = document.querySelector<HTMLElement>('.nav')!;
      return {
        height: document.querySelector<HTMLElement>('header.top')!.getBoundingClientRect().height,
        rows: new Set([...nav.querySelectorAll('li')].map((li) => Math.round(li.getBoundingClientRect().top))).size,
        scrolls: nav.scrollWidth > nav.clientWidth,
        pageWidth: document.documentElement.scrollWidth,
      };
    });

  it('keeps the header one row at 1280 px with the open count, and every section of the navigation in view on a phone', async () => {
    await downIncident('nav-1');
    const desk = await signedIn('/');
    await desk.locator('.nav .count').waitFor();
    const wide = await header(desk);
    assert.equal(wide.rows, 1, 'every section on one row');
    assert.ok(!wide.scrolls, 'none of them scrolled out of sight');
    // One row: the brand's, the navigation's and the key's tops are the same.
    const tops = await desk.evaluate(() => ['.brand', 'header nav', '.who'].map((s) => Math.round(document.querySelector(s)!.getBoundingClientRect().top)));
    assert.ok(Math.max(...tops) - Math.min(...tops) <= 12, `one row: ${tops}`);
    assert.ok(wide.height < 60, `header ${wide.height} px`);
    await desk.close();

    const phone = await signedIn('/', PHONE);
    const narrow = await header(phone);
    // Wrapped, none hidden behind a sideways scroll (which showed four of nine at 390 px), in at
    // most three rows, so Acknowledge stays on the first screen (the next test).
    assert.ok(narrow.rows <= 3, `the sections on ${narrow.rows} rows`);
    assert.ok(!narrow.scrolls, 'none of them scrolled out of sight');
    assert.ok(narrow.pageWidth <= 390, `the page is ${narrow.pageWidth} px wide`);
    await phone.close();
  });

  it('puts Acknowledge on a phone’s first screen, and the caveat about resolving before the Resolve it warns of', async () => {
    const id = await downIncident('db-night');
    const page = await signedIn(`/incidents/${id}`, PHONE);
    const box = async (selector: string) => (await page.locator(selector).boundingBox())!;
    const ack = await box('#acknowledge');
    const resolve = await box('#resolve');
    const caveat = await box('.notice:has-text("is still down")');
    assert.ok(ack.y + ack.height <= 844, `Acknowledge ends at ${ack.y + ack.height} px`);
    assert.ok(ack.y < caveat.y && caveat.y < resolve.y, `Acknowledge at ${ack.y}, the caveat at ${caveat.y}, Resolve at ${resolve.y}`);
    await page.close();
  });

  /** A schedule of Ana and Ben handing over every two days, with an override of Ben's tomorrow: made once. */
  let primary: Promise<string> | undefined;
  const schedule = () =>
    (primary ??= (async () => {
      const [ana, ben] = await Promise.all(['Ana', 'Ben'].map((name) => api('POST', '/v1/users', { name, email: `${name.toLowerCase()}@example.com` })));
      const made = await api('POST', '/v1/schedules', {
        name: 'Primary',
        time_zone: 'UTC',
        layers: [{ name: 'week', user_ids: [ana!.id, ben!.id], starts_at: '2026-11-16T09:00:00Z', rotation: 'P2D' }],
      });
      await api('POST', `/v1/schedules/${made.id as string}/overrides`, { user_id: ben!.id, starts_at: '2026-11-22T10:00:00Z', ends_at: '2026-11-22T12:00:00Z' });
      return made.id as string;
    })());

  it('keys the override outline apart from every person’s colour', async () => {
    const page = await signedIn(`/schedules/${await schedule()}`);
    const fill = (who: string) => page.locator('.legend li', { hasText: who }).locator('rect').evaluate((r) => getComputedStyle(r).fill);
    const people = await Promise.all(['Ana', 'Ben', 'nobody on call'].map(fill));
    const override = await fill('override');
    assert.ok(!people.includes(override), `the override's key ${override} is none of ${people}`);
    // Unfilled, as the legend says: the page's background shows through, in either colour scheme.
    assert.equal(override, 'none');
    await page.close();
  });

  it('says a rotation in words, and takes a phone to a refused override’s field in the form’s words', async () => {
    const page = await signedIn(`/schedules/${await schedule()}`, PHONE);
    assert.match(await page.locator('.facts').innerText(), /hands over every 2 days from/);
    await page.getByLabel('Who', { exact: true }).selectOption({ label: 'Ana' });
    await page.locator('#override_from').fill('2026-11-22T10:00');
    await page.locator('#override_until').fill('2026-11-22T09:00');
    await page.getByRole('button', { name: 'Add the override' }).click();
    await page.getByText('No override added').waitFor();
    // In the form's words, beside the field and in the summary at the top, which links to it.
    assert.equal(await page.locator('#override_until-error').innerText(), 'must be after “From”');
    assert.equal(await page.locator('.notice a[href="#override_until"]').innerText(), 'Until: must be after “From”');
    // The field, 1,500 px down a phone's page, has the focus and is in view.
    assert.equal(await focusedAfterRendering(page), 'override_until');
    const until = (await page.locator('#override_until').boundingBox())!;
    assert.ok(until.y >= 0 && until.y + until.height <= 844, `the field at ${until.y} px`);
    await page.close();
  });
});
