/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { listApiKeys } from '../../src/access/store.ts';
import type { Harness } from '../helpers/app.ts';
import { withConsoleInBrowser } from '../helpers/console-browser.ts';

// The console's API keys page in a browser: keys in name order across its pages of 100, whatever
// order they were made in (ids are random, so making them in a shuffled order is enough); and a
// new key's secret, shown on the first answer only, still shown when the form is sent again.

const COUNT = 105;
const deploy = (i: number) => `deploy-${String(i).padStart(3, '0')}`;

/** The names in the table's Key column, without the "yours, this session" note. */
const names = (page: Page) => page.evaluate(() => [...document.querySelectorAll('td[data-label="Key"]')].map((td) => td.firstChild?.textContent ?? ''));

describe('API keys in the console, in a browser', () => {
  it('lists keys by name, 100 a page, the next page going on where the first stopped and leading back to it', async () => {
    await withConsoleInBrowser({ key: 'console admin', scope: 'admin' }, async ({ h, origin, open }) => {
      // 37 and 105 share no factor: i * 37 mod 105 visits every number once, out of order.
      for (let i = 0; i < COUNT; i++) await h.createKey('read', deploy((i * 37) % COUNT));
      const { page, problems } = await open('/keys');
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
    });
  });

  it('sends the new key form once: clicking again and pressing Enter while it is sent keep the answer with the secret', async () => {
    // The first POST /keys is carried out in full (the key is made), and its answer held until the
    // page has been clicked again: the slow answer a second click or Enter races.
    let posts = 0;
    let created!: () => void;
    const made = new Promise<void>((resolve) => (created = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const serve = (h: Harness) => ({
      fetch: async (req: Request) => {
        if (req.method !== 'POST' || new URL(req.url).pathname !== '/keys') return h.app.fetch(req);
        const first = ++posts === 1;
        const res = await h.app.fetch(req);
        if (first) {
          created();
          await answered;
        }
        return res;
      },
    });
    try {
      await withConsoleInBrowser({ key: 'console admin', scope: 'admin', serve }, async ({ h, origin, open }) => {
        // Playwright's own window, 1280 × 720.
        const { page, problems } = await open('/keys', { context: {} });
        // What each submit of the form came to, seen after the page's own handlers: sent or not, and
        // whether its button then said so.
        const submits: Array<{ sent: boolean; marked: string | null }> = [];
        let thirdSubmit!: () => void;
        const submitted = new Promise<void>((resolve) => (thirdSubmit = resolve));
        await page.exposeFunction('submitted', (sent: boolean, marked: string | null) => {
          if (submits.push({ sent, marked }) === 3) thirdSubmit();
        });
        await page.evaluate(() =>
          window.addEventListener('submit', (e) => {
            const w = window as unknown as { submitted: (sent: boolean, marked: string | null) => void };
            w.submitted(!e.defaultPrevented, (e.target as HTMLFormElement).querySelector('button')?.getAttribute('aria-disabled') ?? null);
          }),
        );
        await page.getByLabel('Name').fill('ci deploy');
        const create = page.getByRole('button', { name: 'Create key' });
        const box = await create.boundingBox();
        assert.ok(box);
        const loaded = page.waitForEvent('load');
        // noWaitAfter: the click would wait for the page it leads to, whose answer is held.
        await create.click({ noWaitAfter: true });
        await made;
        // Locators wait while a navigation is pending, and for an aria-disabled button to be enabled;
        // the mouse and keyboard, as a person's, do not.
        await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
        await page.keyboard.press('Enter');
        await submitted;
        answer();
        await loaded;
        assert.deepEqual(submits, [
          { sent: true, marked: 'true' },
          { sent: false, marked: 'true' },
          { sent: false, marked: 'true' },
        ]);
        const keys = (await listApiKeys(h.sql, undefined, 10)).filter((k) => k.name === 'ci deploy');
        assert.equal(keys.length, 1);
        assert.equal(posts, 1, 'the form was sent once');
        // The first answer, not the second's /keys?done=already, which has no secret.
        assert.equal(page.url(), `${origin}/keys`);
        const shown = page.locator('#secret');
        assert.equal(await shown.count(), 1);
        const secret = (await shown.textContent())?.trim() ?? '';
        assert.equal((await h.req('GET', '/v1/nodes', { token: secret })).status, 200, 'the secret shown is the new key\'s');
        assert.deepEqual(problems, []);
      });
    } finally {
      answer();
    }
  });
});
