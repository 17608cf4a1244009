/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { reread, VIEWS } from '../helpers/browser.ts';
import { withConsoleInBrowser } from '../helpers/console-browser.ts';

// Fleet during an outage over five regions, at 390 and 1280 px: "Where it is" says it above the
// rows, a list under its heading, each value a link named by its label and count, wrapping on a
// phone rather than widening the page (a label value may be 256 characters).
// LIFELINE_SCREENSHOTS=<dir> keeps a full-page screenshot of each width.

const SCREENSHOTS = process.env.LIFELINE_SCREENSHOTS;

describe('Fleet during an outage, in a browser', () => {
  for (const view of VIEWS.filter((v) => v.name.endsWith('-light'))) {
    it(`says where the outage is, by label, without widening the page (${view.name})`, async () => {
      await withConsoleInBrowser({}, async ({ h, open }) => {
        const regions = ['eu-west', 'us-east', 'ap-south', 'eu-central', 'us-west'];
        for (let i = 0; i < 30; i++) {
          const labels: Record<string, string> = { region: regions[i % 5]!, zone: `${regions[i % 5]}-${(i % 3) + 1}`, role: i % 2 ? 'web' : 'db', rack: `rack-${i % 7}` };
          if (i === 3) labels.owner = 'x'.repeat(120);
          const node = await h.createNode(`node-${String(i).padStart(2, '0')}`, { labels });
          await h.sql`update node_health set state = ${i % 6 === 5 ? 'degraded' : 'down'}, reason = 'no heartbeat for 90 s' where node_id = ${node.id}`;
        }
        const { page, problems } = await open('/', { context: view.context });
        const summary = page.getByRole('region', { name: 'Where it is' });
        await summary.getByRole('heading', { name: 'Where it is' }).waitFor();
        if (SCREENSHOTS) {
          mkdirSync(SCREENSHOTS, { recursive: true });
          await page.screenshot({ path: join(SCREENSHOTS, `fleet-outage-${view.name}.png`), fullPage: true });
          await summary.screenshot({ path: join(SCREENSHOTS, `fleet-outage-summary-${view.name}.png`) });
        }
        // Six nodes a region, five down and one degraded.
        assert.equal(await summary.getByRole('link', { name: 'region=eu-west: 5 down, 1 degraded' }).count(), 1, await summary.ariaSnapshot());
        assert.equal(await summary.getByRole('link', { name: /^region=/ }).count(), 5);
        assert.equal(await summary.getByRole('link', { name: /^owner=x{120}: 1 down$/ }).count(), 1);
        const wide = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
        assert.ok(wide.page <= wide.screen, `the page is ${wide.page} px wide on a ${wide.screen} px screen`);
        // Re-read live with the counts: a node of eu-west back up is one fewer there.
        await h.sql`update node_health set state = 'healthy' from nodes n where n.id = node_id and n.name = 'node-00'`;
        await reread(page, 'fleet-live', 'node.state_changed');
        assert.equal(await summary.getByRole('link', { name: 'region=eu-west: 4 down, 1 degraded' }).count(), 1, await summary.ariaSnapshot());
        await summary.getByRole('link', { name: 'region=eu-west: 4 down, 1 degraded' }).click();
        await page.waitForURL(/label=region%3Deu-west/);
        assert.equal(await page.locator('tbody tr').count(), 6);
        // A row's tag leads to its label's nodes among the page's: eu-west's databases, node-00, 10 and 20.
        await page.locator('tbody tr').first().getByRole('link', { name: 'role=db' }).click();
        await page.waitForURL(/\?label=region%3Deu-west&label=role%3Ddb$/);
        assert.equal(await page.locator('tbody tr').count(), 3);
        const wider = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
        assert.ok(wider.page <= wider.screen, `with two label fields the page is ${wider.page} px wide on a ${wider.screen} px screen`);
        assert.deepEqual(problems.filter((p) => /^(CSP|error):/.test(p)), []);
      });
    });
  }
});
