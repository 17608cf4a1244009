/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { VIEWS } from '../helpers/browser.ts';
import { withConsoleInBrowser } from '../helpers/console-browser.ts';

// The console's navigation as a phone shows it: one row scrolling sideways, about four of its nine
// sections in view at 390 px. The section a page belongs to is in view as the page loads, wherever
// it sits in the row; a page refusing something keeps the row. LIFELINE_SCREENSHOTS=<dir> keeps
// a screenshot of each page, phone and desktop.

const SCREENSHOTS = process.env.LIFELINE_SCREENSHOTS;

/** Where the current section's link is, against the screen and the row that clips it; how far the row is scrolled. */
const current = (page: Page) =>
  page.evaluate(() => {
    const row = document.querySelector('.nav')!;
    const link = row.querySelector('a[aria-current="page"]');
    const r = link?.getBoundingClientRect();
    const box = row.getBoundingClientRect();
    return {
      label: link?.firstChild?.textContent ?? null,
      inView: r ? r.left >= Math.max(0, box.left) && r.right <= Math.min(window.innerWidth, box.right) : null,
      scrolled: row.scrollLeft,
      scrolls: row.scrollWidth > row.clientWidth,
      pageScrolled: window.scrollY,
    };
  });

/** 721-1,100 px: the navigation is one row that scrolls sideways (on a phone it wraps). */
const NARROW = (['light', 'dark'] as const).map((colorScheme) => ({ name: `narrow-${colorScheme}`, context: { viewport: { width: 800, height: 600 }, colorScheme } }));

