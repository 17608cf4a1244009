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
import { runningEngine } from '../helpers/running-engine.ts';

// A status page's days as a person without a mouse meets them: each bar reached with a tap, said by
// a screen reader (its accessible name), and written under the bars while focused; the keyboard
// reads them in a list per component, one Tab stop each. The page still has no script. The bars
// and the words about them count the days the screen shows.
// LIFELINE_SCREENSHOTS=<dir> keeps a screenshot of each screen with a day tapped.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SCREENSHOTS = process.env.LIFELINE_SCREENSHOTS;

describe('a status page’s days, by keyboard, tap and screen reader', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof serveApp>>;
  let browser: Browser;

  before(async () => {
    h = await createHarness();
    // Two days watched, the second with the website down half of it: the days before are "no data".
    const engine = runningEngine(h, { gapMs: 2 * DAY });
    try {
      h.clock.set('2026-11-19T00:00:00.000Z');
      for (const [name, tier] of [['web-1', 'web'], ['db-1', 'db']] as const) {
        const n = await h.createNode(name, { labels: { tier }, heartbeat_interval_seconds: 86_400, failures_for_down: 1 });
        engine.agents.set(name, { token: n.token, status: 'ok' });
      }
      await engine.step();
      await engine.liveUntil('2026-11-20T12:00:00.000Z', 12 * HOUR);
      engine.agents.set('web-1', { ...engine.agents.get('web-1')!, status: 'failing' });
      await engine.step();
      await engine.liveUntil('2026-11-21T00:00:00.000Z', 12 * HOUR);
      h.clock.set('2026-11-21T09:41:00.000Z');
    } finally {
      await engine.close();
    }
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
  const dateOf = (day: PageView['components'][number]['days'][number]) => new Date(`${day.date}T00:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const named = (day: PageView['components'][number]['days'][number]) => {
    const date = dateOf(day);
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

      // Tab goes from one component's list of days to the next one's, past no bar: 20 components
      // would otherwise be 1,800 stops. The list holds each day's figures.
      const summaries = page.locator('summary', { hasText: 'Every day in figures' });
      assert.equal(await summaries.count(), 2, 'one list of days per component');
      await summaries.first().focus();
      await page.keyboard.press('Tab');
      const focused = page.locator(':focus');
      assert.equal(await focused.evaluate((e) => e.textContent), 'Every day in figures: Database', 'the next stop is the next component’s list');
      assert.equal(await detail(bars.first()), 'none', 'no day was written out on the way');
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Enter');
      const list = page.locator('details.days').first();
      assert.equal(await list.evaluate((e) => (e as HTMLDetailsElement).open), true, 'Enter opens the list');
      const today = (await bars.last().getAttribute('aria-label')) ?? '';
      assert.match(today, named(days.at(-1)!));
      const [, date, word, ratio] = /^(.+): ([A-Za-z ]+?)(?:, (\S+) uptime)?$/.exec(today)!;
      const cells = await list.getByRole('row').nth(1).getByRole('cell').allInnerTexts();
      assert.deepEqual(cells.map((c) => c.trim()), [date, word, ratio ?? ''], 'today first, with the figures its bar is named by');
      assert.equal(days.at(-2)!.status, 'down', 'yesterday was down');
      assert.deepEqual(await list.getByRole('row').nth(2).getByRole('cell').allInnerTexts(), ['20 Nov 2026', 'Down', percent(days.at(-2)!.uptime_ratio)]);
      // As many days as the bars show: a phone's list starts 30 days ago, as its bars do.
      assert.match(await list.getByRole('row').last().innerText(), new RegExp(`^${dateOf(days[0]!)} to 18 Nov 2026\\s+No data\\s*$`), 'the days before any data that the bars show, one row');
      assert.equal(await list.getByRole('row').count(), 5, 'a heading, the three days with data, the days without');

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

  // The line under the bars wraps on a phone ("30 days ago" over two lines, the uptime over two or
  // three): the tapped day's line, one line high, covered only its first, and "ago" or "Nov 2026"
  // showed under it. The screen under the bars must look the same as with that line taken away.
  const narrow = (width: number, colorScheme: 'light' | 'dark') =>
    ({ name: `${width}px-${colorScheme}`, context: { viewport: { width, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme } }) as const;
  const screens = [
    ...[390, 320].flatMap((w) => [narrow(w, 'light'), narrow(w, 'dark'), { ...narrow(w, 'light'), forced: true }]),
    ...VIEWS.filter((v) => !v.phone),
  ];
  for (const screen of screens) {
    const name = `${screen.name}${'forced' in screen ? '-forced-colors' : ''}`;
    it(`shows no word of the line under the bars beside a tapped day (${name})`, async () => {
      const { page, problems } = await watchedPage(browser, server.origin, screen.context);
      if ('forced' in screen) await page.emulateMedia({ forcedColors: 'active' });
      await page.goto(`${server.origin}/status/acme`);
      const website = page.locator('.component').first();
      const bar = website.locator('.bars i').nth(-2);
      await ('hasTouch' in screen.context ? bar.tap() : bar.click());
      assert.equal(await bar.evaluate((e) => e === document.activeElement), true, 'the tapped day has focus');
      const foot = website.locator('.bars-foot');
      const box = (await foot.boundingBox())!;
      // Down to the list of days under it, which the day's line may cover too but must not push.
      const below = (await website.locator('details.days summary').boundingBox())!;
      const clip = { x: box.x, y: box.y, width: box.width, height: below.y + below.height - box.y };
      const shot = () => page.screenshot({ clip, animations: 'disabled', caret: 'hide' });
      const withLine = await shot();
      const words = await foot.innerText();
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `status-day-line-${name}.png`) });
      await foot.evaluate((e) => void (e.style.visibility = 'hidden'));
      const withoutLine = await shot();
      assert.equal(await bar.evaluate((e) => e === document.activeElement), true, 'still the tapped day');
      assert.ok(withLine.equals(withoutLine), `words of the line under the bars (${words}) show beside the tapped day`);
      assert.deepEqual(problems, []);
    });
  }
});
