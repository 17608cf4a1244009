import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withConsoleInBrowser } from '../helpers/console-browser.ts';

// A team's first node, added in a browser: from the empty fleet to the add form, whose kind shows
// only that kind's fields, to the token and the job's ping to paste, and the node's badge drawn
// on its page.

describe('adding a node in the console, in a browser', () => {
  it('adds a scheduled job from the empty fleet, shows the ping to paste, and draws its badge', async () => {
    await withConsoleInBrowser({ key: 'ops' }, async ({ h, origin, open }) => {
      const { page, problems } = await open('/');
      await page.getByRole('link', { name: 'Add a node' }).click();
      await page.waitForURL(`${origin}/new-node`);

      const interval = page.getByLabel('Heartbeat interval (seconds)');
      const cron = page.getByLabel('Cron expression');
      assert.ok(await interval.isVisible(), 'a heartbeat node by default: its interval shown');
      assert.ok(!(await cron.isVisible()), 'a job\'s expression hidden');
      // Out of range, then hidden by the switch: the browser must still send the form (the server
      // leaves the other kind's fields out), not refuse it over a field it cannot show.
      await interval.fill('0');
      await page.getByLabel(/Scheduled job/).check();
      assert.ok(await cron.isVisible());
      assert.ok(!(await interval.isVisible()));

      await page.getByLabel('Name').fill('nightly-backup');
      await cron.fill('0 3 * * *');
      await page.getByRole('button', { name: 'Add node' }).click();
      await page.getByRole('heading', { name: 'Added nightly-backup' }).waitFor();
      const node = (await (await h.admin('GET', '/v1/nodes/nightly-backup')).json()) as { ping_key: string; badge_id: string; schedule: { cron: string } };
      assert.equal(node.schedule.cron, '0 3 * * *');
      // Without LIFELINE_PUBLIC_URL, not the address this browser used: a placeholder to replace.
      assert.equal(await page.locator('#ping-snippet').innerText(), `curl -fsS -m 10 --retry 5 <LIFELINE_PUBLIC_URL>/ping/${node.ping_key}`);

      await page.getByRole('link', { name: 'Go to nightly-backup' }).click();
      const badge = page.getByRole('img', { name: 'nightly-backup status' });
      await badge.waitFor();
      // Drawn: the SVG the badge address answers, loaded under the console's CSP.
      assert.ok(await badge.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0));
      assert.equal(await badge.evaluate((img) => (img as HTMLImageElement).src), `${origin}/badge/${node.badge_id}.svg`);
      assert.equal(await page.locator('#badge-state-url').innerText(), `<LIFELINE_PUBLIC_URL>/badge/${node.badge_id}.svg`);
      assert.deepEqual(problems, []);
    });
  });
});
