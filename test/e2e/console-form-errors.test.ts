/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { focusedAfterRendering, rendered } from '../helpers/browser.ts';
import { consoleInBrowser } from '../helpers/console-browser.ts';

// A refused form in a browser: the problem sits under the field that holds it, styled as an error,
// in the form's words, and that field has the focus. LIFELINE_SCREENSHOTS=<dir> keeps each page.

const SCREENSHOTS = process.env.LIFELINE_SCREENSHOTS;

describe('refused forms in the console, in a browser', () => {
  // A refused form is answered 400 on purpose, which Chromium also logs as an error.
  const c = consoleInBrowser({ key: 'laptop', refusals: [400] });
  before(async () => {
    assert.equal((await c.h.admin('POST', '/v1/channels', { name: 'ops mail', type: 'email', config: { to: ['ops@example.com'] } })).status, 201);
  });
  after(() => assert.deepEqual(c.problems, []));

  const signedIn = (path: string, key?: string) => c.signedIn(path, { key });

  /** The focused element's id, and whether the error under `id` is in its field, drawn as an error (not in the text's colour). */
  const shownAt = async (page: Page, id: string) => ({
    focused: await focusedAfterRendering(page),
    ...(await page.evaluate((id) => {
      const error = document.getElementById(`${id}-error`);
      const field = document.getElementById(id)?.closest('.field');
      return {
        inField: error !== null && field !== null && field !== undefined && field.contains(error),
        styled: error !== null && error.classList.contains('error') && getComputedStyle(error).color !== getComputedStyle(document.body).color && getComputedStyle(error).fontWeight === '600',
      };
    }, id)),
  });

  it("says Level 2's wait at Level 2's field, and focuses it", async () => {
    const page = await signedIn('/policies');
    await page.locator('#name').fill('primary');
    await page.getByRole('group', { name: 'Channels of level 1' }).getByLabel('ops mail').check();
    await page.locator('#after_1').fill('0');
    await page.getByRole('group', { name: 'Channels of level 2' }).getByLabel('ops mail').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Not created').waitFor();
    assert.equal(await page.locator('#after_1-error').innerText(), "Level 2 — wait: must be greater than level 1's (0 s)");
    assert.deepEqual(await shownAt(page, 'after_1'), { focused: 'after_1', inField: true, styled: true });
    assert.equal(await page.locator('#after_1').inputValue(), '0');
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/formerrs-policy.png`, fullPage: true });
    await page.close();
  });

  it('says which address of an email channel is not one, and focuses Send to', async () => {
    const page = await signedIn('/channels/new?type=email');
    await page.locator('#name').fill('throwaway');
    await page.locator('#to').fill('not-an-email, x@example.com');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByText('Some fields need another look').waitFor();
    assert.equal(await page.locator('#to-error').innerText(), 'Address 1: must be an email address');
    assert.deepEqual(await shownAt(page, 'to'), { focused: 'to', inField: true, styled: true });
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/formerrs-email.png`, fullPage: true });
    await page.close();
  });

  it('says a cron expression is not one, at its field, focuses it, and words recovery in runs for a job', async () => {
    const page = await signedIn('/new-node');
    await page.locator('#name').fill('sync');
    await page.getByLabel('Scheduled job').check();
    assert.equal(await page.locator('label[for="successes_for_recovery"]').innerText(), 'Good runs to recover');
    await page.locator('#schedule_cron').fill('every minute');
    await page.getByRole('button', { name: 'Add node' }).click();
    await page.getByText('Not added').waitFor();
    assert.equal(await page.locator('#schedule_cron-error').innerText(), "'every minute' is not a cron expression: use five fields (or six, seconds first) like */5 * * * * or @hourly");
    assert.deepEqual(await shownAt(page, 'schedule_cron'), { focused: 'schedule_cron', inField: true, styled: true });
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/formerrs-job.png`, fullPage: true });
    await page.getByLabel('Heartbeat node').check();
    assert.equal(await page.locator('label[for="successes_for_recovery"]').innerText(), 'Ok heartbeats to recover');
    await page.close();
  });

  it('focuses the first refused field on every form, links it from the summary, and titles the page an error', async () => {
    assert.equal((await c.h.admin('POST', '/v1/users', { name: 'Alice Ops', email: 'alice@example.com' })).status, 201);
    const admin = (await c.h.createKey('admin', 'desk')).secret;
    const cases: Array<{ path: string; as?: string; fill: (page: Page) => Promise<void>; submit: string; field: string }> = [
      { path: '/maintenance', fill: (page) => page.locator('#labels').fill('not a label'), submit: 'Start the window', field: 'labels' },
      { path: '/status-pages/new', fill: async (page) => {
        await page.locator('#title').fill('Acme');
        await page.locator('#slug').fill('acme');
        await page.locator('#components').fill('API: nowhere-1');
      }, submit: 'Create', field: 'components' },
      { path: '/schedules/new', fill: (page) => page.locator('#name').fill('primary'), submit: 'Create', field: 'l0_users' },
      { path: '/keys', as: admin, fill: (page) => page.locator('#name').fill(' '), submit: 'Create key', field: 'name' },
    ];
    for (const k of cases) {
      const page = await signedIn(k.path, k.as);
      await k.fill(page);
      await page.locator('form').filter({ has: page.locator(`#${k.field}`) }).getByRole('button', { name: k.submit, exact: true }).last().click();
      await page.locator('.notice.bad').waitFor();
      const seen = { focused: await focusedAfterRendering(page), ...(await page.evaluate(() => ({ link: document.querySelector('.notice.bad a')?.getAttribute('href'), title: document.title }))) };
      assert.deepEqual({ focused: seen.focused, link: seen.link }, { focused: k.field, link: `#${k.field}` }, `${k.path}: ${await page.locator('.notice.bad').innerText()}`);
      assert.match(seen.title, /^Error: /, k.path);
      await page.close();
    }
  });

  it('puts the focus on what an action says it did, so it is read', async () => {
    const page = await signedIn('/maintenance');
    await page.locator('#labels').fill('role=db');
    await page.getByRole('button', { name: 'Start the window', exact: true }).last().click();
    await page.locator('.notice.ok').waitFor();
    // The page's script moves the focus to the notice once the page is parsed: read it after that.
    await rendered(page);
    const focusedNotice = await page.evaluate(() => document.activeElement?.classList.contains('notice'));
    assert.equal(focusedNotice, true);
    await page.close();
  });
});
