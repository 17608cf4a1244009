import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { consoleCookie, consolePages, createHarness, unescapeHtml, type Harness } from '../helpers/app.ts';

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

  it('says which address of an email channel is not one, at the Send to field', async () => {
    const refused = await h.rejected(async () => post('/channels/new?type=email', await filled('/channels/new?type=email', { name: 'throwaway', to: 'x@example.com, not-an-email' })));
    assert.equal(refused.status, 400);
    const page = await refused.text();
    assert.equal(errorAt(page, 'to'), 'Address 2: must be an email address');
    assert.match(page, /<input id="to" name="to"[^>]*value="x@example.com, not-an-email"[^>]* autofocus=""/);
  });

  it('says at the Email field who already has an address, whatever its case', async () => {
    const refused = await h.rejected(async () => post('/users', await filled('/users', { name: 'Carol', email: 'ALICE@example.com' })));
    assert.equal(refused.status, 409);
    const page = await refused.text();
    assert.equal(errorAt(page, 'email'), 'already belongs to Alice Ops (alice@example.com)');
    assert.match(page, /<input id="email" name="email"[^>]*value="ALICE@example.com" autofocus=""/);
    // Saving a person with their own address, its case changed, is no conflict with anyone.
    const alice = ((await (await h.admin('GET', '/v1/users')).json()) as { items: Array<{ id: string }> }).items[0]!;
    const saved = await post(`/users/${alice.id}`, await filled(`/users/${alice.id}`, { email: 'Alice@example.com' }));
    assert.equal(saved.status, 303, await saved.text());
  });

  it("says a cron expression is not one without the parser's words; the API keeps its 400 shape", async () => {
    const refused = await h.rejected(async () => post('/new-node', await filled('/new-node', { name: 'sync', kind: 'job', schedule_cron: 'every minute' })));
    assert.equal(refused.status, 400);
    assert.equal(errorAt(await refused.text(), 'schedule_cron'), "'every minute' is not a cron expression: use five fields like */5 * * * * or @hourly");
    const api = await h.rejected(() => h.admin('POST', '/v1/nodes', { name: 'sync', schedule: { cron: 'every minute' } }));
    assert.equal(api.status, 400);
    const body = (await api.json()) as { error: { code: string; details: Array<{ field: string; message: string }> } };
    assert.equal(body.error.code, 'validation_failed');
    assert.deepEqual(body.error.details, [{ field: 'schedule.cron', message: "'every minute' is not a cron expression: use five fields like */5 * * * * or @hourly" }]);
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
