import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
  assert.match(etag ?? '', /^"\d+"$/, path);
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

      // `*` matches whatever is current (RFC 9110 §13.1.1), as does the ETag just read, weak or not.
      assert.equal((await send('PATCH', path, '*', second)).status, 200, path);
      assert.equal((await send('PATCH', path, `W/${await etagOf(path)}`, first)).status, 200, path);
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
    await expectInvalid(await send('PATCH', path, 'yesterday', { [field]: second }), ['If-Match']);

    // An edit in the console moves the ETag too: what the API read before it is stale.
    const edit = sent((await get(form.page)).html, form.action);
    for (const [k, v] of Object.entries({ ...form.keep, [field]: third })) edit.set(k, v);
    assert.equal((await post(form.action, edit)).status, 303, path);
    assert.equal((await body(path))[field], third, path);
    assert.notEqual(await etagOf(path), now, `${path}: a console edit gives a new ETag`);
    await expectError(await send('PATCH', path, now!, { [field]: second }), 412, 'precondition_failed');

    // `*` matches whatever is current (RFC 9110 §13.1.1), as does the ETag just read, weak or not.
    assert.equal((await send('PATCH', path, '*', { [field]: second })).status, 200, path);
    assert.equal((await send('PATCH', path, `W/${await etagOf(path)}`, { [field]: first })).status, 200, path);
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
});
