import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { actionLinkKey, signActionLink, type ActionLink, type LinkAction, type LinkRecipient } from '../../src/incidents/action-links.ts';
import { acknowledge, resolve } from '../../src/incidents/service.ts';
import { TEST_ACTING } from '../helpers/acting.ts';
import { openIncidents } from '../../src/incidents/store.ts';
import { emailText } from '../../alerting/email-body.ts';
import { notificationsFor } from '../../src/notifications/message.ts';
import { insertDeliveries, listDeliveries } from '../../src/notifications/store.ts';
import { MAX_FORM_BYTES } from '../../src/http/gate.ts';
import { createLogger } from '../../src/logger.ts';
import { createHarness, expectJson, type Harness } from '../helpers/app.ts';

// GET /a/{token} and its button, over HTTP: what a link does and refuses to do, judged on the
// incident, its timeline and its outbox events.

let h: Harness;
let key: Buffer;
let alice: { id: string };
let team: { id: string };
/** What the app logged, as written: a token must never be in it. */
let logged = '';

before(async () => {
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged += chunk.toString('utf8');
      done();
    },
  });
  h = await createHarness({ log: createLogger('info', out) });
  key = actionLinkKey(h.secretKey);
  alice = await expectJson(await h.admin('POST', '/v1/users', { name: 'Alice Example', email: 'alice@example.com' }), 201);
  team = await expectJson(await h.admin('POST', '/v1/channels', { name: 'team-slack', type: 'slack', config: { webhook_url: 'https://hooks.slack.com/services/t' } }), 201);
});
after(async () => {
  await h?.close();
});

const WEEK = 7 * 24 * 3_600_000;
let incidentId: string;

beforeEach(async () => {
  const node = await h.createNode(`web-${randomBytes(3).toString('hex')}`);
  const [incident] = await openIncidents(h.sql, [
    { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: `${node.name} is down`, reason: 'no heartbeat for 90s', policyId: null, openedAt: h.clock.now() },
  ]);
  incidentId = incident!.id;
});

const link = (action: LinkAction, recipient: LinkRecipient = { kind: 'user', id: alice.id }, o: Partial<ActionLink> = {}) =>
  `/a/${signActionLink(key, { incidentId, action, recipient, expiresAt: new Date(h.clock.now().getTime() + WEEK), ...o })}`;

/** The incident as stored, with its timeline and the outbox events written for it. */
async function state() {
  const [incident] = await h.sql`select status, version, acknowledged_by, resolved_by from incidents where id = ${incidentId}`;
  const timeline = await h.sql<{ kind: string; detail: Record<string, unknown> }[]>`select kind, detail from incident_timeline where incident_id = ${incidentId} order by id`;
  const events = await h.sql<{ topic: string }[]>`select topic from outbox where payload->>'incident_id' = ${incidentId} order by id`;
  return { incident: { ...incident }, timeline: timeline.map((t) => ({ ...t })), events: events.map((e) => e.topic) };
}

