import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addTimeline, openIncidents } from '../../src/incidents/store.ts';
import { expectJson } from '../helpers/app.ts';
import { focusedAfterRendering, reread, signInToConsole, VIEWS, watchedPage } from '../helpers/browser.ts';
import { consoleInBrowser } from '../helpers/console-browser.ts';

// A responder writes down what they do while an incident runs ("restarting db-3"), from a phone at
// night, with the keyboard alone: the note lands in the timeline as text, whatever it holds, and
// pages nobody.

const PHONE = VIEWS.find((v) => v.name === 'phone-light')!.context;
const DESKTOP = VIEWS.find((v) => v.name === 'desktop-light')!.context;
const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> restarting db-3';

describe('notes on an incident, in a browser', () => {
  const c = consoleInBrowser({ key: 'on-call phone' });

  async function openIncident(name: string) {
    const node = await c.h.createNode(name);
    const [incident] = await openIncidents(c.h.sql, [
      { nodeId: node.id, nodeName: name, category: 'node_down', severity: 'critical', title: `${name} is down`, reason: 'no heartbeat for 90s', policyId: null, openedAt: c.h.clock.now() },
    ]);
    await addTimeline(c.h.sql, [{ incident_id: incident!.id, at: c.h.clock.now(), kind: 'opened', detail: { reason: 'no heartbeat for 90s', level: 0, step: 0, channel_ids: [], users: [] } }]);
    return incident!;
  }

  const stored = async (id: string) => expectJson<{ version: number; timeline: Array<{ kind: string; detail: Record<string, unknown> }> }>(await c.h.admin('GET', `/v1/incidents/${id}`), 200);
  const outbox = async () => (await c.h.sql<{ n: number }[]>`select count(*)::int as n from outbox`)[0]!.n;

  it('adds a note on a phone with the keyboard alone, shown in the timeline as the text typed, paging nobody', async () => {
    const incident = await openIncident('db-3');
    const { page, problems } = await watchedPage(c.browser, c.origin, PHONE);
    page.on('dialog', (d) => problems.push(`dialog: ${d.message()}`));
    await signInToConsole(page, c.origin, c.key, `/incidents/${incident.id}`);
    const before = await outbox();
    await page.getByLabel('Add a note').focus();
    await page.keyboard.type(HOSTILE);
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('vendor ticket #123');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Add note', 'Tab goes from the note to its button');
    await page.keyboard.press('Enter');
    await page.getByText('Note added to the timeline.').waitFor();

    const shown = page.locator('.timeline li', { hasText: 'Note by' });
    assert.equal(await shown.count(), 1);
    assert.equal(await shown.locator('.note-text').innerText(), `${HOSTILE}\nvendor ticket #123`);
    assert.match(await shown.innerText(), /Note by key on-call phone/);
    assert.equal(await page.locator('.timeline script, .timeline img').count(), 0, 'the note is text, not markup');
    // On a phone the form and the note fit the width: nothing to scroll sideways.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scroll at 390 px');
    const box = (await page.getByLabel('Add a note').boundingBox())!;
    assert.ok(box.x >= 0 && box.x + box.width <= PHONE.viewport!.width, 'the note field fits the screen');

    const after = await stored(incident.id);
    assert.deepEqual(after.timeline.at(-1)?.detail.note, `${HOSTILE}\nvendor ticket #123`, 'a line break as typed, not CRLF');
    assert.equal(after.version, 1, 'the version stays');
    assert.equal(await outbox(), before, 'nobody is paged for a note');
    assert.deepEqual(problems, []);
  });

  it('keeps a blank note in its field with why beside it, and writes nothing', async () => {
    const incident = await openIncident('db-4');
    const { page, problems } = await c.open(`/incidents/${incident.id}`, { context: PHONE });
    await page.getByLabel('Add a note').fill('   ');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByText('Note not added').waitFor();
    const field = page.getByLabel('Add a note');
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#add-note-error').innerText(), 'must not be empty');
    assert.equal(await focusedAfterRendering(page), 'add-note', 'the field the problem is at has the focus');
    assert.equal((await stored(incident.id)).timeline.filter((e) => e.kind === 'note').length, 0);
    // The refusal is answered 400 on purpose, which Chromium also logs as an error.
    assert.deepEqual(problems.filter((p) => !/^console: Failed to load resource: .* status of 400 /.test(p)), []);
  });

  it('takes a note on a resolved incident, for the review; a read key sees no form, and a post without the form token is refused', async () => {
    const incident = await openIncident('db-5');
    await expectJson(await c.h.admin('POST', `/v1/incidents/${incident.id}/resolve`, { by: 'alice' }), 200);
    const { page, problems } = await c.open(`/incidents/${incident.id}`, { context: DESKTOP });
    await page.getByLabel('Add a note').fill('root cause: disk full on /var');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByText('Note added to the timeline.').waitFor();
    assert.deepEqual((await stored(incident.id)).timeline.map((e) => e.kind), ['opened', 'resolved', 'note']);

    const forged = await page.request.post(`${c.origin}/incidents/${incident.id}/notes`, { form: { note: 'forged' }, headers: { origin: c.origin } });
    assert.equal(forged.status(), 403);
    assert.equal((await stored(incident.id)).timeline.filter((e) => e.kind === 'note').length, 1);

    const reader = await c.open(`/incidents/${incident.id}`, { key: (await c.h.createKey('read', 'reader')).secret, context: DESKTOP });
    assert.equal(await reader.page.getByLabel('Add a note').count(), 0);
    assert.match(await reader.page.locator('.timeline').innerText(), /root cause: disk full on \/var/);
    assert.deepEqual([...problems, ...reader.problems], []);
  });
  it('replaces Resolve once the incident is resolved elsewhere, moving a typed note to Add a note', async () => {
    const incident = await openIncident('db-6');
    const { page, problems } = await c.open(`/incidents/${incident.id}`, { context: PHONE });
    await page.getByLabel('Resolution note (optional)').fill('failed over to db-7');
    await page.getByLabel('Add a note').fill('vendor ticket #9');
    const resolved = await expectJson<{ resolved_at: string }>(await c.h.admin('POST', `/v1/incidents/${incident.id}/resolve`, { by: 'bob' }), 200);
    await reread(page, 'incident-live', 'incident.changed');

    const hhmm = resolved.resolved_at.slice(11, 16);
    await page.locator('#resolve-form:not(form)').waitFor();
    assert.equal(await page.locator('form#resolve-form, #resolve').count(), 0, 'no Resolve left to press');
    assert.equal((await page.locator('#resolve-form').innerText()).replace(/\s+/g, ' ').trim(),
      `Resolved by bob at ${hhmm} UTC while this page was open: there is nothing left to resolve. Your resolution note was not saved. It is in Add a note below: Add note puts it in the timeline.`);
    assert.equal(await page.getByLabel('Add a note').inputValue(), 'vendor ticket #9\n\nfailed over to db-7', 'both notes kept, nothing thrown away');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByText('Note added to the timeline.').waitFor();
    assert.deepEqual((await stored(incident.id)).timeline.filter((e) => e.kind === 'note').map((e) => e.detail.note), ['vendor ticket #9\n\nfailed over to db-7']);
    assert.deepEqual(problems, []);
  });
});