describe('the console navigation in a browser', () => {
  it('shows every section on a 390 x 844 phone, each link whole on the screen, nothing to scroll sideways', async () => {
    await withConsoleInBrowser({}, async ({ open }) => {
      const phone = VIEWS.find((v) => v.name === 'phone-light')!;
      const { page, problems } = await open('/', { context: phone.context });
      const links = await page.evaluate(() =>
        [...document.querySelectorAll('.nav a')].map((a) => {
          const r = a.getBoundingClientRect();
          const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          return { label: a.firstChild?.textContent ?? '', left: r.left, right: r.right, top: r.top, bottom: r.bottom, onTop: !!hit && a.contains(hit) };
        }),
      );
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'console-nav-390-phone-light.png') });
      assert.deepEqual(links.map((l) => l.label), ['Fleet', 'Incidents', 'Maintenance', 'Status pages', 'Channels', 'Escalation', 'Schedules', 'People', 'API keys']);
      for (const l of links) {
        assert.ok(l.left >= 0 && l.right <= 390 && l.top >= 0 && l.bottom <= 844, `${l.label} is on the screen: ${JSON.stringify(l)}`);
        assert.ok(l.onTop, `${l.label} is shown, not clipped or covered: ${JSON.stringify(l)}`);
      }
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scroll');
      assert.deepEqual(problems, []);
    });
  });

  for (const view of VIEWS.filter((v) => v.name.endsWith('-light'))) {
    it(`shows the current section in view as the page loads, however far right it sits (${view.name})`, async () => {
      await withConsoleInBrowser({}, async ({ origin, open }) => {
        const { page, problems } = await open('/', { context: view.context });
        for (const [path, label] of [
          ['/', 'Fleet'],
          ['/status-pages', 'Status pages'],
          ['/schedules', 'Schedules'],
          ['/users', 'People'],
          ['/keys', 'API keys'],
        ] as const) {
          await page.goto(origin + path);
          const seen = await current(page);
          if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `console-nav${path.replace(/\//g, '-')}-${view.name}.png`) });
          assert.equal(seen.label, label, path);
          assert.equal(seen.inView, true, `${path}: ${JSON.stringify(seen)}`);
          assert.equal(seen.pageScrolled, 0, `${path}: only the row scrolls, never the page`);
          assert.equal(seen.scrolls, false, 'the row fits: on a desktop in one row, on a phone wrapped');
        }
        // A refusal keeps the row, with no section current.
        const refused = await page.goto(`${origin}/incidents/not-an-id`);
        assert.equal(refused?.status(), 404);
        await page.getByRole('heading', { name: 'No such incident' }).waitFor();
        assert.equal(await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'API keys' }).count(), 1);
        if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `console-nav-refusal-${view.name}.png`) });
        // The script ran under the page's CSP, without error. (Leaving a page ends its live feed's
        // request, and the refusal's 404 is logged by the browser: both are expected here.)
        assert.deepEqual(problems.filter((p) => /^(CSP|error):/.test(p)), []);
      });
    });
  }

  it('fades the row at an edge it can scroll past, 800 px wide in either scheme, and not where the row fits', async () => {
    /** How far the row fades at each edge, and the mask that does it. */
    const fades = (page: Page) =>
      page.evaluate(() => {
        const style = getComputedStyle(document.querySelector('.nav')!);
        return { left: style.getPropertyValue('--nav-fade-left'), right: style.getPropertyValue('--nav-fade-right'), mask: style.maskImage };
      });
    const fadesTo = (page: Page, left: string, right: string) =>
      page.waitForFunction(
        ([left, right]) => {
          const style = getComputedStyle(document.querySelector('.nav')!);
          return style.getPropertyValue('--nav-fade-left') === left && style.getPropertyValue('--nav-fade-right') === right;
        },
        [left, right],
      );
    await withConsoleInBrowser({}, async ({ open }) => {
      for (const view of NARROW) {
        const { page } = await open('/', { context: view.context });
        // At the start of the row: more to the right, nothing to the left.
        const start = await fades(page);
        assert.deepEqual([start.left, start.right], ['0px', '40px'], view.name);
        assert.match(start.mask, /linear-gradient/);
        if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `delref-nav-start-${view.name}.png`), clip: { x: 0, y: 0, width: 800, height: 120 } });
        await page.evaluate(() => {
          const row = document.querySelector('.nav')!;
          row.scrollLeft = row.scrollWidth / 2 - row.clientWidth / 2;
        });
        await fadesTo(page, '40px', '40px');
        await page.evaluate(() => {
          const row = document.querySelector('.nav')!;
          row.scrollLeft = row.scrollWidth;
        });
        await fadesTo(page, '40px', '0px');
        if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `delref-nav-end-${view.name}.png`), clip: { x: 0, y: 0, width: 800, height: 120 } });
        await page.close();
      }
      // 1,000 px: the row has one of its own and all nine sections fit, so nothing fades.
      const { page } = await open('/', { context: { viewport: { width: 1000, height: 800 } } });
      const fits = await page.evaluate(() => {
        const row = document.querySelector('.nav')!;
        return row.scrollWidth <= row.clientWidth;
      });
      assert.equal(fits, true);
      const fit = await fades(page);
      assert.deepEqual([fit.left, fit.right], ['0px', '0px']);
    });
  });

  it('does not fade a link reached by Tab at the edge of the scrolling row, nor fade the row in forced colours', async () => {
    await withConsoleInBrowser({}, async ({ open }) => {
      const { page } = await open('/', { context: NARROW[0]!.context });
      /** The focused link, where it sits in the row, and the row's mask. */
      const focused = () =>
        page.evaluate(() => {
          const row = document.querySelector('.nav')!;
          const link = document.activeElement;
          const r = link?.getBoundingClientRect();
          const box = row.getBoundingClientRect();
          return {
            inRow: !!link && row.contains(link),
            label: link?.textContent ?? null,
            rightGap: r ? box.right - r.right : null,
            mask: getComputedStyle(row).maskImage,
          };
        });
      // Tab along the row until a link sits within the right edge's 40 px fade.
      let seen = await focused();
      for (let tabs = 0; tabs < 20 && !(seen.inRow && seen.rightGap! < 40); tabs++) {
        await page.keyboard.press('Tab');
        seen = await focused();
      }
      assert.ok(seen.inRow && seen.rightGap! < 40, JSON.stringify(seen));
      assert.equal(seen.mask, 'none', `the focused link at the edge is not faded: ${JSON.stringify(seen)}`);
      // Focus leaves the row: its fade is back.
      await page.evaluate(() => (document.activeElement as HTMLElement).blur());
      assert.match((await focused()).mask, /linear-gradient/);
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'console-nav-focus-edge-narrow-light.png'), clip: { x: 0, y: 0, width: 800, height: 120 } });

      await page.emulateMedia({ forcedColors: 'active' });
      assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.nav')!).maskImage), 'none', 'no fade in forced colours');
    });
  });

  it('shows the current section whole on a narrow desktop whose scrollbar takes room from the row', async () => {
    await withConsoleInBrowser({ scrollbars: true }, async ({ h, open }) => {
      // Enough keys that /keys is taller than the window: its vertical scrollbar comes only once
      // the list below the navigation is drawn.
      for (let i = 0; i < 40; i++) await h.createKey('read', `reader ${String(i).padStart(2, '0')}`);
      const { page } = await open('/keys', { context: { viewport: { width: 800, height: 600 }, colorScheme: 'light' } });
      await page.getByRole('heading', { name: 'API keys' }).waitFor();
      const seen = await current(page);
      const scrollbar = await page.evaluate(() => window.innerWidth - document.documentElement.clientWidth);
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'console-nav-keys-800-scrollbars.png') });
      assert.ok(scrollbar > 0, 'the page has a classic scrollbar taking room');
      assert.equal(seen.label, 'API keys');
      assert.ok(seen.scrolls && seen.scrolled > 0, JSON.stringify(seen));
      assert.equal(seen.inView, true, JSON.stringify(seen));
    });
  });
});