/** The request's answer (status, page text) after checking that it changed nothing. */
async function changesNothing(method: 'GET' | 'POST', path: string) {
  const before = await state();
  const res = await h.req(method, path);
  const html = await res.text();
  assert.deepEqual(await state(), before, `${method} ${path} changed nothing`);
  return { status: res.status, html };
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('a link from a notification', () => {
  it('GET shows what the button will do, as whom, and changes nothing', async () => {
    const { status, html } = await changesNothing('GET', link('acknowledge'));
    assert.equal(status, 200);
    assert.match(text(html), /Acknowledge: web-\w+ is down\?/);
    assert.match(text(html), /Acknowledge as Alice Example/);
    assert.match(html, /<form method="post">/);
    // From /a/{token}, ../incidents/{id} is the console's page of the incident, behind any path prefix.
    assert.match(html, new RegExp(`<a href="\\.\\./incidents/${incidentId}">Open the incident in the console</a>`));
  });

  it('a Resolve link says before its button, as the console does, that the node is still down and nobody will be paged', async () => {
    const [row] = await h.sql<{ node_id: string; node_name: string }[]>`select node_id, node_name from incidents where id = ${incidentId}`;
    const { node_id: nodeId, node_name: name } = row!;
    const warning = `${name} is still down. Resolving does not change that: nothing new opens or pages until it leaves that state and turns down or degraded again.`;
    await h.sql`update node_health set state = 'down' where node_id = ${nodeId}`;
    const ask = await changesNothing('GET', link('resolve'));
    assert.equal(ask.status, 200);
    assert.ok(text(ask.html).includes(warning), 'warned on the page the link opens');
    assert.match(ask.html, /<form method="post">/, 'and only the button resolves');
    assert.doesNotMatch(text((await changesNothing('GET', link('acknowledge'))).html), /still down/, 'acknowledging leaves it watched');

    await h.sql`update node_health set state = 'healthy' where node_id = ${nodeId}`;
    assert.doesNotMatch(text((await changesNothing('GET', link('resolve'))).html), /still down/, 'a recovered node needs no warning');
  });

  it('POST acknowledges as the recipient, through the same command as the API, once', async () => {
    const res = await h.req('POST', link('acknowledge'));
    assert.equal(res.status, 200);
    assert.match(text(await res.text()), /Acknowledged by Alice Example/);
    const after = await state();
    assert.deepEqual([after.incident.status, after.incident.acknowledged_by], ['acknowledged', 'Alice Example']);
    assert.deepEqual(after.timeline.at(-1), { kind: 'acknowledged', detail: { by: 'Alice Example', via: 'link', user_id: alice.id } });
    assert.deepEqual(after.events, ['incident.acknowledged'], 'the paged channels and people will hear it');

    const again = await changesNothing('POST', link('acknowledge'));
    assert.equal(again.status, 200);
    assert.match(text(again.html), /Already acknowledged Alice Example acknowledged this incident at 2026-11-21 10:00:00 UTC\. Nothing was changed\./);
    assert.match(text((await changesNothing('GET', link('acknowledge'))).html), /Already acknowledged/);
  });

  it("shows times on the clock of the person the link was sent to, with UTC beside them; a channel's link, read by many, in UTC", async () => {
    const ana: { id: string } = await expectJson(await h.admin('POST', '/v1/users', { name: 'Ana Okafor', email: 'ana@example.com', time_zone: 'America/New_York' }), 201);
    const hers = text((await changesNothing('GET', link('acknowledge', { kind: 'user', id: ana.id }))).html);
    assert.match(hers, /Opened 2026-11-21 05:00:00 EST \(10:00:00 UTC\)/);
    const shared = text((await changesNothing('GET', link('acknowledge', { kind: 'channel', id: team.id }))).html);
    assert.match(shared, /Opened 2026-11-21 10:00:00 UTC/);
    // Expired, the link still names whom it was sent to.
    const expired = text((await changesNothing('GET', link('acknowledge', { kind: 'user', id: ana.id }, { expiresAt: new Date(h.clock.now().getTime() - 3_600_000) }))).html);
    assert.match(expired, /It could be used until 2026-11-21 04:00:00 EST \(09:00:00 UTC\)\./);
    const res = await h.req('POST', link('acknowledge', { kind: 'user', id: ana.id }));
    assert.match(text(await res.text()), /At 2026-11-21 05:00:00 EST \(10:00:00 UTC\)\./);
  });

  it('a Resolve link takes a note, with the console’s limit, and everyone told of the resolve gets it', async () => {
    const form = (note: string) => ({ body: new URLSearchParams({ note }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const ask = await changesNothing('GET', link('resolve'));
    assert.match(ask.html, /<label for="note">Resolution note \(optional\)<\/label><textarea id="note" name="note" maxlength="2000"/);
    assert.doesNotMatch((await changesNothing('GET', link('acknowledge'))).html, /<textarea/, 'acknowledging takes no note');

    const before = await state();
    const long = await h.req('POST', link('resolve'), form('x'.repeat(2001)));
    assert.equal(long.status, 400);
    const page = await long.text();
    assert.match(text(page), /Nothing was changed: the note must be at most 2000 characters\./);
    assert.ok(page.includes(`\n${'x'.repeat(2001)}</textarea>`), 'the note comes back to be shortened');
    assert.deepEqual(await state(), before);
    // The console's form limit: a byte over is refused unread; at the limit the note is read and refused.
    const sized = (bytes: number) => form('x'.repeat(bytes - 'note='.length));
    assert.equal((await h.req('POST', link('resolve'), sized(MAX_FORM_BYTES + 1))).status, 413);
    assert.equal((await h.req('POST', link('resolve'), sized(MAX_FORM_BYTES))).status, 400);
    assert.deepEqual(await state(), before);

    // As the console: a line break sent as CRLF counts once, so 2,000 typed characters fit.
    const note = `Disk full.\r\n${'y'.repeat(1989)}`;
    const res = await h.req('POST', link('resolve'), form(note));
    assert.match(text(await res.text()), /Resolved by Alice Example/);
    const after = await state();
    assert.deepEqual(after.timeline.at(-1), { kind: 'resolved', detail: { by: 'Alice Example', via: 'link', user_id: alice.id, note: note.replace('\r\n', '\n') } });

    await insertDeliveries(h.sql, [{ incidentId, event: 'resolved', eventKey: 'resolved', channelId: team.id, channelType: 'slack', occurredAt: h.clock.now() }], h.clock.now());
    const [delivery] = await listDeliveries(h.sql, incidentId);
    assert.equal((await notificationsFor(h.sql, [delivery!])).get(delivery!.id)?.note, note.replace('\r\n', '\n'), 'the resolve message carries the note');
  });

  it('a form that cannot be read changes nothing, comes back as the page, and no log holds the token', async () => {
    const path = link('resolve');
    const token = path.slice('/a/'.length);
    logged = '';
    const before = await state();
    const res = await h.req('POST', path, { body: '--zz\r\nbroken', headers: { 'content-type': 'multipart/form-data; boundary=zz' } });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(text(html), /Nothing was changed: the note could not be read; type it again\./);
    assert.match(html, /<form method="post">/, 'the button is there to try again');
    assert.deepEqual(await state(), before);
    assert.ok(!logged.includes(token), 'the token is not logged');
  });

  it('a failure while acting is logged by the route, not the path that holds the token', async () => {
    const path = link('acknowledge');
    const token = path.slice('/a/'.length);
    await h.sql.unsafe(`create function refuse_for_test() returns trigger language plpgsql as $$ begin raise exception 'refused for the test'; end $$`);
    await h.sql.unsafe('create trigger refuse_for_test before update on incidents for each row execute function refuse_for_test()');
    logged = '';
    try {
      assert.equal((await h.req('POST', path)).status, 500);
    } finally {
      await h.sql.unsafe('drop trigger refuse_for_test on incidents');
      await h.sql.unsafe('drop function refuse_for_test()');
    }
    const failed = logged.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request failed');
    assert.equal(failed?.path, '/a/:token');
    assert.ok(!logged.includes(token), 'the token is not logged');
  });

  it('after acknowledging, offers resolving in the console: the acknowledge link itself never resolves', async () => {
    const next = /When it is over, resolve it in the console \(signing in if asked\), or with the Resolve link in the same message\. This link only acknowledges\./;
    const res = await h.req('POST', link('acknowledge'));
    const html = await res.text();
    assert.match(text(html), next);
    assert.match(html, new RegExp(`<a href="\\.\\./incidents/${incidentId}">resolve it in the console</a>`));
    assert.doesNotMatch(html, /<form/, 'no button: the token only acknowledges');
    const again = await changesNothing('GET', link('acknowledge'));
    assert.match(text(again.html), next, 'also when the link is opened again');
    assert.doesNotMatch(again.html, /<form/);
    assert.equal((await state()).incident.status, 'acknowledged');
  });

  it('names who acted as the console does, on its pages and in the messages: a key by its name, the engine as Lifeline', async () => {
    const name = `ops-bot-${randomBytes(3).toString('hex')}`;
    const bot = { name, ...(await h.createKey('write', name)) };
    assert.equal((await h.req('POST', `/v1/incidents/${incidentId}/acknowledge`, { token: bot.secret, json: {} })).status, 200);
    assert.equal((await h.admin('POST', `/v1/incidents/${incidentId}/resolve`, {})).status, 200);
    const [row] = await h.sql<{ acknowledged_by: string; resolved_by: string }[]>`select acknowledged_by, resolved_by from incidents where id = ${incidentId}`;
    assert.equal(row!.acknowledged_by, `api-key:${bot.id}`);
    assert.match(row!.resolved_by, /^api-key:[0-9a-f-]{36}$/, 'the stored actor stays the key id');
    await insertDeliveries(h.sql, [{ incidentId, event: 'resolved', eventKey: 'resolved', channelId: team.id, channelType: 'slack', occurredAt: h.clock.now() }], h.clock.now());
    const [delivery] = await listDeliveries(h.sql, incidentId);
    const message = async () => (await notificationsFor(h.sql, [delivery!])).get(delivery!.id)!;

    assert.match(text((await changesNothing('GET', link('acknowledge'))).html), /key bootstrap-admin resolved this incident/);
    let n = await message();
    assert.equal(n.incident.resolved_by, row!.resolved_by, 'machines keep the id');
    // Each id resolved to its own key's name: what webhook bodies carry as data.display_names.
    assert.deepEqual(n.shownBy, { acknowledged_by: `key ${bot.name}`, resolved_by: 'key bootstrap-admin' });
    assert.match(emailText(n), new RegExp(`^Acknowledged: .* UTC by key ${bot.name}$`, 'm'));
    assert.match(emailText(n), /^Resolved: .* UTC by key bootstrap-admin$/m);

    await h.sql`update incidents set resolved_by = 'auto' where id = ${incidentId}`;
    assert.match(text((await changesNothing('GET', link('resolve'))).html), /Already resolved Lifeline resolved this incident/);
    n = await message();
    assert.deepEqual(n.shownBy, { acknowledged_by: `key ${bot.name}`, resolved_by: 'Lifeline' });
    assert.match(emailText(n), /^Resolved: .* UTC by Lifeline$/m);
  });

  it('after someone else acted, says who did what and when', async () => {
    h.clock.advance(60_000);
    await acknowledge(h.sql, incidentId, { by: 'bob' }, h.clock, TEST_ACTING);
    const ack = await changesNothing('POST', link('acknowledge'));
    assert.match(text(ack.html), /bob acknowledged this incident at 2026-11-21 10:01:00 UTC/);

    // Someone else acknowledging leaves the resolve link its own action.
    h.clock.advance(60_000);
    const res = await h.req('POST', link('resolve', { kind: 'channel', id: team.id }));
    assert.match(text(await res.text()), /Resolved by team-slack/);
    const after = await state();
    assert.deepEqual([after.incident.status, after.incident.resolved_by], ['resolved', 'team-slack']);
    assert.deepEqual(after.timeline.at(-1), { kind: 'resolved', detail: { by: 'team-slack', via: 'link', channel_id: team.id } });
    assert.match(text((await changesNothing('POST', link('acknowledge'))).html), /team-slack resolved this incident at 2026-11-21 10:02:00 UTC/);
    assert.match(text((await changesNothing('POST', link('resolve'))).html), /Already resolved/);
  });

  it('a note typed while someone else resolved comes back to copy, not lost', async () => {
    const form = (note: string) => ({ body: new URLSearchParams({ note }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await resolve(h.sql, incidentId, { by: 'bob' }, h.clock, TEST_ACTING);
    const before = await state();
    const res = await h.req('POST', link('resolve'), form('Rotated <logs> & restarted.'));
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(text(html), /Already resolved bob resolved this incident at .* UTC\. Nothing was changed; your note was not saved\. It is kept below to copy\./);
    assert.match(html, /<textarea id="note" readonly="" rows="3">\nRotated &lt;logs&gt; &amp; restarted\.<\/textarea>/);
    assert.deepEqual(await state(), before);

    const blank = await h.req('POST', link('resolve'), form('  '));
    const page = await blank.text();
    assert.match(text(page), /Nothing was changed\. /);
    assert.doesNotMatch(page, /<textarea/, 'a blank note is nothing to keep');
  });

  it('a forged, altered, expired or mangled link changes nothing, on GET and on POST', async () => {
    const good = link('acknowledge');
    const token = good.slice('/a/'.length);
    const raw = Buffer.from(token, 'base64url');
    raw[1]! ^= 3; // acknowledge → resolve
    const cases: Array<[string, string, number]> = [
      ['forged', `/a/${signActionLink(actionLinkKey(randomBytes(32)), { incidentId, action: 'acknowledge', recipient: { kind: 'user', id: alice.id }, expiresAt: new Date(h.clock.now().getTime() + WEEK) })}`, 404],
      ['altered action', `/a/${raw.toString('base64url')}`, 404],
      ['truncated', good.slice(0, -2), 404],
      ['not a token', '/a/hello', 404],
      ['expired', link('acknowledge', undefined, { expiresAt: h.clock.now() }), 410],
    ];
    for (const [what, path, status] of cases) {
      for (const method of ['GET', 'POST'] as const) {
        const answer = await changesNothing(method, path);
        assert.equal(answer.status, status, `${what} ${method}`);
        assert.match(text(answer.html), /Nothing was changed/, `${what} ${method}`);
      }
    }
    const until = `${h.clock.now().toISOString().slice(0, 19).replace('T', ' ')} UTC`;
    assert.ok(text((await changesNothing('GET', link('acknowledge', undefined, { expiresAt: h.clock.now() }))).html).includes(`could be used until ${until}`));
  });

  it('two clicks at once acknowledge once', async () => {
    const answers = await Promise.all([h.req('POST', link('acknowledge')), h.req('POST', link('acknowledge'))]);
    for (const a of answers) assert.match(text(await a.text()), /Alice Example/);
    const after = await state();
    assert.deepEqual(after.events, ['incident.acknowledged']);
    assert.equal(after.timeline.filter((t) => t.kind === 'acknowledged').length, 1);
  });

  it('serves pages that load only the engine’s stylesheet, run nothing, leak no Referer and are never cached', async () => {
    const res = await h.req('GET', link('resolve'));
    const html = await res.text();
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /style-src 'self'/);
    assert.match(csp, /form-action 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(html, /<script|<style|style=|https?:\/\//);
    const sheet = /<link rel="stylesheet" href="([^"]+)"/.exec(html)?.[1];
    assert.equal((await h.req('GET', sheet!)).status, 200, 'the stylesheet is served by the engine');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  });
});
