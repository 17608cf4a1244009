import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAST_ADMIN_KEY } from '../../src/access/service.ts';
import { EMAIL_UNCONFIGURED } from '../../src/oncall/setup-warnings.ts';
import { consoleCookie, consolePages, signedIn, unescapeHtml } from '../helpers/app.ts';

// What cannot be undone is asked first, the same way on every page: a link to <thing>/delete (or
// a key's /revoke), a page naming what goes and what follows, and a form carrying the field that
// says it was asked. A POST without that field changes nothing and is sent to the question.

const ORIGIN = 'http://localhost';
const BOOTSTRAP_KEY_ID = '00000000-0000-4000-8000-000000000001';

describe('console: asking before deleting or revoking', () => {
  const { s } = signedIn(ORIGIN);
  const { get, post, sent } = consolePages(() => s.h, ORIGIN, () => s.cookie);
  const made = async (path: string, body: unknown) => (await (await s.h.admin('POST', path, body)).json()) as { id: string };
  const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? assert.fail('no CSRF token');

  /**
   * The page at `page` links to `action` and posts nothing there itself; the question names `name`
   * and says `consequence`; the bare POST deletes nothing; the question's own form does.
   */
  const askedThenDone = async (o: {
    page: string;
    action: string;
    verb: string;
    name: string;
    consequence: RegExp;
    exists: () => Promise<boolean>;
    as?: string;
    /** The link's own words and the name heard with them, where not the verb and the question's name. */
    link?: { label: string; name: string };
  }) => {
    const as = o.as ?? s.cookie;
    const page = await get(o.page, as);
    assert.equal(page.status, 200, o.page);
    const link = `${o.link?.label ?? o.verb}<span class="visually-hidden"> ${o.link?.name ?? o.name}</span>…`;
    assert.ok(unescapeHtml(page.html).includes(`href="${o.action}">${link}</a>`), `${o.page} links to the question, naming it: ${link}`);
    assert.doesNotMatch(page.html, new RegExp(`action="${o.action}"`), `${o.page} has no form that ${o.verb.toLowerCase()}s at once`);

    const question = await get(o.action, as);
    assert.equal(question.status, 200, question.html);
    const text = unescapeHtml(question.html);
    assert.ok(text.includes(`<h1>${o.verb} ${o.name}?</h1>`), `${o.action} names what goes`);
    assert.match(text, o.consequence, `${o.action} says what follows`);

    const bare = await post(o.action, new URLSearchParams({ _csrf: csrfOf(page.html) }), as);
    assert.equal(bare.status, 303, await bare.text());
    assert.equal(bare.headers.get('location'), o.action, 'sent to the question');
    assert.ok(await o.exists(), `a POST without the question's field left ${o.name} alone`);

    const done = await post(o.action, sent(question.html, o.action), as);
    assert.ok(!(await o.exists()), `${o.name} went once asked`);
    return done;
  };

  it('asks before deleting a channel, a person, a schedule and the default policy, and says what follows', async () => {
    const hook = await made('/v1/channels', { name: 'ops-hook', type: 'webhook', config: { url: 'https://hooks.example.com/x' } });
    const bob = await made('/v1/users', { name: 'Bob', email: 'bob@example.com' });
    const rota = await made('/v1/schedules', { name: 'Rota', time_zone: 'UTC', layers: [{ name: 'a', user_ids: [bob.id], starts_at: '2026-11-01T00:00:00.000Z', rotation: 'P1W' }] });
    const policy = await made('/v1/escalation-policies', { name: 'nights', is_default: true, levels: [{ after_seconds: 0, channel_ids: [hook.id] }] });
    const row = (table: string, id: string) => async () => (await s.h.sql`select 1 from ${s.h.sql(table)} where id = ${id}`).length === 1;

    const policyGone = await askedThenDone({
      page: `/policies/${policy.id}`,
      action: `/policies/${policy.id}/delete`,
      verb: 'Delete',
      name: 'nights',
      consequence: /It is the default\.<\/b> Nodes without a policy of their own are left with none: their incidents open but page nobody until another\s+policy is made the default/,
      exists: row('escalation_policies', policy.id),
    });
    assert.equal(policyGone.headers.get('location'), '/policies?deleted');
    const scheduleGone = await askedThenDone({
      page: `/schedules/${rota.id}`,
      action: `/schedules/${rota.id}/delete`,
      verb: 'Delete',
      name: 'Rota',
      consequence: /Its layers and overrides go with it; the people on it stay\./,
      exists: row('schedules', rota.id),
    });
    assert.equal(scheduleGone.headers.get('location'), '/schedules?deleted');
    const personGone = await askedThenDone({
      page: `/users/${bob.id}`,
      action: `/users/${bob.id}/delete`,
      verb: 'Delete',
      name: 'Bob',
      consequence: /They are paged no more, at bob@example\.com or through their own channels/,
      exists: row('users', bob.id),
    });
    assert.equal(personGone.headers.get('location'), '/users?deleted');
    const channelGone = await askedThenDone({
      page: `/channels/${hook.id}`,
      action: `/channels/${hook.id}/delete`,
      verb: 'Delete',
      name: 'ops-hook',
      consequence: /Nothing is sent to <span class="mono">https:\/\/hooks\.example\.com\/…<\/span> through it any more/,
      exists: row('channels', hook.id),
    });
    assert.equal(channelGone.headers.get('location'), '/channels?deleted');
  });

  it('says only "Deleted." after deleting a node, never words the address carries', async () => {
    const node = await s.h.createNode('old-cache');
    const gone = await askedThenDone({
      page: '/nodes/old-cache',
      action: '/nodes/old-cache/delete',
      verb: 'Delete',
      name: 'old-cache',
      consequence: /Its health, transitions, uptime and token go with it/,
      exists: async () => (await s.h.sql`select 1 from nodes where id = ${node.id}`).length === 1,
    });
    assert.equal(gone.headers.get('location'), '/?deleted');
    assert.match((await get('/?deleted')).html, /<p>Deleted\.<\/p>/);
    // A link anyone can send: what it says was deleted is not shown as the console's own word.
    const spoof = await get(`/?deleted=${encodeURIComponent('Security notice: sign in again at https://evil.example')}`);
    assert.match(spoof.html, /<p>Deleted\.<\/p>/);
    assert.doesNotMatch(spoof.html, /evil\.example|Security notice/);
  });

  it('refuses deleting what is still in use on a page with the navigation, linking what holds it by name', async () => {
    const hook = await made('/v1/channels', { name: 'ops webhook', type: 'webhook', config: { url: 'https://hooks.example.com/y' } });
    const bob = await made('/v1/users', { name: 'Bob Ops', email: 'bob.ops@example.com', channel_ids: [hook.id] });
    const rota = await made('/v1/schedules', { name: 'Nights', time_zone: 'UTC', layers: [{ name: 'a', user_ids: [bob.id], starts_at: '2026-11-01T00:00:00.000Z', rotation: 'P1W' }] });
    // A name with markup in it: the refusal must show it as text.
    const policy = await made('/v1/escalation-policies', { name: 'primary <script>"', levels: [{ after_seconds: 0, channel_ids: [hook.id], user_ids: [bob.id], schedule_ids: [rota.id] }] });
    const refused = async (path: string) => {
      const question = await get(`${path}/delete`);
      const res = await post(`${path}/delete`, sent(question.html, `${path}/delete`));
      const raw = await res.text();
      const html = unescapeHtml(raw);
      assert.equal(res.status, 409, html);
      const rawWhy = /<div class="signin"><h1>[^<]*<\/h1><p>(.*?)<\/p>/s.exec(raw)?.[1] ?? assert.fail(raw);
      assert.ok(rawWhy.includes('primary &lt;script&gt;&quot;') && !rawWhy.includes('<script'), `${path}: a holder's name is escaped: ${rawWhy}`);
      assert.match(html, /<nav aria-label="Console">/, `${path}: the refusal keeps the navigation`);
      const why = /<div class="signin"><h1>[^<]*<\/h1><p>(.*?)<\/p>/s.exec(html)?.[1] ?? assert.fail(html);
      for (const id of [hook.id, bob.id, rota.id, policy.id]) assert.ok(!why.replace(/href="[^"]*"/g, '').includes(id), `${path}: no id in the words: ${why}`);
      return { why, html };
    };
    const policyLink = `<a href="/policies/${policy.id}">primary <script>"</a>`;

    const channel = await refused(`/channels/${hook.id}`);
    assert.equal(channel.why, `ops webhook is still paged by escalation policy ${policyLink} and person <a href="/users/${bob.id}">Bob Ops</a> — remove it there first.`);
    assert.ok(channel.html.includes(`<a href="/channels/${hook.id}">Back to ops webhook</a>`));
    const person = await refused(`/users/${bob.id}`);
    // In a rotation is not on call now: each holder says what it does with them.
    assert.equal(person.why, `Bob Ops is named on escalation policy ${policyLink} and is in the rotation of schedule <a href="/schedules/${rota.id}">Nights</a> — take them out there first.`);
    const schedule = await refused(`/schedules/${rota.id}`);
    assert.equal(schedule.why, `Nights is still used by escalation policy ${policyLink} — remove it there first.`);

    // The API's refusal keeps its shape and words, ids included.
    const api = await s.h.admin('DELETE', `/v1/channels/${hook.id}`);
    assert.equal(api.status, 409);
    assert.deepEqual(await api.json(), {
      error: { code: 'conflict', message: `The channel is used by escalation policy "primary <script>"" (${policy.id}) and user "Bob Ops" (${bob.id}); remove it from them first.` },
    });
  });

  it("asks before removing an override and before replacing a node's token or a job's ping URL", async () => {
    const ann = await made('/v1/users', { name: 'Ann', email: 'ann@example.com' });
    const rota = await made('/v1/schedules', { name: 'Cover', time_zone: 'UTC', layers: [{ name: 'a', user_ids: [ann.id], starts_at: '2026-11-01T00:00:00.000Z', rotation: 'P1W' }] });
    const now = s.h.clock.now().getTime();
    const cover = await made(`/v1/schedules/${rota.id}/overrides`, { user_id: ann.id, starts_at: new Date(now + 3_600_000).toISOString(), ends_at: new Date(now + 7_200_000).toISOString() });
    const removed = await askedThenDone({
      page: `/schedules/${rota.id}`,
      action: `/schedules/${rota.id}/overrides/${cover.id}/delete`,
      verb: 'Remove',
      name: 'the override for Ann',
      consequence: /Removed, those hours go back to whoever the layers have, and they are the ones paged\./,
      exists: async () => (await s.h.sql`select 1 from schedule_overrides where id = ${cover.id}`).length === 1,
    });
    assert.equal(removed.headers.get('location'), `/schedules/${rota.id}?done=removed`);

    const job = await s.h.createNode('nightly-dump', { schedule: { cron: '0 3 * * *' } });
    const stored = async (column: 'token_hash' | 'ping_key') => (await s.h.sql<{ v: string }[]>`select ${s.h.sql(column)}::text as v from nodes where id = ${job.id}`)[0]!.v;
    const [hash, key] = [await stored('token_hash'), await stored('ping_key')];
    const rotated = await askedThenDone({
      page: `/nodes/${job.id}`,
      action: `/nodes/${job.id}/token`,
      verb: 'Replace',
      name: 'the token of nightly-dump',
      consequence: /The old token stops working at once/,
      exists: async () => (await stored('token_hash')) === hash,
      link: { label: 'Rotate token', name: 'nightly-dump' },
    });
    assert.equal(rotated.status, 200);
    const question = (await get(`/nodes/${job.id}/ping-key`)).html;
    const pinged = await askedThenDone({
      page: `/nodes/${job.id}`,
      action: `/nodes/${job.id}/ping-key`,
      verb: 'Replace',
      name: 'the ping URL of nightly-dump',
      consequence: /The old URL stops working at once: a crontab still pinging it is answered 404/,
      exists: async () => (await stored('ping_key')) === key,
      link: { label: 'New ping URL', name: 'nightly-dump' },
    });
    assert.equal(pinged.headers.get('location'), '/nodes/nightly-dump?done=ping-key');
    // Its form is good once: sent again (a reload), the URL just put in the crontab stays.
    const once = sent(question, `/nodes/${job.id}/ping-key`);
    assert.equal((await post(`/nodes/${job.id}/ping-key`, once)).status, 303);
    const kept = await stored('ping_key');
    const again = await post(`/nodes/${job.id}/ping-key`, once);
    assert.equal(again.headers.get('location'), `/nodes/${job.id}?done=already`);
    assert.equal(await stored('ping_key'), kept, 'a form sent again rotates nothing');
  });

  it('asks before ending a maintenance window now and before cancelling one still to come', async () => {
    await s.h.createNode('maint-a');
    const now = s.h.clock.now().getTime();
    const at = (hours: number) => new Date(now + hours * 3_600_000).toISOString();
    const open = await made('/v1/maintenances', { node_ids: ['maint-a'], starts_at: at(0), ends_at: at(2), reason: 'disk swap' });
    const coming = await made('/v1/maintenances', { labels: { role: 'db' }, starts_at: at(3), ends_at: at(4) });
    const endOf = async (id: string) => (await s.h.sql<{ v: string | null }[]>`select ends_at::text as v from maintenances where id = ${id}`)[0]!.v;
    const [openEnd, comingEnd] = [await endOf(open.id), await endOf(coming.id)];
    const ended = await askedThenDone({
      page: '/maintenance',
      action: `/maintenance/${open.id}/end`,
      verb: 'End',
      name: 'the window over maint-a',
      consequence: /Its nodes are judged afresh from now: one still silent goes down after a full period \(a job: after its next run\) and pages\./,
      exists: async () => (await endOf(open.id)) === openEnd,
      link: { label: 'End now', name: 'the window over maint-a' },
    });
    assert.equal(ended.headers.get('location'), '/maintenance?done=ended');
    const cancelled = await askedThenDone({
      page: '/maintenance',
      action: `/maintenance/${coming.id}/end`,
      verb: 'Cancel',
      name: 'the window over role=db',
      consequence: /It will not start: its nodes are judged as usual through those hours\./,
      exists: async () => (await endOf(coming.id)) === comingEnd,
    });
    assert.equal(cancelled.headers.get('location'), '/maintenance?done=cancelled');
  });

  it('neither offers nor asks to end a window already over, ended or cancelled, and a question answered late changes nothing', async () => {
    const node = await s.h.createNode('maint-b');
    const now = s.h.clock.now().getTime();
    const at = (hours: number) => new Date(now + hours * 3_600_000).toISOString();
    const open = await made('/v1/maintenances', { node_ids: ['maint-b'], starts_at: at(0), ends_at: at(2) });
    const coming = await made('/v1/maintenances', { node_ids: ['maint-b'], starts_at: at(3), ends_at: at(4) });
    // The question was drawn while the window was open; someone else ended it before it was answered.
    const question = await get(`/maintenance/${open.id}/end`);
    assert.equal(question.status, 200);
    for (const w of [open, coming]) assert.equal((await s.h.admin('DELETE', `/v1/maintenances/${w.id}`)).status, 200);
    const ends = async () => (await s.h.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'maintenance.end' and target_id in (${open.id}, ${coming.id})`)[0]!.n;
    const wake = async () => (await s.h.sql<{ wake: string }[]>`select wake::text from node_due where node_id = ${node.id}`)[0]!.wake;
    const [endsBefore, wakeBefore] = [await ends(), await wake()];
    assert.equal(endsBefore, 2);

    const list = (await get('/maintenance')).html;
    for (const w of [open, coming]) {
      assert.ok(!list.includes(`href="/maintenance/${w.id}/end"`), `no End now or Cancel for ${w === open ? 'the ended' : 'the cancelled'} window`);
      const asked = await s.h.app.request(`/maintenance/${w.id}/end`, { headers: { cookie: s.cookie } });
      assert.equal(asked.status, 303, await asked.text());
      assert.equal(asked.headers.get('location'), '/maintenance?done=over');
    }
    const late = await post(`/maintenance/${open.id}/end`, sent(question.html, `/maintenance/${open.id}/end`));
    assert.equal(late.status, 303, await late.text());
    assert.equal(late.headers.get('location'), '/maintenance?done=over');
    assert.match((await get('/maintenance?done=over')).html, /That window is already over: nothing was changed\./);
    assert.equal((await s.h.admin('DELETE', `/v1/maintenances/${coming.id}`)).status, 200, 'the API answers with it as it is');
    assert.equal(await ends(), endsBefore, 'not audited again');
    assert.equal(await wake(), wakeBefore, 'its nodes not woken again');
  });

  it('names the default a deleted policy leaves its nodes to', async () => {
    const hook = await made('/v1/channels', { name: 'fallback-hook', type: 'webhook', config: { url: 'https://hooks.example.com/f' } });
    await made('/v1/escalation-policies', { name: 'everyone', is_default: true, levels: [{ after_seconds: 0, channel_ids: [hook.id] }] });
    const own = await made('/v1/escalation-policies', { name: 'db-team', levels: [{ after_seconds: 0, channel_ids: [hook.id] }] });
    const question = unescapeHtml((await get(`/policies/${own.id}/delete`)).html);
    assert.match(question, /Nodes that name it fall back to the default policy, everyone\./);
    assert.doesNotMatch(question, /It is the default/);
    // Each policy's own page says beside its Delete what its question says, the default's too.
    const deleteSection = async (id: string) => /<h2>Delete<\/h2>([^]*?)<\/div>/.exec(unescapeHtml((await get(`/policies/${id}`)).html))?.[1] ?? assert.fail('no Delete');
    assert.match(await deleteSection(own.id), /Nodes that name it fall back to the default policy, everyone\./);
    const fallback = (await s.h.sql<{ id: string }[]>`select id from escalation_policies where is_default`)[0]!.id;
    const own2 = await deleteSection(fallback);
    assert.match(own2, /It is the default\.<\/b> Nodes without a policy of their own are left with none/);
    assert.doesNotMatch(own2, /fall back/);
    // The default is found however many policies sort before it: the first 500 by name were read,
    // and 500 named "aaa-…" hid "everyone" (both said there was no default).
    await s.h.sql`
      insert into escalation_policies (name, levels, created_at, updated_at)
      select 'aaa-' || lpad(g::text, 3, '0'), ${s.h.sql.json([{ after_seconds: 0, channel_ids: [hook.id], user_ids: [], schedule_ids: [] }])}, now(), now()
      from generate_series(1, 500) g`;
    try {
      assert.match(unescapeHtml((await get(`/policies/${own.id}/delete`)).html), /Nodes that name it fall back to the default policy, everyone\./);
      assert.match(await deleteSection(own.id), /Nodes that name it fall back to the default policy, everyone\./);
    } finally {
      await s.h.sql`delete from escalation_policies where name like 'aaa-%'`;
    }
  });

  it('asks before revoking a key; revoking your own signs you out and says why', async () => {
    const laptop = await s.h.createKey('admin', 'laptop');
    const cookie = await consoleCookie(s.h, ORIGIN, laptop.secret);
    const working = async () => (await s.h.sql`select 1 from api_keys where id = ${laptop.id} and revoked_at is null`).length === 1;
    const revoked = await askedThenDone({
      page: '/keys',
      action: `/keys/${laptop.id}/revoke`,
      verb: 'Revoke',
      name: 'laptop',
      consequence: /This is the key you signed in with:<\/b> revoking it signs you out at once/,
      exists: working,
      as: cookie,
    });
    assert.equal(revoked.headers.get('location'), '/sign-in?signed_out=revoked');
    const signIn = await (await s.h.app.request('/sign-in?signed_out=revoked')).text();
    assert.match(signIn, /<p>Your key was revoked, so you are signed out\.<\/p>/);
    assert.doesNotMatch(await (await s.h.app.request('/sign-in?signed_out')).text(), /Your key was revoked/, 'a plain sign-out says only that');
  });

  it('will not revoke the last admin key, and says so before asking', async () => {
    // The bootstrap key, signed in here, is now the only admin key that works.
    const question = await get(`/keys/${BOOTSTRAP_KEY_ID}/revoke`);
    assert.equal(question.status, 409);
    assert.ok(unescapeHtml(question.html).includes(LAST_ADMIN_KEY));
    assert.doesNotMatch(question.html, /Revoke bootstrap-admin\?/);
    const keys = await get('/keys');
    const res = await post(`/keys/${BOOTSTRAP_KEY_ID}/revoke`, new URLSearchParams({ _csrf: csrfOf(keys.html), confirmed: 'yes' }));
    assert.equal(res.status, 409);
    assert.ok(unescapeHtml(await res.text()).includes(LAST_ADMIN_KEY));
    assert.equal((await s.h.sql`select 1 from api_keys where id = ${BOOTSTRAP_KEY_ID} and revoked_at is null`).length, 1, 'still working');
  });

  it('warns, as the API does, that an email channel sends nothing without SMTP_URL: on its create and in the list', async () => {
    const form = sent((await get('/channels/new?type=email')).html, '/channels/new?type=email');
    form.set('name', 'ops-mail');
    form.set('to', 'ops@example.com');
    const res = await post('/channels/new?type=email', form);
    assert.equal(res.status, 303, await res.text());
    const created = unescapeHtml((await get(res.headers.get('location')!)).html);
    assert.match(created, /Created\./);
    assert.ok(created.includes(`<p>${EMAIL_UNCONFIGURED}.</p>`), 'the create answer warns');
    const api = (await (await s.h.admin('POST', '/v1/channels', { name: 'ops-mail-2', type: 'email', config: { to: ['ops@example.com'] } })).json()) as { warnings?: string[] };
    assert.deepEqual(api.warnings, [EMAIL_UNCONFIGURED], 'the same words as the API');
    await made('/v1/channels', { name: 'other-hook', type: 'webhook', config: { url: 'https://hooks.example.com/o' } });
    const list = unescapeHtml((await get('/channels')).html);
    const rows = [...list.matchAll(/<tr>.*?<\/tr>/gs)].map((m) => m[0]);
    const warned = (name: string) => rows.find((r) => r.includes(`>${name}</a>`))?.includes(`<span class="sub error">${EMAIL_UNCONFIGURED}</span>`);
    assert.deepEqual([warned('ops-mail'), warned('ops-mail-2'), warned('other-hook')], [true, true, false]);
  });
});
