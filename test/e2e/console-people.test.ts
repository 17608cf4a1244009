/// <reference lib="dom" />
// (Callbacks passed to page.evaluate run in the browser, where these types describe them.)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { expectJson } from '../helpers/app.ts';
import { focusedAfterRendering, VIEWS } from '../helpers/browser.ts';
import { consoleInBrowser } from '../helpers/console-browser.ts';

// People and on-call schedules in the console as a person uses them: the app over HTTP under its
// CSP, on the harness's manual clock (Saturday 2026-11-21 10:00 UTC, 11:00 in Berlin), so the
// 14-day timeline has one right answer. Every new page is also opened at desktop and phone width,
// light and dark, and must fit the screen's width; LIFELINE_SCREENSHOTS=<dir> keeps a full-page
// screenshot of each.

const SCREENSHOTS = process.env.LIFELINE_SCREENSHOTS;

describe('people and schedules in the console, in a browser', () => {
  // A refused form is answered 400, 403 or 409 on purpose, which Chromium also logs as an error.
  const c = consoleInBrowser({ key: 'on-call laptop', refusals: [400, 403, 409] });
  let readKey: string;
  const ids: { alice?: string; bob?: string; schedule?: string } = {};

  before(async () => {
    readKey = (await c.h.createKey('read', 'wall screen')).secret;
  });

  const signedIn = (key: string, path: string, context?: BrowserContextOptions) => c.signedIn(path, { key, context });

  const api = async (method: string, path: string, json?: unknown) => expectJson<Record<string, unknown>>(await c.h.admin(method, path, json), method === 'POST' ? 201 : 200);
  const words = (page: Page, nth: number) => page.locator('.tl-day .tl-words').nth(nth).innerText();

  it('creates two people, one of them far away', async () => {
    const page = await signedIn(c.key, '/users');
    await page.getByText('Nobody yet').waitFor();
    for (const [name, email, zone] of [
      ['Alice Example', 'alice@example.com', 'Asia/Tokyo'],
      ['Bob Example', 'bob@example.com', 'Europe/Berlin'],
    ] as const) {
      await page.goto(c.origin + '/users');
      await page.getByLabel('Name').fill(name);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Time zone').fill(zone);
      await page.getByRole('button', { name: 'Create' }).click();
      await page.getByText('Created.').waitFor();
      assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), name);
      // 10:00 UTC on the person's own clock.
      assert.match(await page.locator('.facts').innerText(), zone === 'Asia/Tokyo' ? /Asia\/Tokyo · 19:00 now/ : /Europe\/Berlin · 11:00 now/);
    }
    const users = (await api('GET', '/v1/users')).items as Array<{ id: string; name: string; time_zone: string }>;
    assert.deepEqual(
      users.map((u) => [u.name, u.time_zone]),
      [
        ['Alice Example', 'Asia/Tokyo'],
        ['Bob Example', 'Europe/Berlin'],
      ],
    );
    ids.alice = users[0]!.id;
    ids.bob = users[1]!.id;

    // A second person with Alice's address is refused at the Email field, which names her and has
    // the focus, with what was typed kept.
    await page.goto(c.origin + '/users');
    await page.getByLabel('Name').fill('Alice Again');
    await page.getByLabel('Email').fill('ALICE@example.com');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByText('Not created').waitFor();
    assert.equal(await page.locator('#email-error').innerText(), 'already belongs to Alice Example (alice@example.com)');
    assert.equal(await focusedAfterRendering(page), 'email');
    assert.equal(await page.getByLabel('Name').inputValue(), 'Alice Again');
    assert.equal(((await api('GET', '/v1/users')).items as unknown[]).length, 2);
    await page.close();
  });

  it('creates a schedule with a weekly layer and shows the next 14 days with the right person', async () => {
    const page = await signedIn(c.key, '/schedules');
    await page.getByRole('link', { name: 'New schedule' }).click();
    await page.locator('#name').fill('Primary');
    await page.locator('#time_zone').fill('Europe/Berlin');
    await page.locator('#l0_name').fill('Weekly');
    await page.locator('#l0_rotation').fill('P1W');
    // Monday 09:00 in Berlin, typed on the schedule's clock.
    await page.locator('#l0_start').fill('2026-11-16T09:00');
    await page.getByLabel('Layer 1, turn 1').selectOption({ label: 'Alice Example' });
    await page.getByLabel('Layer 1, turn 2').selectOption({ label: 'Bob Example' });
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByText('Created.').waitFor();

    const schedules = (await api('GET', '/v1/schedules')).items as Array<{ id: string; layers: Array<{ starts_at: string; user_ids: string[]; rotation: string }> }>;
    ids.schedule = schedules[0]!.id;
    assert.deepEqual(schedules[0]!.layers, [{ name: 'Weekly', starts_at: '2026-11-16T08:00:00.000Z', rotation: 'P1W', user_ids: [ids.alice, ids.bob] }]);

    // Alice from Monday the 16th, Bob from Monday the 23rd at 09:00, Alice again on the 30th.
    assert.match(await page.locator('#on-call-now').innerText(), /^Alice Example until 2026-11-23 09:00 \(Weekly\) · 19:00 for them \(Asia\/Tokyo\)$/);
    assert.equal(await page.locator('.tl-day').count(), 14);
    assert.match(await page.locator('.tl-day .tl-date').first().innerText(), /^Sat 21 Nov\s+today$/);
    assert.equal(await words(page, 0), '00:00–24:00 Alice Example');
    assert.match(await page.locator('.tl-day .tl-date').nth(2).innerText(), /^Mon 23 Nov/);
    assert.equal(await words(page, 2), '00:00–09:00 Alice Example · 09:00–24:00 Bob Example');
    assert.equal(await words(page, 3), '00:00–24:00 Bob Example');
    assert.equal(await words(page, 9), '00:00–09:00 Bob Example · 09:00–24:00 Alice Example');
    assert.equal(await words(page, 13), '00:00–24:00 Alice Example');
    // The same answer as the API's.
    const onCall = await api('GET', `/v1/schedules/${ids.schedule}/on-call?at=2026-11-23T08:00:00.000Z`);
    assert.deepEqual(onCall.user_ids, [ids.bob]);
    await page.close();
  });

  it('adds an override that wins over the layer, and removes it', async () => {
    const page = await signedIn(c.key, `/schedules/${ids.schedule}`);
    await page.getByLabel('Who').selectOption({ label: 'Bob Example' });
    await page.getByLabel('From (Europe/Berlin)').fill('2026-11-21T12:00');
    await page.getByLabel('Until (Europe/Berlin)').fill('2026-11-21T18:00');
    await page.getByRole('button', { name: 'Add the override' }).click();
    await page.getByText('Override added.').waitFor();
    assert.equal(await words(page, 0), '00:00–12:00 Alice Example · 12:00–18:00 Bob Example (override) · 18:00–24:00 Alice Example');
    assert.match(await page.locator('h2:has-text("Overrides") + .table-wrap').innerText(), /Bob Example\s+2026-11-21 12:00\s+2026-11-21 18:00/);
    assert.deepEqual((await api('GET', `/v1/schedules/${ids.schedule}/on-call?at=2026-11-21T11:00:00.000Z`)).user_ids, [ids.bob]);

    // An override that ends before it starts is refused beside its field, and adds nothing.
    await page.getByLabel('Who').selectOption({ label: 'Alice Example' });
    await page.getByLabel('From (Europe/Berlin)').fill('2026-11-22T12:00');
    await page.getByLabel('Until (Europe/Berlin)').fill('2026-11-22T11:00');
    await page.getByRole('button', { name: 'Add the override' }).click();
    await page.getByText('must be after “From”').first().waitFor();
    assert.equal(((await api('GET', `/v1/schedules/${ids.schedule}/overrides`)).items as unknown[]).length, 1);

    await page.goto(c.origin + `/schedules/${ids.schedule}`);
    // Asked first: the link names whose override goes, and the question's button removes it.
    await page.getByRole('link', { name: /^Remove\s+the override for / }).click();
    await page.getByRole('button', { name: /^Remove the override for / }).click();
    await page.getByText('Override removed.').waitFor();
    assert.equal(await words(page, 0), '00:00–24:00 Alice Example');
    assert.deepEqual((await api('GET', `/v1/schedules/${ids.schedule}/on-call?at=2026-11-21T11:00:00.000Z`)).user_ids, [ids.alice]);
    await page.close();
  });

  it('shows a person their own shifts on their own clock, and refuses to delete someone on call', async () => {
    const page = await signedIn(c.key, `/users/${ids.alice}`);
    // Alice's shift ends Monday 09:00 Berlin: 17:00 in Tokyo.
    const first = page.locator('table tbody tr').first();
    assert.match(await first.innerText(), /^now\s+2026-11-23 17:00\s+Primary\s+Weekly$/);
    await page.getByRole('link', { name: /^Delete\s+Alice Example\s*…$/ }).click();
    await page.getByRole('heading', { name: 'Delete Alice Example?' }).waitFor();
    await page.getByRole('button', { name: 'Delete Alice Example' }).click();
    // Refused on a page of its own, the schedule that holds her a link to it, no id in the words.
    await page.getByRole('heading', { name: 'Alice Example was not deleted' }).waitFor();
    assert.match(await page.locator('.signin p').first().innerText(), /^Alice Example (.* and )?is in the rotation of schedule Primary — take them out there first\.$/);
    assert.equal(await page.locator('.signin p').first().getByRole('link', { name: 'Primary' }).getAttribute('href'), `/schedules/${ids.schedule}`);
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'delref-person-refused.png') });
    assert.equal(((await api('GET', '/v1/users')).items as unknown[]).length, 2);
    await page.close();
  });

  it('lets a read key look, offers it no form, and refuses what it forges', async () => {
    const page = await signedIn(readKey, `/schedules/${ids.schedule}`);
    await page.getByRole('heading', { name: 'Primary' }).waitFor();
    assert.equal(await page.locator('form[action*="/overrides"], a[href$="/edit"]').count(), 0, 'nothing to press');
    const forge = (path: string, fields: Record<string, string>) =>
      page.evaluate(
        async ([path, fields]) => {
          const csrf = (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value;
          const res = await fetch(path, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, ...fields }) });
          return { status: res.status, text: await res.text() };
        },
        [path, fields] as const,
      );
    for (const [path, fields] of [
      [`/schedules/${ids.schedule}/overrides`, { user_id: ids.bob!, starts_at: '2026-11-21T12:00', ends_at: '2026-11-21T18:00' }],
      ['/users', { name: 'Mallory', email: 'mallory@example.com', time_zone: 'UTC' }],
      [`/users/${ids.alice}/delete`, {}],
      [`/schedules/${ids.schedule}/delete`, {}],
    ] as const) {
      const answer = await forge(path, fields);
      assert.equal(answer.status, 403, path);
      assert.match(answer.text, /this needs write scope/);
    }
    assert.equal(((await api('GET', `/v1/schedules/${ids.schedule}/overrides`)).items as unknown[]).length, 0);
    assert.equal(((await api('GET', '/v1/users')).items as unknown[]).length, 2);
    assert.equal(((await api('GET', '/v1/schedules')).items as unknown[]).length, 1);
    await page.close();
  });

  it('fits every new page, and the node page, to a desktop and a phone, light and dark', async () => {
    await api('POST', `/v1/schedules/${ids.schedule}/overrides`, { user_id: ids.bob, starts_at: '2026-11-22T11:00:00.000Z', ends_at: '2026-11-22T17:00:00.000Z' });
    const node = await c.h.createNode('db-1');
    const pages: Array<[string, string]> = [
      ['people', '/users'],
      ['person', `/users/${ids.alice}`],
      ['schedules', '/schedules'],
      ['schedule', `/schedules/${ids.schedule}`],
      ['schedule-edit', `/schedules/${ids.schedule}/edit`],
      ['schedule-new', '/schedules/new'],
      ['node', `/nodes/${node.name}`],
    ];
    if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
    for (const view of VIEWS) {
      const page = await signedIn(c.key, '/users', view.context);
      // A page with a live region re-reads it once its feed connects; that swap is awaited, so
      // the sections opened below stay open for the screenshot.
      await page.addInitScript({ content: "document.addEventListener('htmx:after:swap', () => { window.swapped = true; });" });
      for (const [name, path] of pages) {
        await page.goto(c.origin + path);
        if (await page.locator('#node-live').count()) await page.waitForFunction(() => (window as unknown as { swapped?: boolean }).swapped === true);
        // Closed sections opened, as a reader would open them, and measured at once: a live
        // region re-read from the server (the node page's) closes them again.
        const measured = await page.evaluate(() => {
          document.querySelectorAll('details').forEach((d) => (d.open = true));
          const tables = [...document.querySelectorAll('.table-wrap')].filter((t) => t.scrollWidth > t.clientWidth + 1).length;
          return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, tables };
        });
        assert.ok(measured.scrollWidth <= measured.innerWidth, `${name} at ${view.name} is ${measured.scrollWidth}px wide for a ${measured.innerWidth}px screen`);
        assert.equal(measured.tables, 0, `${name} at ${view.name}: a table scrolls sideways`);
        if (SCREENSHOTS) {
          await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
          await page.screenshot({ path: join(SCREENSHOTS, `${name}-${view.name}.png`), fullPage: true });
        }
      }
      await page.close();
    }
  });

  it("keeps a schedule's clock beside its zone in the list's cards on a phone", async () => {
    const page = await signedIn(c.key, '/schedules', VIEWS.find((v) => v.name === 'phone-light')!.context);
    // How far below its cell's top each clock sits, against its own height: on the first row, well under it.
    const drops = await page.evaluate(() =>
      [...document.querySelectorAll('td[data-label="Time zone"]')].map((td) => {
        const clock = td.querySelector('.muted')!.getBoundingClientRect();
        return (clock.top - td.getBoundingClientRect().top) / clock.height;
      }),
    );
    assert.ok(drops.length > 0 && drops.every((d) => d < 0.5), `clocks on a row of their own: ${drops.join(', ')}`);
    if (SCREENSHOTS) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'schedules-list-phone-light.png') });
    }
    await page.close();
  });

  // Last: every page the tests above opened.
  it('loaded nothing from another origin, and broke no script or CSP rule, on any page', () => {
    assert.deepEqual(c.problems, []);
  });

});
