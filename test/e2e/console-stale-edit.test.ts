/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { rendered } from '../helpers/browser.ts';
import { consoleInBrowser } from '../helpers/console-browser.ts';

// An edit form left open while a script changes the row through the API: its save is refused with
// nothing changed, the form comes back with the row's current values and a message that has the
// focus, naming who changed it and when as the audit log has it, and saving that form again saves.

describe('saving a console form over a row changed since it was opened, in a browser', () => {
  // The refused save is answered 412 on purpose, which Chromium also logs as an error.
  const c = consoleInBrowser({ key: 'on-call laptop', refusals: [412] });
  after(() => assert.deepEqual(c.problems, []));

  const json = async <T,>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await c.h.admin(method, path, body);
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as T;
  };

  /** A moment as the console writes it: 2026-11-21 10:01:30 UTC. */
  const shown = (d: Date) => `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

  /**
   * The refusal at the top of the page: its words, and whether it has the focus and the console's
   * error style. The page's script moves the focus to it once the page is parsed: read after that.
   */
  const refusal = async (page: Page) => {
    await rendered(page);
    return page.evaluate(() => {
      const notice = document.querySelector('.notice.bad');
      return {
        says: notice?.textContent?.trim(),
        focused: notice !== null && document.activeElement === notice,
        alert: notice?.getAttribute('role'),
        // A problem said under a field (Field's `<id>-error`); a standing warning (no SMTP_URL) is not one.
        fieldErrors: document.querySelectorAll('.field .error[id$="-error"]').length,
      };
    });
  };

  it("refuses a node's save over a deploy script's change, shows the script's values, then saves", async () => {
    await json('PUT', '/v1/nodes/by-name/web-1', { labels: { role: 'web' }, heartbeat_interval_seconds: 30, failures_for_down: 2 });
    const page = await c.signedIn('/nodes/web-1/edit');
    await page.locator('#failures_for_down').fill('5');
    // The script runs 90 s after the form was opened, as the bootstrap admin key.
    const at = c.h.clock.advance(90_000);
    await json('PUT', '/v1/nodes/by-name/web-1', { labels: { role: 'api' }, heartbeat_interval_seconds: 30, failures_for_down: 4 });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('web-1 was changed by key bootstrap-admin').waitFor();
    const said = await refusal(page);
    assert.equal(said.says, `web-1 was changed by key bootstrap-admin at ${shown(at)} since you opened this form: review the current values and save again. Nothing was saved.`);
    assert.deepEqual({ ...said, says: undefined }, { says: undefined, focused: true, alert: 'alert', fieldErrors: 0 });
    assert.equal(await page.locator('#failures_for_down').inputValue(), '4');
    assert.equal(await page.locator('#labels').inputValue(), 'role=api');
    const kept = await json<{ failures_for_down: number; labels: Record<string, string> }>('GET', '/v1/nodes/web-1');
    assert.deepEqual([kept.failures_for_down, kept.labels], [4, { role: 'api' }]);

    await page.locator('#failures_for_down').fill('5');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    const saved = await json<{ failures_for_down: number; labels: Record<string, string> }>('GET', '/v1/nodes/web-1');
    assert.deepEqual([saved.failures_for_down, saved.labels], [5, { role: 'api' }]);
    await page.close();
  });

  it("refuses a channel's save over an API change, shows the current name, then saves", async () => {
    const made = await json<{ id: string }>('POST', '/v1/channels', { name: 'ops mail', type: 'email', config: { to: ['ops@example.com'] } });
    const page = await c.signedIn(`/channels/${made.id}`);
    await page.locator('#name').fill('ops mail (console)');
    await page.locator('#to').fill('console@example.com');
    const at = c.h.clock.advance(90_000);
    await json('PATCH', `/v1/channels/${made.id}`, { config: { to: ['script@example.com'] } });
    // Without the audit row of that change (pruned), the message says when, as the row does, not who:
    // not the sender of a test message since, which changed nothing.
    await c.h.sql`delete from audit_log where target_id = ${made.id}`;
    await c.h.sql`
      insert into audit_log (at, actor_kind, actor_id, actor_name, via, action, target_type, target_id, target_name, result, request_id)
      values (${new Date(at.getTime() + 1_000)}, 'key', 'carol-key', 'carol', 'api', 'channel.test', 'channel', ${made.id}, 'ops mail', 'done', 'test-message')`;
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('ops mail was changed since you opened this form').waitFor();
    const said = await refusal(page);
    assert.equal(said.says, `ops mail was changed since you opened this form (at ${shown(at)}): review the current values and save again. Nothing was saved.`);
    assert.deepEqual({ ...said, says: undefined }, { says: undefined, focused: true, alert: 'alert', fieldErrors: 0 });
    assert.equal(await page.locator('#name').inputValue(), 'ops mail');
    assert.equal(await page.locator('#to').inputValue(), 'script@example.com');
    const kept = await json<{ name: string; config: { to: string[] } }>('GET', `/v1/channels/${made.id}`);
    assert.deepEqual([kept.name, kept.config.to], ['ops mail', ['script@example.com']]);

    await page.locator('#name').fill('ops mail (console)');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    const saved = await json<{ name: string; config: { to: string[] } }>('GET', `/v1/channels/${made.id}`);
    assert.deepEqual([saved.name, saved.config.to], ['ops mail (console)', ['script@example.com']]);
    await page.close();
  });

  it("refuses a status page's save over an API change, shows the current title, then saves", async () => {
    const made = await json<{ id: string }>('POST', '/v1/status-pages', { slug: 'acme', title: 'Acme status', public: true, components: [{ name: 'Web', labels: { role: 'web' } }] });
    const page = await c.signedIn(`/status-pages/${made.id}`);
    await page.locator('#title').fill('Acme (console)');
    await json('PATCH', `/v1/status-pages/${made.id}`, { title: 'Acme (script)' });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Acme (script) was changed since you opened this form').waitFor();
    assert.deepEqual({ ...(await refusal(page)), says: undefined }, { says: undefined, focused: true, alert: 'alert', fieldErrors: 0 });
    assert.equal(await page.locator('#title').inputValue(), 'Acme (script)');
    assert.equal((await json<{ title: string }>('GET', `/v1/status-pages/${made.id}`)).title, 'Acme (script)');

    await page.locator('#title').fill('Acme (console)');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    assert.equal((await json<{ title: string }>('GET', `/v1/status-pages/${made.id}`)).title, 'Acme (console)');
    await page.close();
  });

  it("refuses a person's save over an API change (the same mechanism as every edit form), then saves", async () => {
    const made = await json<{ id: string }>('POST', '/v1/users', { name: 'Ana', email: 'ana@example.com' });
    const page = await c.signedIn(`/users/${made.id}`);
    await page.locator('#name').fill('Ana Lima');
    await json('PATCH', `/v1/users/${made.id}`, { email: 'ana.lima@example.com' });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Ana was changed since you opened this form').waitFor();
    assert.deepEqual({ ...(await refusal(page)), says: undefined }, { says: undefined, focused: true, alert: 'alert', fieldErrors: 0 });
    assert.deepEqual([await page.locator('#name').inputValue(), await page.locator('#email').inputValue()], ['Ana', 'ana.lima@example.com']);

    await page.locator('#name').fill('Ana Lima');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    const saved = await json<{ name: string; email: string }>('GET', `/v1/users/${made.id}`);
    assert.deepEqual([saved.name, saved.email], ['Ana Lima', 'ana.lima@example.com']);
    await page.close();
  });

  it("refuses a node's delete over a change since its confirmation page was opened, asks again, then deletes", async () => {
    await json('PUT', '/v1/nodes/by-name/web-2', { labels: { role: 'web' }, heartbeat_interval_seconds: 30 });
    const page = await c.signedIn('/nodes/web-2/delete');
    c.h.clock.advance(90_000);
    await json('PUT', '/v1/nodes/by-name/web-2', { labels: { role: 'batch' }, heartbeat_interval_seconds: 30 });
    await page.getByRole('button', { name: 'Delete web-2' }).click();
    await page.getByText('web-2 was changed by key bootstrap-admin').waitFor();
    const said = await refusal(page);
    assert.match(said.says ?? '', /^web-2 was changed by key bootstrap-admin at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC since you opened this page: review it and delete again\. Nothing was deleted\.$/);
    assert.deepEqual([said.focused, said.alert], [true, 'alert']);
    assert.deepEqual((await json<{ labels: Record<string, string> }>('GET', '/v1/nodes/web-2')).labels, { role: 'batch' });

    await page.getByRole('button', { name: 'Delete web-2' }).click();
    await page.waitForURL(`${c.origin}/?deleted`);
    assert.equal((await c.h.admin('GET', '/v1/nodes/web-2')).status, 404);
    await page.close();
  });
});
