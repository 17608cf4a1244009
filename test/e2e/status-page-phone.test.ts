/// <reference lib="dom" />
// (Callbacks passed to evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import type { Browser } from 'playwright-core';
import { pageView, type Member, type StatusPage } from '../../src/statuspages/model.ts';
import { assetRoutes } from '../../src/web/assets.ts';
import { renderStatusPage } from '../../src/web/status-page.tsx';
import { launchBrowser, serveApp, VIEWS, watchedPage } from '../helpers/browser.ts';

// A component's head on a phone: its name beside its state, the longest state a page shows being
// maintenance until a time on the window's clock and in UTC. The name shrank to one character a
// line ("Datab" over "ase") and the dot to an oval. The page has no script: it is looked at with
// JavaScript off too. LIFELINE_SCREENSHOTS=<dir> keeps a screenshot of each screen.

const SCREENSHOTS = process.env.LIFELINE_SCREENSHOTS;

describe('a status page’s components on a phone', () => {
  let server: Awaited<ReturnType<typeof serveApp>>;
  let browser: Browser;

  before(async () => {
    const now = Date.parse('2026-11-21T21:30:00.000Z');
    const page: StatusPage = {
      id: 'p',
      slug: 'acme',
      title: 'Acme',
      description: null,
      public: true,
      show_nodes: false,
      components: [
        { id: 'c-db', name: 'Database', node_ids: ['db'], labels: {} },
        { id: 'c-api', name: 'Payments API', node_ids: ['api'], labels: {} },
      ],
      created_at: new Date(now),
      updated_at: new Date(now),
    };
    const member = (id: string, state: Member['state']): Member => ({ id, name: id, labels: {}, state, since: new Date(now - 3_600_000), reason: null });
    const window = { starts_at: new Date(now - 3_600_000), ends_at: new Date('2026-11-21T23:06:00.000Z'), time_zone: 'America/New_York', node_ids: ['db', 'api'] };
    const html = await renderStatusPage(pageView(page, [[member('db', 'maintenance')], [member('api', 'maintenance')]], [], [], [], [window], now));
    const app = new Hono();
    app.route('/', assetRoutes());
    app.get('/status/acme', (c) => c.html(html));
    server = await serveApp(app);
    browser = await launchBrowser();
    if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  const phones = VIEWS.filter((v) => v.phone).flatMap((v) => [v, { ...v, name: `${v.name}-no-js`, context: { ...v.context, javaScriptEnabled: false } }]);
  for (const view of phones) {
    it(`keeps each component's name in whole words and its state's dot round (${view.name})`, async () => {
      const { page, problems } = await watchedPage(browser, server.origin, view.context);
      await page.goto(`${server.origin}/status/acme`);
      assert.match((await page.locator('.component .state').first().textContent()) ?? '', /^Maintenance until 18:06 America\/New_York \(23:06 UTC\)$/);
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `phone-components-${view.name}.png`), fullPage: true });
      const heads = await page.locator('.component-head').evaluateAll((heads) =>
        heads.map((head) => {
          const name = head.querySelector<HTMLElement>('.component-name')!;
          // The widest word of the name, measured as a span of its own font in the same place.
          const probe = document.createElement('span');
          probe.style.whiteSpace = 'nowrap';
          const widest = Math.max(
            ...name.textContent!.split(' ').map((word) => {
              probe.textContent = word;
              name.append(probe);
              const width = probe.getBoundingClientRect().width;
              probe.remove();
              return width;
            }),
          );
          const dot = getComputedStyle(head.querySelector('.state')!, '::before');
          return { name: name.textContent, width: name.getBoundingClientRect().width, widest, dot: [dot.width, dot.height] };
        }),
      );
      for (const head of heads) {
        assert.equal(head.dot[0], head.dot[1], `the dot beside "${head.name}" is ${head.dot.join(' by ')}`);
        assert.ok(head.width >= head.widest, `"${head.name}" is ${head.width} px wide, its widest word ${head.widest} px`);
      }
      assert.deepEqual(problems, []);
    });
  }
});
