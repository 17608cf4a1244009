import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LIMIT_DEFAULTS } from '../../src/config.ts';
import type { Context } from 'hono';
import { IdentityCache } from '../../src/access/identity-cache.ts';
import { createSql } from '../../src/db/client.ts';
import { authBudget, BudgetSpent, HARD_CAP } from '../../src/http/auth-budget.ts';
import { ADMIN_TOKEN, buildApp, createHarness, expectError, expectJson, send, type App, type Harness } from '../helpers/app.ts';

// Limits per caller: failed authentications per client address (the API and the console's sign-in
// count together), requests per node token, nodes registered per ingest key. Each answers 429
// rate_limited with Retry-After and changes nothing.

let h: Harness;

before(async () => {
  h = await createHarness();
});

after(async () => {
  await h?.close();
});

/** An app over the harness database that believes one proxy, so each test speaks from its own address. */
function appWith(limits: Parameters<typeof buildApp>[0]['limits']): App {
  return buildApp({ sql: h.sql, clock: h.clock, buffer: h.buffer, publicPages: { trustProxyHops: 1 }, ...(limits ? { limits } : {}) }).app;
}

const from = (address: string) => ({ 'x-forwarded-for': address });

const signInFrom = (app: App, address: string) => (key: string) =>
  app.request('/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', ...from(address) },
    body: new URLSearchParams({ key }).toString(),
  });

