/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { rendered } from '../helpers/browser.ts';
import { consoleInBrowser } from '../helpers/console-browser.ts';

// "Saved." takes the focus once, as the form's answer, so a screen reader reads it; the same
// address opened again (reloaded, Back to it, a bookmark) is a page being read, not an answer.

describe("an action's outcome in the console, in a browser", () => {
  const c = consoleInBrowser({ key: 'laptop' });
  let id = '';

  before(async () => {
    await c.h.createNode('web-1', {});
    const res = await c.h.admin('POST', '/v1/status-pages', { slug: 'acme', title: 'Acme', components: [{ name: 'Web', node_ids: ['web-1'] }] });
    assert.equal(res.status, 201);
    id = ((await res.json()) as { id: string }).id;
  });
  after(() => assert.deepEqual(c.problems, []));

  /** Whether the "Saved." notice has the focus, once the page has rendered (`rendered`). */
  const noticeFocused = async (page: Page) => {
    await rendered(page);
    return page.evaluate(() => document.activeElement?.textContent?.trim() === 'Saved.');
  };

  it('focuses "Saved." right after saving, and not on a reload, Back, or the address opened again', async () => {
    const page = await c.signedIn(`/status-pages/${id}`);
    await page.getByLabel('Title').fill('Acme platform');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\?done=saved$/);
    await page.waitForFunction(() => document.activeElement?.textContent?.trim() === 'Saved.');
    const saved = page.url();

    await page.reload({ waitUntil: 'load' });
    await page.getByText('Saved.').waitFor();
    assert.equal(await noticeFocused(page), false, 'a reload');

    await page.goto(`${c.origin}/status-pages`, { waitUntil: 'load' });
    await page.goBack({ waitUntil: 'load' });
    assert.equal(page.url(), saved);
    assert.equal(await noticeFocused(page), false, 'Back');

    await page.goto(saved, { waitUntil: 'load' });
    assert.equal(await noticeFocused(page), false, 'the address opened again');
    await page.close();
  });
});
