/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createHarness, type Harness } from '../helpers/app.ts';
import { launchBrowser, serveApp, signInToConsole, watchedPage } from '../helpers/browser.ts';

// "Saved." takes the focus once, as the form's answer, so a screen reader reads it; the same
// address opened again (reloaded, Back to it, a bookmark) is a page being read, not an answer.

describe("an action's outcome in the console, in a browser", () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof serveApp>>;
  let browser: Browser;
  let id = '';
  const problems: string[] = [];

  before(async () => {
    h = await createHarness();
    server = await serveApp(h.app);
    browser = await launchBrowser();
    await h.createNode('web-1', {});
    const res = await h.admin('POST', '/v1/status-pages', { slug: 'acme', title: 'Acme', components: [{ name: 'Web', node_ids: ['web-1'] }] });
    assert.equal(res.status, 201);
    id = ((await res.json()) as { id: string }).id;
  });
  after(async () => {
    await browser?.close();
    server?.close();
    await h?.close();
    assert.deepEqual(problems, []);
  });

  /** Whether the "Saved." notice has the focus, once the page has drawn a frame after loading (autofocus is applied at a frame). */
  const noticeFocused = (page: Page) =>
    page.evaluate(
      () =>
        new Promise<boolean>((resolve) =>
          requestAnimationFrame(() => requestAnimationFrame(() => resolve(document.activeElement?.textContent?.trim() === 'Saved.'))),
        ),
    );

  it('focuses "Saved." right after saving, and not on a reload, Back, or the address opened again', async () => {
    const watched = await watchedPage(browser, server.origin, { viewport: { width: 1280, height: 900 } });
    const page = watched.page;
    page.on('close', () => problems.push(...watched.problems));
    await signInToConsole(page, server.origin, (await h.createKey('write', 'laptop')).secret, `/status-pages/${id}`);
    await page.getByLabel('Title').fill('Acme platform');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\?done=saved$/);
    await page.waitForFunction(() => document.activeElement?.textContent?.trim() === 'Saved.');
    const saved = page.url();

    await page.reload({ waitUntil: 'load' });
    await page.getByText('Saved.').waitFor();
    assert.equal(await noticeFocused(page), false, 'a reload');

    await page.goto(`${server.origin}/status-pages`, { waitUntil: 'load' });
    await page.goBack({ waitUntil: 'load' });
    assert.equal(page.url(), saved);
    assert.equal(await noticeFocused(page), false, 'Back');

    await page.goto(saved, { waitUntil: 'load' });
    assert.equal(await noticeFocused(page), false, 'the address opened again');
    await page.close();
  });
});