async function expectLimited(res: Response) {
  const retryAfter = Number(res.headers.get('retry-after'));
  await expectError(res, 429, 'rate_limited');
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${res.headers.get('retry-after')}`);
  return retryAfter;
}

describe('failed authentication per client address', () => {
  it('refuses an address after the default number of wrong secrets, and only that address', async () => {
    const app = appWith(undefined);
    for (let i = 0; i < LIMIT_DEFAULTS.authFailuresPerMinute; i++) {
      await expectError(await send(app, 'GET', '/v1/nodes', { token: `llk_guess-${i}`, headers: from('203.0.113.7') }), 401, 'unauthorized');
    }
    const retryAfter = await expectLimited(await send(app, 'GET', '/v1/nodes', { token: 'llk_guess-next', headers: from('203.0.113.7') }));
    assert.ok(retryAfter <= 60);
    // A secret this process has not seen is still looked up there, under the hard cap: a valid one is taken.
    await expectJson(await send(app, 'GET', '/v1/nodes', { token: ADMIN_TOKEN, headers: from('203.0.113.7') }), 200);
    await expectLimited(await send(app, 'GET', '/v1/events', { headers: from('203.0.113.7') }));
    // Another address, and one in the same IPv6 /64 counted apart from a different /64.
    await expectJson(await send(app, 'GET', '/v1/nodes', { token: ADMIN_TOKEN, headers: from('203.0.113.8') }), 200);
    await expectError(await send(app, 'GET', '/v1/nodes', { token: 'llk_wrong', headers: from('203.0.113.8') }), 401, 'unauthorized');
  });

  it('never counts a request that authenticated', async () => {
    const app = appWith({ authFailuresPerMinute: 3 });
    for (let i = 0; i < 20; i++) await expectJson(await send(app, 'GET', '/v1/nodes', { token: ADMIN_TOKEN, headers: from('198.51.100.1') }), 200);
    for (let i = 0; i < 3; i++) await expectError(await send(app, 'GET', '/v1/nodes', { token: 'llk_wrong', headers: from('198.51.100.1') }), 401, 'unauthorized');
    await expectLimited(await send(app, 'GET', '/v1/nodes', { token: 'llk_wrong', headers: from('198.51.100.1') }));
  });

  it('never refuses a known secret for the wrong ones of its neighbours at the address', async () => {
    // One address for a whole office (a NAT): an agent there keeps a rotated token and fails on
    // every beat; the others, whose secrets the engine already knows, go on.
    const app = appWith(undefined);
    const node = await h.createNode('behind-the-nat');
    const beat = () => send(app, 'POST', '/v1/heartbeats', { token: node.token, json: { status: 'ok' }, headers: from('192.0.2.77') });
    const read = await h.createKey('read', 'behind-the-nat');
    assert.equal((await beat()).status, 202);
    await expectJson(await send(app, 'GET', '/v1/nodes', { token: read.secret, headers: from('192.0.2.77') }), 200);
    const listen = async (token: string) => {
      const res = await send(app, 'GET', '/v1/events', { token, headers: from('192.0.2.77') });
      await res.body?.cancel();
      return res.status;
    };
    for (let i = 0; i < LIMIT_DEFAULTS.authFailuresPerMinute; i++) {
      await expectError(await send(app, 'POST', '/v1/heartbeats', { token: 'wrong', json: { status: 'ok' }, headers: from('192.0.2.77') }), 401, 'unauthorized');
    }
    await expectLimited(await send(app, 'POST', '/v1/heartbeats', { token: 'wrong', json: { status: 'ok' }, headers: from('192.0.2.77') }));
    assert.equal((await beat()).status, 202);
    await expectJson(await send(app, 'GET', '/v1/nodes', { token: read.secret, headers: from('192.0.2.77') }), 200);
    assert.equal(await listen(read.secret), 200);
    await expectLimited(await send(app, 'GET', '/v1/nodes', { token: 'llk_still-wrong', headers: from('192.0.2.77') }));
    // Not yet seen by this engine (as after a restart): looked up under the hard cap, and taken.
    const fresh = await h.createKey('read', 'not-yet-seen');
    await expectJson(await send(app, 'GET', '/v1/nodes', { token: fresh.secret, headers: from('192.0.2.77') }), 200);
    h.buffer.take();
  });

  it('still looks up a secret known before once its cache entry is gone, answers 401 once it is revoked, and budgets it again', async () => {
    const { app, identity } = buildApp({ sql: h.sql, clock: h.clock, buffer: h.buffer, publicPages: { trustProxyHops: 1 }, limits: { authFailuresPerMinute: 3 } });
    const key = await h.createKey('read', 'known-before');
    const nodes = (token: string) => send(app, 'GET', '/v1/nodes', { token, headers: from('192.0.2.78') });
    await expectJson(await nodes(key.secret), 200);
    for (let i = 0; i < 3; i++) await expectError(await nodes(`llk_wrong-${i}`), 401, 'unauthorized');
    await expectLimited(await nodes('llk_wrong-next'));
    // A key or node changed elsewhere empties the cache (as its TTL would): the key is looked up again.
    identity.forget();
    await expectJson(await nodes(key.secret), 200);
    assert.equal((await h.admin('DELETE', `/v1/api-keys/${key.id}`)).status, 204);
    identity.forget();
    // Looked up, as a known secret, and found revoked: the 401 an agent stops on, not a 429 it would
    // retry for ever; then it is as unseen as any wrong secret past the budget.
    await expectError(await nodes(key.secret), 401, 'unauthorized');
    await expectLimited(await nodes(key.secret));
    await assert.rejects(
      identity.principal(key.secret, () => {
        throw new Error('refused before its query');
      }),
      /refused before its query/,
    );
  });

  it('counts wrong keys at the console sign-in with those of the API', async () => {
    const app = appWith({ authFailuresPerMinute: 4 });
    const signIn = signInFrom(app, '192.0.2.44');
    for (let i = 0; i < 2; i++) assert.equal((await signIn(`llk_wrong-${i}`)).status, 401);
    for (let i = 0; i < 2; i++) await expectError(await send(app, 'GET', '/v1/nodes', { token: 'llk_wrong', headers: from('192.0.2.44') }), 401, 'unauthorized');
    const refused = await signIn('llk_wrong-past-the-budget');
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(refused.headers.get('set-cookie'), null, 'no session was opened');
    // A person at the form: the sign-in page again, saying why and for how long, not the API's JSON.
    assert.match(refused.headers.get('content-type') ?? '', /^text\/html/);
    const page = await refused.text();
    assert.match(page, /Too many wrong keys came from this address in the last minute, so this one was refused without saying whether it is right\./);
    assert.match(page, new RegExp(`Try again in ${retryAfter} seconds\\.`));
    assert.match(page, /<form method="post" action="\/sign-in/);
    // Not the key's fault, as far as anyone knows: said apart from the field, which is not marked wrong.
    assert.match(page, /<div class="notice bad" role="alert"><p>Too many wrong keys/);
    assert.match(page, /<input id="key" name="key" type="password"/);
    assert.doesNotMatch(page, /aria-invalid/);
  });

  it('signs a valid key in past the budget, and its session reads the live feed there', async () => {
    // An admin behind the NAT of an agent that keeps a wrong token: the key is valid, though this
    // engine has never seen it, so only looking it up can tell.
    const app = appWith({ authFailuresPerMinute: 2 });
    const signIn = signInFrom(app, '192.0.2.45');
    for (let i = 0; i < 2; i++) await expectError(await send(app, 'POST', '/v1/heartbeats', { token: 'lln_rotated', json: { status: 'ok' }, headers: from('192.0.2.45') }), 401, 'unauthorized');
    assert.equal((await signIn('llk_wrong')).status, 429);
    const signedIn = await signIn(ADMIN_TOKEN);
    assert.equal(signedIn.status, 303, await signedIn.clone().text());
    const cookie = /^(lifeline_session=[^;]+)/.exec(signedIn.headers.get('set-cookie') ?? '')?.[1];
    assert.ok(cookie, `set-cookie ${signedIn.headers.get('set-cookie')}`);
    const listen = (session: string) => app.request('/v1/events', { headers: { cookie: session, ...from('192.0.2.45') } });
    const feed = await listen(cookie);
    assert.equal(feed.status, 200);
    await feed.body?.cancel();
    // A session id of the right shape that names no session: looked up, and refused past the budget.
    await expectLimited(await listen(`lifeline_session=${'A'.repeat(43)}`));
  });
});

describe('failed authentication past the hard cap', () => {
  it('looks no unseen secret up there, valid or not, on the API or the sign-in, and still takes verified ones and sessions', async () => {
    const { app, identity } = buildApp({ sql: h.sql, clock: h.clock, buffer: h.buffer, publicPages: { trustProxyHops: 1 }, limits: { authFailuresPerMinute: 2 } });
    const address = from('192.0.2.90');
    const node = await h.createNode('past-the-cap');
    const beat = () => send(app, 'POST', '/v1/heartbeats', { token: node.token, json: { status: 'ok' }, headers: address });
    assert.equal((await beat()).status, 202);
    await expectJson(await send(app, 'GET', '/v1/nodes', { token: ADMIN_TOKEN, headers: address }), 200);
    const signIn = signInFrom(app, '192.0.2.90');
    const signedIn = await signIn(ADMIN_TOKEN);
    assert.equal(signedIn.status, 303);
    const cookie = /^(lifeline_session=[^;]+)/.exec(signedIn.headers.get('set-cookie') ?? '')?.[1]!;
    for (let i = 0; i < 2; i++) await expectError(await send(app, 'GET', '/v1/nodes', { token: `llk_guess-${i}`, headers: address }), 401, 'unauthorized');
    // Past the budget, each wrong secret is still looked up and charged, up to the hard cap.
    for (let i = 2; i < 2 * HARD_CAP; i++) await expectLimited(await send(app, 'GET', '/v1/nodes', { token: `llk_guess-${i}`, headers: address }));
    const fresh = await h.createKey('admin', 'unseen-past-the-cap');
    await expectLimited(await send(app, 'GET', '/v1/nodes', { token: fresh.secret, headers: address }));
    const unread = await signIn(fresh.secret);
    assert.equal(unread.status, 429);
    // Not looked up, so the page does not say the key was wrong.
    assert.match(await unread.text(), /so this one was refused without saying whether it is right\./);
    // A session is looked up there, as every console page does: the live regions go on, and a
    // wrong cookie is still refused past the budget.
    const feed = await app.request('/v1/events', { headers: { cookie, ...address } });
    assert.equal(feed.status, 200);
    await feed.body?.cancel();
    await expectLimited(await app.request('/v1/events', { headers: { cookie: `lifeline_session=${'B'.repeat(43)}`, ...address } }));
    await assert.rejects(
      identity.principal(fresh.secret, () => {
        throw new Error('not yet verified');
      }),
      /not yet verified/,
      'the refused key was never looked up, so this process still does not know it',
    );
    // What this process verified before goes on: heartbeats, the API and the sign-in.
    assert.equal((await beat()).status, 202);
    await expectJson(await send(app, 'GET', '/v1/nodes', { token: ADMIN_TOKEN, headers: address }), 200);
    assert.equal((await signIn(ADMIN_TOKEN)).status, 303);
    // Another address is untouched.
    await expectJson(await send(app, 'GET', '/v1/nodes', { token: fresh.secret, headers: from('192.0.2.91') }), 200);
    h.buffer.take();
  });
});

describe('failed authentication through the identity cache', () => {
  const request = {} as Context;
  const budgetOf = (limit: number) => authBudget({ limit, windowMs: 60_000, key: () => '192.0.2.120', nowMs: () => 0 });
  /** Looks `secret` up through `identity`, counting the charges that were taken. */
  const through = (identity: IdentityCache, charges: { taken: number }) => (secret: string) => (charge: () => void) =>
    identity.principal(secret, () => {
      charge();
      charges.taken += 1;
    });
  const answer = (p: Promise<unknown>) => p.then((found) => (found === undefined ? 'unauthorized' : 'found'), (err: unknown) => (err instanceof BudgetSpent ? 'limited' : err));

  /** Sends HARD_CAP × 1 wrong unseen secrets at once: all are charged (none wait) only if nothing else is pending. */
  async function wholeCapFree(budget: ReturnType<typeof budgetOf>, identity: IdentityCache, label: string) {
    const charges = { taken: 0 };
    const lookup = through(identity, charges);
    const all = Array.from({ length: HARD_CAP }, (_, i) => answer(budget.authenticate(request, lookup(`llk_${label}-${i}`))));
    assert.equal(charges.taken, HARD_CAP, 'nothing was left pending');
    return Promise.all(all);
  }

  it('charges each of two lookups of one unseen secret sent at once, and gives both back when it is found', async () => {
    const identity = new IdentityCache(h.sql, h.clock);
    const budget = budgetOf(1);
    const key = await h.createKey('read', 'twice-at-once');
    const charges = { taken: 0 };
    const lookup = through(identity, charges);
    const both = await Promise.all([budget.authenticate(request, lookup(key.secret)), budget.authenticate(request, lookup(key.secret))]);
    assert.deepEqual(both.map((p) => p?.kind), ['key', 'key']);
    assert.equal(charges.taken, 2);
    const answers = await wholeCapFree(budget, identity, 'after-twice');
    assert.equal(answers.filter((a) => a === 'unauthorized').length, 1, 'and neither counted as a failure');
  });

  it('gives back what every caller of a failed batch was charged', async () => {
    const down = createSql('postgres://root@127.0.0.1:1/test', { max: 1 });
    try {
      const budget = budgetOf(1);
      const lookup = through(new IdentityCache(down, h.clock), { taken: 0 });
      const batch = Array.from({ length: HARD_CAP }, (_, i) => budget.authenticate(request, lookup(`llk_unread-${i}`)));
      for (const p of batch) await assert.rejects(p, /ECONNREFUSED/);
      const answers = await wholeCapFree(budget, new IdentityCache(h.sql, h.clock), 'after-the-outage');
      assert.equal(answers.filter((a) => a === 'unauthorized').length, 1, 'and none counted as a failure');
    } finally {
      await down.end();
    }
  });

  it('does not know a secret found valid while a revocation was heard', async () => {
    const identity = new IdentityCache(h.sql, h.clock);
    const key = await h.createKey('read', 'revoked-during-its-lookup');
    const lookingUp = identity.principal(key.secret);
    // As on the NOTIFY of a revocation committed while the query ran: what it read is stale.
    identity.forget();
    assert.equal((await lookingUp)?.kind, 'key');
    await assert.rejects(
      identity.principal(key.secret, () => {
        throw new Error('charged as unseen');
      }),
      /charged as unseen/,
    );
  });

  it('takes the heartbeats of more nodes behind one address than the hard cap, sent at once just after a restart', async () => {
    const nodes = [];
    // Twice the hard cap: as many as are looked up at once, and as many again waiting for them.
    for (let i = 0; i < 2 * 2 * HARD_CAP; i++) nodes.push(await h.createNode(`after-a-restart-${i}`));
    // A new app: its identity cache has seen none of the tokens, as after a restart.
    const app = appWith({ authFailuresPerMinute: 2 });
    const answers = await Promise.all(nodes.map((n) => send(app, 'POST', '/v1/heartbeats', { token: n.token, json: { status: 'ok' }, headers: from('192.0.2.121') })));
    assert.deepEqual(
      answers.map((r) => r.status),
      nodes.map(() => 202),
    );
    h.buffer.take();
  });
});

describe('requests per node token', () => {
  it('refuses a node token past its budget; other tokens and keys go on', async () => {
    const app = appWith({ nodeTokenPerMinute: 5 });
    const a = await h.createNode('limited-a');
    const b = await h.createNode('limited-b');
    const beat = (token: string, json: unknown = { status: 'ok' }) => send(app, 'POST', '/v1/heartbeats', { token, json, headers: from('192.0.2.1') });
    for (let i = 0; i < 5; i++) assert.equal((await beat(a.token)).status, 202);
    const buffered = h.buffer.size;
    await expectLimited(await beat(a.token));
    assert.equal(h.buffer.size, buffered, 'a refused heartbeat was not buffered');
    assert.equal((await beat(b.token)).status, 202);
    for (let i = 0; i < 10; i++) assert.equal((await beat(ADMIN_TOKEN, { node: 'limited-a' })).status, 202);
  });

  it('leaves an agent beating every second far below the default', () => {
    assert.ok(LIMIT_DEFAULTS.nodeTokenPerMinute >= 10 * 60);
  });
});

describe('auto-registrations per ingest key', () => {
  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ node: `${prefix}-${i}` }));
  const registered = async (prefix: string) =>
    (await h.sql<{ n: number }[]>`select count(*)::int as n from nodes where name like ${`${prefix}-%`}`)[0]!.n;

  it('registers a first batch of 1000 with the defaults, then refuses the next new node of that key', async () => {
    const app = appWith(undefined);
    const key = await h.createKey('ingest', 'fleet-onboarding');
    const first = await send(app, 'POST', '/v1/heartbeats', { token: key.secret, json: { heartbeats: names('fleet', LIMIT_DEFAULTS.registrationsPerHour) } });
    assert.equal(first.status, 202, await first.clone().text());
    assert.equal(await registered('fleet'), LIMIT_DEFAULTS.registrationsPerHour);
    const more = await send(app, 'POST', '/v1/heartbeats', { token: key.secret, json: { node: 'fleet-extra-1' } });
    const retryAfter = await expectLimited(more);
    assert.ok(retryAfter > 60 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
    assert.equal((await h.sql`select 1 from nodes where name = 'fleet-extra-1'`).length, 0);
    // Known nodes are no registration: the same key goes on beating for them.
    const known = await send(app, 'POST', '/v1/heartbeats', { token: key.secret, json: { heartbeats: names('fleet', 1000) } });
    assert.equal(known.status, 202, await known.clone().text());
    h.buffer.take();
  });

  it('past the budget stores the heartbeats of known nodes and refuses only the new names', async () => {
    const app = appWith({ registrationsPerHour: 3 });
    const key = await h.createKey('ingest', 'mixed-batches');
    const post = (heartbeats: unknown[]) => send(app, 'POST', '/v1/heartbeats', { token: key.secret, json: { heartbeats } });
    assert.equal((await post(names('mixed', 3))).status, 202);
    await h.flush();
    const before = await h.sql<{ name: string; received: number }[]>`
      select n.name, hb.received::int from nodes n join node_heartbeats hb on hb.node_id = n.id where n.name like 'mixed-%' order by n.name`;
    h.clock.advance(1_000);
    const res = await post([{ node: 'mixed-0', status: 'failing' }, { node: 'mixed-new' }, { node: 'mixed-1' }, { node: 'mixed-new', status: 'failing' }, { node: 'mixed-2' }]);
    const body = await expectJson<{ accepted: number; refused: { node: string; message: string }[] }>(res, 202);
    assert.equal(body.accepted, 3);
    assert.deepEqual(body.refused.map((r) => r.node), ['mixed-new']);
    assert.match(body.refused[0]!.message, /LIFELINE_AUTO_REGISTER_LIMIT/);
    // The 202 has no Retry-After to point at: the wait is in the message, the one a 429 would send.
    assert.equal(res.headers.get('retry-after'), null);
    const wait = /try again in (\d+) seconds\.$/.exec(body.refused[0]!.message)?.[1];
    assert.ok(wait, body.refused[0]!.message);
    const refused = await post([{ node: 'mixed-new' }]);
    await expectError(refused, 429, 'rate_limited');
    assert.equal(refused.headers.get('retry-after'), wait);
    assert.equal(await registered('mixed'), 3, 'the new name was not registered');
    await h.flush();
    const after = await h.sql<{ name: string; received: number; at: Date; status: string }[]>`
      select n.name, hb.received::int, hb.last_heartbeat_at as at, hb.last_status as status
      from nodes n join node_heartbeats hb on hb.node_id = n.id where n.name like 'mixed-%' order by n.name`;
    assert.deepEqual(after.map((r) => [r.name, r.received, r.at.getTime(), r.status]), [
      ['mixed-0', before[0]!.received + 1, h.clock.now().getTime(), 'failing'],
      ['mixed-1', before[1]!.received + 1, h.clock.now().getTime(), 'ok'],
      ['mixed-2', before[2]!.received + 1, h.clock.now().getTime(), 'ok'],
    ]);
    // A batch of nothing but new names stores nothing, and says so with the 429.
    await expectLimited(await post(names('mixed-more', 2)));
    assert.equal(h.buffer.size, 0);
    // An id no node has is refused beside the new names; when nothing is stored, its 404 wins.
    const gone = 'c3a1e0f2-8b4d-4e6a-9f17-2d5b7c9e0a43';
    const both = await expectJson<{ accepted: number; refused: { node: string; message: string }[] }>(await post([{ node: gone }, { node: 'mixed-new' }, { node: 'mixed-0' }]), 202);
    assert.equal(both.accepted, 1);
    assert.deepEqual(both.refused.map((r) => [r.node, /LIFELINE_AUTO_REGISTER_LIMIT/.test(r.message)]), [[gone, false], ['mixed-new', true]]);
    h.buffer.take();
    const none = await post([{ node: 'mixed-new' }, { node: gone }]);
    assert.equal((await expectError(none, 404, 'not_found')).message, `Unknown node: ${gone}.`);
    assert.equal(h.buffer.size, 0);
  });

  it('refuses a whole batch that would pass the budget, counts per key, and refills when the window ends', async () => {
    const app = appWith({ registrationsPerHour: 10 });
    const one = await h.createKey('ingest', 'small-1');
    const two = await h.createKey('ingest', 'small-2');
    const post = (token: string, heartbeats: unknown[]) => send(app, 'POST', '/v1/heartbeats', { token, json: { heartbeats } });
    await expectLimited(await post(one.secret, names('small', 11)));
    assert.equal(await registered('small'), 0, 'none of the refused batch was registered');
    assert.equal((await post(one.secret, names('small', 10))).status, 202);
    await expectLimited(await post(one.secret, names('later', 1)));
    assert.equal((await post(two.secret, names('other', 10))).status, 202);
    h.clock.advance(3_600_000);
    assert.equal((await post(one.secret, names('later', 1))).status, 202);
    h.buffer.take();
  });
});
