import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureBootstrapAdmin } from '../../src/access/service.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { consoleSettings } from '../../src/http/session.ts';
import { hashSecret } from '../../src/secrets.ts';
import { ADMIN_TOKEN, buildApp, createHarness, type Harness } from '../helpers/app.ts';

// Console sessions through the HTTP surface, on a manual clock: what the cookie is, when a session
// ends (idle, lifetime, revocation, sign-out), and which requests may act with it.

const ORIGIN = 'http://localhost';
const HOUR = 3_600_000;

describe('console sessions', () => {
  let h: Harness;

  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h.close();
  });

  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

  /** Signs in with a key and returns the cookie pair to send back, and the raw Set-Cookie. */
  async function signIn(key: string, app = h.app) {
    const res = await app.request('/sign-in?next=/incidents', { method: 'POST', headers: { ...FORM, origin: ORIGIN }, body: form({ key }) });
    assert.equal(res.status, 303, await res.text());
    assert.equal(res.headers.get('location'), '/incidents');
    const setCookie = res.headers.get('set-cookie') ?? '';
    const pair = setCookie.split(';')[0]!;
    return { cookie: pair, id: pair.slice(pair.indexOf('=') + 1), setCookie };
  }

  const page = (cookie: string, path = '/') => h.app.request(path, { headers: { cookie } });
  const signedIn = async (cookie: string) => (await page(cookie)).status === 200;
  /** The session's CSRF token, as a page of the console hands it out. */
  const csrfOf = async (cookie: string) => /name="_csrf" value="([^"]+)"/.exec(await (await page(cookie)).text())?.[1] ?? assert.fail('no token on the page');
  const signOut = (cookie: string, headers: Record<string, string>, fields: Record<string, string>) =>
    h.app.request('/sign-out', { method: 'POST', headers: { ...FORM, cookie, ...headers }, body: form(fields) });

  it('keeps an HttpOnly, SameSite=Strict cookie whose id is stored only as a hash', async () => {
    const { id, setCookie } = await signIn(ADMIN_TOKEN);
    assert.match(setCookie, /^lifeline_session=[A-Za-z0-9_-]{43}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Strict$/);
    const rows = await h.sql<{ id_hash: string }[]>`select id_hash from console_sessions`;
    assert.ok(rows.some((r) => r.id_hash === hashSecret(id)), 'the hash is stored');
    assert.ok(!rows.some((r) => r.id_hash === id), 'the id itself is not');
  });

  it('marks the cookie Secure, with the __Host- prefix, when the public address is https', async () => {
    const secure = buildApp({
      sql: h.sql,
      clock: h.clock,
      buffer: new HeartbeatBuffer(),
      console: consoleSettings({ publicUrl: 'https://lifeline.example.com', idleMinutes: 720, sessionHours: 168 }),
    });
    const { setCookie } = await signIn(ADMIN_TOKEN, secure.app);
    assert.match(setCookie, /^__Host-lifeline_session=[A-Za-z0-9_-]{43}; Max-Age=604800; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    // And an action posted from that public address is from this console, though the request
    // reached the engine under another name (behind a proxy).
    const pair = setCookie.split(';')[0]!;
    const token = /name="_csrf" value="([^"]+)"/.exec(await (await secure.app.request('/', { headers: { cookie: pair } })).text())![1]!;
    const res = await secure.app.request('/sign-out', { method: 'POST', headers: { ...FORM, cookie: pair, origin: 'https://lifeline.example.com' }, body: form({ _csrf: token }) });
    assert.equal(res.status, 303);
  });

  it('says to use the https address when the browser is on plain http, where the Secure cookie is dropped', async () => {
    const secureApp = (trustProxyHops: number) =>
      buildApp({
        sql: h.sql,
        clock: h.clock,
        buffer: new HeartbeatBuffer(),
        console: consoleSettings({ publicUrl: 'https://lifeline.example.com', idleMinutes: 720, sessionHours: 168 }),
        publicPages: { trustProxyHops },
      }).app;
    const app = secureApp(0);
    const HINT = /opened over plain http[^<]*<a href="https:\/\/lifeline\.example\.com\/sign-in\?next=%2Fincidents">https:\/\/lifeline\.example\.com\/sign-in\?next=%2Fincidents<\/a>/;
    const hinted = async (res: Response) => HINT.test(await res.text());
    const signInPage = (base: string, headers: Record<string, string> = {}, on = app) => on.request(`${base}/sign-in?next=/incidents`, { headers });
    const post = (base: string, origin: string) =>
      app.request(`${base}/sign-in?next=/incidents`, { method: 'POST', headers: { ...FORM, origin }, body: form({ key: 'llk_unknown' }) });

    // A TLS proxy in front and no hops declared: every request reaches the engine as http, under
    // whatever Host the proxy sends. The browser is on https; nothing to warn about.
    assert.equal(await hinted(await signInPage('http://127.0.0.1:8080')), false, 'first visit through the proxy');
    assert.equal(await hinted(await signInPage('http://127.0.0.1:8080', { referer: 'https://lifeline.example.com/incidents' })), false, 'redirected to sign in through the proxy');
    assert.equal(await hinted(await signInPage('http://lifeline.example.com', { referer: 'https://lifeline.example.com/sign-in?next=%2Fincidents' })), false, 'the proxy passing Host on');
    assert.equal(await hinted(await signInPage('http://lifeline.example.com', { 'x-forwarded-proto': 'http' })), false, 'a proxy header proves nothing');
    assert.equal(await hinted(await signInPage('http://127.0.0.1:8080', { referer: 'https://lifeline.example.com/' }, secureApp(1))), false, 'behind a declared proxy too');
    const refusedOverHttps = await post('http://127.0.0.1:8080', 'https://lifeline.example.com');
    assert.equal(refusedOverHttps.status, 401);
    assert.equal(await hinted(refusedOverHttps), false, 'a refused key posted from the https page');
    // Nor when the http page is another site's, the browser keeps Secure cookies on it, or cookies are not Secure.
    assert.equal(await hinted(await signInPage('http://10.0.0.5:8080', { referer: 'http://wiki.example.org/runbook' })), false, 'a link from another http site');
    assert.equal(await hinted(await signInPage('http://localhost:8080', { referer: 'http://localhost:8080/sign-in' })), false, 'loopback');
    const plain = buildApp({ sql: h.sql, clock: h.clock, buffer: new HeartbeatBuffer() }).app;
    assert.equal(await hinted(await signInPage('http://10.0.0.5:8080', { referer: 'http://10.0.0.5:8080/sign-in' }, plain)), false, 'cookies are not Secure');

    // The browser on http://10.0.0.5:8080: its sign-in post says so in Origin, and the sign-in page
    // the dropped cookie leads back to says so in Referer.
    const refused = await post('http://10.0.0.5:8080', 'http://10.0.0.5:8080');
    assert.equal(refused.status, 401);
    assert.ok(await hinted(refused), 'a refused key posted from the http page');
    assert.ok(await hinted(await signInPage('http://10.0.0.5:8080', { referer: 'http://10.0.0.5:8080/sign-in?next=%2Fincidents' })), 'back after the dropped cookie');
  });

  it('says on the sign-in page both how long a session may idle and how long it lives at most, as configured', async () => {
    const app = buildApp({ sql: h.sql, clock: h.clock, buffer: new HeartbeatBuffer(), console: consoleSettings({ publicUrl: undefined, idleMinutes: 90, sessionHours: 36 }) }).app;
    const text = (await (await app.request('/sign-in')).text()).replace(/\s+/g, ' ');
    assert.match(text, /the session ends when you sign out, after 1 h 30 min without use, 1 d 12 h after signing in however much it is used, or when the key is revoked\./);
  });

  it('ends after 12 hours without use, and each use starts the 12 hours again', async () => {
    const { cookie } = await signIn(ADMIN_TOKEN);
    h.clock.advance(12 * HOUR - 60_000);
    assert.ok(await signedIn(cookie), 'used just inside the idle timeout');
    h.clock.advance(12 * HOUR - 60_000);
    assert.ok(await signedIn(cookie), 'that use counted: another 12 hours from it');
    h.clock.advance(12 * HOUR + 1000);
    const res = await page(cookie, '/nodes/web-1?x=1');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/sign-in?next=${encodeURIComponent('/nodes/web-1?x=1')}`);
  });

  it('idles out with a tab left open: its live regions\' refreshes and its event stream are not use', async () => {
    const app = buildApp({ sql: h.sql, clock: h.clock, buffer: new HeartbeatBuffer(), console: consoleSettings({ publicUrl: undefined, idleMinutes: 5, sessionHours: 168 }) }).app;
    const { cookie } = await signIn(ADMIN_TOKEN, app);
    const fleet = await (await app.request('/', { headers: { cookie } })).text();
    // The headers the page's live region tells htmx to send with each of its re-reads.
    const attr = /<div id="fleet-live"[^>]*\shx-headers="([^"]*)"/.exec(fleet)?.[1] ?? assert.fail('the live region sends no headers');
    const refresh = { ...(JSON.parse(attr.replaceAll('&quot;', '"')) as Record<string, string>), 'hx-request': 'true', cookie };
    // Every 30 s, as the region's timer does, and the feed reconnecting each time, for 4.5 min.
    for (let s = 30; s < 300; s += 30) {
      h.clock.advance(30_000);
      assert.equal((await app.request('/', { headers: refresh })).status, 200, `refreshed after ${s} s`);
      const stream = await app.request('/v1/events', { headers: { cookie } });
      assert.equal(stream.status, 200, `listening after ${s} s`);
      await stream.body?.cancel();
    }
    // 5 minutes after the last use the refreshes are refused, and so is a page view.
    h.clock.advance(30_000);
    const refused = await app.request('/', { headers: refresh });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('hx-redirect'), `/sign-in?next=${encodeURIComponent('/')}`);
    // The navigation's count re-reads an address of its own: sign-in leads back to the page it sits on.
    const count = await app.request('/nav/open-incidents', { headers: { ...refresh, 'hx-current-url': 'http://localhost/nodes/web-1?x=1' } });
    assert.equal(count.headers.get('hx-redirect'), `/sign-in?next=${encodeURIComponent('/nodes/web-1?x=1')}`);
    assert.equal((await app.request('/v1/events', { headers: { cookie } })).status, 401);
    const res = await app.request('/', { headers: { cookie } });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/sign-in?next=${encodeURIComponent('/')}`);
  });

  it('ends 7 days after sign-in however busy it is', async () => {
    const { cookie } = await signIn(ADMIN_TOKEN);
    for (let hours = 11; hours < 168; hours += 11) {
      h.clock.advance(11 * HOUR);
      assert.ok(await signedIn(cookie), `still signed in after ${hours} h`);
    }
    h.clock.advance(11 * HOUR);
    assert.equal(await signedIn(cookie), false);
  });

  it('ends at once when its key is revoked, for pages and the event stream alike', async () => {
    const key = await h.createKey('read', 'to revoke');
    const { cookie } = await signIn(key.secret);
    assert.ok(await signedIn(cookie));
    const listening = await h.app.request('/v1/events', { headers: { cookie } });
    assert.equal(listening.status, 200);
    await listening.body?.cancel();
    assert.equal((await h.admin('DELETE', `/v1/api-keys/${key.id}`)).status, 204);
    assert.equal(await signedIn(cookie), false);
    assert.equal((await h.app.request('/v1/events', { headers: { cookie } })).status, 401);
  });

  it('ends when the bootstrap admin secret is replaced, though the key keeps its id', async () => {
    const { cookie } = await signIn(ADMIN_TOKEN);
    await ensureBootstrapAdmin(h.sql, 'llk_another-admin-secret-entirely', h.clock.now());
    try {
      assert.equal(await signedIn(cookie), false);
    } finally {
      await ensureBootstrapAdmin(h.sql, ADMIN_TOKEN, h.clock.now());
    }
  });

  it('tells someone without a key where the first one is and how to make another', async () => {
    const page = await (await h.app.request('/sign-in')).text();
    assert.match(page, /No key yet\? On its first run the engine makes an admin key, and its log says which file holds the secret/);
    assert.match(page, /<code>npx lifeline admin create-key<\/code> makes another/);
  });

  it('refuses keys that may not sign in', async () => {
    const ingest = await h.createKey('ingest');
    for (const key of [ingest.secret, 'llk_unknown', '']) {
      const res = await h.app.request('/sign-in', { method: 'POST', headers: { ...FORM, origin: ORIGIN }, body: form({ key }) });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('set-cookie'), null);
    }
  });

  it('acts only on a form from this origin carrying the session token', async () => {
    const { cookie } = await signIn(ADMIN_TOKEN);
    const token = await csrfOf(cookie);
    const refused = [
      await signOut(cookie, { origin: ORIGIN }, {}),
      await signOut(cookie, { origin: ORIGIN }, { _csrf: 'x'.repeat(token.length) }),
      await signOut(cookie, { origin: 'https://evil.example' }, { _csrf: token }),
      await signOut(cookie, { 'sec-fetch-site': 'cross-site' }, { _csrf: token }),
      await signOut(cookie, {}, { _csrf: token }),
      await signOut(cookie, { origin: ORIGIN }, { _csrf: token, note: 'a\u0000b' }),
    ];
    assert.deepEqual(refused.map((r) => r.status), [403, 403, 403, 403, 403, 400]);
    for (const r of refused) assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
    assert.ok(await signedIn(cookie), 'nothing was done: still signed in');

    const res = await signOut(cookie, { 'sec-fetch-site': 'same-origin' }, { _csrf: token });
    assert.equal(res.status, 303);
    assert.match(res.headers.get('set-cookie') ?? '', /^lifeline_session=; Max-Age=0/);
    assert.equal(await signedIn(cookie), false, 'signed out: the session is gone');
  });

  it('refuses a sign-in posted from another site, and never sends anyone elsewhere after it', async () => {
    const res = await h.app.request('/sign-in', { method: 'POST', headers: { ...FORM, origin: 'https://evil.example' }, body: form({ key: ADMIN_TOKEN }) });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('set-cookie'), null);
    for (const next of ['//evil.example/x', '/\\evil.example', 'https://evil.example']) {
      const r = await h.app.request(`/sign-in?next=${encodeURIComponent(next)}`, { method: 'POST', headers: { ...FORM, origin: ORIGIN }, body: form({ key: ADMIN_TOKEN }) });
      assert.equal(r.headers.get('location'), '/', next);
    }
  });

  it('sends someone back only to a path on this site, whatever next= hides in it', async () => {
    // Browsers drop tabs and newlines from an address, so `/<TAB>/evil.example` lands on
    // //evil.example; a CR LF cannot go in a Location header at all.
    const cases: [next: string, to: string][] = [
      ['/\t/evil.example/phish', '/'],
      ['/\n/evil.example/phish', '/'],
      ['/\r/evil.example/phish', '/'],
      ['/\r\n/evil.example/phish', '/'],
      ['/ /evil.example/phish', '/'],
      ['/\x7f/evil.example/phish', '/'],
      ['/\\evil.example', '/'],
      ['\\\\evil.example', '/'],
      ['//evil.example/x', '/'],
      ['/.//evil.example/x', '/'],
      ['/incidents/..//evil.example/x', '/'],
      ['https://x', '/'],
      ['https://x/incidents', '/'],
      ['evil.example/incidents', '/'],
      ['%5C%5Cevil.example', '/'],
      ['/%2F/evil.example', '/%2F/evil.example'],
      ['/%5C/evil.example', '/%5C/evil.example'],
      ['/%5C%5Cevil.example', '/%5C%5Cevil.example'],
      ['/incidents?status=open#row', '/incidents?status=open'],
      ['/nodes/web-✓', '/nodes/web-%E2%9C%93'],
    ];
    const { cookie } = await signIn(ADMIN_TOKEN);
    for (const [next, to] of cases) {
      const address = `/sign-in?next=${encodeURIComponent(next)}`;
      const posted = await h.app.request(address, { method: 'POST', headers: { ...FORM, origin: ORIGIN }, body: form({ key: ADMIN_TOKEN }) });
      const again = await h.app.request(address, { headers: { cookie } });
      for (const [how, res] of [['signing in', posted], ['signed in already', again]] as const) {
        assert.equal(res.status, 303, `${JSON.stringify(next)}, ${how}`);
        assert.equal(res.headers.get('location'), to, `${JSON.stringify(next)}, ${how}`);
      }
    }
  });

  it('comes back after sign-in to a page whose address holds an encoded space', async () => {
    // A node named before names were limited to [A-Za-z0-9._:-] can hold a space: its address is
    // `/nodes/web%20one`, which must come back encoded, not decoded into a space next= refuses.
    const asked = await h.app.request('/nodes/web%20one?tab=runs');
    assert.equal(asked.status, 303);
    const to = asked.headers.get('location')!;
    assert.equal(to, `/sign-in?next=${encodeURIComponent('/nodes/web%20one?tab=runs')}`);
    const posted = await h.app.request(to, { method: 'POST', headers: { ...FORM, origin: ORIGIN }, body: form({ key: ADMIN_TOKEN }) });
    assert.equal(posted.headers.get('location'), '/nodes/web%20one?tab=runs');
  });

  it('tells a refreshing live region to go to sign-in instead of swapping the sign-in page in', async () => {
    const res = await h.app.request('/?state=down', { headers: { 'hx-request': 'true' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('hx-redirect'), `/sign-in?next=${encodeURIComponent('/?state=down')}`);
  });
});
