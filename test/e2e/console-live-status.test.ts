/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { reread, signInToConsole, watchedPage } from '../helpers/browser.ts';
import { engineInBrowser } from '../helpers/console-browser.ts';
import { PATIENCE_MS, until } from '../helpers/wait.ts';

// What the console's live regions change, as a screen reader hears it: the page's one role="status"
// element says a node's transition, the navigation's new count and a colleague's acknowledgement,
// and a re-read that changes nothing says nothing. A real engine (every role, its own database)
// moves the nodes; a real Chromium shows the pages.

describe('the console says live changes to a screen reader', () => {
  const e = engineInBrowser();
  const { api } = e;

  /** A node reporting ok (healthy), on an hour-long interval: only its heartbeats move it. */
  async function healthyNode(name: string): Promise<{ id: string; token: string }> {
    const node = (await api('POST', '/v1/nodes', { name, heartbeat_interval_seconds: 3600 })) as { id: string; token: string };
    await api('POST', '/v1/heartbeats', { status: 'ok' }, node.token);
    return node;
  }
  const openIncident = (nodeId: string) =>
    until('an open incident', async () => ((await api('GET', `/v1/incidents?status=open&node_id=${nodeId}`)).items as Array<{ id: string }>)[0]?.id);

  /** Signed in at `path`, its live feed connected. */
  async function live(path: string, context: BrowserContextOptions = { viewport: { width: 1280, height: 900 } }) {
    const { page, problems } = await watchedPage(e.browser, e.origin, context);
    await page.addInitScript({ content: "document.addEventListener('htmx:sse:after:connection', () => { window.connected = true; }, true);" });
    await signInToConsole(page, e.origin, e.admin, path);
    await page.waitForFunction(() => (window as unknown as { connected?: boolean }).connected === true, null, { timeout: PATIENCE_MS });
    // Every message the status element says, in order: a later one replaces an earlier one on
    // screen, and which of two changes comes first (a node's, its incident's count) is the feed's.
    await page.evaluate(() => {
      const w = window as unknown as { saidAll: string[] };
      w.saidAll = [];
      const out = document.getElementById('live-status');
      if (out) new MutationObserver(() => w.saidAll.push(out.textContent ?? '')).observe(out, { childList: true, characterData: true, subtree: true });
    });
    return { page, problems };
  }

  /** Waits for the status element to have said `words`, whatever it said since. */
  const hasSaid = (page: Page, words: string) =>
    page.waitForFunction((w) => (window as unknown as { saidAll: string[] }).saidAll.some((t) => t.includes(w)), words, { timeout: PATIENCE_MS });

  const said = (page: Page) => page.evaluate(() => document.getElementById('live-status')?.textContent ?? null);

  it('says a node going down on Fleet, then the new incident in the count, and nothing for a re-read that changes nothing', async () => {
    const node = await healthyNode('say-1');
    const { page, problems } = await live('/?q=say-');
    const status = page.locator('#live-status[role="status"]');
    assert.equal(await status.count(), 1, 'one status element');
    assert.equal(await said(page), '');

    await reread(page, 'fleet-live', 'node.state_changed');
    assert.equal(await said(page), '', 'a re-read that changes nothing says nothing');

    await api('POST', '/v1/heartbeats', { status: 'failing' }, node.token);
    await status.filter({ hasText: 'say-1 is now down' }).waitFor({ state: 'attached', timeout: PATIENCE_MS });
    await openIncident(node.id);
    await hasSaid(page, '1 open incident (was 0)');

    const before = await said(page);
    await reread(page, 'fleet-live', 'node.state_changed');
    assert.equal(await said(page), before, 'nothing new to say');
    assert.deepEqual(problems.filter((p) => /^(CSP|error):/.test(p)), []);
    await page.context().close();
  });

  it('says a colleague acknowledged the incident being viewed', async () => {
    const node = await healthyNode('say-ack');
    await api('POST', '/v1/heartbeats', { status: 'failing' }, node.token);
    const id = await openIncident(node.id);
    const { page } = await live(`/incidents/${id}`);
    await api('POST', `/v1/incidents/${id}/acknowledge`, { by: 'Dana' });
    await hasSaid(page, 'Acknowledged by Dana');
    await page.context().close();
  });

  it('fits a Fleet card on a 320 px screen, its "since" moment wrapping', async () => {
    await healthyNode('say-narrow');
    const { page } = await watchedPage(e.browser, e.origin, { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
    await signInToConsole(page, e.origin, e.admin, '/?q=say-narrow');
    await page.getByRole('link', { name: 'say-narrow', exact: true }).waitFor();
    const wrap = await page.evaluate(() => {
      const el = document.querySelector('#fleet-live .table-wrap')!;
      return { scroll: el.scrollWidth, client: el.clientWidth };
    });
    assert.ok(wrap.scroll <= wrap.client, `no sideways scrolling: ${JSON.stringify(wrap)}`);
    await page.context().close();
  });
});
