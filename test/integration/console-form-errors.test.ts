import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { consoleCookie, consolePages, createHarness, unescapeHtml, type Harness } from '../helpers/app.ts';
import { lockWaiter } from '../helpers/db.ts';
import { holdOpen } from '../helpers/locks.ts';

// A refused form says what is wrong at the field that holds it, in the form's words: never an API
// path counted from 0 ("levels.1.after_seconds", "to.0"), nor a parser's own words.

const ORIGIN = 'http://localhost';
/** The error shown under the input with this id, as a browser reads it. */
const errorAt = (html: string, id: string) => unescapeHtml(new RegExp(`<p class="error" id="${id}-error">([^<]*)</p>`).exec(html)?.[1] ?? assert.fail(`no error at ${id}`));

describe('console: refused forms in their own words', () => {
  let h: Harness;
  let admin: string;
  let channelId: string;

  before(async () => {
    h = await createHarness();
    admin = await consoleCookie(h, ORIGIN);
    channelId = ((await (await h.admin('POST', '/v1/channels', { name: 'ops mail', type: 'email', config: { to: ['ops@example.com'] } })).json()) as { id: string }).id;
    assert.equal((await h.admin('POST', '/v1/users', { name: 'Alice Ops', email: 'alice@example.com' })).status, 201);
  });
  after(async () => {
    await h.close();
  });

  const { get, post, sent } = consolePages(() => h, ORIGIN, () => admin);
  const filled = async (path: string, fields: Record<string, string>, action = path) => {
    const body = sent((await get(path)).html, action);
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    return body;
  };

  it("says a policy level's wait at that level's field, numbered as the form numbers it, and focuses it", async () => {
    const refused = await h.rejected(async () => post('/policies', await filled('/policies', { name: 'primary', channels_0: channelId, after_1: '0', channels_1: channelId })));
    assert.equal(refused.status, 400);
    const page = await refused.text();
    assert.equal(errorAt(page, 'after_1'), "Level 2 — wait: must be greater than level 1's (0 s)");
    assert.doesNotMatch(page, /levels\.\d/);
    assert.match(page, /<input id="after_1" name="after_1" type="number" min="0" value="0" autofocus=""/);
    assert.equal([...page.matchAll(/autofocus/g)].length, 1, 'one field has the focus');
    assert.match(unescapeHtml(page), /<a href="#after_1">Level 2 — wait: must be greater than level 1's \(0 s\)<\/a>/);
    assert.match(page, /<input id="name" name="name"[^>]*value="primary"/);

    // A row left blank above is no level: the body's second level is the form's Level 3.
    const skipped = await h.rejected(async () => post('/policies', await filled('/policies', { name: 'gap', channels_0: channelId, after_2: '0', channels_2: channelId })));
    assert.equal(errorAt(await skipped.text(), 'after_2'), "Level 3 — wait: must be greater than level 1's (0 s)");
  });

  it('ties each refused field to its problem and hint, for a screen reader moving from field to field', async () => {
    /** Every problem under a field is its control's description, and the control says it is invalid. */
    const tied = (html: string, ids: string[]) => {
      const shown = [...html.matchAll(/<p class="error" id="([^"]+)-error">/g)].map((m) => m[1]!);
      for (const id of ids) assert.ok(shown.includes(id), `a problem under ${id}: ${shown.join(', ')}`);
      for (const id of shown) {
        const controls = [...html.matchAll(new RegExp(`<(?:input|textarea|select)[^>]*aria-describedby="([^"]*)"[^>]*>`, 'g'))].filter((m) => m[1]!.split(' ').includes(`${id}-error`));
        assert.ok(controls.length > 0, `no control described by ${id}-error`);
        for (const c of controls) assert.match(c[0], /aria-invalid="true"/, id);
        // The field's hint, where it has one, is read with it too.
        if (html.includes(`id="${id}-hint"`)) for (const c of controls) assert.ok(c[1]!.split(' ').includes(`${id}-hint`), `${id}'s hint`);
      }
    };
    const refused = async (path: string, fields: Record<string, string>, ids: string[], action = path) => {
      const res = await h.rejected(async () => post(action, await filled(path, fields, action)));
      assert.ok(res.status >= 400, `${path}: ${res.status}`);
      tied(await res.text(), ids);
    };
    await refused('/policies', { name: 'primary', channels_0: channelId, after_1: '0', channels_1: channelId }, ['after_1']);
    await refused('/policies', { name: 'naps', channels_0: channelId, ack_timeout_seconds: '30' }, ['ack_timeout_seconds']);
    await refused('/channels/new?type=email', { name: 'throwaway', to: 'not-an-email' }, ['to']);
    await refused('/maintenance', { nodes: '', labels: 'nope' }, ['labels']);
    await refused('/maintenance', { nodes: '', labels: 'role=db', time_zone: 'Mars/Base' }, ['time_zone']);
    await refused('/keys', { name: ' ' }, ['name']);
    await refused('/status-pages/new', { title: 'T', slug: 'Not A Slug', components: 'API: nowhere-1' }, ['slug']);
    await refused('/schedules/new', { name: 'primary', time_zone: 'UTC' }, ['l0_users']);
    // Signing in with a key that is none: the problem is the key field's.
    const signIn = await h.app.request('/sign-in?next=/', { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: 'key=not-a-key' });
    tied(await signIn.text(), ['key']);
  });

  it('says which address of an email channel is not one, at the Send to field', async () => {
    const refused = await h.rejected(async () => post('/channels/new?type=email', await filled('/channels/new?type=email', { name: 'throwaway', to: 'x@example.com, not-an-email' })));
    assert.equal(refused.status, 400);
    const page = await refused.text();
    assert.equal(errorAt(page, 'to'), 'Address 2: must be an email address');
    assert.match(page, /<input id="to" name="to"[^>]*value="x@example.com, not-an-email"[^>]* autofocus=""/);
  });

  it('answers 404 when the policy or node being saved is deleted meanwhile, as every form does', async () => {
    // The delete holds the row until the save waits on it, then commits: the save finds nothing to change.
    const savedWhileDeleted = async (path: string, fields: Record<string, string>, remove: Parameters<typeof holdOpen>[1]) => {
      const body = await filled(path, fields);
      const deleting = await holdOpen(h.db, remove);
      const saving = post(path, body);
      await lockWaiter(h.sql);
      await deleting.commit();
      return saving;
    };
    const policy = (await (await h.admin('POST', '/v1/escalation-policies', { name: 'going', levels: [{ after_seconds: 0, channel_ids: [channelId] }] })).json()) as { id: string };
    const policyRefused = await savedWhileDeleted(`/policies/${policy.id}`, { name: 'gone' }, (tx) => tx`delete from escalation_policies where id = ${policy.id}`);
    assert.equal(policyRefused.status, 404);
    assert.match(unescapeHtml(await policyRefused.text()), new RegExp(`Escalation policy "${policy.id}" was not found\\.`));

    const node = await h.createNode('going-node');
    const nodeRefused = await savedWhileDeleted('/nodes/going-node/edit', { name: 'gone-node' }, (tx) => tx`delete from nodes where id = ${node.id}`);
    assert.equal(nodeRefused.status, 404);
    assert.match(unescapeHtml(await nodeRefused.text()), new RegExp(`Node "${node.id}" was not found\\.`));
  });

  it('says at the Email field who already has an address, whatever its case', async () => {
    const refused = await h.rejected(async () => post('/users', await filled('/users', { name: 'Carol', email: 'ALICE@example.com' })));
    assert.equal(refused.status, 409);
    const page = await refused.text();
    assert.equal(errorAt(page, 'email'), 'already belongs to Alice Ops (alice@example.com)');
    assert.match(page, /<input id="email" name="email"[^>]*value="ALICE@example.com" autofocus=""/);
    // The address index does not count the row being saved: Alice saving her own address with its
    // case changed is saved, not refused as someone else's.
    const alice = ((await (await h.admin('GET', '/v1/users')).json()) as { items: Array<{ id: string }> }).items[0]!;
    const saved = await post(`/users/${alice.id}`, await filled(`/users/${alice.id}`, { email: 'Alice@example.com' }));
    assert.equal(saved.status, 303, await saved.text());
  });

  it('says the first level must be 0 at the row it came from, and every problem of one level', async () => {
    // Level 1 left blank: the body's first level is the form's Level 2.
    const blank = await h.rejected(async () => post('/policies', await filled('/policies', { name: 'late', after_0: '', after_1: '60', channels_1: channelId })));
    const page = unescapeHtml(await blank.text());
    assert.equal(errorAt(page, 'after_1'), 'Level 2 — wait: must be 0: the first level pages at once');
    assert.match(page, /<a href="#after_1">Level 2 — wait: must be 0: the first level pages at once<\/a>/);
    // Level 2 with a wait below 0 and a channel that is no id: both its problems, at its field.
    const both = await h.rejected(async () => post('/policies', await filled('/policies', { name: 'both', channels_0: channelId, after_1: '-5', channels_1: 'nope' })));
    assert.equal(errorAt(await both.text(), 'after_1'), 'Level 2 — wait: must be at least 0; Level 2: must be a channel id');
  });

  it('says every bad address at Send to, and an empty one as the form asks', async () => {
    const two = await h.rejected(async () => post('/channels/new?type=email', await filled('/channels/new?type=email', { name: 'two', to: 'a, b' })));
    assert.equal(errorAt(await two.text(), 'to'), 'Addresses 1, 2: must be an email address');
    const none = await h.rejected(async () => post('/channels/new?type=email', await filled('/channels/new?type=email', { name: 'none', to: ' , ' })));
    const page = unescapeHtml(await none.text());
    assert.equal(errorAt(page, 'to'), 'add at least one address');
    assert.match(page, /<a href="#to">Send to: add at least one address<\/a>/);
    assert.doesNotMatch(page, /\(body\)|Expected unknown/);
  });

  it("says a person's channel deleted meanwhile at their channels, and a problem no field holds as text", async () => {
    const gone = ((await (await h.admin('POST', '/v1/channels', { name: 'soon gone', type: 'email', config: { to: ['gone@example.com'] } })).json()) as { id: string }).id;
    const body = await filled('/users', { name: 'Dave', email: 'dave@example.com' });
    body.append('channels', gone);
    body.append('channels', channelId);
    assert.equal((await h.admin('DELETE', `/v1/channels/${gone}`)).status, 204);
    const refused = await h.rejected(async () => post('/users', body));
    const page = unescapeHtml(await refused.text());
    assert.equal(errorAt(page, 'channels'), 'a channel picked no longer exists; pick again');
    assert.match(page, /<div class="checks-list" role="group" id="channels"/);
    assert.match(page, /<a href="#channels">Their own channels: a channel picked no longer exists; pick again<\/a>/);
    assert.equal([...page.matchAll(/autofocus/g)].length, 1, 'one field has the focus');

    // With no channel left to pick, the group is not on the page: the summary says it, unlinked.
    assert.equal((await h.admin('DELETE', `/v1/channels/${channelId}`)).status, 204);
    const alone = await h.rejected(async () => post('/users', body));
    const text = unescapeHtml(await alone.text());
    assert.doesNotMatch(text, /href="#channel/);
    assert.match(text, /Not created: some fields need another look\.\s*channel_ids\.0: a channel picked no longer exists; pick again\./);
    assert.doesNotMatch(text, /autofocus/);
  });

  it('names what a policy level picked that was deleted since the form was shown, as it was called', async () => {
    const gone = ((await (await h.admin('POST', '/v1/channels', { name: 'pager gone', type: 'email', config: { to: ['pager@example.com'] } })).json()) as { id: string }).id;
    const bob = ((await (await h.admin('POST', '/v1/users', { name: 'Bob Gone', email: 'bob@example.com' })).json()) as { id: string }).id;
    const body = await filled('/policies', { name: 'lost', channels_0: channelId, after_1: '300', channels_1: gone, users_1: bob });
    // An id nothing ever had (a form edited by hand): there is no name to give.
    body.append('users_1', randomUUID());
    h.clock.advance(1000);
    assert.equal((await h.admin('DELETE', `/v1/channels/${gone}`)).status, 204);
    assert.equal((await h.admin('DELETE', `/v1/users/${bob}`)).status, 204);
    const refused = await h.rejected(async () => post('/policies', body));
    assert.equal(refused.status, 400);
    const page = unescapeHtml(await refused.text());
    assert.equal(
      errorAt(page, 'after_1'),
      'Level 2: channel "pager gone" was deleted since this form was shown; pick again; Level 2: person "Bob Gone" was deleted since this form was shown; pick again; Level 2: a person picked no longer exists; pick again',
    );
  });

  it('names a pick deleted since the form was shown only as what its field picks', async () => {
    const carol = ((await (await h.admin('POST', '/v1/users', { name: 'Carol Gone', email: 'carol@example.com' })).json()) as { id: string }).id;
    const body = await filled('/policies', { name: 'crossed', channels_0: channelId, after_1: '300', channels_1: carol });
    h.clock.advance(1000);
    assert.equal((await h.admin('DELETE', `/v1/users/${carol}`)).status, 204);
    const refused = await h.rejected(async () => post('/policies', body));
    assert.equal(refused.status, 400);
    assert.equal(errorAt(unescapeHtml(await refused.text()), 'after_1'), 'Level 2: a channel picked no longer exists; pick again');
  });

  it('names nothing deleted before the form was shown, nor for a form that does not say when it was', async () => {
    const old = ((await (await h.admin('POST', '/v1/channels', { name: 'pager old', type: 'email', config: { to: ['old@example.com'] } })).json()) as { id: string }).id;
    assert.equal((await h.admin('DELETE', `/v1/channels/${old}`)).status, 204);
    h.clock.advance(1000);
    const body = await filled('/policies', { name: 'stale', channels_0: channelId, after_1: '300', channels_1: old });
    const unnamed = 'Level 2: a channel picked no longer exists; pick again';
    const refused = await h.rejected(async () => post('/policies', body));
    assert.equal(errorAt(unescapeHtml(await refused.text()), 'after_1'), unnamed);

    const later = ((await (await h.admin('POST', '/v1/channels', { name: 'pager later', type: 'email', config: { to: ['later@example.com'] } })).json()) as { id: string }).id;
    const undated = await filled('/policies', { name: 'undated', channels_0: channelId, after_1: '300', channels_1: later });
    assert.ok(undated.has('drawn_at'));
    undated.delete('drawn_at');
    h.clock.advance(1000);
    assert.equal((await h.admin('DELETE', `/v1/channels/${later}`)).status, 204);
    const refusedUndated = await h.rejected(async () => post('/policies', undated));
    assert.equal(errorAt(unescapeHtml(await refusedUndated.text()), 'after_1'), unnamed);
  });

  it('names nothing deleted before the poster\'s key was made, whatever time its form says', async () => {
    const old = ((await (await h.admin('POST', '/v1/channels', { name: 'pager older', type: 'email', config: { to: ['older@example.com'] } })).json()) as { id: string }).id;
    assert.equal((await h.admin('DELETE', `/v1/channels/${old}`)).status, 204);
    h.clock.advance(1000);
    const made = await h.admin('POST', '/v1/api-keys', { name: 'writer', scope: 'write' });
    assert.equal(made.status, 201);
    const writer = await consoleCookie(h, ORIGIN, ((await made.json()) as { secret: string }).secret);
    const body = sent((await get('/policies', writer)).html, '/policies');
    for (const [k, v] of Object.entries({ name: 'backdated', channels_0: channelId, after_1: '300', channels_1: old, drawn_at: '1970-01-01T00:00:00.000Z' })) body.set(k, v);
    const refused = await h.rejected(async () => post('/policies', body, writer));
    assert.equal(refused.status, 400);
    assert.equal(errorAt(unescapeHtml(await refused.text()), 'after_1'), 'Level 2: a channel picked no longer exists; pick again');
  });

  it("says a cron expression is not one without the parser's words; the API keeps its 400 shape", async () => {
    const refused = await h.rejected(async () => post('/new-node', await filled('/new-node', { name: 'sync', kind: 'job', schedule_cron: 'every minute' })));
    assert.equal(refused.status, 400);
    const page = await refused.text();
    assert.equal(errorAt(page, 'schedule_cron'), "'every minute' is not a cron expression: use five fields (or six, seconds first) like */5 * * * * or @hourly");
    assert.match(page, /<input id="schedule_cron" name="schedule_cron"[^>]*value="every minute"[^>]* autofocus=""/);
    assert.equal([...page.matchAll(/autofocus/g)].length, 1, 'one field has the focus');
    assert.match(unescapeHtml(page), /<a href="#schedule_cron">Cron expression: 'every minute' is not a cron expression/);
    const api = await h.rejected(() => h.admin('POST', '/v1/nodes', { name: 'sync', schedule: { cron: 'every minute' } }));
    assert.equal(api.status, 400);
    const body = (await api.json()) as { error: { code: string; details: Array<{ field: string; message: string }> } };
    assert.equal(body.error.code, 'validation_failed');
    assert.deepEqual(body.error.details, [{ field: 'schedule.cron', message: "'every minute' is not a cron expression: use five fields (or six, seconds first) like */5 * * * * or @hourly" }]);
  });

  it('says a cron expression refused when a node is edited at its field, and focuses it', async () => {
    assert.equal((await h.admin('POST', '/v1/nodes', { name: 'hourly', schedule: { cron: '0 * * * *' } })).status, 201);
    const cron = await h.rejected(async () => post('/nodes/hourly/edit', await filled('/nodes/hourly/edit', { schedule_cron: 'every minute' })));
    assert.equal(cron.status, 400);
    const page = await cron.text();
    assert.equal(errorAt(page, 'schedule_cron'), "'every minute' is not a cron expression: use five fields (or six, seconds first) like */5 * * * * or @hourly");
    assert.match(page, /<input id="schedule_cron" name="schedule_cron"[^>]*value="every minute"[^>]* autofocus=""/);
    assert.equal([...page.matchAll(/autofocus/g)].length, 1, 'one field has the focus');
    // A heartbeat node given a schedule's zone but no expression: the form's own problem, at the expression, focused.
    assert.equal((await h.admin('POST', '/v1/nodes', { name: 'beating' })).status, 201);
    const none = await h.rejected(async () => post('/nodes/beating/edit', await filled('/nodes/beating/edit', { schedule_cron: '', schedule_time_zone: 'Europe/Berlin' })));
    const without = await none.text();
    assert.equal(errorAt(without, 'schedule_cron'), 'Set a cron expression first: time zone, grace and longest run apply to a schedule');
    assert.match(without, /<input id="schedule_cron" name="schedule_cron"[^>]* autofocus=""/);
    assert.equal([...without.matchAll(/autofocus/g)].length, 1, 'one field has the focus');
  });

  it("words recovery for a job in runs, for a heartbeat node in heartbeats", async () => {
    const add = (await get('/new-node')).html;
    assert.match(add, /<label for="successes_for_recovery"><span class="kind-heartbeat">Ok heartbeats to recover<\/span><span class="kind-job">Good runs to recover<\/span><\/label>/);
    assert.equal((await h.admin('POST', '/v1/nodes', { name: 'nightly', schedule: { cron: '0 3 * * *' } })).status, 201);
    const edit = (await get('/nodes/nightly/edit')).html;
    assert.match(edit, /<label for="successes_for_recovery">Good runs to recover<\/label>/);
    assert.doesNotMatch(edit, /heartbeats to recover/);
  });
});
