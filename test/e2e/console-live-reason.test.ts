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

  /**
   * Signed in at `path`, its live feed connected, recording the event that set off each re-read of
   * its live region (htmx 4: `htmx:before:request`, the trigger in `detail.ctx.sourceEvent`).
   */
  async function live(path: string): Promise<Page> {
    const { page } = await watchedPage(e.browser, e.origin, { viewport: { width: 1280, height: 900 } });
    await page.addInitScript({
      content:
        "document.addEventListener('htmx:sse:after:connection', () => { window.connected = true; }, true);" +
        "window.rereadOn = []; document.addEventListener('htmx:before:request', (ev) => { if (ev.target.id?.endsWith('-live')) window.rereadOn.push(ev.detail.ctx.sourceEvent?.type); }, true);",
    });
    await signInToConsole(page, e.origin, e.admin, path);
    await page.waitForFunction(() => (window as unknown as { connected?: boolean }).connected === true, null, { timeout: PATIENCE_MS });
    return page;
  }
  /** Until the page's region re-reads because of a reason change (not its 30 s re-read, nor a reconnection). */
  const rereadOnReason = (page: Page) =>
    page.waitForFunction(() => (window as unknown as { rereadOn: string[] }).rereadOn.includes('node.reason_changed'), null, { timeout: PATIENCE_MS });

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
    // Re-read on the feed's event, not on the regions' 30 s re-read.
    await rereadOnReason(fleet);
    await rereadOnReason(incident);
    await row.filter({ hasText: now }).waitFor({ timeout: PATIENCE_MS });
    await incident.locator('#why').filter({ hasText: `${now} (opened for: agent reported failing (failing checks: disk))` }).waitFor({ timeout: PATIENCE_MS });
    await fleet.context().close();
    await incident.context().close();
  });
});
