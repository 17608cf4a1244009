/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { createHarness } from '../helpers/app.ts';
import { launchBrowser, serveApp, signInToConsole, watchedPage } from '../helpers/browser.ts';

// The console's API keys page in a browser: keys in name order across its pages of 100, whatever
// order they were made in (ids are random, so making them in a shuffled order is enough).

const COUNT = 105;
const deploy = (i: number) => `deploy-${String(i).padStart(3, '0')}`;

/** The names in the table's Key column, without the "yours, this session" note. */
const names = (page: Page) => page.evaluate(() => [...document.querySelectorAll('td[data-label="Key"]')].map((td) => td.firstChild?.textContent ?? ''));

describe('API keys in the console, in a browser', () => {
  it('lists keys by name, 100 a page, the next page going on where the first stopped and leading back to it', async () => {
    const h = await createHarness();
    const server = await serveApp(h.app);
    const browser = await launchBrowser();
    try {
      const adminKey = (await h.createKey('admin', 'console admin')).secret;
      // 37 and 105 share no factor: i * 37 mod 105 visits every number once, out of order.
      for (let i = 0; i < COUNT; i++) await h.createKey('read', deploy((i * 37) % COUNT));
      const { page, problems } = await watchedPage(browser, server.origin, { viewport: { width: 1280, height: 900 } });
      await signInToConsole(page, server.origin, adminKey, '/keys');
      // The harness's bootstrap-admin, then the key signed in with, then the deploy keys.
      const all = ['bootstrap-admin', 'console admin', ...Array.from({ length: COUNT }, (_, i) => deploy(i))];
      assert.deepEqual(await names(page), all.slice(0, 100));
      const first = page.getByRole('link', { name: '← First page' });
      assert.equal(await first.count(), 0, 'the first page has no way back to itself');
      await page.getByRole('link', { name: 'Next →' }).click();
      await page.waitForURL(/\/keys\?after=/);
      assert.deepEqual(await names(page), all.slice(100));
      assert.equal(await page.getByRole('link', { name: 'Next →' }).count(), 0, 'the last page has no next');
      await first.click();
      await page.waitForURL((url) => url.pathname === '/keys' && url.search === '');
      assert.deepEqual(await names(page), all.slice(0, 100));
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      server.close();
      await h.close();
    }
  });
});
