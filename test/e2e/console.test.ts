/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { signInToConsole, VIEWS } from '../helpers/browser.ts';
import { engineInBrowser } from '../helpers/console-browser.ts';
import { PATIENCE_MS, until } from '../helpers/wait.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// The console as a person uses it: a real engine (compiled, every role, its own database), a real
// Chromium, and only the browser's own means — typing, clicking, the keyboard. Every page is
// watched for script errors, CSP violations and requests to any other origin.
// LIFELINE_SCREENSHOTS=<dir> keeps a full-page screenshot of every page on a desktop and a phone,
// light and dark, to be looked at by a person.

const SCREENSHOTS = process.env.LIFELINE_SCREENSHOTS;
const LONG_NAME = `batch-${'x'.repeat(122)}`;

describe('the web console in a browser', () => {
  const e = engineInBrowser();
  const { api } = e;
  let origin: string;
  let writeKey: string;
  let readKey: string;
  const problems: string[] = [];

  before(async () => {
    origin = e.origin;
    writeKey = (await api('POST', '/v1/api-keys', { name: 'on-call laptop', scope: 'write' })).secret as string;
    readKey = (await api('POST', '/v1/api-keys', { name: 'wall screen', scope: 'read' })).secret as string;
  });

  /** A fresh browser profile whose pages report errors, CSP violations and off-origin requests. */
  async function profile(options: BrowserContextOptions = { viewport: { width: 1280, height: 900 } }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await e.browser.newContext(options);
    context.on('request', (r) => {
      if (new URL(r.url()).origin !== origin) problems.push(`request to ${r.url()}`);
    });
    context.on('weberror', (e) => problems.push(`error: ${e.error().message}`));
    await context.exposeFunction('cspViolation', (what: string) => problems.push(`CSP: ${what}`));
    await context.addInitScript({
      content: "document.addEventListener('securitypolicyviolation', (e) => window.cspViolation(`${e.violatedDirective} blocked ${e.blockedURI}`));",
    });
    return { context, page: await context.newPage() };
  }

  const signIn = (page: Page, key: string, path = '/') => signInToConsole(page, origin, key, path);

  it('signs in with a key, keeps only an HttpOnly SameSite=Strict cookie, and signs out for good', async () => {
    const { context, page } = await profile();
    await page.goto(origin + '/nodes/anything');
    assert.equal(new URL(page.url()).pathname, '/sign-in', 'a page without a session sends the browser to sign in');

    await page.getByLabel('API key').fill('llk_not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That is not a key that may sign in').waitFor();

    await signIn(page, writeKey);
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    assert.match((await page.locator('.who-name').textContent()) ?? '', /on-call laptop · write/);
    const [cookie, ...others] = await context.cookies();
    assert.equal(others.length, 0, 'one cookie');
    assert.deepEqual([cookie!.name, cookie!.httpOnly, cookie!.sameSite, cookie!.path], ['lifeline_session', true, 'Strict', '/']);
    assert.notEqual(cookie!.value, writeKey);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    assert.ok(!stored.includes(writeKey) && !stored.includes(cookie!.value), 'neither the key nor the session id is readable by scripts');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    assert.deepEqual(await context.cookies(), [], 'the cookie is cleared');
    // The session is gone on the server too: the old cookie, put back, opens nothing.
    await context.addCookies([cookie!]);
    await page.goto(origin + '/');
    assert.equal(new URL(page.url()).pathname, '/sign-in');
    await context.close();
  });

  it('signs in and moves around with the keyboard alone', async () => {
    const { context, page } = await profile();
    await page.goto(origin + '/');
    // The key field has focus on arrival; Tab reaches the button, Enter presses it. Chromium
    // applies autofocus at its next rendering update, which on a busy machine can come after the
    // load event: keys typed before it would go to the page and be lost.
    await page.waitForFunction(() => document.activeElement?.id === 'key');
    await page.keyboard.type(readKey);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Sign in');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    // The first Tab lands on the skip link, which takes focus past the navigation.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(new URL(page.url()).hash, '#main');
    await context.close();
  });

  /** A node whose agent reports it failing (down at once), and the incident that opens for it. */
  async function downIncident(name: string): Promise<string> {
    const node = await api('POST', '/v1/nodes', { name, heartbeat_interval_seconds: 3600 });
    await api('POST', '/v1/heartbeats', { status: 'failing' }, node.token as string);
    return until(`an open incident for ${name}`, async () => {
      const list = (await api('GET', `/v1/incidents?status=open&node_id=${node.id as string}`)).items as Array<{ id: string }>;
      return list[0]?.id;
    });
  }
  const incident = async (id: string) => (await api('GET', `/v1/incidents/${id}`)) as { status: string; version: number; acknowledged_by: string | null; resolved_by: string | null };

  it('acknowledges with a write key, from the keyboard, recorded as by that key', async () => {
    const id = await downIncident('ack-1');
    const { context, page } = await profile();
    await signIn(page, writeKey, `/incidents/${id}`);
    // Tab through the page until the Acknowledge button has focus, then press Enter.
    for (let i = 0; i < 40 && (await page.evaluate(() => document.activeElement?.id)) !== 'acknowledge'; i++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'acknowledge', 'the button is reachable with Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Acknowledged: escalation stops.').waitFor();
    const after = await incident(id);
    const keys = (await api('GET', '/v1/api-keys?limit=500')).items as Array<{ id: string; name: string }>;
    assert.deepEqual([after.status, after.acknowledged_by], ['acknowledged', `api-key:${keys.find((k) => k.name === 'on-call laptop')!.id}`]);
    assert.match((await page.locator('.facts').textContent()) ?? '', /key on-call laptop/);
    await context.close();
  });

  it('acknowledges from the incident list on a phone and says which, back on the same list, with when it opened in view', async () => {
    const id = await downIncident('ack-list');
    const { node_id: nodeId, title } = (await api('GET', `/v1/incidents/${id}`)) as { node_id: string; title: string };
    const { context, page } = await profile(VIEWS.find((v) => v.name === 'phone-light')!.context);
    const list = `/incidents?status=open&node=${nodeId}`;
    await signIn(page, writeKey, list);
    // When it opened is in view, not only in a tooltip the phone cannot show.
    assert.match(await page.locator('td[data-label="Opened"] time').innerText(), /^\d+ (s|min) ago · (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC$/);
    await page.getByRole('button', { name: `Acknowledge ${title}` }).click();
    const said = page.getByRole('status').filter({ hasText: `Acknowledged: ${title} (incident opened` });
    await said.waitFor();
    assert.ok(await said.isVisible());
    assert.equal(await said.getByRole('link', { name: title }).getAttribute('href'), `/incidents/${id}`);
    const url = new URL(page.url());
    assert.equal(url.pathname + url.search, `${list}&acknowledged=${id}`);
    assert.equal((await incident(id)).status, 'acknowledged');
    await context.close();
  });

  it('offers a read key no button, and refuses the acknowledgement it forges', async () => {
    const id = await downIncident('ack-2');
    const { context, page } = await profile();
    await signIn(page, readKey, `/incidents/${id}`);
    await page.getByText('Signed in with a read key').waitFor();
    assert.equal(await page.locator('#acknowledge, #resolve, form[action$="/acknowledge"]').count(), 0, 'no button to press');
    // A form posted from the page itself, with the session's own token: still refused.
    const answer = await page.evaluate(async (path) => {
      const csrf = (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value;
      const res = await fetch(path, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, version: '1' }) });
      return { status: res.status, text: await res.text() };
    }, `/incidents/${id}/acknowledge`);
    assert.equal(answer.status, 403);
    assert.match(answer.text, /this needs write scope/);
    assert.equal((await incident(id)).status, 'open');
    await context.close();
  });

  it('says whose acknowledgement stands when the page acknowledges one acknowledged elsewhere since, and still resolves it', async () => {
    const id = await downIncident('stale-1');
    const { context, page } = await profile();
    // This page hears nothing more after it loads (as if its connection dropped), so it keeps
    // showing Acknowledge while the incident is acknowledged elsewhere.
    await page.route(
      (url) => url.pathname === '/v1/events' || url.pathname === `/incidents/${id}`,
      (route) => (route.request().headers()['hx-request'] || route.request().url().includes('/v1/events') ? route.abort() : route.continue()),
    );
    await signIn(page, writeKey, `/incidents/${id}`);
    await api('POST', `/v1/incidents/${id}/acknowledge`, { by: 'someone-else' });
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByText(/^Already acknowledged .* by someone-else: nothing was changed\.$/).waitFor();
    assert.equal((await incident(id)).acknowledged_by, 'someone-else', 'the first acknowledgement stands');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.getByText(/^Resolved\. /).waitFor();
    assert.equal((await incident(id)).status, 'resolved');
    await context.close();
  });

  it('resolves with a note of 2,000 typed characters over 20 lines, and answers an unknown address with a page', async () => {
    const id = await downIncident('note-1');
    const { context, page } = await profile();
    await signIn(page, writeKey, `/incidents/${id}`);
    // The field's maxlength counts each line break once; the form sends it as CRLF, 2,020 in all.
    await page.getByLabel('Resolution note').fill(`${'x'.repeat(99)}\n`.repeat(20));
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.getByText(/^Resolved\. /).waitFor();
    assert.equal((await incident(id)).status, 'resolved');
    const missing = await page.goto(`${origin}/settings`);
    assert.equal(missing?.status(), 404);
    await page.getByRole('heading', { name: 'No such page' }).waitFor();
    await page.getByRole('link', { name: 'Back to the console' }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    await context.close();
  });

  it('shows a transition without a reload, as the engine commits it', async () => {
    // Only its heartbeats move it (an hour-long interval): ok makes it healthy, failing down.
    const node = await api('POST', '/v1/nodes', { name: 'live-1', heartbeat_interval_seconds: 3600 });
    const { context, page } = await profile();
    await signIn(page, readKey, '/?q=live-1');
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'live-1', exact: true }) });
    assert.equal(await row.locator('.state').textContent(), 'unknown');
    // Notes what caused each refresh of the live region and what it showed: the page also re-reads
    // itself every 30 s, and only a refresh caused by the stream proves the stream.
    await page.evaluate(() => {
      const w = window as unknown as { swaps: string[] };
      w.swaps = [];
      document.addEventListener('htmx:after:swap', (e) => {
        const cause = (e as CustomEvent<{ ctx: { sourceEvent?: Event } }>).detail.ctx.sourceEvent?.type;
        w.swaps.push(`${cause}: ${document.querySelector('#fleet-live tbody .state')?.textContent}`);
      });
    });
    const state = (s: string) => page.waitForFunction((want) => document.querySelector('#fleet-live tbody .state')?.textContent === want, s, { timeout: PATIENCE_MS });
    // The region's re-reads must say they are refreshes, or an open tab never idles out.
    const refreshes: Array<string | undefined> = [];
    page.on('request', (r) => {
      if (r.headers()['hx-request'] && new URL(r.url()).pathname === '/') refreshes.push(r.headers()['lifeline-refresh']);
    });

    await api('POST', '/v1/heartbeats', { status: 'ok' }, node.token as string);
    await state('healthy');
    await api('POST', '/v1/heartbeats', { status: 'failing' }, node.token as string);
    await state('down');
    const swaps = await page.evaluate(() => (window as unknown as { swaps?: string[] }).swaps);
    assert.ok(swaps, 'the page was never reloaded (a reload would have lost the notes)');
    assert.ok(swaps.includes('node.state_changed: healthy') && swaps.includes('node.state_changed: down'), `refreshed by the stream: ${swaps.join(', ')}`);
    assert.ok(refreshes.length >= 2 && refreshes.every((h) => h === 'auto'), `each re-read says it is a refresh: ${JSON.stringify(refreshes)}`);
    assert.match((await page.locator('.chips').textContent()) ?? '', /1\s*down/);
    await context.close();
  });

  it('keeps a note typed while the node recovered and its incident resolved live, and says when and by whom', async () => {
    const node = await api('POST', '/v1/nodes', { name: 'note-2', heartbeat_interval_seconds: 3600 });
    await api('POST', '/v1/heartbeats', { status: 'failing' }, node.token as string);
    const id = await until('an open incident for note-2', async () => ((await api('GET', `/v1/incidents?status=open&node_id=${node.id as string}`)).items as Array<{ id: string }>)[0]?.id);
    const { context, page } = await profile();
    await signIn(page, writeKey, `/incidents/${id}`);
    const note = 'Swapped the disk.\nWatching it for an hour.';
    await page.getByLabel('Resolution note').fill(note);
    await api('POST', '/v1/heartbeats', { status: 'ok' }, node.token as string);
    await page.locator('#incident-live .tag-resolved').waitFor({ timeout: PATIENCE_MS });
    // The live update replaced the Resolve form with who resolved it and when, and moved the note,
    // not wiped as it was typed, into Add a note.
    await page.locator('#resolve-note-kept').waitFor();
    const resolvedAt = (await api('GET', `/v1/incidents/${id}`)).resolved_at as string;
    assert.match((await page.locator('#resolve-form').innerText()).trim(), new RegExp(`^Resolved by Lifeline at ${resolvedAt.slice(11, 16)} UTC while this page was open: there is nothing left to resolve\\.\\s+Your resolution note was not saved\\.`));
    assert.equal(await page.getByLabel('Add a note').inputValue(), note);
    assert.equal(await page.getByRole('button', { name: 'Resolve' }).count(), 0);
    // Added as a note, it is in the timeline after all.
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByText('Note added to the timeline.').waitFor();
    assert.equal(((await api('GET', `/v1/incidents/${id}`)).timeline as Array<{ kind: string; detail: { note?: string } }>).at(-1)?.detail.note, note);
    await context.close();
  });

  const openCount = async () => ((await api('GET', '/v1/incidents?status=open&limit=200')).items as unknown[]).length;
  /** Waits for the navigation to count `n` open incidents. */
  const badgeShows = (page: Page, n: number) =>
    page.waitForFunction((want) => (document.querySelector('#nav-open')?.textContent ?? '') === (want ? `, open: ${want}` : ''), n, { timeout: PATIENCE_MS });

  it('counts open incidents in the navigation without a reload, as the incidents list follows them', async () => {
    const node = await api('POST', '/v1/nodes', { name: 'live-badge', heartbeat_interval_seconds: 3600 });
    await api('POST', '/v1/heartbeats', { status: 'ok' }, node.token as string);
    const { context, page } = await profile();
    await signIn(page, readKey, '/incidents');
    const badge = async () => badgeShows(page, await openCount());
    await badge();
    await page.evaluate(() => ((window as unknown as { loaded: boolean }).loaded = true));

    await api('POST', '/v1/heartbeats', { status: 'failing' }, node.token as string);
    const incident = await until('an open incident for live-badge', async () => ((await api('GET', `/v1/incidents?status=open&node_id=${node.id}`)).items as Array<{ id: string }>)[0]?.id);
    await page.locator('#incidents-live').getByRole('link', { name: 'live-badge is down' }).waitFor({ timeout: PATIENCE_MS });
    await badge();
    await api('POST', `/v1/incidents/${incident}/acknowledge`, { by: 'alice' });
    await badge();
    assert.equal(await page.evaluate(() => (window as unknown as { loaded?: boolean }).loaded), true, 'the page was never reloaded');
    await context.close();
  });

  it('counts a new incident in the navigation of the Fleet page, whose own regions hear only of nodes', async () => {
    const node = await api('POST', '/v1/nodes', { name: 'fleet-badge', heartbeat_interval_seconds: 3600 });
    await api('POST', '/v1/heartbeats', { status: 'ok' }, node.token as string);
    const { context, page } = await profile();
    // No 30 s re-reads in this page (htmx's "every 30s" is a setInterval): only the live feed can
    // bring the count, and the page says when that feed is connected.
    await page.addInitScript({
      content: `const interval = window.setInterval;
        window.setInterval = (fn, ms, ...rest) => (ms >= 30000 ? 0 : interval(fn, ms, ...rest));
        document.addEventListener('htmx:sse:after:connection', () => { window.connected = true; }, true);`,
    });
    await signIn(page, readKey, '/');
    await page.waitForFunction(() => (window as unknown as { connected?: boolean }).connected === true, null, { timeout: PATIENCE_MS });
    await page.evaluate(() => ((window as unknown as { loaded: boolean }).loaded = true));
    const before = await openCount();
    await badgeShows(page, before);

    await api('POST', '/v1/heartbeats', { status: 'failing' }, node.token as string);
    await until('an open incident for fleet-badge', async () => ((await api('GET', `/v1/incidents?status=open&node_id=${node.id as string}`)).items as unknown[])[0]);
    await badgeShows(page, before + 1);
    assert.equal(await page.evaluate(() => (window as unknown as { loaded?: boolean }).loaded), true, 'the page was never reloaded');
    await context.close();
  });

  describe('every page, on a desktop and a phone, light and dark', () => {
    // A small fleet in every state, an open incident whose pages partly failed, the settings
    // behind it: what an operator's console looks like on an ordinary bad day.
    let hooks: WebhookReceiver[] = [];
    let adminKey: string;
    let incident: string;
    const pages: Array<{ name: string; path: string; show?: (page: Page) => Promise<void> }> = [];

    async function node(name: string, labels: Record<string, string>, heartbeat?: { status: string; checks: Record<string, unknown> }) {
      const n = await api('POST', '/v1/nodes', { name, labels, heartbeat_interval_seconds: 3600 });
      if (heartbeat) await api('POST', '/v1/heartbeats', heartbeat, n.token as string);
      return n as { id: string; token: string };
    }
    const openIncident = (nodeId: string) =>
      until(`an open incident for ${nodeId}`, async () => ((await api('GET', `/v1/incidents?status=open&node_id=${nodeId}`)).items as Array<{ id: string }>)[0]?.id);

    before(async () => {
      // The pager is unavailable (503) until the incident's first page has failed, then takes the
      // retry; the chat bot's hook is gone for good (410), which is given up on at once.
      const [pager, bot] = (hooks = await Promise.all([startWebhookReceiver(), startWebhookReceiver()]));
      pager!.answerAll(503);
      bot!.answerAll(410);
      const webhook = await api('POST', '/v1/channels', { name: 'ops-pager', type: 'webhook', config: { url: pager!.url } });
      const chat = await api('POST', '/v1/channels', { name: 'chat-bot', type: 'webhook', config: { url: bot!.url } });
      const mail = await api('POST', '/v1/channels', { name: 'on-call mail', type: 'email', config: { to: ['oncall@example.com', 'sre-leads@example.com'] } });
      const policy = await api('POST', '/v1/escalation-policies', {
        name: 'Production on-call',
        levels: [
          { after_seconds: 0, channel_ids: [webhook.id, chat.id] },
          { after_seconds: 900, channel_ids: [mail.id] },
        ],
        repeat: 2,
        is_default: true,
      });
      await api('POST', `/v1/channels/${webhook.id as string}/test`);
      adminKey = (await api('POST', '/v1/api-keys', { name: 'ops admin', scope: 'admin' })).secret as string;
      const retired = await api('POST', '/v1/api-keys', { name: 'old deploy script', scope: 'ingest' });
      await api('DELETE', `/v1/api-keys/${retired.id as string}`);

      const ok = (ms: number) => ({ http: { status: 'ok', value: ms, message: `GET /healthz ${ms} ms` }, disk: { status: 'ok', value: 41 } });
      await node('web-1', { role: 'web', region: 'eu-west-1' }, { status: 'ok', checks: ok(38) });
      const slow = await node('web-2', { role: 'web', region: 'eu-west-1' }, {
        status: 'degraded',
        checks: { ...ok(870), latency_p95: { status: 'warn', value: 870, message: 'p95 latency 870 ms is above the 500 ms target' } },
      });
      const db = await node('db-1', { role: 'db', region: 'eu-west-1', tier: 'primary' }, {
        status: 'failing',
        checks: {
          postgres: { status: 'fail', message: 'connect ECONNREFUSED 10.0.3.12:5432 (is the server running on that host and accepting TCP/IP connections?)' },
          replication_lag_seconds: { status: 'warn', value: 94.5 },
          disk: { status: 'ok', value: 77 },
        },
      });
      const api1 = await node('api-1', { role: 'api', region: 'us-east-1' }, { status: 'failing', checks: {} });
      const resolved = await openIncident(api1.id);
      await api('POST', '/v1/heartbeats', { status: 'ok', checks: ok(52) }, api1.token);
      await until('the api-1 incident resolved', async () => (await api('GET', `/v1/incidents/${resolved}`)).status === 'resolved');
      const replica = await node('db-2', { role: 'db', region: 'eu-west-1', tier: 'replica' }, { status: 'ok', checks: ok(12) });
      await node('cache-1', { role: 'cache', region: 'us-east-1' });
      // The longest name and label value the API takes, in one unbroken word each.
      await node(LONG_NAME, { build: 'f'.repeat(256) });
      const now = Date.now();
      await api('POST', '/v1/maintenances', {
        node_ids: [replica.id],
        starts_at: new Date(now - 600_000).toISOString(),
        ends_at: new Date(now + 2 * 3_600_000).toISOString(),
        reason: 'Replacing a failed disk in the RAID set',
      });
      await api('POST', '/v1/maintenances', {
        labels: { role: 'web' },
        starts_at: new Date(now + 86_400_000).toISOString(),
        ends_at: new Date(now + 86_400_000 + 3_600_000).toISOString(),
        reason: 'Kernel upgrade',
      });
      await until('db-2 in maintenance', async () => ((await api('GET', `/v1/nodes/${replica.id}`)).health as { state: string }).state === 'maintenance');
      await api('POST', `/v1/incidents/${await openIncident(slow.id)}/acknowledge`, { by: 'alice' });
      incident = await openIncident(db.id);
      const deliveries = async () => (await api('GET', `/v1/incidents/${incident}/deliveries`)).items as Array<{ status: string; attempts: number }>;
      await until('a failed page and a dead one', async () => (await deliveries()).filter((x) => x.status === 'failed' || x.status === 'dead').length === 2);
      pager!.answerAll(200);
      await api('POST', `/v1/channels/${webhook.id as string}/test`);
      await until('the failed page sent at a later attempt', async () => (await deliveries()).some((x) => x.status === 'sent' && x.attempts > 1));

      const openDays = async (page: Page) => {
        await page.getByText('Every day in figures').click();
        await page.mouse.move(0, 0); // no row shown as hovered
      };
      pages.push(
        { name: 'fleet', path: '/' },
        { name: 'node-down', path: '/nodes/db-1', show: openDays },
        { name: 'node-maintenance', path: '/nodes/db-2' },
        { name: 'node-unknown', path: '/nodes/cache-1' },
        { name: 'node-long-name', path: `/nodes/${LONG_NAME}` },
        { name: 'node-edit', path: '/nodes/db-1/edit' },
        { name: 'node-delete', path: '/nodes/cache-1/delete' },
        { name: 'incidents', path: '/incidents' },
        { name: 'incident', path: `/incidents/${incident}` },
        { name: 'incidents-acknowledged', path: '/incidents?status=acknowledged' },
        { name: 'incidents-acknowledge-all', path: `/incidents/acknowledge?ids=${incident},${resolved}&back=/incidents` },
        { name: 'incident-resolved', path: `/incidents/${resolved}` },
        { name: 'maintenance', path: '/maintenance' },
        { name: 'channels', path: '/channels' },
        { name: 'channel', path: `/channels/${webhook.id as string}` },
        { name: 'channel-new', path: '/channels/new?type=webhook' },
        { name: 'policies', path: '/policies' },
        { name: 'policy', path: `/policies/${policy.id as string}` },
        { name: 'keys', path: '/keys' },
        { name: 'not-found', path: '/nodes/no-such-node' },
      );
      if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
    });
    after(() => Promise.all(hooks.map((h) => h.close())));

    /** Keeps the page's picture, when asked to, and says what on it scrolls sideways. */
    async function look(page: Page, name: string, view: string): Promise<string[]> {
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `console-${name}-${view}.png`), fullPage: true });
      const sideways = await page.evaluate(() => {
        const root = document.documentElement;
        const scrolling = [...document.querySelectorAll('main *')].filter((e) => getComputedStyle(e).overflowX !== 'visible' && e.clientWidth > 1 && e.scrollWidth > e.clientWidth + 1);
        return [...(root.scrollWidth > root.clientWidth ? [root] : []), ...scrolling].map((e) => `${e.tagName.toLowerCase()}.${e.className}: ${e.scrollWidth} > ${e.clientWidth}`);
      });
      return sideways.map((s) => `${name}: ${s}`);
    }

    for (const view of VIEWS) {
      it(`shows each page whole, without sideways scrolling (${view.name})`, async () => {
        const { context, page } = await profile(view.context);
        await page.goto(origin + '/sign-in');
        const sideways = await look(page, 'sign-in', view.name);
        await page.getByLabel('API key').fill('llk_not-a-key');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByText('That is not a key that may sign in').waitFor();
        sideways.push(...(await look(page, 'sign-in-refused', view.name)));
        await signIn(page, adminKey);
        for (const p of pages) {
          await page.goto(origin + p.path);
          await p.show?.(page);
          sideways.push(...(await look(page, p.name, view.name)));
        }
        // Every stop of the keyboard on the busiest page shows where it is.
        await page.goto(origin + `/incidents/${incident}`);
        const ringless: string[] = [];
        for (let stops = 0; stops < 60; stops++) {
          await page.keyboard.press('Tab');
          const stop = await page.evaluate(() => {
            const e = document.activeElement;
            if (!e || e === document.body) return undefined;
            const style = getComputedStyle(e);
            return { id: e.id, what: `${e.tagName.toLowerCase()} "${e.textContent?.trim().slice(0, 40) ?? ''}"`, ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
          });
          if (!stop) break;
          if (!stop.ring) ringless.push(stop.what);
          if (stop.id === 'acknowledge' && SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `console-incident-focus-${view.name}.png`) });
        }
        await context.close();
        assert.deepEqual(sideways, [], 'nothing scrolls sideways');
        assert.deepEqual(ringless, [], 'every keyboard stop shows a focus ring');
      });
    }
  });

  // Last: every page the tests above opened, in every profile.
  it('loaded nothing from another origin, and broke no script or CSP rule, on any page', () => {
    assert.deepEqual(problems, []);
  });
});
