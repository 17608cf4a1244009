/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, createHarness } from '../helpers/app.ts';
import { launchBrowser, serveApp, signInToConsole, VIEWS, watchedPage } from '../helpers/browser.ts';

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

describe('the console navigation in a browser', () => {
  for (const view of VIEWS.filter((v) => v.name.endsWith('-light'))) {
    it(`shows the current section in view as the page loads, however far right it sits (${view.name})`, async () => {
      const h = await createHarness();
      const server = await serveApp(h.app);
      const browser = await launchBrowser();
      try {
        const { page, problems } = await watchedPage(browser, server.origin, view.context);
        await signInToConsole(page, server.origin, ADMIN_TOKEN, '/');
        for (const [path, label] of [
          ['/', 'Fleet'],
          ['/status-pages', 'Status pages'],
          ['/schedules', 'Schedules'],
          ['/users', 'People'],
          ['/keys', 'API keys'],
        ] as const) {
          await page.goto(server.origin + path);
          const seen = await current(page);
          if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `errnav-nav${path.replace(/\//g, '-')}-${view.name}.png`) });
          assert.equal(seen.label, label, path);
          assert.equal(seen.inView, true, `${path}: ${JSON.stringify(seen)}`);
          assert.equal(seen.pageScrolled, 0, `${path}: only the row scrolls, never the page`);
          if (!view.phone) assert.equal(seen.scrolls, false, 'on a desktop the row fits');
          // At the row's far end on a phone: the row had to scroll to show it.
          if (view.phone && path === '/keys') assert.ok(seen.scrolls && seen.scrolled > 0, JSON.stringify(seen));
        }
        // A refusal keeps the row, with no section current.
        const refused = await page.goto(`${server.origin}/incidents/not-an-id`);
        assert.equal(refused?.status(), 404);
        await page.getByRole('heading', { name: 'No such incident' }).waitFor();
        assert.equal(await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'API keys' }).count(), 1);
        if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `errnav-refusal-${view.name}.png`) });
        // The script ran under the page's CSP, without error. (Leaving a page ends its live feed's
        // request, and the refusal's 404 is logged by the browser: both are expected here.)
        assert.deepEqual(problems.filter((p) => /^(CSP|error):/.test(p)), []);
      } finally {
        await browser.close();
        server.close();
        await h.close();
      }
    });
  }
});
