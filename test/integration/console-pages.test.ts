import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addTimeline, openIncidents, pagedNobody, timelinesOf } from '../../src/incidents/store.ts';
import { escalate, followNodes, pageLater, UNREACHABLE_WITHOUT_EMAIL } from '../../src/incidents/service.ts';
import { insertSchedule } from '../../src/oncall/store-schedules.ts';
import { fleetCounts, fleetCursor, fleetPage, type FleetCursor, type FleetFilter } from '../../src/nodes/store.ts';
import type { State } from '../../src/health/decide.ts';
import type { TimelineEntry } from '../../src/incidents/model.ts';
import { insertDeliveries } from '../../src/notifications/store.ts';
import { buryOutbox } from '../../src/outbox/store.ts';
import { fingerprintOf } from '../../src/idempotency/model.ts';
import { hashSecret } from '../../src/secrets.ts';
import { createSql } from '../../src/db/client.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { MAX_FORM_BYTES } from '../../src/http/gate.ts';
import { createLogger } from '../../src/logger.ts';
import { createChannels } from '../../alerting/index.ts';
import { LOCAL_RECEIVERS } from '../helpers/local-receivers.ts';
import { ADMIN_TOKEN, buildApp, consoleCookie, createHarness, expectJson, formOf, signedIn, textareaText, unescapeHtml, type Harness } from '../helpers/app.ts';

// The console's reads: the fleet in its worst-first order, paged both ways by keyset whatever
// the filter, and what the pages put in front of a person.

const ORIGIN = 'http://localhost';

/**
 * A table row of `html`, from `marker` to the row's end. A missing row fails here: an empty string
 * would let every `doesNotMatch` on it pass whatever the page said.
 */
function rowFrom(html: string, marker: string): string {
  const start = html.indexOf(marker);
  assert.ok(start >= 0, `a row with ${marker}`);
  const end = html.indexOf('</tr>', start);
  assert.ok(end > start, `the end of the row with ${marker}`);
  return html.slice(start, end);
}

