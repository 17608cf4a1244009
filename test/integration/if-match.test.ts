import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openIncidents } from '../../src/incidents/store.ts';
import { ADMIN_TOKEN, consoleCookie, consolePages, createHarness, expectError, expectInvalid, START, type Harness } from '../helpers/app.ts';

// Two editors read a node, a channel, a policy, a user, a schedule or a status page, each changes
// it from what they read: the second write, made over a version it never saw, is refused (412)
// instead of silently undoing the first.

const ORIGIN = 'http://localhost';

let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => {
  await h.close();
});

const send = (method: string, path: string, ifMatch: string | undefined, json?: unknown) =>
  h.req(method, path, { token: ADMIN_TOKEN, ...(json === undefined ? {} : { json }), ...(ifMatch === undefined ? {} : { headers: { 'if-match': ifMatch } }) });

const etagOf = async (path: string): Promise<string> => {
  const res = await send('GET', path, undefined);
  assert.equal(res.status, 200);
  const etag = res.headers.get('etag');
  // A status page's also names the nodes it shows.
  assert.match(etag ?? '', path.startsWith('/v1/status-pages/') ? /^"\d+-[0-9a-f]{8}"$/ : /^"\d+"$/, path);
  return etag!;
};

describe('If-Match on nodes, channels and escalation policies', () => {
  it('refuses a PATCH or DELETE over a version the caller did not read, and takes the current one or *', async () => {
    const node = await h.createNode('etag-node');
    const channel = (await (await send('POST', '/v1/channels', undefined, { name: 'etag-mail', type: 'email', config: { to: ['ops@example.com'] } })).json()) as { id: string };
    const policy = (await (await send('POST', '/v1/escalation-policies', undefined, { name: 'etag-policy', levels: [{ after_seconds: 0, channel_ids: [channel.id] }] })).json()) as { id: string };
    const cases = [
      { path: `/v1/nodes/${node.id}`, first: { grace_seconds: 5 }, second: { grace_seconds: 9 }, field: 'grace_seconds' },
      { path: `/v1/channels/${channel.id}`, first: { name: 'etag-mail-2' }, second: { name: 'etag-mail-3' }, field: 'name' },
      { path: `/v1/escalation-policies/${policy.id}`, first: { repeat: 1 }, second: { repeat: 2 }, field: 'repeat' },
    ];
    for (const { path, first, second, field } of cases) {
      const read = await etagOf(path);
      const changed = await send('PATCH', path, read, first);
      assert.equal(changed.status, 200, path);
      const now = changed.headers.get('etag');
      // The clock stands still here: a write in the same millisecond as the last still moves it.
      assert.notEqual(now, read, `${path}: a write gives a new ETag`);
      assert.equal(now, await etagOf(path));

      // The second editor still holds the first read: refused, and nothing changed.
      await expectError(await send('PATCH', path, read, second), 412, 'precondition_failed');
      await expectError(await send('PATCH', path, '"999"', second), 412, 'precondition_failed');
      await expectError(await send('DELETE', path, read), 412, 'precondition_failed');
      const kept = (await (await send('GET', path, undefined)).json()) as Record<string, unknown>;
      assert.deepEqual(kept[field], (first as Record<string, unknown>)[field], path);
      await expectInvalid(await send('PATCH', path, 'yesterday', second), ['If-Match']);

      // `*` matches whatever is current (RFC 9110 §13.1.1), as does the ETag just read.
      assert.equal((await send('PATCH', path, '*', second)).status, 200, path);
      assert.equal((await send('PATCH', path, await etagOf(path), first)).status, 200, path);
    }
    // Deleting at the version read: the policy first, as it names the channel.
    for (const { path } of [...cases].reverse()) {
      assert.equal((await send('DELETE', path, await etagOf(path))).status, 204, path);
    }
  });
});

