import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pruning } from '../../src/console/once.tsx';
import { fingerprintOf } from '../../src/idempotency/model.ts';
import { openIncidents } from '../../src/incidents/store.ts';
import { consoleCookie, createHarness, formOf, type Harness } from '../helpers/app.ts';

// A create form makes one thing however often it is sent: a reload that re-sends the POST, a
// double click or a form brought back with Back lands on what the first one made, and a secret
// shown by the first answer is not shown again.

const ORIGIN = 'http://localhost';

describe('console: a create form creates once', () => {
  let h: Harness;
  let cookie: string;

  before(async () => {
    h = await createHarness();
    await h.createNode('web-1');
    cookie = await consoleCookie(h, ORIGIN);
  });
  after(async () => {
    await h.close();
  });

  const get = async (path: string) => (await h.app.request(path, { headers: { cookie } })).text();
  const post = (path: string, body: URLSearchParams) =>
    h.app.request(path, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
  /** The form at `action` on `page`, with these fields filled in. */
  const filled = async (page: string, action: string, fields: Record<string, string>) => {
    const body = formOf(await get(page), action);
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    return body;
  };
  const count = async (table: string) => Number((await h.sql`select count(*) from ${h.sql(table)}`)[0]!.count);

  it('keeps one of each, and sends the form sent again to what it made, saying so', async () => {
    const user = (await (await h.admin('POST', '/v1/users', { name: 'Ann', email: 'ann@example.com' })).json()) as { id: string };
    const schedule = (await (await h.admin('POST', '/v1/schedules', {
      name: 'Rota',
      time_zone: 'UTC',
      layers: [{ name: 'Days', user_ids: [user.id], starts_at: '2026-11-21T00:00:00Z', rotation: 'P1W' }],
    })).json()) as { id: string };
    const forms: Array<{ page: string; action: string; table: string; fields: Record<string, string>; at: RegExp }> = [
      { page: '/channels/new?type=email', action: '/channels/new?type=email', table: 'channels', fields: { name: 'ops mail', to: 'ops@example.com' }, at: /^\/channels\/[0-9a-f-]{36}$/ },
      { page: '/policies', action: '/policies', table: 'escalation_policies', fields: { name: 'Day', after_0: '0', users_0: user.id }, at: /^\/policies\/[0-9a-f-]{36}$/ },
      { page: '/users', action: '/users', table: 'users', fields: { name: 'Bo', email: 'bo@example.com', time_zone: 'UTC' }, at: /^\/users\/[0-9a-f-]{36}$/ },
      { page: '/status-pages/new', action: '/status-pages/new', table: 'status_pages', fields: { slug: 'acme', title: 'Acme', components: 'Web: web-1' }, at: /^\/status-pages\/[0-9a-f-]{36}$/ },
      { page: '/maintenance', action: '/maintenance', table: 'maintenances', fields: { nodes: 'web-1', starts_at: '2026-11-21T11:00', ends_at: '2026-11-21T12:00' }, at: /^\/maintenance$/ },
      { page: '/schedules/new', action: '/schedules/new', table: 'schedules', fields: { name: 'Nights', time_zone: 'UTC', l0_users: user.id }, at: /^\/schedules\/[0-9a-f-]{36}$/ },
      {
        page: `/schedules/${schedule.id}`,
        action: `/schedules/${schedule.id}/overrides`,
        table: 'schedule_overrides',
        fields: { user_id: user.id, starts_at: '2026-11-21T11:00', ends_at: '2026-11-21T12:00' },
        at: new RegExp(`^/schedules/${schedule.id}$`),
      },
    ];
    for (const f of forms) {
      const before = await count(f.table);
      const body = await filled(f.page, f.action, f.fields);
      const first = await post(f.action, body);
      assert.equal(first.status, 303, `${f.action}: ${(await first.clone().text()).replace(/[^]*<main/, '').slice(0, 600)}`);
      const made = new URL(first.headers.get('location')!, ORIGIN);
      assert.match(made.pathname, f.at, f.action);
      for (let again = 0; again < 2; again++) {
        const resent = await post(f.action, body);
        assert.equal(resent.status, 303, f.action);
        const to = new URL(resent.headers.get('location')!, ORIGIN);
        assert.equal(to.pathname, made.pathname, f.action);
        assert.equal(to.search, '?done=already', f.action);
        assert.match(await get(to.pathname + to.search), /That form was already sent, and this is what it created; nothing new was made\./, f.action);
      }
      assert.equal(await count(f.table), before + 1, `${f.action} made one`);
    }
  });

  it('adds a note once however often its form is sent, each sending landing at the timeline', async () => {
    const nodeId = (await h.sql<{ id: string }[]>`select id from nodes where name = 'web-1'`)[0]!.id;
    const [incident] = await openIncidents(h.sql, [
      { nodeId, nodeName: 'web-1', category: 'node_down', severity: 'critical', title: 'web-1 is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const action = `/incidents/${incident!.id}/notes`;
    const body = await filled(`/incidents/${incident!.id}`, action, { note: 'restarting db-3' });
    // A form without script sent twice, or one given back after 10 s without an answer and sent again.
    for (let sent = 0; sent < 3; sent++) {
      const res = await post(action, body);
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), `/incidents/${incident!.id}?done=noted#timeline`);
    }
    const notes = await h.sql`select detail->>'note' as note from incident_timeline where incident_id = ${incident!.id} and kind = 'note'`;
    assert.deepEqual(notes.map((n) => n.note), ['restarting db-3']);
    // The page drawn after it carries a new token, for the next note.
    const next = await filled(`/incidents/${incident!.id}`, action, { note: 'vendor ticket #123' });
    assert.notEqual(next.get('_once'), body.get('_once'));
    assert.equal((await post(action, next)).status, 303);
    assert.equal((await h.sql`select count(*)::int as n from incident_timeline where incident_id = ${incident!.id} and kind = 'note'`)[0]!.n, 2);
  });

  it('shows a new key\'s secret once: the form sent again lists the key without it', async () => {
    const body = await filled('/keys', '/keys', { name: 'deploy bot', scope: 'write' });
    const first = await post('/keys', body);
    assert.equal(first.status, 200);
    const secret = /<p class="secret" id="secret">([^<]+)<\/p>/.exec(await first.text())?.[1] ?? assert.fail('no secret shown');
    const resent = await post('/keys', body);
    assert.equal(resent.status, 303);
    assert.equal(resent.headers.get('location'), '/keys?done=already');
    const listed = await get('/keys?done=already');
    assert.match(listed, /That form was already sent, and nothing new was made: the secret of the key it created \(listed here\) is not shown again\. If it was lost, create another key and revoke this one\./);
    assert.doesNotMatch(listed, new RegExp(secret));
    assert.equal((await h.sql`select count(*) from api_keys where name = 'deploy bot'`)[0]!.count, '1');
  });

  it("shows a generated webhook secret once: the form sent again goes to the channel's page without it", async () => {
    const body = await filled('/channels/new?type=webhook', '/channels/new?type=webhook', { name: 'hook', url: 'https://hooks.example.com/once' });
    const first = await post('/channels/new?type=webhook', body);
    assert.equal(first.status, 200);
    const secret = /<p class="secret">(whsec_[^<]+)<\/p>/.exec(await first.text())?.[1] ?? assert.fail('no secret shown');
    const resent = await post('/channels/new?type=webhook', body);
    assert.equal(resent.status, 303);
    const to = resent.headers.get('location')!;
    assert.match(to, /^\/channels\/[0-9a-f-]{36}\?done=already$/);
    const page = await get(to);
    assert.ok(!page.includes(secret), "the secret is not shown again");
    assert.match(page, /nothing new was made: its signing secret, if one was generated, is not shown again\. If it was lost, set a new one with Edit\./);
    assert.equal((await h.sql`select count(*) from channels where name = 'hook'`)[0]!.count, '1');
  });

  it('keeps its token once the thing is made, even when keeping its address fails', async () => {
    const body = await filled('/keys', '/keys', { name: 'kept badly', scope: 'read' });
    // Keeping the address updates the claim's row (a fresh claim is an insert): refused, the key is
    // made and its answer is not kept.
    await h.sql.unsafe(`create function refuse_update() returns trigger language plpgsql as $$ begin raise exception 'updates refused'; end $$;
      create trigger refuse_update before update on idempotency_keys for each row execute function refuse_update()`);
    let first: Response;
    try {
      first = await post('/keys', body);
    } finally {
      await h.sql.unsafe('drop trigger refuse_update on idempotency_keys; drop function refuse_update()');
    }
    assert.equal(first.status, 500);
    const resent = await post('/keys', body);
    assert.equal(resent.status, 409, 'taken, not given back: the form sent again makes nothing');
    assert.equal((await h.sql`select count(*) from api_keys where name = 'kept badly'`)[0]!.count, '1');
  });

  it('never takes over a sending that did not finish: its create may have committed', async () => {
    const body = await filled('/users', '/users', { name: 'Di', email: 'di@example.com', time_zone: 'UTC' });
    const [session] = await h.sql<{ key_id: string }[]>`select key_id from console_sessions limit 1`;
    // What a process that died between the create and keeping its address leaves: a claim with no answer.
    await h.sql`insert into idempotency_keys (credential, key, fingerprint, created_at)
      values (${`key:${session!.key_id}`}, ${`console-form:${body.get('_once')}`}, ${fingerprintOf('POST', '/users', '')}, ${new Date(h.clock.now().getTime() - 10 * 60_000)})`;
    const resent = await post('/users', body);
    assert.equal(resent.status, 409);
    assert.match(await resent.text(), /that sending has not finished; nothing more was created/);
    assert.equal((await h.sql`select count(*) from users where name = 'Di'`)[0]!.count, '0');
  });

  it('answers a double click with one key: the second waits for the first and goes to what it made', async () => {
    const body = await filled('/keys', '/keys', { name: 'clicked twice', scope: 'read' });
    const answers = await Promise.all([post('/keys', body), post('/keys', body)]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 303]);
    assert.equal(answers.find((a) => a.status === 303)!.headers.get('location'), '/keys?done=already');
    assert.equal((await h.sql`select count(*) from api_keys where name = 'clicked twice'`)[0]!.count, '1');
  });

  it('sends a create form once from the browser too: pages load the script that ignores a second submit', async () => {
    const page = await get('/keys');
    const src = /<script src="(\/console\/send-once-[0-9a-f]{12}\.js)" defer=""><\/script>/.exec(page)?.[1] ?? assert.fail('no send-once script');
    const script = await h.app.request(src);
    assert.equal(script.status, 200);
    assert.match(await script.text(), /input\[name="_once"\][^]*preventDefault/);
  });

  it('forgets tokens past their 24 h as forms are sent', async () => {
    const [session] = await h.sql<{ key_id: string }[]>`select key_id from console_sessions limit 1`;
    await h.sql`insert into idempotency_keys (credential, key, fingerprint, created_at, answer)
      values (${`key:${session!.key_id}`}, 'console-form:old', 'x', ${new Date(h.clock.now().getTime() - 25 * 3_600_000)}, 'sealed')`;
    h.clock.advance(2 * 60_000);
    assert.equal((await post('/users', await filled('/users', '/users', { name: 'Ed', email: 'ed@example.com', time_zone: 'UTC' }))).status, 303);
    await pruning;
    assert.equal((await h.sql`select count(*) from idempotency_keys where key = 'console-form:old'`)[0]!.count, '0');
  });

  it("rotates a node's token once per form: the form sent again keeps the token just shown", async () => {
    const node = await h.createNode('agent-1');
    // The form posts to the node's id, so a rename between the page and the post cannot lose it.
    const body = await filled('/nodes/agent-1/token', `/nodes/${node.id}/token`, {});
    const first = await post(`/nodes/${node.id}/token`, body);
    assert.equal(first.status, 200);
    assert.match(await first.text(), /<p class="secret" id="token">/);
    const [rotated] = await h.sql<{ token_hash: string }[]>`select token_hash from nodes where id = ${node.id}`;
    const resent = await post(`/nodes/${node.id}/token`, body);
    assert.equal(resent.status, 303);
    assert.equal(resent.headers.get('location'), `/nodes/${node.id}?done=already`);
    assert.match(await get(`/nodes/${node.id}?done=already`), /That form was already sent, and nothing new was made: the token it showed is not shown again\. If it was lost, rotate the token\./);
    assert.equal((await h.sql<{ token_hash: string }[]>`select token_hash from nodes where id = ${node.id}`)[0]!.token_hash, rotated!.token_hash);
  });

  /** Runs `send` with every delete from idempotency_keys failing, as with Postgres lost at that moment. */
  const deletesFailing = async (send: () => Promise<void>) => {
    await h.sql.unsafe(`create function refuse_delete() returns trigger language plpgsql as $$ begin raise exception 'deletes refused'; end $$;
      create trigger refuse_delete before delete on idempotency_keys for each statement execute function refuse_delete()`);
    try {
      await send();
    } finally {
      await h.sql.unsafe('drop trigger refuse_delete on idempotency_keys; drop function refuse_delete()');
    }
  };

  it('creates though pruning expired tokens fails, and answers a refusal though its token cannot be given back', async () => {
    await deletesFailing(async () => {
      h.clock.advance(2 * 60_000);
      const created = await post('/users', await filled('/users', '/users', { name: 'Fay', email: 'fay@example.com', time_zone: 'UTC' }));
      assert.equal(created.status, 303, 'the prune failed beside the create, not in it');
      await pruning;
      const refused = await post('/users', await filled('/users', '/users', { name: 'Gus', email: 'not an address', time_zone: 'UTC' }));
      assert.equal(refused.status, 400, 'the refusal, not the failed release');
    });
    assert.equal((await h.sql`select count(*) from users where name in ('Fay', 'Gus')`)[0]!.count, '1');
  });

  /** Runs `send` with the table `incidents` renamed in the command's own transaction: every read of it after the commit fails. */
  const incidentsGoneOnCommit = async (table: string, send: () => Promise<Response> | Response) => {
    await h.sql.unsafe(`create function incidents_away() returns trigger language plpgsql as $$ begin alter table incidents rename to incidents_away; return null; end $$;
      create trigger incidents_away after insert or update on ${table} for each statement execute function incidents_away()`);
    try {
      return await send();
    } finally {
      await h.sql.unsafe(`drop trigger incidents_away on ${table}; drop function incidents_away(); alter table if exists incidents_away rename to incidents`);
    }
  };

  it('shows a secret made once though the database fails after the commit: what the answer reads is read before', async () => {
    const agent = await h.createNode('agent-2');
    const rotation = await filled(`/nodes/${agent.id}/token`, `/nodes/${agent.id}/token`, {});
    const rotated = await incidentsGoneOnCommit('nodes', () => post(`/nodes/${agent.id}/token`, rotation));
    assert.equal(rotated.status, 200);
    assert.match(await rotated.text(), /<p class="secret" id="token">lln_/);
    const keyForm = await filled('/keys', '/keys', { name: 'after commit', scope: 'read' });
    const key = await incidentsGoneOnCommit('api_keys', () => post('/keys', keyForm));
    assert.equal(key.status, 200);
    const keyPage = await key.text();
    assert.match(keyPage, /<p class="secret" id="secret">/);
    assert.match(keyPage, /<td data-label="Key">after commit/, 'the new key is listed with the keys read before');
    const hookForm = await filled('/channels/new?type=webhook', '/channels/new?type=webhook', { name: 'hook after commit', url: 'https://hooks.example.com/after' });
    const hook = await incidentsGoneOnCommit('channels', () => post('/channels/new?type=webhook', hookForm));
    assert.equal(hook.status, 200);
    assert.match(await hook.text(), /<p class="secret">whsec_/);
  });

  it('lets a refused form be corrected and sent again, and refuses one from a page without its token', async () => {
    const body = await filled('/users', '/users', { name: 'Cy', email: 'not an address', time_zone: 'UTC' });
    assert.equal((await post('/users', body)).status, 400);
    body.set('email', 'cy@example.com');
    assert.equal((await post('/users', body)).status, 303);
    body.delete('_once');
    body.set('email', 'cy2@example.com');
    const stale = await post('/users', body);
    assert.equal(stale.status, 400);
    assert.match(await stale.text(), /This page has expired/);
    assert.equal((await h.sql`select count(*) from users where name = 'Cy'`)[0]!.count, '1');
  });
});
