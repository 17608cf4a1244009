import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { ADMIN_TOKEN, createHarness, type Harness } from '../helpers/app.ts';
import { launchBrowser, serveApp, watchedPage as watched } from '../helpers/browser.ts';

// /docs as a person sees it: Chromium loads the page from the app over HTTP, under the page's own
// Content-Security-Policy, and must render every operation of /openapi.json and call the API.

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

describe('the /docs page in a browser', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof serveApp>>;
  let origin: string;
  let browser: Browser;

  before(async () => {
    h = await createHarness();
    server = await serveApp(h.app);
    origin = server.origin;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    server?.close();
    await h?.close();
  });

  // Swagger UI builds all ~70 operations in script before the first can be waited for: ~35 s a
  // test on a 2-core machine at load 11, and past Playwright's default 30 s per step when three
  // suites ran at once (load 31). The steps still wait on the page's own events, only longer.
  const watchedPage = async () => {
    const w = await watched(browser, origin);
    w.page.setDefaultTimeout(180_000);
    return w;
  };

  it('renders every operation of /openapi.json, loading nothing from elsewhere and breaking no CSP rule', async () => {
    const doc = (await (await h.req('GET', '/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>>; webhooks?: Record<string, Record<string, unknown>> };
    // The webhooks the engine sends are operations too: Swagger UI shows each under its name.
    const documented = Object.entries({ ...doc.paths, ...doc.webhooks }).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((k) => METHODS.includes(k))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const { page, problems } = await watchedPage();
    await page.goto(`${origin}/docs`);
    await page.locator('.opblock').nth(documented.length - 1).waitFor();
    const shown = await page
      .locator('.opblock-summary')
      .evaluateAll((rows) => rows.map((r) => `${r.querySelector('.opblock-summary-method')?.textContent} ${r.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`));
    assert.deepEqual(shown.sort(), documented.sort());
    assert.match((await page.locator('.info .title').textContent()) ?? '', /^Lifeline/);
    assert.deepEqual(problems, []);
  });

  it('calls the API from the page with the token given to Authorize', async () => {
    await h.createNode('docs-web-1');
    const { page, problems } = await watchedPage();
    await page.goto(`${origin}/docs`);
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    const apiKey = page.locator('.auth-container').filter({ hasText: 'apiKey' });
    await apiKey.locator('input').fill(ADMIN_TOKEN);
    await apiKey.getByRole('button', { name: 'Apply credentials' }).click();
    await apiKey.getByRole('button', { name: 'Close' }).click();

    const listNodes = page.locator('.opblock-get').filter({ has: page.locator('[data-path="/v1/nodes"]') });
    await listNodes.locator('.opblock-summary').click();
    await listNodes.getByRole('button', { name: 'Try it out' }).click();
    await listNodes.getByRole('button', { name: 'Execute' }).click();
    const answer = listNodes.locator('.live-responses-table tr.response');
    await answer.waitFor();
    assert.equal((await answer.locator('.response-col_status').textContent())?.trim(), '200');
    assert.match((await answer.locator('.response-col_description').textContent()) ?? '', /"name": "docs-web-1"/);
    assert.deepEqual(problems, []);
  });
});
