/// <reference lib="dom" />
// (Callbacks passed to evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator } from 'playwright-core';
import type { PageView } from '../../src/statuspages/model.ts';
import { percent } from '../../src/uptime/percent.ts';
import { createHarness, expectJson, type Harness } from '../helpers/app.ts';
import { launchBrowser, serveApp, VIEWS, watchedPage } from '../helpers/browser.ts';

// A status page's days as a person without a mouse meets them: each bar reached with Tab or a tap,
// said by a screen reader (its accessible name), and written under the bars while focused; the
// page still has no script. The bars and the words about them count the days the screen shows.
// LIFELINE_SCREENSHOTS=<dir> keeps a screenshot of each screen with a day tapped.

const SCREENSHOTS = process.env.LIFELINE_SCREENSHOTS;

describe('a status page’s days, by keyboard, tap and screen reader', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof serveApp>>;
  let browser: Browser;

  before(async () => {
    h = await createHarness();
    await h.createNode('web-1', { labels: { tier: 'web' } });
    await h.createNode('db-1', { labels: { tier: 'db' } });
    const page = await h.admin('POST', '/v1/status-pages', {
      slug: 'acme',
      title: 'Acme',
      components: [
        { name: 'Website', labels: { tier: 'web' } },
        { name: 'Database', labels: { tier: 'db' } },
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

  /** What a day's bar is named: "21 Nov 2026: No data", or its word and uptime. */
  const named = (day: PageView['components'][number]['days'][number]) => {
    const date = new Date(`${day.date}T00:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
    return day.uptime_ratio === null ? new RegExp(`^${date}: [A-Z][a-z ]+$`) : new RegExp(`^${date}: [A-Z][a-z ]+, ${percent(day.uptime_ratio).replace('.', '\\.')} uptime$`);
  };
  /** The line written under the bars for this bar: its ::after, or 'none'. */
  const detail = (bar: Locator) => bar.evaluate((e) => getComputedStyle(e, '::after').content);

  for (const view of VIEWS.filter((v) => v.name.endsWith('-light'))) {
    const shown = view.phone ? 30 : 90;
    const hidden = view.phone ? 90 : 30;
    it(`says each of the ${shown} days shown to the keyboard, a tap and a screen reader (${view.name})`, async () => {
      const { page, problems } = await watchedPage(browser, server.origin, view.context);
      await page.goto(`${server.origin}/status/acme`);
      const json = await expectJson<PageView>(await h.req('GET', '/status/acme.json'), 200);
      const days = json.components[0]!.days.slice(-shown);

      // Named by the days it shows, as the words under it count them.
      assert.equal(await page.getByLabel(`Website: the last ${hidden} days`, { exact: true }).count(), 0, `nothing says ${hidden} days`);
      const website = page.getByRole('group', { name: `Website: the last ${shown} days`, exact: true });
      const bars = website.getByRole('img');
      assert.equal(await bars.count(), shown, 'a bar a day shown, no more');
      const foot = await page.locator('.bars-foot').first().innerText();
      assert.match(foot, new RegExp(`${shown} days ago`));
      assert.doesNotMatch(foot, new RegExp(`${hidden} days`), 'no word counts the days the screen does not show');

      // Tab reaches the oldest day shown, says it, and writes it under the bars; Tab goes on day by day.
      await page.keyboard.press('Tab');
      const focused = page.locator(':focus');
      const first = (await focused.getAttribute('aria-label')) ?? '';
      assert.match(first, named(days[0]!));
      assert.equal(await detail(focused), JSON.stringify(first), 'the focused day is written out');
      assert.equal(await detail(bars.nth(1)), 'none', 'one day at a time');
      for (let i = 1; i < shown; i++) await page.keyboard.press('Tab');
      assert.match((await focused.getAttribute('aria-label')) ?? '', named(days.at(-1)!), 'today is the last day shown');
      await page.keyboard.press('Tab');
      assert.match((await focused.getAttribute('aria-label')) ?? '', named(json.components[1]!.days.at(-shown)!), 'then the next component’s days');

      // A tap (a click on a desktop) on a day says it too.
      const yesterday = bars.nth(shown - 2);
      await (view.phone ? yesterday.tap() : yesterday.click());
      assert.equal(await yesterday.evaluate((e) => e === document.activeElement), true, 'the tapped day has focus');
      const label = (await yesterday.getAttribute('aria-label')) ?? '';
      assert.match(label, named(days.at(-2)!));
      assert.equal(await detail(yesterday), JSON.stringify(label));
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `status-day-${view.name}.png`) });
      assert.equal(await page.locator('script').count(), 0, 'without a script');
      assert.deepEqual(problems, []);
    });
  }
});