describe('If-Match on users, schedules and status pages', () => {
  let cookie = '';
  before(async () => {
    cookie = await consoleCookie(h, ORIGIN);
  });
  const { get, post, sent } = consolePages(() => h, ORIGIN, () => cookie);
  const created = async (path: string, json: unknown) => {
    const res = await send('POST', path, undefined, json);
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { id: string }).id;
  };
  const body = async (path: string) => (await (await send('GET', path, undefined)).json()) as Record<string, unknown>;

  /** A form of the console that edits the same row, and fields it must be given again. */
  interface ConsoleForm {
    page: string;
    action: string;
    keep?: Record<string, string>;
  }

  /**
   * Reads, changes and deletes `path` as two editors and the console would: a write moves the
   * ETag, a stale If-Match is refused and changes nothing, `*` and the current ETag are taken.
   */
  async function editors(path: string, field: string, [first, second, third]: [string, string, string], form: ConsoleForm) {
    const read = await etagOf(path);
    const changed = await send('PATCH', path, read, { [field]: first });
    assert.equal(changed.status, 200, path);
    const now = changed.headers.get('etag');
    // The clock stands still here: a write in the same millisecond as the last still moves it.
    assert.notEqual(now, read, `${path}: a write gives a new ETag`);
    assert.equal(now, await etagOf(path));

    // The second editor still holds the first read: refused, and nothing changed.
    const kept = await body(path);
    await expectError(await send('PATCH', path, read, { [field]: second }), 412, 'precondition_failed');
    await expectError(await send('PATCH', path, '"999"', { [field]: second }), 412, 'precondition_failed');
    await expectError(await send('DELETE', path, read), 412, 'precondition_failed');
    assert.deepEqual(await body(path), kept, path);
    await expectError(await send('PATCH', path, `"999", ${read}`, { [field]: second }), 412, 'precondition_failed');
    assert.deepEqual(await body(path), kept, path);

    // An edit in the console moves the ETag too: what the API read before it is stale.
    const edit = sent((await get(form.page)).html, form.action);
    for (const [k, v] of Object.entries({ ...form.keep, [field]: third })) edit.set(k, v);
    assert.equal((await post(form.action, edit)).status, 303, path);
    assert.equal((await body(path))[field], third, path);
    assert.notEqual(await etagOf(path), now, `${path}: a console edit gives a new ETag`);
    await expectError(await send('PATCH', path, now!, { [field]: second }), 412, 'precondition_failed');

    // `*` matches whatever is current (RFC 9110 §13.1.1), as does the ETag just read.
    assert.equal((await send('PATCH', path, '*', { [field]: second })).status, 200, path);
    assert.equal((await send('PATCH', path, await etagOf(path), { [field]: first })).status, 200, path);
    assert.equal((await body(path))[field], first, path);

    assert.equal((await send('DELETE', path, await etagOf(path))).status, 204, path);
    assert.equal((await send('GET', path, undefined)).status, 404, path);
  }

  it('a user', async () => {
    const user = await created('/v1/users', { name: 'Etag Person', email: 'etag.person@example.com' });
    await editors(`/v1/users/${user}`, 'name', ['Etag Person 2', 'Etag Person 3', 'Etag Person 4'], { page: `/users/${user}`, action: `/users/${user}` });
  });

  it('a schedule', async () => {
    const user = await created('/v1/users', { name: 'Etag Rota Person', email: 'etag.rota@example.com' });
    const schedule = await created('/v1/schedules', { name: 'etag-rota', time_zone: 'UTC', layers: [{ name: 'week', user_ids: [user], starts_at: START, rotation: 'P1W' }] });
    // A form read as text sends no chosen <option>: the layer's person is given again.
    const form = { page: `/schedules/${schedule}/edit`, action: `/schedules/${schedule}/edit`, keep: { l0_users: user } };
    await editors(`/v1/schedules/${schedule}`, 'name', ['etag-rota-2', 'etag-rota-3', 'etag-rota-4'], form);
  });

  it('a status page', async () => {
    const node = await h.createNode('etag-page-node');
    const page = await created('/v1/status-pages', { slug: 'etag-page', title: 'Etag page', components: [{ name: 'API', node_ids: [node.id] }] });
    await editors(`/v1/status-pages/${page}`, 'title', ['Etag page 2', 'Etag page 3', 'Etag page 4'], { page: `/status-pages/${page}`, action: `/status-pages/${page}` });
  });

  it("a status page whose node is deleted: the body it shows changed, so its ETag moved and one read before is stale", async () => {
    const [kept, gone] = [await h.createNode('etag-kept-node'), await h.createNode('etag-gone-node')];
    const page = await created('/v1/status-pages', { slug: 'etag-nodes', title: 'Nodes', components: [{ name: 'API', node_ids: [kept.id, gone.id] }] });
    const path = `/v1/status-pages/${page}`;
    const read = await etagOf(path);
    assert.equal((await send('DELETE', `/v1/nodes/${gone.id}`, undefined)).status, 204);
    const shown = await body(path);
    assert.deepEqual((shown.components as Array<{ node_ids: string[] }>)[0]!.node_ids, [kept.id]);
    const now = await etagOf(path);
    assert.notEqual(now, read, 'the GET body dropped a node: its ETag moved');

    // Stale, with components (refused before any day is kept) and without (under the lock).
    const components = [{ name: 'API', node_ids: [kept.id] }, { name: 'New', node_ids: [kept.id] }];
    const days = async () => (await h.sql`select count(*)::int as n from status_page_days where page_id = ${page}`)[0]!.n as number;
    const daysBefore = await days();
    // A day over that the page has not kept yet: a PATCH with components would keep it first.
    h.clock.advance(24 * 3_600_000);
    await expectError(await send('PATCH', path, read, { components }), 412, 'precondition_failed');
    await expectError(await send('PATCH', path, read, { title: 'Stale' }), 412, 'precondition_failed');
    await expectError(await send('DELETE', path, read), 412, 'precondition_failed');
    assert.deepEqual(await body(path), shown);
    assert.equal(await days(), daysBefore, 'a refused PATCH keeps no day (its new component has none)');

    // At the ETag a GET gives: taken, and its answer's ETag is the next GET's.
    const changed = await send('PATCH', path, now, { components });
    assert.equal(changed.status, 200, await changed.clone().text());
    assert.equal(changed.headers.get('etag'), await etagOf(path));
    assert.equal((await send('DELETE', path, await etagOf(path))).status, 204);
  });
});