describe('console pages', () => {
  let h: Harness;
  let cookie: string;
  // name → state, as the fleet is set up below.
  const fleet: Record<string, string> = {};

  before(async () => {
    h = await createHarness();
    const states = ['healthy', 'down', 'degraded', 'unknown', 'maintenance'];
    for (let i = 0; i < 23; i++) {
      const name = `n-${String(i).padStart(2, '0')}`;
      const state = states[i % 5]!;
      const node = await h.createNode(name, { labels: { role: i % 2 ? 'web' : 'db' } });
      await h.sql`update node_health set state = ${state}, reason = ${`because ${name}`} where node_id = ${node.id}`;
      fleet[name] = state;
    }
    cookie = await consoleCookie(h, ORIGIN);
  });
  after(async () => {
    await h.close();
  });

  const RANK = ['down', 'degraded', 'unknown', 'maintenance', 'healthy'];
  const ZERO: Record<State, number> = { down: 0, degraded: 0, unknown: 0, maintenance: 0, healthy: 0 };
  /** The fleet in the order the console promises: worst state first, then by name. */
  const expected = (keep: (name: string) => boolean) =>
    Object.keys(fleet)
      .filter(keep)
      .sort((a, b) => RANK.indexOf(fleet[a]!) - RANK.indexOf(fleet[b]!) || (a < b ? -1 : 1));

  /**
   * Every page forwards, then every page backwards from the end, as the pager links walk them;
   * `sizes` only chooses how each state is read (fleetPage).
   */
  async function walk(f: FleetFilter, size: number, sizes: Record<State, number>) {
    const forwards: string[][] = [];
    let after: FleetCursor | undefined;
    for (;;) {
      const rows = await fleetPage(h.sql, f, { after }, size, sizes);
      if (rows.length === 0) break;
      forwards.push(rows.map((r) => r.name));
      after = fleetCursor(rows.at(-1)!);
    }
    const backwards: string[][] = [];
    // From past the end (a rank after healthy), as "Previous" walks back from the last page.
    let before: FleetCursor | undefined = [RANK.length + 1, ''];
    for (;;) {
      const rows = await fleetPage(h.sql, f, { before }, size, sizes);
      if (rows.length === 0) break;
      backwards.unshift(rows.map((r) => r.name));
      before = fleetCursor(rows[0]!);
    }
    return { forwards: forwards.flat(), backwards: backwards.flat() };
  }

  it('pages the fleet worst first, then by name, forwards and backwards, under every filter', async () => {
    for (const [f, keep] of [
      [{}, () => true],
      [{ state: 'down' }, (n: string) => fleet[n] === 'down'],
      [{ labels: [{ key: 'role', value: 'web' }] }, (n: string) => Number(n.slice(2)) % 2 === 1],
      [{ search: 'N-1' }, (n: string) => n.startsWith('n-1')],
      [{ state: 'healthy', search: '2' }, (n: string) => fleet[n] === 'healthy' && n.includes('2')],
    ] as Array<[FleetFilter, (n: string) => boolean]>) {
      const counts = await fleetCounts(h.sql, f);
      // As counted, every state read through the state index, every state along the name index.
      for (const sizes of [counts, ZERO, { ...ZERO, down: 1e6, degraded: 1e6, unknown: 1e6, maintenance: 1e6, healthy: 1e6 }]) {
        for (const size of [1, 4, 100]) {
          const { forwards, backwards } = await walk(f, size, sizes);
          const label = `${JSON.stringify(f)} by ${size} with sizes ${JSON.stringify(sizes)}`;
          assert.deepEqual(forwards, expected(keep), label);
          assert.deepEqual(backwards, forwards, `${label}, backwards`);
        }
      }
    }
  });

  it('counts nodes per state under the label and name filters', async () => {
    assert.deepEqual(await fleetCounts(h.sql, {}), { down: 5, degraded: 5, unknown: 4, maintenance: 4, healthy: 5 });
    assert.deepEqual(await fleetCounts(h.sql, { search: 'n-2' }), { down: 1, degraded: 1, unknown: 0, maintenance: 0, healthy: 1 });
  });

  const get = async (path: string) => {
    const res = await h.app.request(path, { headers: { cookie } });
    return { status: res.status, html: await res.text(), headers: res.headers };
  };

  it('shows the fleet with its counts, and links to the next page in order', async () => {
    const page = await get('/?label=role:db');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const names = [...page.html.matchAll(/<a href="\/nodes\/(n-\d\d)">/g)].map((m) => m[1]);
    assert.deepEqual(names, expected((n) => Number(n.slice(2)) % 2 === 0));
    assert.match(page.html, /<b>12<\/b> all/);
    // Written as labels are everywhere else in the console, the same filter.
    const typed = await get('/?label=role%3Ddb');
    assert.deepEqual([...typed.html.matchAll(/<a href="\/nodes\/(n-\d\d)">/g)].map((m) => m[1]), names);
    assert.doesNotMatch(typed.html, /A label filter is/);
    const bad = await get('/?label=nonsense&after=garbage');
    assert.equal(bad.status, 200);
    assert.match(bad.html, /A label filter is key=value, for example role=web\./);
  });

  it('holds the event stream only on pages with live regions, and there it also carries incidents for the count', async () => {
    // A browser allows 6 HTTP/1.1 connections per origin and every stream keeps one: pages with
    // nothing live of their own must not hold one, or 6 such tabs hang every other request.
    for (const path of ['/keys', '/users', '/channels']) {
      const page = await get(path);
      assert.equal(page.status, 200, path);
      assert.doesNotMatch(page.html, /\/v1\/events|id="live"/, path);
      assert.match(page.html, /id="nav-open"[^>]*hx-trigger="[^"]*every 30s, visibilitychange from:document"/, path);
    }
    const fleet = await get('/');
    assert.match(fleet.html, /hx-sse:connect="\/v1\/events\?types=node\.state_changed,node\.reason_changed,incident\.changed"/);
  });

  it('answers a 400 page for U+0000 in a filter, id, cursor or path, and looks nothing up', async () => {
    const addresses = [
      '/?q=n-0%00',
      '/?state=down%00',
      '/?label=role:%00web',
      '/?after=%00',
      '/?n%00=1',
      '/incidents?status=open%00',
      '/incidents?node=%00',
      '/nodes/n-00%00',
      '/nodes/n-00?before=%00',
      '/nodes/n-00/edit?x=%00',
      '/channels?after=a%00',
      '/users/%00',
      '/sign-in?next=/%00',
    ];
    for (const address of addresses) {
      const res = await h.rejected(async () => h.app.request(address, { headers: { cookie } }));
      const html = await res.text();
      assert.equal(res.status, 400, `${address}: ${html.slice(0, 200)}`);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, address);
      assert.equal(res.headers.get('cache-control'), 'no-store', address);
      assert.match(html, /<h1>Cannot read that address<\/h1>/, address);
      assert.match(html, /href="\/">Back to the console</, address);
    }
    // An action with a valid form is refused the same way before it finds the node.
    const csrf = /name="_csrf" value="([^"]+)"/.exec((await get('/')).html)?.[1] ?? assert.fail('no token on the fleet page');
    const deleting = await h.rejected(async () =>
      h.app.request('/nodes/n-00%00/delete', {
        method: 'POST',
        headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf }).toString(),
      }),
    );
    assert.equal(deleting.status, 400);
    assert.match(await deleting.text(), /Cannot read that address/);
    // Storable but meaningless values are still read leniently.
    const lenient = await get('/?state=sleepy&q=%ED%A0%80');
    assert.equal(lenient.status, 200);
  });

  it("shows an incident's latest 500 timeline entries and counts the earlier ones", async () => {
    const [incident] = await openIncidents(h.sql, [
      { nodeId: (await h.sql`select id from nodes where name = 'n-02'`)[0]!.id, nodeName: 'n-02', category: 'node_down', severity: 'critical', title: 'n-02 is down', reason: 'because n-02', policyId: null, openedAt: h.clock.now() },
    ]);
    const at = h.clock.now();
    await addTimeline(h.sql, Array.from({ length: 503 }, (_, i) => ({ incident_id: incident!.id, at, kind: 'note', detail: { by: 'alice', note: `entry-${i}.` } })));
    const page = await get(`/incidents/${incident!.id}`);
    assert.equal([...page.html.matchAll(/entry-\d+\./g)].length, 500);
    assert.doesNotMatch(page.html, /entry-2\./, 'the oldest are the ones left out');
    assert.match(page.html, /entry-3\./);
    assert.match(page.html, /3 earlier entries are not shown/);
    await h.sql`delete from incidents where id = ${incident!.id}`;
  });

  it('shows a node with its uptime bar, and an incident with its timeline and ledger', async () => {
    const node = await get('/nodes/n-01');
    assert.equal(node.status, 200);
    assert.match(node.html, /because n-01/);
    assert.equal([...node.html.matchAll(/<title>\d{4}-\d\d-\d\d: /g)].length, 90, 'ninety days in the bar');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: (await h.sql`select id from nodes where name = 'n-01'`)[0]!.id, nodeName: 'n-01', category: 'node_down', severity: 'critical', title: 'n-01 is down', reason: 'because n-01', policyId: null, openedAt: h.clock.now() },
    ]);
    // Told: a channel on the level, and a person by email.
    const hook = (await (await h.admin('POST', '/v1/channels', { name: 'ops-hook', type: 'webhook', config: { url: 'https://hooks.example.com/x' } })).json()) as { id: string };
    const bob = (await (await h.admin('POST', '/v1/users', { name: 'Bob Ops', email: 'bob@example.com' })).json()) as { id: string };
    await insertDeliveries(
      h.sql,
      [
        { incidentId: incident!.id, event: 'opened', eventKey: 'opened', channelId: hook.id, channelType: 'webhook', occurredAt: h.clock.now() },
        { incidentId: incident!.id, event: 'opened', eventKey: 'opened', channelId: null, userId: bob.id, channelType: 'email', occurredAt: h.clock.now() },
      ],
      h.clock.now(),
    );
    await h.admin('POST', `/v1/incidents/${incident!.id}/acknowledge`, { by: 'alice' });
    const page = await get(`/incidents/${incident!.id}`);
    assert.match(page.html, /Acknowledged by <span>alice<\/span>/);
    assert.match(page.html, /<td data-label="Told"><span><b>ops-hook<\/b><span class="sub">webhook<\/span>/);
    assert.match(page.html, /<td data-label="Told"><span><b>Bob Ops<\/b> \(by email\)<span class="sub">email<\/span>/);
    assert.match(page.html, /<span class="tag tag-pending">pending<\/span>/);
    const list = await get('/incidents?status=acknowledged');
    assert.match(list.html, new RegExp(`href="/incidents/${incident!.id}"`));
    assert.equal((await get('/incidents/not-an-id')).status, 404);
    assert.equal((await get('/nodes/no-such-node')).status, 404);
  });

  it('refuses, in words and with 409, to delete a channel or a person an open incident paged', async () => {
    const nodeId = (await h.sql`select id from nodes where name = 'n-06'`)[0]!.id;
    const [incident] = await openIncidents(h.sql, [
      { nodeId, nodeName: 'n-06', category: 'node_down', severity: 'critical', title: 'n-06 is down', reason: 'because n-06', policyId: null, openedAt: h.clock.now() },
    ]);
    const hook = (await (await h.admin('POST', '/v1/channels', { name: 'paged-hook', type: 'webhook', config: { url: 'https://hooks.example.com/p' } })).json()) as { id: string };
    const carol = (await (await h.admin('POST', '/v1/users', { name: 'Carol Ops', email: 'carol@example.com' })).json()) as { id: string };
    await insertDeliveries(
      h.sql,
      [
        { incidentId: incident!.id, event: 'opened', eventKey: 'opened', channelId: hook.id, channelType: 'webhook', occurredAt: h.clock.now() },
        { incidentId: incident!.id, event: 'opened', eventKey: 'opened', channelId: null, userId: carol.id, channelType: 'email', occurredAt: h.clock.now() },
      ],
      h.clock.now(),
    );
    const api = await h.admin('DELETE', `/v1/channels/${hook.id}`);
    assert.equal(api.status, 409);
    const { error } = (await api.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, 'conflict');
    assert.equal(error.message, `The channel was paged for open incident "n-06 is down" (${incident!.id}); delete it once that is resolved, so its resolve reaches the channel.`);

    /** The console's answer to deleting the thing at `page`, as its confirmation posts it. */
    const deleted = async (page: string) => {
      const csrf = /name="_csrf" value="([^"]+)"/.exec((await get(page)).html)?.[1] ?? assert.fail(`no token on ${page}`);
      const res = await h.app.request(`${page}/delete`, {
        method: 'POST',
        headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, confirmed: 'yes' }).toString(),
      });
      assert.equal(res.status, 409, page);
      const html = await res.text();
      // The incident as a link to its page and by its node, never by an id quoted in the text.
      assert.doesNotMatch(html, new RegExp(`\\(${incident!.id}\\)|, ${incident!.id}`), page);
      return html;
    };
    const link = `<a href="/incidents/${incident!.id}">n-06 is down</a> on n-06`;
    for (const [page, name] of [
      [`/channels/${hook.id}`, 'paged-hook'],
      [`/users/${carol.id}`, 'Carol Ops'],
    ] as const) {
      assert.ok((await deleted(page)).includes(`${name} was paged for open incident ${link} — try again once that is resolved: its resolve is sent there too.`), page);
    }
    await h.admin('POST', `/v1/incidents/${incident!.id}/resolve`, { by: 'alice' });
    // Resolved, but its pages are still pending and its resolve still in the outbox: still owed.
    const owed = await h.admin('DELETE', `/v1/channels/${hook.id}`);
    assert.equal(owed.status, 409);
    assert.match(((await owed.json()) as { error: { message: string } }).error.message, /are not all delivered yet/);
    assert.ok((await deleted(`/channels/${hook.id}`)).includes(`paged-hook is still owed messages by incident ${link} — try again once they are delivered.`));
    // As if the notifier had sent the pages (this harness runs none) and the resolve had failed for good.
    await h.sql`update deliveries set status = 'sent' where incident_id = ${incident!.id}`;
    const [resolve] = await h.sql<{ id: string }[]>`select id::text as id from outbox where payload->>'incident_id' = ${incident!.id}`;
    await buryOutbox(h.sql, resolve!.id, 'failed on every attempt', h.clock.now());
    assert.ok(
      (await deleted(`/channels/${hook.id}`)).includes(
        `paged-hook would still be messaged, once replayed, by dead outbox event ${resolve!.id} (of incident ${link}) — an admin replays (then try again once its messages are delivered) or discards (they are never sent) it first, through the API: POST /v1/outbox/dead/${resolve!.id}/replay or DELETE /v1/outbox/dead/${resolve!.id}.`,
      ),
    );
    await h.sql`delete from outbox_dead where id = ${resolve!.id}`;
    assert.equal((await h.admin('DELETE', `/v1/channels/${hook.id}`)).status, 204);
    assert.equal((await h.admin('DELETE', `/v1/users/${carol.id}`)).status, 204);
  });

  it('answers a browser an HTML 404 page at an address nothing serves; the API and its clients keep JSON', async () => {
    const browser = { cookie, accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    for (const address of ['/settings', '/console/settings', '/nodes/n-00/nonsense']) {
      const res = await h.app.request(address, { headers: browser });
      assert.equal(res.status, 404, address);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, address);
      assert.equal(res.headers.get('cache-control'), 'no-store', address);
      const html = await res.text();
      assert.match(html, /<h1>No such page<\/h1>/, address);
      assert.match(html, /href="\/">Back to the console</, address);
      // Signed in, it keeps the console's navigation, as every other page does.
      assert.match(html, /<nav aria-label="Console">/, address);
    }
    // Without a session there is no navigation to show (its pages would send the browser to sign in).
    const stranger = await (await h.app.request('/settings', { headers: { accept: browser.accept } })).text();
    assert.match(stranger, /<h1>No such page<\/h1>/);
    assert.doesNotMatch(stranger, /<nav/);
    for (const [address, headers] of [
      ['/v1/settings', { ...browser, authorization: `Bearer ${ADMIN_TOKEN}` }],
      ['/settings', { accept: '*/*' }],
      ['/settings', {}],
      // Java's default Accept names text/html among others; a navigating browser names it first.
      ['/settings', { accept: 'text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2' }],
      // What the public reads is not the console's: its visitors have no console to go back to.
      ['/status', browser],
      ['/badge/x/y', browser],
      ['/a/some-token/extra', browser],
    ] as Array<[string, Record<string, string>]>) {
      const res = await h.app.request(address, { headers });
      assert.equal(res.status, 404, address);
      const body = await res.text();
      assert.ok(body.startsWith('{'), `${address}: ${body.slice(0, 200)}`);
      assert.deepEqual((JSON.parse(body) as { error: { code: string } }).error.code, 'not_found', address);
    }
  });

  it('keeps the navigation on every page refusing a signed-in person, with the refusal\'s own status', async () => {
    const NAV = /<nav aria-label="Console">/;
    const gone = '00000000-0000-4000-8000-000000000000';
    /** The page's status, heading and whether it has the navigation. */
    const seen = async (res: Response) => {
      const html = await res.text();
      return { status: res.status, title: /<h1>([^<]*)<\/h1>/.exec(html)?.[1], nav: NAV.test(html) };
    };
    for (const [address, title] of [
      ['/incidents/not-an-id', 'No such incident'],
      [`/incidents/${gone}`, 'No such incident'],
      ['/nodes/no-such-node', 'No such node'],
      ['/nodes/no-such-node/edit', 'No such node'],
      [`/status-pages/${gone}`, 'No such status page'],
      ['/status-pages/not-an-id/delete', 'No such status page'],
      [`/policies/${gone}`, 'No such policy'],
      [`/users/${gone}`, 'No such person'],
      [`/schedules/${gone}`, 'No such schedule'],
      [`/schedules/${gone}/overrides/${gone}/delete`, 'No such override'],
      [`/channels/${gone}`, 'No such channel'],
      [`/maintenance/${gone}/end`, 'No such window'],
    ] as Array<[string, string]>) {
      assert.deepEqual(await seen(await h.app.request(address, { headers: { cookie } })), { status: 404, title, nav: true }, address);
    }
    const post = (path: string, form: Record<string, string>, as = cookie, origin = ORIGIN) =>
      h.app.request(path, { method: 'POST', headers: { cookie: as, origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    assert.deepEqual(await seen(await h.app.request('/nodes/a%00b', { headers: { cookie } })), { status: 400, title: 'Cannot read that address', nav: true });
    assert.deepEqual(await seen(await post('/incidents/not-an-id/acknowledge', { _csrf: 'from-another-session' })), { status: 403, title: 'This page has expired', nav: true });
    const token = async (as: string) => /name="_csrf" value="([^"]+)"/.exec(await (await h.app.request('/', { headers: { cookie: as } })).text())?.[1] ?? assert.fail('no token');
    assert.deepEqual(await seen(await post(`/incidents/${gone}/acknowledge`, { _csrf: await token(cookie) })), { status: 404, title: 'No such incident', nav: true });
    const reader = await consoleCookie(h, ORIGIN, (await h.createKey('read', 'refused reader')).secret);
    const csrf = await token(reader);
    assert.deepEqual(await seen(await post('/maintenance', { _csrf: csrf }, reader)), { status: 403, title: 'Your key may not do that', nav: true });
    // Sent from another site, the session is left unread (reading it would count as its use): bare.
    assert.deepEqual(await seen(await post('/maintenance', { _csrf: csrf }, reader, 'https://elsewhere.example')), { status: 403, title: 'Not sent from this console', nav: false });
    // Also where a refusal comes before the origin's check (an address it cannot read) or with no
    // route to check it (an address nothing serves): bare, and the session's last use stands.
    const readerHash = hashSecret(reader.split('=')[1]!);
    const lastSeen = async () => (await h.sql<{ last_seen_at: Date }[]>`select last_seen_at from console_sessions where id_hash = ${readerHash}`)[0]!.last_seen_at.getTime();
    // Last used 2 minutes ago: past the minute within which a use is not recorded again (store-sessions.ts).
    await h.sql`update console_sessions set last_seen_at = ${new Date(h.clock.now().getTime() - 2 * 60_000)} where id_hash = ${readerHash}`;
    const lastUse = await lastSeen();
    for (const [path, status, title] of [
      ['/maintenance?x=%00', 400, 'Cannot read that address'],
      ['/no-such-address', 404, 'No such page'],
    ] as Array<[string, number, string]>) {
      // What a browser sends with a form another site posts here.
      const headers = { cookie: reader, origin: 'https://elsewhere.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'content-type': 'application/x-www-form-urlencoded' };
      assert.deepEqual(await seen(await h.app.request(path, { method: 'POST', headers, body: '_csrf=x' })), { status, title, nav: false }, path);
    }
    assert.equal(await lastSeen(), lastUse, 'the session was not read as used');
    await h.app.request('/', { headers: { cookie: reader } });
    assert.ok((await lastSeen()) > lastUse, 'a page of its own is a use');
    // A form past the size limit, and a create form whose single-use token is missing or still in use.
    const admin = await token(cookie);
    assert.deepEqual(await seen(await post('/maintenance', { _csrf: admin, note: 'x'.repeat(70_000) })), { status: 413, title: 'Too much to send', nav: true });
    assert.deepEqual(await seen(await post('/keys', { _csrf: admin, name: 'never made', scope: 'read' })), { status: 400, title: 'This page has expired', nav: true });
    const once = randomUUID();
    const [session] = await h.sql<{ key_id: string }[]>`select key_id from console_sessions where id_hash = ${hashSecret(cookie.split('=')[1]!)}`;
    // What a sending that never finished leaves: a claim with no answer (once.tsx).
    await h.sql`insert into idempotency_keys (credential, key, fingerprint, created_at)
      values (${`key:${session!.key_id}`}, ${`console-form:${once}`}, ${fingerprintOf('POST', '/keys', '')}, ${new Date(h.clock.now().getTime() - 10 * 60_000)})`;
    assert.deepEqual(await seen(await post('/keys', { _csrf: admin, _once: once, name: 'never made', scope: 'read' })), { status: 409, title: 'Already being sent', nav: true });
    // Signed out, the same address sends the browser to sign in: there is no navigation to keep.
    assert.equal((await h.app.request('/incidents/not-an-id')).status, 303);
  });

  it('answers a signed-in browser the bare 404 page when the database is down, not a 500', async () => {
    const lines: string[] = [];
    const log = createLogger('warn', { write: (line: string) => void lines.push(line) });
    // Nothing listens on port 1: every query fails to connect, as with Postgres down.
    const gone = createSql('postgres://root@127.0.0.1:1/gone');
    try {
      const { app } = buildApp({ sql: gone, clock: h.clock, buffer: new HeartbeatBuffer(), log });
      const res = await app.request('/settings', { headers: { cookie, accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
      assert.equal(res.status, 404);
      const html = await res.text();
      assert.match(html, /<h1>No such page<\/h1>/);
      assert.doesNotMatch(html, /<nav aria-label="Console">/);
      assert.match(lines.join(''), /ECONNREFUSED/);
      assert.ok(!lines.join('').includes(cookie.split('=')[1]!.split(';')[0]!), 'the session id is not logged');
    } finally {
      await gone.end({ timeout: 1 });
    }
  });

  it('answers a refusal with its own status and the bare page when what the navigation needs cannot be read', async () => {
    const lines: string[] = [];
    const log = createLogger('warn', { write: (line: string) => void lines.push(line) });
    // The session reads, then the navigation's count of open incidents fails, as at the connection limit.
    const crowded = new Proxy(h.sql, {
      apply(target, self, args) {
        const [strings] = args as [unknown];
        if (Array.isArray(strings) && strings.join('').includes("from incidents where status = 'open'")) {
          return Promise.reject(Object.assign(new Error('sorry, too many clients already'), { code: '53300' }));
        }
        return Reflect.apply(target, self, args);
      },
    });
    const { app } = buildApp({ sql: crowded, clock: h.clock, buffer: new HeartbeatBuffer(), log });
    const answered = await h.app.request('/incidents/not-an-id', { headers: { cookie } });
    assert.match(await answered.text(), /<nav aria-label="Console">/, 'with the count read, the navigation');
    const res = await app.request('/incidents/not-an-id', { headers: { cookie } });
    assert.equal(res.status, 404);
    const html = await res.text();
    assert.match(html, /<h1>No such incident<\/h1>/);
    assert.doesNotMatch(html, /<nav aria-label="Console">/);
    assert.match(lines.join(''), /53300/);
  });

  it('names the node a maintenance window could not find, or a name refused, as it was typed, not by its place in a list', async () => {
    /** The nodes field's problem for this typed list; the form has no numbered ids to name. */
    const refused = async (nodes: string) => {
      const body = formOf((await get('/maintenance')).html, '/maintenance');
      body.set('nodes', nodes);
      const res = await h.app.request('/maintenance', { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
      assert.equal(res.status, 400);
      const html = await res.text();
      assert.doesNotMatch(html, /node_ids/);
      return /<p class="error" id="nodes-error">([^<]*)<\/p>/.exec(html)?.[1];
    };
    assert.equal(await refused('n-00, web-9 n-01 web-10'), 'No node named web-9, web-10');
    assert.equal(await refused('n-00 web/1 café'), 'web/1: must be 1-128 characters of A-Z a-z 0-9 . _ : -; café: must be 1-128 characters of A-Z a-z 0-9 . _ : -');
    assert.equal((await h.sql`select count(*) from maintenances`)[0]!.count, '0');
  });

  it("says beside Layer 1 to pick someone when it is filled but for its people; the API keeps its words", async () => {
    await h.admin('POST', '/v1/users', { name: 'Lee', email: 'lee@example.com' });
    const sent = async (change: (body: URLSearchParams) => void) => {
      const body = formOf((await get('/schedules/new')).html, '/schedules/new');
      body.set('name', 'Nobody rota');
      change(body);
      const res = await h.app.request('/schedules/new', { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
      assert.equal(res.status, 400);
      const html = await res.text();
      const layer1 = html.slice(html.indexOf('<legend>Layer 1</legend>'), html.indexOf('<legend>Layer 2</legend>'));
      return { html, layer1 };
    };
    // Layer 1 as the form starts it (its rotation and start filled), no name, nobody picked.
    const unnamed = await sent(() => {});
    assert.match(unnamed.layer1, /<div class="field"><span class="label-like">People, in turn<\/span><ol class="slots">[^]*<\/ol><p class="error" id="l0_users-error">Layer 1: pick at least one person<\/p><\/div>/);
    assert.doesNotMatch(unnamed.html, /at least one layer|must name/);
    const named = await sent((body) => body.set('l0_name', 'Primary'));
    assert.match(named.layer1, /<p class="error" id="l0_users-error">Layer 1: pick at least one person<\/p>/);
    assert.doesNotMatch(named.html, /must name at least one user/);
    assert.equal((await h.sql`select count(*) from schedules where name = 'Nobody rota'`)[0]!.count, '0');
    const api = await h.admin('POST', '/v1/schedules', { name: 'Nobody rota', time_zone: 'UTC', layers: [] });
    assert.match(await api.text(), /must hold at least one layer/);
  });

  it("lists a schedule's zone and its clock as one piece, as the people list does, so a phone's card keeps them on one row", async () => {
    const user = (await (await h.admin('POST', '/v1/users', { name: 'Zed', email: 'zed@example.com', time_zone: 'Asia/Tokyo' })).json()) as { id: string };
    await h.admin('POST', '/v1/schedules', { name: 'Tokyo rota', time_zone: 'Asia/Tokyo', layers: [{ name: 'p', user_ids: [user.id], starts_at: '2026-12-01T00:00:00Z', rotation: 'P1D' }] });
    const zoneNow = '<span>Asia/Tokyo <span class="muted">· 19:00 now</span></span>';
    for (const list of ['/schedules', '/users']) assert.ok((await get(list)).html.includes(`<td data-label="Time zone">${zoneNow}</td>`), `${list}: the zone and its clock apart`);
  });

  it('says nothing for a ?done= that is not one of its own sayings, such as an inherited name', async () => {
    const user = (await (await h.admin('POST', '/v1/users', { name: 'Dee', email: 'dee@example.com' })).json()) as { id: string };
    const schedule = (await (await h.admin('POST', '/v1/schedules', { name: 'Done rota', time_zone: 'UTC', layers: [{ name: 'p', user_ids: [user.id], starts_at: '2026-12-01T00:00:00Z', rotation: 'P1D' }] })).json()) as { id: string };
    for (const path of ['/maintenance?done=constructor', `/schedules/${schedule.id}?done=constructor`, '/maintenance?done=toString']) {
      const page = await get(path);
      assert.equal(page.status, 200, path);
      assert.doesNotMatch(page.html, /native code|class="notice ok"/, path);
    }
  });

  it("sends a channel's test and comes back to the channel's own address with how that test went", async () => {
    const mail = (await (await h.admin('POST', '/v1/channels', { name: 'test-mail', type: 'email', config: { to: ['ops@example.com'] } })).json()) as { id: string };
    const body = formOf((await get(`/channels/${mail.id}`)).html, `/channels/${mail.id}/test`);
    const res = await h.app.request(`/channels/${mail.id}/test`, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    assert.equal(res.status, 303);
    const [test] = await h.sql<{ id: string; error: string }[]>`select id::text as id, error from channel_tests where channel_id = ${mail.id}`;
    assert.equal(res.headers.get('location'), `/channels/${mail.id}?test=${test!.id}`);
    // Someone else's test, sent meanwhile, is the newest: the page still says how this one went.
    await h.sql`insert into channel_tests (channel_id, at, by, status) values (${mail.id}, ${h.clock.now()}, 'someone', 'sent')`;
    const page = await get(res.headers.get('location')!);
    assert.equal(page.status, 200);
    assert.match(test!.error, /^smtp_not_configured: email is not configured/);
    assert.ok(page.html.includes('<div class="notice bad" role="alert"><p>The test failed. Email is not configured: set SMTP_URL to deliver to email channels</p></div>'), page.html);
    assert.doesNotMatch(page.html, /The test was sent/);
  });

  it("limits the node name field to the API's 128 characters", async () => {
    const input = /<input id="name" name="name"[^>]*>/.exec((await get('/nodes/n-00/edit')).html)?.[0] ?? assert.fail('no name field');
    const max = Number(/maxlength="(\d+)"/.exec(input)?.[1]);
    assert.equal(max, 128, input);
    assert.equal((await h.admin('POST', '/v1/nodes', { name: 'n'.repeat(max) })).status, 201);
    assert.equal((await h.admin('POST', '/v1/nodes', { name: 'm'.repeat(max + 1) })).status, 400);
  });

  it('offers current zone names, refuses an abbreviation at the field, and keeps Asia/Kolkata as typed', async () => {
    const list = (await get('/users')).html;
    for (const zone of ['Asia/Kolkata', 'Europe/Kyiv', 'America/New_York']) assert.ok(list.includes(`<option value="${zone}"></option>`), zone);
    const send = async (zone: string) => {
      const body = formOf(list, '/users');
      body.set('name', `Zone ${zone}`);
      body.set('email', `zone-${zone.replace('/', '-').toLowerCase()}@example.com`);
      body.set('time_zone', zone);
      return h.app.request('/users', { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    };
    const refused = await send('EST');
    assert.equal(refused.status, 400);
    assert.match(unescapeHtml(await refused.text()), /use an IANA name such as America\/New_York/);
    assert.equal((await h.sql`select count(*) from users where name = 'Zone EST'`)[0]!.count, '0');
    assert.equal((await send('Asia/Kolkata')).status, 303);
    assert.deepEqual([...(await h.sql`select time_zone from users where name = 'Zone Asia/Kolkata'`)], [{ time_zone: 'Asia/Kolkata' }]);
  });

  it("says per level whom a policy would page now, until when on the schedule's clock, and which level reaches nobody now", async () => {
    const hook = (await (await h.admin('POST', '/v1/channels', { name: 'ana-push', type: 'webhook', config: { url: 'https://push.example.com/ana' } })).json()) as { id: string };
    const ana = (await (await h.admin('POST', '/v1/users', { name: 'Ana Okafor', email: 'ana.okafor@example.com', channel_ids: [hook.id] })).json()) as { id: string };
    const bo = (await (await h.admin('POST', '/v1/users', { name: 'Bo Lind', email: 'bo.lind@example.com', time_zone: 'Europe/Berlin' })).json()) as { id: string };
    // Weeks from Monday 2026-11-16 09:00 in New York: Ana's runs to Monday the 23rd, 09:00 there.
    const ny = (await (await h.admin('POST', '/v1/schedules', { name: 'NY rota', time_zone: 'America/New_York', layers: [{ name: 'w', user_ids: [ana.id, bo.id], starts_at: '2026-11-16T14:00:00Z', rotation: 'P1W' }] })).json()) as { id: string };
    const office = (await (await h.admin('POST', '/v1/schedules', {
      name: 'Berlin office',
      time_zone: 'Europe/Berlin',
      layers: [{ name: 'desk', user_ids: [bo.id], starts_at: '2026-11-16T08:00:00Z', rotation: 'P1W', restrictions: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }] }],
    })).json()) as { id: string };
    const levels = [
      { after_seconds: 0, schedule_ids: [ny.id] },
      { after_seconds: 300, schedule_ids: [office.id] },
      { after_seconds: 600, user_ids: [ana.id] },
    ];
    const policy = (await (await h.admin('POST', '/v1/escalation-policies', { name: 'three zones', levels })).json()) as { id: string };
    const html = (await get(`/policies/${policy.id}`)).html;
    const now = html.slice(html.indexOf('<ol class="plain" id="levels-now">'), html.indexOf('</ol>', html.indexOf('id="levels-now"')));
    const items = now.split('<li>').slice(1);
    assert.equal(items.length, 3, now);
    // Saturday 10:00 UTC: Ana's week in New York, nobody at the Berlin office, Ana named outright.
    assert.match(items[0]!, new RegExp(`now: <a href="/users/${ana.id}">Ana Okafor</a> \\(NY rota, until Mon 09:00 America/New_York\\)`));
    assert.doesNotMatch(items[0]!, /reaches nobody/);
    assert.match(items[1]!, /nobody on call in Berlin office/);
    assert.match(items[1]!, /reaches nobody now — the next level fires at once/);
    assert.match(items[2]!, new RegExp(`now: <a href="/users/${ana.id}">Ana Okafor</a></li>`));
  });

  it('saves a policy from its page as it was, people and schedules included', async () => {
    const channel = (await (await h.admin('POST', '/v1/channels', { name: 'pager', type: 'email', config: { to: ['p@example.com'] } })).json()) as { id: string };
    const carol = (await (await h.admin('POST', '/v1/users', { name: 'Carol', email: 'carol@example.com' })).json()) as { id: string };
    const rota = (await (await h.admin('POST', '/v1/schedules', { name: 'Rota', time_zone: 'UTC', layers: [{ name: 'a', user_ids: [carol.id], starts_at: '2026-11-01T00:00:00.000Z', rotation: 'P1W' }] })).json()) as { id: string };
    const levels = [
      { after_seconds: 0, channel_ids: [channel.id], user_ids: [carol.id], schedule_ids: [] },
      { after_seconds: 600, channel_ids: [], user_ids: [], schedule_ids: [rota.id] },
    ];
    const policy = (await (await h.admin('POST', '/v1/escalation-policies', { name: 'people', levels, repeat: 2, ack_timeout_seconds: 900 })).json()) as { id: string };
    const page = await get(`/policies/${policy.id}`);
    assert.match(page.html, /at once → pager, Carol/);
    assert.match(page.html, /name="ack_timeout_seconds"[^>]*value="900"/);
    const res = await h.app.request(`/policies/${policy.id}`, {
      method: 'POST',
      headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: formOf(page.html, `/policies/${policy.id}`).toString(),
    });
    assert.equal(res.status, 303, await res.text());
    const after = (await (await h.admin('GET', `/v1/escalation-policies/${policy.id}`)).json()) as { levels: unknown; repeat: number; ack_timeout_seconds: number | null };
    assert.deepEqual([after.levels, after.repeat, after.ack_timeout_seconds], [levels, 2, 900]);
  });

  it('saves a policy of 7 levels, and one of the 10 the API allows, from its page with every level kept', async () => {
    const channel = (await (await h.admin('POST', '/v1/channels', { name: 'deep', type: 'email', config: { to: ['d@example.com'] } })).json()) as { id: string };
    for (const count of [7, 10]) {
      const levels = Array.from({ length: count }, (_, i) => ({ after_seconds: i * 300, channel_ids: [channel.id], user_ids: [], schedule_ids: [] }));
      const policy = (await (await h.admin('POST', '/v1/escalation-policies', { name: `deep-${count}`, levels })).json()) as { id: string };
      const page = await get(`/policies/${policy.id}`);
      const res = await h.app.request(`/policies/${policy.id}`, {
        method: 'POST',
        headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        body: formOf(page.html, `/policies/${policy.id}`).toString(),
      });
      assert.equal(res.status, 303, await res.text());
      const after = (await (await h.admin('GET', `/v1/escalation-policies/${policy.id}`)).json()) as { levels: unknown };
      assert.deepEqual(after.levels, levels, `${count} levels`);
    }
  });

  it("offers a new policy the API's 10 levels, those past the next one folded away", async () => {
    const channel = (await (await h.admin('POST', '/v1/channels', { name: 'folded', type: 'email', config: { to: ['f@example.com'] } })).json()) as { id: string };
    const page = await get('/policies');
    const form = page.html.slice(page.html.indexOf('<form method="post" action="/policies"'));
    const rows = [...form.matchAll(/name="after_(\d+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(rows, Array.from({ length: 10 }, (_, i) => i));
    // Level 1 and the next blank one are in view; levels 3–10 wait behind one summary, no script needed.
    const folded = form.slice(form.indexOf('<details'), form.indexOf('</details>'));
    assert.deepEqual([...folded.matchAll(/name="after_(\d+)"/g)].map((m) => Number(m[1])), [2, 3, 4, 5, 6, 7, 8, 9]);
    assert.match(folded, /<summary>More levels/);
    // A folded row is sent like any other; one refused is drawn again in view as it was typed, a blank after it.
    const send = (fields: Record<string, string>) => {
      const body = formOf(page.html, '/policies');
      for (const [k, v] of Object.entries({ name: 'Folded', channels_0: channel.id, ...fields })) body.set(k, v);
      return h.app.request('/policies', { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    };
    const refused = await send({ after_7: '120' });
    assert.equal(refused.status, 400);
    const again = await refused.text();
    const redrawn = again.slice(again.indexOf('<form method="post" action="/policies"'));
    assert.match(redrawn.slice(0, redrawn.indexOf('<details')), /name="after_7"[^>]* value="120"/);
    assert.deepEqual([...redrawn.slice(redrawn.indexOf('<details'), redrawn.indexOf('</details>')).matchAll(/name="after_(\d+)"/g)].map((m) => Number(m[1])), [9]);
    const made = await send({ after_7: '120', channels_7: channel.id });
    assert.equal(made.status, 303, await made.text());
    const policy = (await (await h.admin('GET', `/v1/escalation-policies/${made.headers.get('location')!.split('/').at(-1)}`)).json()) as { levels: Array<{ after_seconds: number }> };
    assert.deepEqual(policy.levels.map((l) => l.after_seconds), [0, 120]);
  });

  it("offers a node's policy as following the default or one policy by name, never the default twice", async () => {
    const channel = (await (await h.admin('POST', '/v1/channels', { name: 'choice', type: 'email', config: { to: ['c@example.com'] } })).json()) as { id: string };
    const levels = [{ after_seconds: 0, channel_ids: [channel.id] }];
    const primary = (await (await h.admin('POST', '/v1/escalation-policies', { name: 'primary', levels, is_default: true })).json()) as { id: string };
    const options = (html: string) => {
      const select = /<select id="escalation_policy_id"[^]*?<\/select>/.exec(html)?.[0] ?? assert.fail('no policy select');
      return [...select.matchAll(/<option value="([^"]*)"( selected="")?>([^<]*)</g)].map((m) => `${m[1] ? 'id' : 'null'}${m[2] ? '*' : ''} ${m[3]}`);
    };
    const page = await get('/nodes/n-01/edit');
    const shown = options(page.html);
    assert.equal(shown[0], 'null* Follow the default (now: primary)');
    assert.ok(shown.includes('id primary'), shown.join('\n'));
    assert.equal(shown.filter((o) => /default/.test(o)).length, 1, shown.join('\n'));
    const save = async (policy: string) => {
      // A form drawn now: one drawn before the last save is at a version no longer the node's (412).
      const body = formOf((await get('/nodes/n-01/edit')).html, '/nodes/n-01/edit');
      body.set('escalation_policy_id', policy);
      const res = await h.app.request('/nodes/n-01/edit', { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
      assert.equal(res.status, 303, await res.text());
      return ((await (await h.admin('GET', '/v1/nodes/n-01')).json()) as { escalation_policy_id: string | null }).escalation_policy_id;
    };
    // The two differ once another policy becomes the default: one follows it, the other stays.
    assert.equal(await save(primary.id), primary.id);
    const pinned = options((await get('/nodes/n-01/edit')).html);
    assert.equal(pinned[0], 'null Follow the default (now: primary)');
    assert.ok(pinned.includes('id* primary'), pinned.join('\n'));
    assert.equal(await save(''), null);
    assert.match((await get('/nodes/n-01')).html, /<a href="\/policies\/[^"]+">primary<\/a><span class="muted"> \(following the default\)<\/span>/);
    await h.sql`update escalation_policies set is_default = false`;
    assert.equal(options((await get('/nodes/n-01/edit')).html)[0], 'null* Follow the default (none now: nobody is paged)');
  });
});

describe('console: the fleet before any node exists', () => {
  const { s, get } = signedIn(ORIGIN);

  it('says there are no nodes yet and where they come from; a filter matching nothing still says so', async () => {
    const { h } = s;
    const first = await get('/');
    assert.match(first, /No nodes yet\./);
    assert.match(first, /npx lifeline nodes add web-1/);
    assert.doesNotMatch(first, /No node matches/);

    await h.createNode('web-1');
    const filtered = await get('/?q=nothing-like-it');
    assert.match(filtered, /No node matches\./);
    assert.doesNotMatch(filtered, /No nodes yet/);
  });
});

describe('console: incidents', () => {
  const { s, get } = signedIn(ORIGIN);
  /** The incident's row in a list of incidents, from its link to the row's end. */
  const listRow = (list: string, id: string) => rowFrom(list, `href="/incidents/${id}"`);
  /** The number beside "Incidents" in the navigation, and what it says to a screen reader. */
  const badge = (html: string) => /<span class="count" title="Open incidents nobody has acknowledged yet"><span class="visually-hidden">([^<]*)<\/span>(\d+)<\/span>/.exec(html)?.slice(1) ?? null;
  /** What was made by POSTing `body` to the API at `path`: its id. */
  const made = async (path: string, body: unknown) => (await (await s.h.admin('POST', path, body)).json()) as { id: string };
  /** A node's incident opened at `openedAt` by the policy `policyId`. */
  const openedBy = async (node: { id: string; name: string }, policyId: string, openedAt: Date) =>
    (await openIncidents(s.h.sql, [{ nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: `${node.name} is down`, reason: 'no heartbeat', policyId, openedAt }]))[0]!;
  /** What an incident's page says under "Escalation level". */
  const levelOf = async (id: string) => /<dt>Escalation level<\/dt><dd>([^]*?)<\/dd>/.exec(await get(`/incidents/${id}`))?.[1] ?? assert.fail('no level');
  /** A time's date as agoAndAt gives it: none on the clock's UTC day, "2026-11-20 " on another. */
  const onDayOf = (iso: string) => (iso.slice(0, 10) === s.h.clock.now().toISOString().slice(0, 10) ? '' : `${iso.slice(0, 10)} `);

  it('counts what the incidents page calls open: an acknowledged incident leaves the badge', async () => {
    const { h } = s;
    const nodes = await Promise.all(['db-1', 'db-2'].map((n) => h.createNode(n)));
    const opened = await openIncidents(
      h.sql,
      nodes.map((n) => ({ nodeId: n.id, nodeName: n.name, category: 'node_down', severity: 'critical', title: `${n.name} is down`, reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() })),
    );
    assert.deepEqual(badge(await get('/')), [', open: ', '2']);
    // Each button in the list is named for its incident, not one more "Acknowledge".
    const listed = await get('/incidents');
    for (const n of nodes) assert.match(listed, new RegExp(`>Acknowledge<span class="visually-hidden"> ${n.name} is down</span></button>`));
    await h.admin('POST', `/v1/incidents/${opened[0]!.id}/acknowledge`, { by: 'alice' });
    const page = await get('/incidents');
    assert.match(page, /<b>1<\/b> open/);
    assert.match(page, /<b>1<\/b> acknowledged/);
    assert.match(page, /<b>2<\/b> not resolved/);
    assert.deepEqual(badge(page), [', open: ', '1']);
    await h.admin('POST', `/v1/incidents/${opened[1]!.id}/acknowledge`, { by: 'alice' });
    assert.equal(badge(await get('/')), null, 'no badge once every incident is taken');
  });

  it('lists what is not resolved by default: an incident acknowledged there stays, marked, until resolved', async () => {
    const { h } = s;
    const node = await h.createNode('acked-1');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'acked-1 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const list = `/incidents?node=${node.id}`;
    const row = new RegExp(`<td data-label="Incident">\\s*<a href="/incidents/${incident!.id}">`);
    assert.match(await get(list), /<a href="[^"]*" aria-current="true"><b>1<\/b> not resolved<\/a>/);
    const action = `/incidents/${incident!.id}/acknowledge`;
    const res = await h.app.request(action, {
      method: 'POST',
      headers: { cookie: s.cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: formOf(await get(list), action).toString(),
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `${list}&acknowledged=${incident!.id}`);
    const back = await get(res.headers.get('location')!);
    assert.match(back, /Acknowledged: <a[^>]*>acked-1 is down<\/a>/);
    assert.match(back, row, 'still listed');
    assert.match(back, /<span class="tag tag-acknowledged">acknowledged<\/span>/);
    assert.doesNotMatch(back, new RegExp(`id="ack-${incident!.id}"`), 'with nothing left to acknowledge');
    // The explicit filters keep their meanings.
    assert.doesNotMatch(await get(`${list}&status=open`), row);
    assert.match(await get(`${list}&status=acknowledged`), row);
    await h.admin('POST', `/v1/incidents/${incident!.id}/resolve`, {});
    assert.doesNotMatch(await get(list), row);
    assert.match(await get(`${list}&status=resolved`), row);
  });

  it("filters the list by a label of the incidents' nodes, as Fleet does, and by a node's name as by its id", async () => {
    const { h } = s;
    const nodes = [
      await h.createNode('lbl-eu-1', { labels: { region: 'eu-west' } }),
      await h.createNode('lbl-eu-2', { labels: { region: 'eu-west', role: 'db' } }),
      await h.createNode('lbl-us-1', { labels: { region: 'us-east' } }),
    ];
    const opened = await openIncidents(
      h.sql,
      nodes.map((n) => ({ nodeId: n.id, nodeName: n.name, category: 'node_down', severity: 'critical', title: `${n.name} is down`, reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() })),
    );
    const [eu1, eu2, us1] = opened.map((i) => i.id);
    const listed = (page: string) => [eu1!, eu2!, us1!].filter((id) => page.includes(`href="/incidents/${id}"`));
    const eu = await get('/incidents?label=region%3Deu-west');
    assert.deepEqual(listed(eu), [eu1, eu2]);
    assert.match(eu, /<input id="label" name="label" type="text" value="region=eu-west"/);
    assert.match(eu, /<a href="[^"]*" aria-current="true"><b>2<\/b> not resolved<\/a>/);
    // The status tabs keep the label.
    assert.match(eu, /<a href="\/incidents\?status=open&amp;label=region%3Deu-west"[^>]*><b>2<\/b> open<\/a>/);
    assert.deepEqual(listed(await get('/incidents?label=region:us-east&status=open')), [us1]);
    // A node by name, as the API's node_id takes it; a name no node has lists nothing.
    const byName = await get('/incidents?node=lbl-eu-2');
    assert.match(byName, /<h1>Incidents of lbl-eu-2<\/h1>/);
    assert.deepEqual(listed(byName), [eu2]);
    assert.deepEqual(listed(await get('/incidents?node=lbl-eu-2&label=region%3Dus-east')), []);
    const unknown = await get('/incidents?node=Your%20account%20is%20suspended');
    assert.deepEqual(listed(unknown), []);
    // Words from the address are not repeated in the heading: anyone may send such a link.
    assert.match(unknown, /<h1>Incidents of no such node<\/h1>/);
    assert.doesNotMatch(unknown, /<h1>[^<]*suspended/);
    // A malformed label is said, and left out rather than listing nothing.
    const bad = await get('/incidents?label=region');
    assert.match(bad, /A label filter is key=value, for example role=web\./);
    assert.deepEqual(listed(bad), [eu1, eu2, us1]);
  });

  it('acknowledges all the open incidents a filtered list shows after asking, each with its timeline entry, and says how many it took', async () => {
    const { h } = s;
    const nodes = await Promise.all(['bulk-eu-1', 'bulk-eu-2', 'bulk-eu-3', 'bulk-us-1'].map((n) => h.createNode(n, { labels: { region: n.slice(5, 7) === 'eu' ? 'bulk-eu' : 'bulk-us' } })));
    const opened = await openIncidents(
      h.sql,
      nodes.map((n) => ({ nodeId: n.id, nodeName: n.name, category: 'node_down', severity: 'critical', title: `${n.name} is down`, reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() })),
    );
    const [eu1, eu2, eu3, us1] = opened.map((i) => i.id);
    await h.admin('POST', `/v1/incidents/${eu3}/acknowledge`, { by: 'alice' });
    const list = '/incidents?label=region%3Dbulk-eu';
    const ask = /<a class="button" id="ack-all" href="([^"]+)">Acknowledge all 2 open shown…<\/a>/.exec(await get(list));
    assert.ok(ask, 'the list offers to acknowledge its 2 open incidents, not the acknowledged one');
    const asking = await get(unescapeHtml(ask[1]!));
    assert.match(asking, /<h1>Acknowledge 2 open incidents\?<\/h1>/);
    assert.match(asking, /Escalation stops for each of bulk-eu-[12] is down, bulk-eu-[12] is down;/);
    assert.match(asking, /<form method="post" action="\/incidents\/acknowledge" class="actions" data-once="">/, 'a second tap while the first is on its way does nothing');
    const send = (body: URLSearchParams) =>
      h.app.request('/incidents/acknowledge', { method: 'POST', headers: { cookie: s.cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    const form = formOf(asking, '/incidents/acknowledge');
    // Without the confirmation page's field, nothing is acknowledged: the question instead.
    const unasked = new URLSearchParams(form);
    unasked.delete('confirmed');
    assert.equal((await send(unasked)).headers.get('location'), '/incidents/acknowledge');
    assert.equal((await h.sql`select 1 from incidents where id = any(${[eu1!, eu2!]}::uuid[]) and status = 'open'`).length, 2);
    const res = await send(form);
    assert.equal(res.status, 303, await res.text());
    assert.equal(res.headers.get('location'), `${list}&bulk=2&of=2`);
    const back = await get(res.headers.get('location')!);
    assert.match(back, /<div class="notice ok" role="status" tabindex="-1" data-focus=""><p>Acknowledged 2 incidents: escalation stops for each\.<\/p><\/div>/);
    assert.doesNotMatch(back, /id="ack-all"/, 'nothing open is left to acknowledge');
    const rows = await h.sql<{ id: string; status: string; acknowledged_by: string | null }[]>`select id, status, acknowledged_by from incidents where id = any(${[eu1!, eu2!, eu3!, us1!]}::uuid[])`;
    const by = new Map(rows.map((r) => [r.id, [r.status, r.acknowledged_by?.startsWith('api-key:') ? 'key' : r.acknowledged_by]]));
    assert.deepEqual([by.get(eu1!), by.get(eu2!), by.get(eu3!), by.get(us1!)], [['acknowledged', 'key'], ['acknowledged', 'key'], ['acknowledged', 'alice'], ['open', null]]);
    const timelines = await timelinesOf(h.sql, [eu1!, eu2!]);
    for (const id of [eu1!, eu2!]) assert.deepEqual(timelines.get(id)!.map((e) => e.kind), ['acknowledged']);
    // The same form sent again takes nothing, and says so.
    const again = await send(form);
    assert.equal(again.headers.get('location'), `${list}&bulk=0&of=2`);
    assert.match(await get(again.headers.get('location')!), /Nothing was acknowledged: the 2 incidents had been acknowledged or resolved meanwhile\./);
  });

  it("says which incident Acknowledge in the list took, back on the same list with its filter", async () => {
    const { h } = s;
    const node = await h.createNode('web-1');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'web-1 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const list = `/incidents?status=open&node=${node.id}`;
    const action = `/incidents/${incident!.id}/acknowledge`;
    const res = await h.app.request(action, {
      method: 'POST',
      headers: { cookie: s.cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: formOf(await get(list), action).toString(),
    });
    assert.equal(res.status, 303, await res.text());
    const back = res.headers.get('location') ?? '';
    assert.equal(back, `${list}&acknowledged=${incident!.id}`);
    const page = await get(back);
    const at = h.clock.now().toISOString();
    // The incident with when it opened, then who acknowledged it and when: not "web-1's incident web-1 is down 0 s ago".
    assert.match(
      page,
      new RegExp(
        `<div class="notice ok" role="status"><p>Acknowledged: <a href="/incidents/${incident!.id}">web-1 is down</a> \\(incident opened <time datetime="${at}"[^>]*>${at.slice(11, 16)} UTC</time>\\)\\. Escalation stopped — by <span title="[^"]+">key <b>[^<]+</b></span>, <time datetime="${at}"[^>]*>just now</time>\\.</p></div>`,
      ),
    );
    // The saying is the redirect's: the list's own links and its live refresh do not carry it.
    assert.doesNotMatch(page, /href="[^"]*acknowledged=|hx-get="[^"]*acknowledged=/);
    assert.doesNotMatch(await get(list), /Acknowledged:/);
  });

  it('goes back to the same list when Acknowledge in the list finds the incident acknowledged already, saying by whom', async () => {
    const { h } = s;
    const node = await h.createNode('web-3');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'web-3 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const list = `/incidents?status=open&node=${node.id}`;
    const action = `/incidents/${incident!.id}/acknowledge`;
    const body = formOf(await get(list), action).toString();
    // Acknowledged elsewhere while the list was on the screen.
    assert.equal((await h.admin('POST', `/v1/incidents/${incident!.id}/acknowledge`, { by: 'alice' })).status, 200);
    const res = await h.app.request(action, { method: 'POST', headers: { cookie: s.cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body });
    assert.equal(res.status, 303, await res.text());
    assert.equal(res.headers.get('location'), `${list}&already=${incident!.id}`);
    assert.match(await get(res.headers.get('location')!), /Already acknowledged: <a href="[^"]+">web-3 is down<\/a> \(incident opened <time[^>]*>[^<]+<\/time>\)\. Escalation stopped — by <span>alice<\/span>/);
    // A `back` that is not the list still lands on the incident.
    const elsewhere = new URLSearchParams(body);
    elsewhere.set('back', '/.//evil.com');
    const off = await h.app.request(action, { method: 'POST', headers: { cookie: s.cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: elsewhere.toString() });
    assert.equal(off.headers.get('location'), `/incidents/${incident!.id}?done=already`);
  });

  it('goes back after Acknowledge only to the incident list, never to another host a dot segment or a tab makes of `back`', async () => {
    const { h } = s;
    const nodes = await Promise.all(['web-9', 'web-10', 'web-11'].map((n) => h.createNode(n)));
    const incidents = await openIncidents(
      h.sql,
      nodes.map((n) => ({ nodeId: n.id, nodeName: n.name, category: 'node_down' as const, severity: 'critical' as const, title: `${n.name} is down`, reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() })),
    );
    const list = await get('/incidents');
    // A browser drops the tab: `/<TAB>/evil.com/incidents` is another host's list.
    for (const [i, back] of ['/.//evil.com', '/incidents/..//evil.com/x', '/\t/evil.com/incidents'].entries()) {
      const action = `/incidents/${incidents[i]!.id}/acknowledge`;
      const body = formOf(list, action);
      body.set('back', back);
      const res = await h.app.request(action, { method: 'POST', headers: { cookie: s.cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
      assert.equal(res.status, 303, await res.text());
      assert.equal(res.headers.get('location'), `/incidents/${incidents[i]!.id}?done=acknowledged`, back);
    }
  });

  it('says an incident was acknowledged only while it stands acknowledged, whatever id the address carries', async () => {
    const { h } = s;
    const node = await h.createNode('web-8');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'web-8 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const address = `/incidents?acknowledged=${incident!.id}`;
    assert.doesNotMatch(await get(address), /Escalation stopped/, 'still open, still paging');
    const at = h.clock.now().toISOString();
    assert.equal((await h.admin('POST', `/v1/incidents/${incident!.id}/acknowledge`, { by: 'alice' })).status, 200);
    assert.match(await get(address), new RegExp(`Escalation stopped — by <span>alice</span>, <time datetime="${at}"[^>]*>just now</time>\\.`));
    // Acknowledged the day before, it says which day, as "Already resolved" does: "at 10:00 UTC" alone would read as today's.
    await h.sql`update incidents set opened_at = opened_at - interval '26 hours', acknowledged_at = acknowledged_at - interval '25 hours' where id = ${incident!.id}`;
    assert.match(
      await get(address),
      /web-8 is down<\/a> \(incident opened <time[^>]*>2026-11-\d\d \d\d:\d\d UTC<\/time>\)\. Escalation stopped — by <span>alice<\/span>, <time[^>]*>1 d 1 h ago · 2026-11-\d\d \d\d:\d\d UTC<\/time>\./,
    );
    assert.equal((await h.admin('POST', `/v1/incidents/${incident!.id}/resolve`, { by: 'alice' })).status, 200);
    assert.doesNotMatch(await get(address), /Escalation stopped/, 'resolved since');
  });

  it("shows when an incident opened to the second", async () => {
    const { h } = s;
    const node = await h.createNode('web-7');
    const openedAt = new Date(Math.floor(h.clock.now().getTime() / 60_000) * 60_000 - 60_000 + 37_000);
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'web-7 is down', reason: 'no heartbeat', policyId: null, openedAt },
    ]);
    const page = await get(`/incidents/${incident!.id}`);
    const iso = openedAt.toISOString();
    const onDay = iso.slice(0, 10) === h.clock.now().toISOString().slice(0, 10) ? '' : `${iso.slice(0, 10)} `;
    assert.match(page, new RegExp(`<dt>Down since</dt><dd><time datetime="${iso}"[^>]*>[^<]+ ago · ${onDay}${iso.slice(11, 19)} UTC</time></dd>`));
  });

  it('numbers escalation levels from 1, as the policy page does, and says whom a level missed and whether escalation ends', async () => {
    const { h } = s;
    const node = await h.createNode('db-4');
    const nights = (await (await h.admin('POST', '/v1/users', { name: 'Nia', email: 'nia@example.com' })).json()) as { id: string };
    const rota = (await (await h.admin('POST', '/v1/schedules', { name: 'Nights', time_zone: 'UTC', layers: [{ name: 'p', user_ids: [nights.id], starts_at: '2026-12-01T00:00:00Z', rotation: 'P1D' }] })).json()) as { id: string };
    const policy = (await (await h.admin('POST', '/v1/escalation-policies', { name: 'Short', levels: [{ after_seconds: 0, schedule_ids: [rota.id] }] })).json()) as { id: string };
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'db-4 is down', reason: 'no heartbeat', policyId: policy.id, openedAt: h.clock.now() },
    ]);
    await addTimeline(h.sql, [
      { incident_id: incident!.id, at: h.clock.now(), kind: 'reached_nobody', detail: { level: 0, step: 0, channel_ids: [], users: [], empty_schedule_ids: [rota.id], reason: 'nobody on call', escalation_ends: true } },
      { incident_id: incident!.id, at: h.clock.now(), kind: 'reached_nobody', detail: { level: 1, step: 1, channel_ids: [], users: [{ user_id: nights.id, name: 'Nia' }], reason: UNREACHABLE_WITHOUT_EMAIL, escalation_ends: false } },
      // Written before escalation_ends was: which followed is not known, so neither is said.
      { incident_id: incident!.id, at: h.clock.now(), kind: 'reached_nobody', detail: { level: 2, step: 2, channel_ids: [], users: [], reason: 'nobody on call' } },
      { incident_id: incident!.id, at: h.clock.now(), kind: 'acknowledgement_expired', detail: { after_seconds: 1800, acknowledged_at: h.clock.now().toISOString(), acknowledged_by: 'Nia' } },
      { incident_id: incident!.id, at: h.clock.now(), kind: 'acknowledgement_expired', detail: { after_seconds: 600, acknowledged_at: h.clock.now().toISOString(), acknowledged_by: 'Nia', no_policy: true } },
    ]);
    const page = await get(`/incidents/${incident!.id}`);
    assert.match(page, /Reached nobody at level 1: nobody on call in Nights; escalation ends/);
    assert.match(page, new RegExp(`Reached nobody at level 2: ${UNREACHABLE_WITHOUT_EMAIL} — could not reach Nia; the next level pages at once`));
    assert.match(page, /Reached nobody at level 3: nobody on call\s*</);
    assert.match(page, /Acknowledgement by (<[^>]+>)?Nia(<\/[^>]+>)? expired after 30 min: open again, paging from level 1/);
    assert.match(page, /Acknowledgement by (<[^>]+>)?Nia(<\/[^>]+>)? expired after 10 min: open again; no escalation policy to page/);
    assert.match(page, /<dt>Escalation level<\/dt><dd>1 of 1 — last level<\/dd>/);
    assert.doesNotMatch(page, /level 0/);
  });

  it('says of an open incident which level of how many pages now, and whom the next pages and when, as its email counts them', async () => {
    const { h } = s;
    const node = await h.createNode('db-9');
    const first = await made('/v1/channels', { name: 'ops-first', type: 'webhook', config: { url: 'https://hooks.example.com/first' } });
    const second = await made('/v1/channels', { name: 'ops-second', type: 'webhook', config: { url: 'https://hooks.example.com/second' } });
    const ben = await made('/v1/users', { name: 'Ben Li', email: 'ben@example.com' });
    const nia = await made('/v1/users', { name: 'Nia', email: 'nia.nights@example.com' });
    const rota = await made('/v1/schedules', { name: 'Late', time_zone: 'UTC', layers: [{ name: 'p', user_ids: [nia.id], starts_at: '2026-11-01T00:00:00Z', rotation: 'P1D' }] });
    const policy = await made('/v1/escalation-policies', {
      name: 'Two levels',
      levels: [
        { after_seconds: 0, channel_ids: [first.id] },
        { after_seconds: 600, channel_ids: [second.id], user_ids: [ben.id], schedule_ids: [rota.id] },
      ],
    });
    const openedAt = new Date(h.clock.now().getTime() - 120_000);
    const incident = await openedBy(node, policy.id, openedAt);
    const level = () => levelOf(incident.id);
    const due = new Date(openedAt.getTime() + 600_000).toISOString();
    const onDay = onDayOf(due);
    assert.equal(
      await level(),
      `1 of 2 — next: level 2 (Ben Li, Nia (on call in Late) and 1 channel) at <time datetime="${due}" title="${due.slice(0, 10)} ${due.slice(11, 19)} UTC">${onDay}${due.slice(11, 16)} UTC</time>, in 8 min`,
    );
    await h.sql`update incidents set escalation_held = true where id = ${incident.id}`;
    assert.equal(await level(), '1 of 2 — next: level 2 (Ben Li, Nia (on call in Late) and 1 channel), held while its node is in maintenance');
    await h.sql`update incidents set escalation_held = false, escalation_step = 1, escalation_level = 1 where id = ${incident.id}`;
    assert.equal(await level(), '2 of 2 — last level');
    assert.equal((await h.admin('POST', `/v1/incidents/${incident.id}/acknowledge`, { by: 'alice' })).status, 200);
    assert.equal(await level(), '2 of 2', 'acknowledged: no level comes next');
  });

  it('says a next level the notifier has not fired yet is due since its time, and one that would reach nobody says so', async () => {
    const { h } = s;
    const node = await h.createNode('db-10');
    const hook = await made('/v1/channels', { name: 'ops-late', type: 'webhook', config: { url: 'https://hooks.example.com/late' } });
    // Reachable by email only, and this engine has no SMTP_URL: level 2 reaches nobody, so the
    // engine records that and fires level 3 at once.
    const una = await made('/v1/users', { name: 'Una', email: 'una@example.com' });
    const policy = await made('/v1/escalation-policies', {
      name: 'Email second',
      levels: [
        { after_seconds: 0, channel_ids: [hook.id] },
        { after_seconds: 600, channel_ids: [], user_ids: [una.id] },
        { after_seconds: 1200, channel_ids: [hook.id] },
      ],
    });
    // Opened 15 min ago: level 2 was due 5 min ago, and the notifier is behind.
    const openedAt = new Date(h.clock.now().getTime() - 900_000);
    const incident = await openedBy(node, policy.id, openedAt);
    const level = () => levelOf(incident.id);
    const due = new Date(openedAt.getTime() + 600_000).toISOString();
    const onDay = onDayOf(due);
    const nobody = (when: string, then: string) => `<span class="tag tag-nobody" title="[^"]+">reaches nobody ${when} — ${then}</span>`;
    const shown = await level();
    assert.match(shown, new RegExp(`^1 of 3 — next: level 2 \\(Una\\) due since <time datetime="${due}" title="[^"]+">${onDay}${due.slice(11, 16)} UTC</time> \\(5 min ago\\) ${nobody('now', 'the next level fires at once')}$`));
    assert.doesNotMatch(shown, /at <time/, 'no next page at a time gone');
    // Its last level reaching nobody ends the escalation, said before it comes.
    await h.sql`update incidents set escalation_step = 1, escalation_level = 1, opened_at = ${h.clock.now()} where id = ${incident.id}`;
    const edit = await h.admin('PATCH', `/v1/escalation-policies/${policy.id}`, {
      levels: [
        { after_seconds: 0, channel_ids: [hook.id] },
        { after_seconds: 600, channel_ids: [hook.id] },
        { after_seconds: 1200, channel_ids: [], user_ids: [una.id] },
      ],
    });
    assert.equal(edit.status, 200);
    assert.match(await level(), new RegExp(`^2 of 3 — next: level 3 \\(Una\\) at <time [^>]+>[^<]+</time>, in 20 min ${nobody('then', 'escalation ends there')}$`));
  });

  it('says what comes next for an incident whose policy was deleted by the policy its engine goes on by', async () => {
    const { h } = s;
    const node = await h.createNode('db-11');
    const hook = await made('/v1/channels', { name: 'ops-kept', type: 'webhook', config: { url: 'https://hooks.example.com/kept' } });
    const gone = await made('/v1/escalation-policies', { name: 'Gone', levels: [{ after_seconds: 0, channel_ids: [hook.id] }] });
    const kept = await made('/v1/escalation-policies', { name: 'Kept', levels: [{ after_seconds: 0, channel_ids: [hook.id] }, { after_seconds: 600, channel_ids: [hook.id] }] });
    const openedAt = h.clock.now();
    const incident = await openedBy(node, gone.id, openedAt);
    // Deleted as its incident opened, so the incident keeps its id (no foreign key); its node then
    // takes a policy of its own, which the engine goes on by.
    await h.sql`delete from escalation_policies where id = ${gone.id}`;
    await h.sql`update nodes set escalation_policy_id = ${kept.id} where id = ${node.id}`;
    const level = () => levelOf(incident.id);
    assert.match(
      await level(),
      new RegExp(`^1 of 2 — next: level 2 \\(1 channel\\) at <time [^>]+>[^<]+</time>, in 10 min<span class="sub">its policy was deleted: it goes on by <a href="/policies/${kept.id}">Kept</a>, as its node&#39;s next incident would</span>$`),
    );
    // The engine's step fires as the page said: level 2 of Kept.
    await h.sql.begin((tx) => escalate(tx, [{ incidentId: incident.id, step: 1, atOnce: false }], new Date(openedAt.getTime() + 600_000), true));
    const kinds = await h.sql<{ kind: string; level: number | null }[]>`
      select kind, (detail->>'level')::int as level from incident_timeline where incident_id = ${incident.id} order by id`;
    assert.deepEqual(kinds.map((k) => [k.kind, k.level]), [['policy_replaced', null], ['escalated', 1]]);
    assert.equal(await level(), '2 of 2 — last level');
    // With nothing to go on by, the page says the escalation stops, as the engine's next step does.
    await h.sql`update incidents set policy_id = ${gone.id} where id = ${incident.id}`;
    await h.sql`update nodes set escalation_policy_id = null where id = ${node.id}`;
    const defaults = await h.sql<{ id: string }[]>`update escalation_policies set is_default = false where is_default returning id`;
    assert.match(await level(), /^2 — its policy was deleted, and neither its node nor a default policy has one to go on by: escalation stops at its next step$/);
    await h.sql`update escalation_policies set is_default = true where id = any(${defaults.map((d) => d.id)}::uuid[])`;
  });

  it('says at the top of an open incident, in the list, and on the policies page when nobody is paged', async () => {
    const { h } = s;
    // Saturday 10:00 UTC: a weekdays-only rota has nobody on call.
    const ola = (await (await h.admin('POST', '/v1/users', { name: 'Ola', email: 'ola@example.com' })).json()) as { id: string };
    const office = (await (
      await h.admin('POST', '/v1/schedules', {
        name: 'Office hours',
        time_zone: 'UTC',
        layers: [{ name: 'day', user_ids: [ola.id], starts_at: '2026-11-02T00:00:00Z', rotation: 'P1W', restrictions: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }] }],
      })
    ).json()) as { id: string };
    const policy = (await (await h.admin('POST', '/v1/escalation-policies', { name: 'Office only', levels: [{ after_seconds: 0, schedule_ids: [office.id] }] })).json()) as { id: string };
    // Named is not reached: this engine has no SMTP_URL, so Ola (her address only) and an email
    // channel take no message, as the escalation handler judges a level; Pia has a webhook of her own.
    const hook = (await (await h.admin('POST', '/v1/channels', { name: 'pia-hook', type: 'webhook', config: { url: 'https://hooks.example.com/pia' } })).json()) as { id: string };
    const mail = (await (await h.admin('POST', '/v1/channels', { name: 'ops-mail-only', type: 'email', config: { to: ['ops@example.com'] } })).json()) as { id: string };
    const pia = (await (await h.admin('POST', '/v1/users', { name: 'Pia', email: 'pia@example.com', channel_ids: [hook.id] })).json()) as { id: string };
    for (const [name, level] of [
      ['Ola always', { user_ids: [ola.id] }],
      ['Mail only', { channel_ids: [mail.id] }],
      ['Pia always', { user_ids: [pia.id] }],
    ] as const) {
      await h.admin('POST', '/v1/escalation-policies', { name, levels: [{ after_seconds: 0, channel_ids: [], ...level }] });
    }
    await h.admin('POST', '/v1/escalation-policies', { name: 'Mail, then Pia', levels: [{ after_seconds: 0, channel_ids: [mail.id] }, { after_seconds: 300, channel_ids: [], user_ids: [pia.id] }] });
    const policies = await get('/policies');
    const rowOf = (name: string) => rowFrom(policies, `>${name}</a>`);
    assert.match(rowOf('Office only'), /pages nobody now/);
    assert.match(rowOf('Ola always'), /pages nobody now/);
    assert.match(rowOf('Mail only'), /pages nobody now/);
    assert.doesNotMatch(rowOf('Pia always'), /pages nobody now/);
    assert.doesNotMatch(rowOf('Mail, then Pia'), /pages nobody now/, 'a later level that reaches someone is enough');

    // The same policies on an engine with SMTP_URL set: an address and an email channel take a
    // page, so only the rota with nobody on call pages nobody.
    const transports = createChannels({ smtpUrl: 'smtp://127.0.0.1:2525', mailFrom: 'lifeline@test.example', outboundAllowCidrs: LOCAL_RECEIVERS });
    const { app: mailing } = buildApp({ sql: h.sql, clock: h.clock, buffer: new HeartbeatBuffer(), secretKey: h.secretKey, transports });
    const withEmail = await (await mailing.request('/policies', { headers: { cookie: s.cookie } })).text();
    transports.close();
    assert.match(rowFrom(withEmail, '>Office only</a>'), /pages nobody now/);
    for (const name of ['Ola always', 'Mail only', 'Pia always']) assert.doesNotMatch(rowFrom(withEmail, `>${name}</a>`), /pages nobody now/, name);

    const nodes = await Promise.all(['night-1', 'night-2'].map((n) => h.createNode(n)));
    const [nobody, paged] = await openIncidents(
      h.sql,
      nodes.map((n) => ({ nodeId: n.id, nodeName: n.name, category: 'node_down', severity: 'critical', title: `${n.name} is down`, reason: 'no heartbeat', policyId: policy.id, openedAt: h.clock.now() })),
    );
    const ended = { level: 0, step: 0, channel_ids: [], users: [], empty_schedule_ids: [office.id], reason: 'nobody on call', escalation_ends: true };
    const opened = { reason: 'no heartbeat', policy_id: policy.id, level: 0, step: 0, channel_ids: [], users: [] };
    await addTimeline(h.sql, [
      { incident_id: nobody!.id, at: h.clock.now(), kind: 'opened', detail: { ...opened, empty_schedule_ids: [office.id] } },
      { incident_id: nobody!.id, at: h.clock.now(), kind: 'reached_nobody', detail: ended },
      // Level 1 paged Ola; only the last level reached nobody: someone knows.
      { incident_id: paged!.id, at: h.clock.now(), kind: 'opened', detail: { ...opened, users: [{ user_id: ola.id, name: 'Ola' }] } },
      { incident_id: paged!.id, at: h.clock.now(), kind: 'reached_nobody', detail: { ...ended, level: 1, step: 1 } },
    ]);
    const page = await get(`/incidents/${nobody!.id}`);
    assert.match(page, /<p id="paged-nobody"><b>Paged nobody\.<\/b>/);
    assert.ok(page.indexOf('id="paged-nobody"') < page.indexOf('id="acknowledge"'), 'above the buttons');
    assert.doesNotMatch(await get(`/incidents/${paged!.id}`), /Paged nobody/);
    const list = await get('/incidents');
    assert.match(listRow(list, nobody!.id), /<span class="tag tag-nobody">paged nobody<\/span>/);
    assert.doesNotMatch(listRow(list, paged!.id), /paged nobody/);
    // The node's page lists its incidents as the list does.
    assert.match(listRow(await get('/nodes/night-1'), nobody!.id), /<span class="tag tag-nobody">paged nobody<\/span>/);
    assert.doesNotMatch(listRow(await get('/nodes/night-2'), paged!.id), /paged nobody/);
    // Acknowledged, someone has it: no longer said.
    await h.admin('POST', `/v1/incidents/${nobody!.id}/acknowledge`, { by: 'alice' });
    assert.doesNotMatch(await get(`/incidents/${nobody!.id}`), /Paged nobody/);
    assert.doesNotMatch(listRow(await get('/incidents'), nobody!.id), /paged nobody/);
  });

  it('counts as paged nobody only an escalation that ended on nobody, with no level that paged anyone', async () => {
    const { h } = s;
    const nodes = await Promise.all(['pn-1', 'pn-2', 'pn-3', 'pn-4', 'pn-5', 'pn-6'].map((n) => h.createNode(n)));
    const incidents = await openIncidents(
      h.sql,
      nodes.map((n) => ({ nodeId: n.id, nodeName: n.name, category: 'node_down', severity: 'critical', title: `${n.name} is down`, reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() })),
    );
    const [first, later, escalated, unsaid, goesOn, paged] = incidents.map((i) => i.id);
    const opened = { kind: 'opened', detail: { reason: 'no heartbeat', level: 0, step: 0, channel_ids: [], users: [] } };
    const nobody = (step: number, ends?: boolean) => ({
      kind: 'reached_nobody',
      detail: { level: step, step, channel_ids: [], users: [], reason: 'nobody on call', ...(ends === undefined ? {} : { escalation_ends: ends }) },
    });
    const rows: [string | undefined, Omit<TimelineEntry, 'incident_id' | 'at'>[]][] = [
      // Its only level reached nobody (step 0 is written instead of opened when it does).
      [first, [nobody(0, true)]],
      [later, [opened, nobody(0, false), nobody(1, true)]],
      // Level 2 paged someone; level 3 ended on nobody.
      [escalated, [opened, nobody(0, false), { kind: 'escalated', detail: { level: 1, step: 1 } }, nobody(2, true)]],
      // Written before escalation_ends was: which followed is not known, so nothing is said.
      [unsaid, [nobody(0)]],
      [goesOn, [nobody(0, false)]],
      [paged, [opened, nobody(1, true)]],
    ];
    await addTimeline(h.sql, rows.flatMap(([id, entries]) => entries.map((e) => ({ incident_id: id!, at: h.clock.now(), ...e }))));
    assert.deepEqual(await pagedNobody(h.sql, incidents.map((i) => i.id)), new Set([first, later]));
    assert.deepEqual(await pagedNobody(h.sql, [later!, paged!]), new Set([later]));
    assert.deepEqual(await pagedNobody(h.sql, []), new Set());
  });

  it('does not say "Paged nobody" when level 1 paged someone whose page is still queued and the last level reached nobody', async () => {
    const { h } = s;
    const zoe = (await (await h.admin('POST', '/v1/users', { name: 'Zoe', email: 'zoe@example.com' })).json()) as { id: string };
    const empty = await insertSchedule(h.sql, { name: 'Nobody yet', time_zone: 'UTC', layers: [] }, h.clock.now());
    const policy = (await (await h.admin('POST', '/v1/escalation-policies', { name: 'Zoe then nobody', levels: [{ after_seconds: 0, user_ids: [zoe.id] }, { after_seconds: 60, schedule_ids: [empty.id] }] })).json()) as { id: string };
    const node = await h.createNode('queued-1', { escalation_policy_id: policy.id });
    const down = h.clock.now();
    // The engine's own path: the incident opens and its first page waits on its outbox event (as
    // when its first send failed), so the ledger holds nothing yet when level 2 reaches nobody.
    await h.sql.begin(async (tx) => {
      const { pages } = await followNodes(tx, [{ nodeId: node.id, nodeName: node.name, from: 'healthy', to: 'down', at: down, reason: 'no heartbeat' }], down, true);
      await pageLater(tx, pages, down);
    });
    const [incident] = await h.sql<{ id: string }[]>`select id from incidents where node_id = ${node.id}`;
    await h.sql.begin((tx) => escalate(tx, [{ incidentId: incident!.id, step: 1, atOnce: false }], new Date(down.getTime() + 61_000), true));
    const [ends] = await h.sql<{ n: number }[]>`select count(*)::int as n from incident_timeline where incident_id = ${incident!.id} and kind = 'reached_nobody' and (detail->>'escalation_ends')::boolean`;
    assert.equal(ends!.n, 1, 'the last level reached nobody and escalation ended');
    assert.equal((await h.sql`select 1 from deliveries where incident_id = ${incident!.id}`).length, 0, 'the first page is not in the ledger yet');
    assert.doesNotMatch(await get(`/incidents/${incident!.id}`), /Paged nobody/);
    assert.doesNotMatch(listRow(await get('/incidents'), incident!.id), /paged nobody/);
  });

  /**
   * A node down at 10:00:00 whose policy pages level 2 at +60 s: it recovers at +59 s, level 2's
   * step is written at `escalatedAt` s, then the recovery's handling at `handledAt` s.
   */
  async function recoveredWhileEscalating(tag: string, escalatedAt: number, handledAt: number) {
    const { h } = s;
    const [first, second] = await Promise.all([`${tag}-a`, `${tag}-b`].map(async (name) => expectJson<{ id: string }>(await h.admin('POST', '/v1/users', { name, email: `${name}@example.com` }), 201)));
    const policy = await expectJson<{ id: string }>(await h.admin('POST', '/v1/escalation-policies', { name: `${tag} levels`, levels: [{ after_seconds: 0, user_ids: [first!.id] }, { after_seconds: 60, user_ids: [second!.id] }] }), 201);
    const node = await h.createNode(tag, { escalation_policy_id: policy.id });
    const down = h.clock.now();
    await h.sql.begin((tx) => followNodes(tx, [{ nodeId: node.id, nodeName: node.name, from: 'healthy', to: 'down', at: down, reason: 'no heartbeat' }], down, true));
    const [incident] = await h.sql<{ id: string }[]>`select id from incidents where node_id = ${node.id}`;
    const at = (s: number) => new Date(down.getTime() + s * 1000);
    await h.sql.begin((tx) => escalate(tx, [{ incidentId: incident!.id, step: 1, atOnce: false }], at(escalatedAt), true));
    await h.sql.begin((tx) => followNodes(tx, [{ nodeId: node.id, nodeName: node.name, from: 'down', to: 'healthy', at: at(59), reason: 'heartbeats resumed' }], at(handledAt), true));
    const timeline = (await timelinesOf(h.sql, [incident!.id])).get(incident!.id)!;
    assert.equal(timeline.at(-1)!.detail.node_changed_at, at(59).toISOString());
    // The incident itself ended with the outage.
    assert.equal((await expectJson<{ resolved_at: string }>(await h.admin('GET', `/v1/incidents/${incident!.id}`), 200)).resolved_at, at(59).toISOString());
    return { id: incident!.id, at, entries: timeline.map((e) => [e.kind, e.at.toISOString()]) };
  }

  it('puts an automatic resolve after the escalation that paged between the recovery and its handling, with the recovery time', async () => {
    // Its change is still in the outbox when level 2 fires at +60 s, and is handled at +62 s.
    const { id, at, entries } = await recoveredWhileEscalating('late-1', 60, 62);
    assert.deepEqual(entries, [['opened', at(0).toISOString()], ['escalated', at(60).toISOString()], ['resolved', at(62).toISOString()]]);
    assert.match(await get(`/incidents/${id}`), /Resolved by <span>Lifeline<\/span> \(the node became healthy at 2026-11-21 10:00:59 UTC\)/);
  });

  it('puts an automatic resolve after an escalation another worker wrote first with a later clock', async () => {
    // Two workers: the recovery's batch read its clock at +60.2 s, the escalation's at +60.5 s,
    // and the escalation took the incident's lock first.
    const { at, entries } = await recoveredWhileEscalating('late-2', 60.5, 60.2);
    assert.deepEqual(entries, [['opened', at(0).toISOString()], ['escalated', at(60.5).toISOString()], ['resolved', at(60.5).toISOString()]]);
  });

  it('says before resolving that the node is still down, and after it, whom the resolve goes to, which pages failed and which were not sent', async () => {
    const { h, cookie } = s;
    const node = await h.createNode('db-5');
    await h.sql`update node_health set state = 'down' where node_id = ${node.id}`;
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'db-5 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const hook = (await (await h.admin('POST', '/v1/channels', { name: 'db-hook', type: 'webhook', config: { url: 'https://hooks.example.com/db' } })).json()) as { id: string };
    const kim = (await (await h.admin('POST', '/v1/users', { name: 'Kim', email: 'kim@example.com' })).json()) as { id: string };
    const pager = (await (await h.admin('POST', '/v1/channels', { name: 'db-pager', type: 'webhook', config: { url: 'https://hooks.example.com/pager' } })).json()) as { id: string };
    await insertDeliveries(
      h.sql,
      [
        { incidentId: incident!.id, event: 'opened', eventKey: 'opened', channelId: hook.id, channelType: 'webhook', occurredAt: h.clock.now() },
        { incidentId: incident!.id, event: 'opened', eventKey: 'opened', channelId: null, userId: kim.id, channelType: 'email', occurredAt: h.clock.now() },
        { incidentId: incident!.id, event: 'escalated', eventKey: 'escalated:1', channelId: hook.id, channelType: 'webhook', occurredAt: h.clock.now() },
        { incidentId: incident!.id, event: 'escalated', eventKey: 'escalated:1', channelId: pager.id, channelType: 'webhook', occurredAt: h.clock.now() },
      ],
      h.clock.now(),
    );
    // Kim's page was never tried (no SMTP_URL); the pager's was, and died.
    await h.sql`update deliveries set status = 'dead', last_error = 'smtp_not_configured: email is not configured: set SMTP_URL to deliver to email channels' where user_id = ${kim.id}`;
    await h.sql`update deliveries set status = 'dead', last_error = 'http_500' where channel_id = ${pager.id}`;
    // The hook's first page died, its escalation page was sent: it heard of the incident.
    await h.sql`update deliveries set status = 'dead', last_error = 'http_500' where channel_id = ${hook.id} and event = 'opened'`;
    await h.sql`update deliveries set status = 'sent', sent_at = now() where channel_id = ${hook.id} and event = 'escalated'`;
    const path = `/incidents/${incident!.id}`;
    const before = await get(path);
    assert.match(before, /db-5 is still down\. Resolving does not change that: nothing new opens or pages until it leaves that state and turns down or degraded again\./);
    const res = await h.app.request(`${path}/resolve`, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: formOf(before, `${path}/resolve`).toString() });
    assert.equal(res.status, 303);
    const after = await get(res.headers.get('location')!);
    assert.match(
      after,
      /Resolved\. A resolve is queued for each of the 3 destinations it paged; “Who was told” below shows each as it goes\. The page to 1 of them failed, so they may never have heard of it\. Not sent to 1 of them: email is not set up \(SMTP unset\)\./,
    );
    assert.doesNotMatch(after, /everyone who was paged is told|is still down/);
  });

  it('names the node after Acknowledge when it was renamed since, even to a part of its old name', async () => {
    const { h } = s;
    const node = await h.createNode('ren-10');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'ren-10 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    assert.equal((await h.admin('POST', `/v1/incidents/${incident!.id}/acknowledge`, { by: 'alice' })).status, 200);
    const address = `/incidents?acknowledged=${incident!.id}`;
    assert.match(await get(address), /ren-10 is down<\/a> \(incident opened/, 'not renamed: the title names it');
    // "ren-1" is inside "ren-10 is down": the title names the old node, not the one it is now.
    assert.equal((await h.admin('PATCH', `/v1/nodes/${node.id}`, { name: 'ren-1' })).status, 200);
    assert.match(await get(address), /ren-10 is down<\/a> on ren-1 \(incident opened/);
  });

  it('follows a renamed node by id: the list links it, the pages name it as it is now', async () => {
    const { h } = s;
    const node = await h.createNode('db-6');
    await h.sql`update node_health set state = 'down' where node_id = ${node.id}`;
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'db-6 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    assert.equal((await h.admin('PATCH', `/v1/nodes/${node.id}`, { name: 'db-6-old' })).status, 200);
    // Another node takes up the old name: a link by name would lead there.
    await h.createNode('db-6');
    const list = await get('/incidents');
    assert.match(list, new RegExp(`<a href="/nodes/${node.id}">db-6</a>`));
    assert.doesNotMatch(list, /href="\/nodes\/db-6"/);
    assert.match(await get(`/incidents?node=${node.id}`), /<h1>Incidents of db-6-old<\/h1>/);
    const page = await get(`/incidents/${incident!.id}`);
    assert.match(page, new RegExp(`<a href="/nodes/${node.id}">db-6-old</a><span class="muted"> \\(was db-6\\)</span>`));
    assert.match(page, /db-6-old is still down\./);
  });

  /** An open incident of a new node `name`, its page as drawn, and a sender of that page's Acknowledge form. */
  async function drawnAcknowledge(name: string) {
    const { h, cookie } = s;
    const node = await h.createNode(name);
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: `${name} is down`, reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const path = `/incidents/${incident!.id}`;
    const body = formOf(await get(path), `${path}/acknowledge`).toString();
    const ack = () => h.app.request(`${path}/acknowledge`, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body });
    return { id: incident!.id, path, ack };
  }

  it('acknowledges after an escalation moved the incident since its page was drawn; a second Acknowledge lands on it as already acknowledged', async () => {
    const { h } = s;
    const { id, path, ack } = await drawnAcknowledge('db-02');
    // Level 2 paged meanwhile, as an escalation step writes it: the engine's move, not a person's.
    await h.sql`update incidents set escalation_step = 1, escalation_level = 1, version = version + 1 where id = ${id}`;
    const first = await ack();
    assert.equal(first.status, 303, await first.text());
    assert.equal(first.headers.get('location'), `${path}?done=acknowledged`);
    // The same form sent again (a double tap): the first acknowledgement stands, and the page says whose.
    const second = await ack();
    assert.equal(second.status, 303, await second.text());
    assert.equal(second.headers.get('location'), `${path}?done=already`);
    assert.match(await get(second.headers.get('location')!), /<b>Already acknowledged <time[^>]*>0 s ago · 10:00 UTC<\/time> by <span title="[^"]+">key <b>[^<]+<\/b><\/span><\/b>: nothing was changed\./);
    assert.equal((await expectJson<{ status: string }>(await h.admin('GET', `/v1/incidents/${id}`), 200)).status, 'acknowledged');
    // Resolved since: the address says nothing of an acknowledgement no longer standing.
    await h.admin('POST', `/v1/incidents/${id}/resolve`, { by: 'alice' });
    assert.doesNotMatch(await get(`${path}?done=already`), /Already acknowledged/);
  });

  it('refuses to acknowledge an incident resolved meanwhile, saying by whom and that there is nothing to acknowledge', async () => {
    const { id, ack } = await drawnAcknowledge('db-08');
    await s.h.admin('POST', `/v1/incidents/${id}/resolve`, { by: 'alice' });
    const res = await ack();
    assert.equal(res.status, 409);
    assert.match(await res.text(), /<b>Already resolved <time[^>]*>0 s ago · 10:00 UTC<\/time> by <span>alice<\/span><\/b>: nothing to acknowledge\./);
  });

  it('says "nobody" paged, not "nobody yet", when no page can follow; names a deleted person as paged; says a page held for a digest is in one', async () => {
    const { h } = s;
    const paged = async (id: string) => /<dd id="paged">(.*?)<\/dd>/.exec(await get(`/incidents/${id}`))?.[1];
    // No policy: nobody will ever be paged.
    const bare = await h.createNode('paged-1');
    const [none] = await openIncidents(h.sql, [
      { nodeId: bare.id, nodeName: bare.name, category: 'node_down', severity: 'critical', title: 'paged-1 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    assert.equal(await paged(none!.id), '<span class="muted">nobody</span>');
    // Its only level reached nobody, and escalation ended.
    const empty = await insertSchedule(h.sql, { name: 'Nobody here', time_zone: 'UTC', layers: [] }, h.clock.now());
    const policy = await expectJson<{ id: string }>(await h.admin('POST', '/v1/escalation-policies', { name: 'Only nobody', levels: [{ after_seconds: 0, schedule_ids: [empty.id] }] }), 201);
    const node = await h.createNode('paged-2', { escalation_policy_id: policy.id });
    const down = h.clock.now();
    await h.sql.begin((tx) => followNodes(tx, [{ nodeId: node.id, nodeName: node.name, from: 'healthy', to: 'down', at: down, reason: 'no heartbeat' }], down, true));
    const [ended] = await h.sql<{ id: string }[]>`select id from incidents where node_id = ${node.id}`;
    assert.equal(await paged(ended!.id), '<span class="muted">nobody</span>');
    // Resolved when the node was deleted: one bracket says so, with the deletion's time.
    await h.sql.begin((tx) => followNodes(tx, [{ nodeId: node.id, nodeName: node.name, from: null, to: 'deleted', at: down, reason: 'deleted' }], new Date(down.getTime() + 2000), true));
    const page = await get(`/incidents/${ended!.id}`);
    assert.match(page, /Resolved by <span>Lifeline<\/span> \(the node was deleted at 2026-11-21 10:00:00 UTC\)</);
    // A person paged and deleted since is named as the timeline stored them; their page waits for a digest.
    const gone = randomUUID();
    await addTimeline(h.sql, [{ incident_id: none!.id, at: h.clock.now(), kind: 'escalated', detail: { level: 0, step: 0, users: [{ user_id: gone, name: 'Gus' }] } }]);
    await insertDeliveries(h.sql, [{ incidentId: none!.id, event: 'opened', eventKey: 'opened', channelId: null, userId: gone, channelType: 'email', occurredAt: h.clock.now(), digest: true }], h.clock.now());
    assert.equal(await paged(none!.id), '<b>Gus</b> (Email, in a digest)');
  });

  it('says a Resolve with a note sent again was done by its earlier sending, the note saved', async () => {
    const { h, cookie } = s;
    const node = await h.createNode('db-7b');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'db-7b is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const path = `/incidents/${incident!.id}`;
    const body = formOf(await get(path), `${path}/resolve`);
    body.set('note', 'Swapped the disk.');
    const send = () => h.app.request(`${path}/resolve`, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    // The first sending's answer never arrived; the form was given back and sent again.
    assert.equal((await send()).status, 303);
    const again = await send();
    assert.equal(again.status, 409);
    const html = await again.text();
    assert.match(html, /<b>Resolved <time[^>]*>0 s ago · 10:00 UTC<\/time> by <span[^>]*>key <b>bootstrap-admin<\/b><\/span><\/b> by your earlier sending of this form, with your note\./);
    assert.doesNotMatch(html, /not saved|id="note"/);
    // Another note is not the one saved: that one was not.
    body.set('note', 'Something else.');
    assert.match(await (await send()).text(), /your note was not saved\./);
  });

  it('keeps a note sent to resolve an incident resolved meanwhile, and says when and by whom', async () => {
    const { h, cookie } = s;
    const node = await h.createNode('db-7');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'db-7 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const path = `/incidents/${incident!.id}`;
    // The page was loaded, a note typed; the incident is resolved elsewhere before it is sent.
    const body = formOf(await get(path), `${path}/resolve`);
    const note = 'Swapped the disk & <rebooted>.\nWatch it for an hour.';
    body.set('note', note);
    assert.equal((await h.admin('POST', `/v1/incidents/${incident!.id}/resolve`, { by: 'alice' })).status, 200);
    const res = await h.app.request(`${path}/resolve`, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    assert.equal(res.status, 409);
    const html = await res.text();
    assert.match(html, /<b>Already resolved <time datetime="2026-11-21T10:00:00.000Z" title="2026-11-21 10:00:00 UTC">0 s ago · 10:00 UTC<\/time> by <span>alice<\/span><\/b>; your note was not saved\./);
    // Resolved the day before, it says which day: "at 09:00 UTC" alone would read as today's.
    await h.sql`update incidents set resolved_at = resolved_at - interval '25 hours' where id = ${incident!.id}`;
    const later = await h.app.request(`${path}/resolve`, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    assert.match(await later.text(), /<b>Already resolved <time[^>]*>1 d 1 h ago · 2026-11-20 09:00 UTC<\/time> by/);
    // Kept in Add a note, which puts it in the timeline: no Resolve that could only be refused again.
    const kept = /<form method="post" action="[^"]*\/notes"[\s\S]*<textarea id="add-note"[^>]*>([^<]*)<\/textarea>/.exec(html)?.[1];
    assert.equal(unescapeHtml(textareaText(kept ?? '')), note);
    assert.doesNotMatch(html, /id="resolve"|action="[^"]*\/resolve"/, 'no Resolve that could only be refused again');
    // Nothing sent to a resolved incident: no note, nothing kept.
    body.set('note', '');
    const bare = await (await h.app.request(`${path}/resolve`, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })).text();
    assert.match(bare, /<\/b>: nothing was done\./);
    assert.doesNotMatch(bare, /id="note"/);
  });

  it('keeps a refused resolution note in its field and says the limit; counts a line break as one character', async () => {
    const { h, cookie } = s;
    const node = await h.createNode('db-3');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'db-3 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const path = `/incidents/${incident!.id}`;
    const resolving = (note: string) => {
      const body = formOf(pageHtml, `${path}/resolve`);
      body.set('note', note);
      return h.app.request(`${path}/resolve`, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    };
    let pageHtml = await get(path);
    // The note is typed above the button that sends it, in its form; the version is the engine's own.
    const resolveForm = pageHtml.slice(pageHtml.indexOf(`<form method="post" action="${path}/resolve"`));
    assert.match(resolveForm.slice(0, resolveForm.indexOf('</form>')), /<textarea id="note" name="note"[^]*<button type="submit" id="resolve">/);
    assert.doesNotMatch(pageHtml, /Version/);
    const long = `Root cause: ${'disk full & <noisy> '.repeat(110)}`;
    const refused = await resolving(long);
    assert.equal(refused.status, 400);
    const html = await refused.text();
    assert.match(html, /<b>Not resolved<\/b>: the resolution note must be at most 2000 characters and has 2,212\./);
    assert.doesNotMatch(html, /see details/);
    const kept = textareaText(/<textarea id="note"[^>]*>([^<]*)<\/textarea>/.exec(html)?.[1] ?? '');
    assert.equal(kept.replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>'), long);
    assert.equal((await h.admin('GET', `/v1/incidents/${incident!.id}`).then((r) => r.json()) as { status: string }).status, 'open');

    // The form limit, a Resolve link's page's too: a byte over is refused unread; at the limit the note is read and refused.
    pageHtml = html;
    const sized = (bytes: number) => {
      const body = formOf(pageHtml, `${path}/resolve`);
      body.set('note', '');
      return 'x'.repeat(bytes - body.toString().length);
    };
    assert.equal((await resolving(sized(MAX_FORM_BYTES + 1))).status, 413);
    assert.equal((await resolving(sized(MAX_FORM_BYTES))).status, 400);
    assert.equal((await h.admin('GET', `/v1/incidents/${incident!.id}`).then((r) => r.json()) as { status: string }).status, 'open');

    // 2,000 characters as typed, 20 of them line breaks: the form sends CRLF, 2,020 code units.
    pageHtml = html;
    const lines = `${'x'.repeat(99)}\n`.repeat(20);
    assert.equal(lines.length, 2000);
    const resolved = await resolving(lines.replaceAll('\n', '\r\n'));
    assert.equal(resolved.status, 303, await resolved.text());
  });
});
