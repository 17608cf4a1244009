/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { signInToConsole, watchedPage } from '../helpers/browser.ts';
import { engineInBrowser } from '../helpers/console-browser.ts';
import { PATIENCE_MS, until } from '../helpers/wait.ts';

// A node that stays down for a new reason, on console pages left open: Fleet's row and the incident
// page's Why follow it as the feed reports it (node.reason_changed), with no transition to re-read
// them on. A real engine (every role, its own database) judges the node; a real Chromium shows them.

describe('the console follows a down node to its new reason', () => {
  const e = engineInBrowser();
  const { api } = e;

  /** Signed in at `path`, its live feed connected, counting the reason events its feed hands the page. */
  async function live(path: string): Promise<Page> {
    const { page } = await watchedPage(e.browser, e.origin, { viewport: { width: 1280, height: 900 } });
    await page.addInitScript({
      content:
        "document.addEventListener('htmx:sse:after:connection', () => { window.connected = true; }, true);" +
        "window.heard = 0; document.addEventListener('DOMContentLoaded', () => document.getElementById('live')?.addEventListener('node.reason_changed', () => { window.heard += 1; }));",
    });
    await signInToConsole(page, e.origin, e.admin, path);
    await page.waitForFunction(() => (window as unknown as { connected?: boolean }).connected === true, null, { timeout: PATIENCE_MS });
    return page;
  }
  const heard = (page: Page) => page.evaluate(() => (window as unknown as { heard: number }).heard);

  it('shows the new reason on Fleet and on the incident page without a reload', async () => {
    const node = (await api('POST', '/v1/nodes', { name: 'lr-1', heartbeat_interval_seconds: 3600 })) as { id: string; token: string };
    await api('POST', '/v1/heartbeats', { status: 'failing', checks: { disk: { status: 'fail', message: 'disk full' } } }, node.token);
    const id = await until('an open incident', async () => ((await api('GET', `/v1/incidents?status=open&node_id=${node.id}`)).items as Array<{ id: string }>)[0]?.id);
    const fleet = await live('/?q=lr-1');
    const incident = await live(`/incidents/${id}`);
    const row = fleet.locator('#fleet-live td.reason');
    assert.equal(await row.textContent(), 'agent reported failing (failing checks: disk)');
    assert.equal(await incident.locator('#why').textContent(), 'agent reported failing (failing checks: disk)');

    await api('POST', '/v1/heartbeats', { status: 'failing', checks: { memory: { status: 'fail', message: 'out of memory' } } }, node.token);
    const now = 'agent reported failing (failing checks: memory)';
    await row.filter({ hasText: now }).waitFor({ timeout: PATIENCE_MS });
    await incident.locator('#why').filter({ hasText: `${now} (opened for: agent reported failing (failing checks: disk))` }).waitFor({ timeout: PATIENCE_MS });
    // Through the feed, not the regions' 30 s re-read.
    assert.ok((await heard(fleet)) >= 1, 'Fleet heard the reason change');
    assert.ok((await heard(incident)) >= 1, 'the incident page heard the reason change');
    await fleet.context().close();
    await incident.context().close();
  });
});