describe('one If-Match grammar on every route that takes it', () => {
  /**
   * A row with a version, and a write held to it: `tag` is its current strong tag as a client
   * sends it back (a GET's ETag; an incident's `version`), `write` a change that moves it.
   */
  interface Versioned {
    what: string;
    tag: () => Promise<string>;
    write: (ifMatch: string) => Promise<Response>;
  }

  const patching = (what: string, path: string, json: unknown): Versioned => ({ what, tag: () => etagOf(path), write: (m) => send('PATCH', path, m, json) });

  async function rows(): Promise<Versioned[]> {
    const id = async (path: string, json: unknown) => ((await (await send('POST', path, undefined, json)).json()) as { id: string }).id;
    const node = await h.createNode('grammar-node');
    await h.createNode('grammar-applied');
    const channel = await id('/v1/channels', { name: 'grammar-mail', type: 'email', config: { to: ['ops@example.com'] } });
    const policy = await id('/v1/escalation-policies', { name: 'grammar-policy', levels: [{ after_seconds: 0, channel_ids: [channel] }] });
    const user = await id('/v1/users', { name: 'Grammar Person', email: 'grammar.person@example.com' });
    const schedule = await id('/v1/schedules', { name: 'grammar-rota', time_zone: 'UTC', layers: [{ name: 'week', user_ids: [user], starts_at: START, rotation: 'P1W' }] });
    const page = await id('/v1/status-pages', { slug: 'grammar-page', title: 'Grammar', components: [{ name: 'API', node_ids: [node.id] }] });
    const incident = (await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]))[0]!.id;
    return [
      patching('node', `/v1/nodes/${node.id}`, { grace_seconds: 7 }),
      { what: 'node by name', tag: () => etagOf('/v1/nodes/grammar-applied'), write: (m) => send('PUT', '/v1/nodes/by-name/grammar-applied', m, { grace_seconds: 7 }) },
      patching('channel', `/v1/channels/${channel}`, { name: 'grammar-mail-2' }),
      patching('escalation policy', `/v1/escalation-policies/${policy}`, { repeat: 1 }),
      patching('user', `/v1/users/${user}`, { name: 'Grammar Person 2' }),
      patching('schedule', `/v1/schedules/${schedule}`, { name: 'grammar-rota-2' }),
      patching('status page', `/v1/status-pages/${page}`, { title: 'Grammar 2' }),
      {
        what: 'incident',
        tag: async () => `"${((await (await send('GET', `/v1/incidents/${incident}`, undefined)).json()) as { version: number }).version}"`,
        write: (m) => send('POST', `/v1/incidents/${incident}/acknowledge`, m, {}),
      },
    ];
  }

  it('takes a list any tag of which may match, W/ as the tag it marks, and refuses a malformed header with 400', async () => {
    for (const row of await rows()) {
      const now = await row.tag();
      // Malformed: a quote left open or closed alone, an empty member, two tags with no comma.
      for (const broken of ['yesterday', now.slice(0, -1), now.slice(1), `${now}, `, `, ${now}`, `${now} ${now}`, `${now},,${now}`]) {
        await expectInvalid(await row.write(broken), ['If-Match']);
      }
      // Well formed but naming no current version.
      for (const stale of ['"999"', 'W/"999"', '"998", W/"999"']) {
        await expectError(await row.write(stale), 412, 'precondition_failed');
      }
      assert.equal(await row.tag(), now, `${row.what}: nothing refused moved it`);
      // One of a list (RFC 9110 §13.1.1), among stale ones, written with or without spaces; W/ as the
      // tag it marks, as a compressing proxy (nginx's gzip) hands the ETag on.
      const taken = await row.write(`"999",W/"998" , W/${now}`);
      assert.equal(taken.status, 200, `${row.what}: ${await taken.clone().text()}`);
      assert.notEqual(await row.tag(), now, `${row.what}: the write moved it`);
    }
  });
});
