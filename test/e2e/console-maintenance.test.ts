import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { expectJson } from '../helpers/app.ts';
import { consoleInBrowser } from '../helpers/console-browser.ts';

// A maintenance window typed into the console as a person does, on the harness's manual clock
// (2026-11-21 10:00 UTC): the end presets pick an end without wiping what was typed, and Enter
// still starts the window; a window typed on Berlin's clock is listed on it, UTC beside.
// LIFELINE_SCREENSHOTS=<dir> keeps a full-page screenshot of the form, the list and a refusal.

const SCREENSHOTS = process.env.LIFELINE_SCREENSHOTS;

describe('a maintenance window in the console, in a browser', () => {
  const c = consoleInBrowser({ key: 'on-call laptop' });
  let page: Page;
  let problems: string[];
  const shot = async (name: string) => {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  before(async () => {
    await c.h.createNode('db-1');
    await c.h.createNode('db-2');
    ({ page, problems } = await c.open('/maintenance'));
  });

  it('keeps the nodes and reason typed when "4 h" picks the end, then starts the window on Enter', async () => {
    await page.getByLabel('Nodes').fill('db-1, db-2');
    await page.getByLabel('Why').fill('disk swap');
    await page.getByRole('button', { name: '4 h', exact: true }).click();
    await page.waitForURL(`${c.origin}/maintenance#new-window`);
    await page.locator('button[name="hours"][value="4"][aria-current="true"]').waitFor();
    assert.equal(await page.getByLabel('Nodes').inputValue(), 'db-1, db-2');
    assert.equal(await page.getByLabel('Why').inputValue(), 'disk swap');
    assert.equal(await page.getByLabel('Until', { exact: true }).inputValue(), '2026-11-21T14:00');

    // The button Enter presses is out of sight: one "Start the window" shows.
    assert.equal(await page.getByRole('button', { name: 'Start the window' }).count(), 1);
    assert.equal(await page.locator('button[hidden]').isVisible(), false);
    await page.getByLabel('Why').press('Enter');
    await page.getByText('The window is on').waitFor();
    const windows = (await expectJson<{ items: Array<{ node_ids: string[]; ends_at: string; reason: string }> }>(await c.h.admin('GET', '/v1/maintenances'), 200)).items;
    assert.deepEqual(
      windows.map((w) => [w.node_ids.length, w.ends_at, w.reason]),
      [[2, '2026-11-21T14:00:00.000Z', 'disk swap']],
    );
    assert.deepEqual(problems, []);
  });

  it('takes "tonight 22:00–23:00" on Berlin\'s clock, lists it so, and names a time the clocks skip', async () => {
    await page.goto(`${c.origin}/maintenance`);
    await page.getByLabel('Nodes').fill('db-1');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByLabel('From', { exact: true }).fill('2026-11-21T22:00');
    await page.getByLabel('Until', { exact: true }).fill('2026-11-21T23:00');
    await page.getByLabel('Why').fill('kernel upgrade');
    await shot('maintenance-zone-form');
    await page.getByRole('button', { name: 'Start the window' }).click();
    await page.getByText('The window is on').waitFor();
    const windows = (await expectJson<{ items: Array<{ starts_at: string; ends_at: string; time_zone: string | null; reason: string }> }>(await c.h.admin('GET', '/v1/maintenances'), 200)).items;
    // Both windows were created at the harness's one 10:00: newest first cannot tell them apart.
    const typed = windows.find((w) => w.reason === 'kernel upgrade');
    assert.deepEqual(typed, { ...typed, starts_at: '2026-11-21T21:00:00.000Z', ends_at: '2026-11-21T22:00:00.000Z', time_zone: 'Europe/Berlin', reason: 'kernel upgrade' });
    await page.locator('td[data-label="From"]', { hasText: '2026-11-21 22:00 Europe/Berlin (21:00 UTC)' }).waitFor();
    await page.locator('td[data-label="Until"]', { hasText: '2026-11-21 23:00 Europe/Berlin (22:00 UTC)' }).waitFor();
    // The next window is offered on the same clock.
    assert.equal(await page.getByLabel('Time zone').inputValue(), 'Europe/Berlin');
    await shot('maintenance-zone-list');

    await page.getByLabel('Nodes').fill('db-2');
    await page.getByLabel('From', { exact: true }).fill('2027-03-28T02:30');
    await page.getByLabel('Until', { exact: true }).fill('2027-03-28T04:00');
    await page.getByRole('button', { name: 'Start the window' }).click();
    await page.locator('#starts_at-error', { hasText: '2027-03-28 02:30 does not happen in Europe/Berlin: clocks jump from 02:00 to 03:00 that night' }).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('maintenance-zone-gap-phone-page');
    assert.equal((await expectJson<{ items: unknown[] }>(await c.h.admin('GET', '/v1/maintenances'), 200)).items.length, 2);
    // The refusal is answered 400 on purpose, which Chromium also logs as an error.
    assert.deepEqual(
      problems.filter((p) => !/^console: Failed to load resource: .* status of 400 /.test(p)),
      [],
    );
  });
});
