import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createHarness, expectJson, type Harness } from '../helpers/app.ts';
import { launchBrowser, serveApp, signInToConsole, watchedPage } from '../helpers/browser.ts';

// A maintenance window typed into the console as a person does, on the harness's manual clock
// (2026-11-21 10:00 UTC): the end presets pick an end without wiping what was typed, and Enter
// still starts the window.

describe('a maintenance window in the console, in a browser', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof serveApp>>;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  before(async () => {
    h = await createHarness();
    server = await serveApp(h.app);
    browser = await launchBrowser();
    const key = (await h.createKey('write', 'on-call laptop')).secret;
    await h.createNode('db-1');
    await h.createNode('db-2');
    ({ page, problems } = await watchedPage(browser, server.origin, { viewport: { width: 1280, height: 900 } }));
    await signInToConsole(page, server.origin, key, '/maintenance');
  });
  after(async () => {
    await browser?.close();
    server?.close();
    await h?.close();
  });

  it('keeps the nodes and reason typed when "4 h" picks the end, then starts the window on Enter', async () => {
    await page.getByLabel('Nodes').fill('db-1, db-2');
    await page.getByLabel('Why').fill('disk swap');
    await page.getByRole('button', { name: '4 h', exact: true }).click();
    await page.waitForURL(`${server.origin}/maintenance#new-window`);
    await page.locator('button[name="hours"][value="4"][aria-current="true"]').waitFor();
    assert.equal(await page.getByLabel('Nodes').inputValue(), 'db-1, db-2');
    assert.equal(await page.getByLabel('Why').inputValue(), 'disk swap');
    assert.equal(await page.getByLabel('Until (UTC)').inputValue(), '2026-11-21T14:00');

    // The button Enter presses is out of sight: one "Start the window" shows.
    assert.equal(await page.getByRole('button', { name: 'Start the window' }).count(), 1);
    assert.equal(await page.locator('button[hidden]').isVisible(), false);
    await page.getByLabel('Why').press('Enter');
    await page.getByText('The window is on').waitFor();
    const windows = (await expectJson<{ items: Array<{ node_ids: string[]; ends_at: string; reason: string }> }>(await h.admin('GET', '/v1/maintenances'), 200)).items;
    assert.deepEqual(
      windows.map((w) => [w.node_ids.length, w.ends_at, w.reason]),
      [[2, '2026-11-21T14:00:00.000Z', 'disk swap']],
    );
    assert.deepEqual(problems, []);
  });
});
