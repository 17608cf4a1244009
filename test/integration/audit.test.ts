import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEntry, List } from '../../src/api/shapes.ts';
import { actionLinkKey, signActionLink } from '../../src/incidents/action-links.ts';
import { openIncidents } from '../../src/incidents/store.ts';
import { ADMIN_TOKEN, consoleCookie, createHarness, expectError, expectJson, type Harness } from '../helpers/app.ts';
import { holdOpen } from '../helpers/locks.ts';
import { until } from '../helpers/wait.ts';

// GET /v1/audit: every privileged change leaves one row naming who, what, the target, the result and
// the request, whichever door it came through (API, console, signed link), and a refused change
// leaves none.

const ORIGIN = 'http://localhost';
const BOOTSTRAP_KEY_ID = '00000000-0000-4000-8000-000000000001';

let h: Harness;
let writer: { id: string; secret: string };

before(async () => {
  h = await createHarness();
  writer = await h.createKey('write', 'deploy-bot');
});
after(() => h.close());

const post = async (path: string, json: object) => expectJson<{ id: string }>(await h.req('POST', path, { token: writer.secret, json }), 201);
const audit = async (query: string) => expectJson<List<AuditEntry>>(await h.req('GET', `/v1/audit?${query}`, { token: ADMIN_TOKEN }), 200);

describe('the audit log', () => {
  it('records an API change with the key, the target, the result and the request id', async () => {
    const res = await h.req('POST', '/v1/nodes', { token: writer.secret, json: { name: 'audited-1' }, headers: { 'x-request-id': 'req-create-audited-1' } });
    const node = await expectJson<{ id: string }>(res, 201);
    const { items } = await audit('request_id=req-create-audited-1');
    assert.equal(items.length, 1);
    const [entry] = items as [AuditEntry];
    assert.match(entry.id, /^\d+$/);
    assert.equal(entry.at, h.clock.now().toISOString());
    assert.deepEqual(
      { ...entry, id: undefined, at: undefined },
      {
        id: undefined,
        at: undefined,
        actor: { kind: 'key', id: writer.id, name: 'deploy-bot' },
        via: 'api',
        action: 'node.create',
        target: { type: 'node', id: node.id, name: 'audited-1' },
        result: 'done',
        request_id: 'req-create-audited-1',
        detail: {},
      },
    );
  });

  it('records what a change set each field from and to, a credential or a destination URL only as changed', async () => {
    const patch = async (path: string, json: object, requestId: string) => {
      await expectJson(await h.req('PATCH', path, { token: writer.secret, json, headers: { 'x-request-id': requestId } }), 200);
      const [entry] = (await audit(`request_id=${requestId}`)).items;
      return entry!;
    };
    await post('/v1/nodes', { name: 'db-3', heartbeat_interval_seconds: 60, labels: { team: 'core', role: 'db', old: 'x' } });
    const node = await patch('/v1/nodes/db-3', { heartbeat_interval_seconds: 3600, grace_seconds: 0, labels: { team: 'core', role: 'replica', new: 'y' } }, 'req-patch');
    assert.deepEqual([node.action, node.target.name, node.detail], [
      'node.update',
      'db-3',
      {
        fields: ['grace_seconds', 'heartbeat_interval_seconds', 'labels'],
        changes: { heartbeat_interval_seconds: { from: 60, to: 3600 }, 'labels.new': { to: 'y' }, 'labels.old': { from: 'x' }, 'labels.role': { from: 'db', to: 'replica' } },
      },
    ]);

    const alice = await post('/v1/users', { name: 'Alice', email: 'alice-values@example.com' });
    const bob = await post('/v1/users', { name: 'Bob', email: 'bob-values@example.com' });
    const policy = await post('/v1/escalation-policies', { name: 'Values Policy', levels: [{ after_seconds: 0, channel_ids: [], user_ids: [alice.id, bob.id] }] });
    const levels = await patch(`/v1/escalation-policies/${policy.id}`, { levels: [{ after_seconds: 0, channel_ids: [], user_ids: [bob.id] }] }, 'req-levels');
    const changed = (levels.detail.changes as Record<string, { from: Array<{ user_ids: string[] }>; to: Array<{ user_ids: string[] }> }>).levels!;
    assert.deepEqual([changed.from.map((l) => l.user_ids), changed.to.map((l) => l.user_ids)], [[[alice.id, bob.id]], [[bob.id]]]);

    const hook = await post('/v1/channels', { name: 'hook', type: 'webhook', config: { url: 'https://example.com/hook-path?token=t0ken-one', secret: 'whsec_c2VjcmV0LXZhbHVlLWZvci10ZXN0cw==' } });
    const moved = await patch(`/v1/channels/${hook.id}`, { name: 'hook-2', config: { url: 'https://example.com/other-path?token=t0ken-two', secret: 'whsec_b3RoZXItc2VjcmV0LXZhbHVlLXRlc3Q=' } }, 'req-channel');
    assert.deepEqual(moved.detail, { fields: ['config', 'name'], changes: { 'config.secret': 'changed', 'config.url': 'changed', name: { from: 'hook', to: 'hook-2' } } });
    const slack = await post('/v1/channels', { name: 'team-chat', type: 'slack', config: { webhook_url: 'https://hooks.slack.com/services/T1/B1/slack-one' } });
    const slackMoved = await patch(`/v1/channels/${slack.id}`, { config: { webhook_url: 'https://hooks.slack.com/services/T1/B1/slack-two' } }, 'req-slack');
    assert.deepEqual(slackMoved.detail, { fields: ['config'], changes: { 'config.webhook_url': 'changed' } });
    const pd = await post('/v1/channels', { name: 'pager', type: 'pagerduty', config: { routing_key: 'R0UTING-ONE' } });
    const rekeyed = await patch(`/v1/channels/${pd.id}`, { config: { routing_key: 'R0UTING-TWO' } }, 'req-pd');
    assert.deepEqual(rekeyed.detail, { fields: ['config'], changes: { 'config.routing_key': 'changed' } });

    const everything = JSON.stringify(await h.sql`select * from audit_log`);
    for (const secret of ['whsec_', 't0ken-', 'hook-path', 'other-path', 'slack-one', 'slack-two', 'hooks.slack.com', 'R0UTING']) {
      assert.ok(!everything.includes(secret), `no ${secret} in the log`);
    }
  });

  it("shows an admin the console's audit log with each change from and to, escaped, and a row of names only as it was written", async () => {
    await post('/v1/nodes', { name: 'console-audited', labels: { note: 'plain' } });
    await expectJson(await h.req('PATCH', '/v1/nodes/console-audited', { token: writer.secret, json: { grace_seconds: 7, labels: { note: '<b>"bold"</b>' } } }), 200);
    await h.sql`
      insert into audit_log (at, actor_kind, actor_id, actor_name, via, action, target_type, target_id, target_name, result, request_id, detail)
      values (${h.clock.now()}, 'key', ${writer.id}, 'deploy-bot', 'api', 'node.update', 'node', 'n-old', 'written-before', 'done', 'req-old', ${h.sql.json({ fields: ['grace_seconds', 'labels'] })})`;
    const cookie = await consoleCookie(h, ORIGIN);
    const res = await h.app.request('/audit', { headers: { cookie } });
    const page = await res.text();
    assert.equal(res.status, 200);
    assert.match(page, /<b>grace_seconds<\/b>: <code>0<\/code> → <code>7<\/code>/);
    assert.match(page, /<b>labels.note<\/b>: <code>&quot;plain&quot;<\/code> → <code>&quot;&lt;b&gt;\\&quot;bold\\&quot;&lt;\/b&gt;&quot;<\/code>/);
    assert.ok(!page.includes('<b>"bold"</b>'), 'a value is text, never markup');
    assert.match(page, /Set grace_seconds, labels <span class="muted">\(values not recorded then\)<\/span>/);
    const reader = await h.createKey('read', 'auditless');
    assert.equal((await h.app.request('/audit', { headers: { cookie: await consoleCookie(h, ORIGIN, reader.secret) } })).status, 403);
  });

  it("pages the console's audit log by 50 and folds a long value: 100 edits of a long-listed page made one page of 840 KB", async () => {
    const ids = Array.from({ length: 104 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const long = [{ name: 'All', node_ids: ids }];
    const detail = { fields: ['components'], changes: { components: { from: long.slice(0, 1), to: long } } };
    assert.ok(JSON.stringify(long).length > 3_900);
    await h.sql`
      insert into audit_log (at, actor_kind, actor_id, actor_name, via, action, target_type, target_id, target_name, result, request_id, detail)
      select ${h.clock.now()}, 'key', ${writer.id}, 'deploy-bot', 'api', 'status_page.update', 'status_page', 'p-long', 'long-' || n, 'done', 'req-long', ${h.sql.json(detail)}
      from generate_series(1, 100) as n`;
    const page = await (await h.app.request('/audit', { headers: { cookie: await consoleCookie(h, ORIGIN) } })).text();
    assert.equal(page.match(/<td data-label="When">/g)?.length, 50);
    assert.match(page, /href="\/audit\?before=/);
    const folded = page.match(/<details><summary><code>([^<]*)<\/code>/g) ?? [];
    assert.equal(folded.length, 100, 'each row folds its long side');
  });

  it('records each node an ingest key registers by heartbeat, once, as that key in that request', async () => {
    const ingest = await h.createKey('ingest', 'fleet-bridge');
    await h.createNode('registered-before');
    const post = (names: string[], id: string) =>
      h.req('POST', '/v1/heartbeats', { token: ingest.secret, json: { heartbeats: names.map((node) => ({ node })) }, headers: { 'x-request-id': id } });
    await expectJson(await post(['registered-1', 'registered-before', 'registered-2', 'registered-1'], 'req-register'), 202);
    await expectJson(await post(['registered-1', 'registered-3'], 'req-register-again'), 202);
    const rows = [...(await audit('request_id=req-register')).items, ...(await audit('request_id=req-register-again')).items];
    assert.deepEqual(
      rows.map((e) => [e.actor, e.via, e.action, e.target.name, e.result, e.detail]).sort((a, b) => String(a[3]).localeCompare(String(b[3]))),
      ['registered-1', 'registered-2', 'registered-3'].map((name) => [
        { kind: 'key', id: ingest.id, name: 'fleet-bridge' },
        'api',
        'node.create',
        name,
        'done',
        { auto_registered: true },
      ]),
    );
    const [node] = await h.sql<{ id: string }[]>`select id from nodes where name = 'registered-3'`;
    assert.equal(rows.find((e) => e.target.name === 'registered-3')?.target.id, node!.id);
  });

  it('names the target of a token or ping key rotation, a maintenance window and an override; keeps ids and times, never the token', async () => {
    const node = await expectJson<{ id: string }>(await h.req('POST', '/v1/nodes', { token: writer.secret, json: { name: 'rotated-1' } }), 201);
    const rotated = await expectJson<{ token: string }>(await h.req('POST', `/v1/nodes/${node.id}/token`, { token: writer.secret, headers: { 'x-request-id': 'req-rotate' } }), 200);
    const pinged = await expectJson<{ ping_key: string }>(await h.req('POST', `/v1/nodes/${node.id}/ping-key`, { token: writer.secret, headers: { 'x-request-id': 'req-ping-key' } }), 200);
    const hour = (n: number) => new Date(h.clock.now().getTime() + n * 3_600_000).toISOString();
    const window = await expectJson<{ id: string }>(
      await h.req('POST', '/v1/maintenances', { token: writer.secret, json: { node_ids: ['rotated-1'], labels: { role: 'db' }, starts_at: hour(1) }, headers: { 'x-request-id': 'req-window' } }),
      201,
    );
    await expectJson(await h.req('DELETE', `/v1/maintenances/${window.id}`, { token: writer.secret, headers: { 'x-request-id': 'req-window-end' } }), 200);
    const user = await expectJson<{ id: string }>(await h.req('POST', '/v1/users', { token: writer.secret, json: { name: 'Bob Ops', email: 'bob@example.com' } }), 201);
    const schedule = await expectJson<{ id: string }>(
      await h.req('POST', '/v1/schedules', { token: writer.secret, json: { name: 'Primary', time_zone: 'UTC', layers: [{ name: 'weekly', user_ids: [user.id], starts_at: hour(0), rotation: 'P1W' }] } }),
      201,
    );
    const override = await expectJson<{ id: string }>(
      await h.req('POST', `/v1/schedules/${schedule.id}/overrides`, { token: writer.secret, json: { user_id: user.id, starts_at: hour(1), ends_at: hour(2) }, headers: { 'x-request-id': 'req-override' } }),
      201,
    );
    await h.req('DELETE', `/v1/schedules/${schedule.id}/overrides/${override.id}`, { token: writer.secret, headers: { 'x-request-id': 'req-override-delete' } });
    const rows = [];
    for (const id of ['req-rotate', 'req-ping-key', 'req-window', 'req-window-end', 'req-override', 'req-override-delete']) rows.push(...(await audit(`request_id=${id}`)).items);
    assert.deepEqual(
      rows.map((e) => [e.action, e.target.name, e.detail]),
      [
        ['node.rotate_token', 'rotated-1', {}],
        ['node.rotate_ping_key', 'rotated-1', {}],
        ['maintenance.create', 'rotated-1, role=db', { node_ids: [node.id], labels: { role: 'db' }, time_zone: null }],
        ['maintenance.end', 'rotated-1, role=db', {}],
        ['schedule_override.create', 'Bob Ops on Primary', { schedule_id: schedule.id, user_id: user.id, starts_at: hour(1), ends_at: hour(2) }],
        ['schedule_override.delete', 'Bob Ops on Primary', { schedule_id: schedule.id }],
      ],
    );
    const logged = JSON.stringify(await h.sql`select * from audit_log`);
    assert.ok(!logged.includes(rotated.token) && !logged.includes(pinged.ping_key), 'no token or ping key in the log');
  });

  it('names a deleted channel, user, schedule and escalation policy, which no id answers afterwards', async () => {
    const channel = await post('/v1/channels', { name: 'gone-hook', type: 'webhook', config: { url: 'https://example.com/gone' } });
    const user = await post('/v1/users', { name: 'Gone Person', email: 'gone@example.com' });
    const schedule = await post('/v1/schedules', { name: 'Gone Rota', time_zone: 'UTC', layers: [{ name: 'weekly', user_ids: [user.id], starts_at: h.clock.now().toISOString(), rotation: 'P1W' }] });
    const policy = await post('/v1/escalation-policies', { name: 'Gone Policy', levels: [{ after_seconds: 0, channel_ids: [channel.id], user_ids: [], schedule_ids: [schedule.id] }] });
    const deleted: [string, string][] = [['escalation-policies', policy.id], ['schedules', schedule.id], ['users', user.id], ['channels', channel.id]];
    for (const [path, id] of deleted) {
      const res = await h.req('DELETE', `/v1/${path}/${id}`, { token: writer.secret, headers: { 'x-request-id': `req-delete-${id}` } });
      assert.equal(res.status, 204, await res.text());
    }
    const rows = [];
    for (const [, id] of deleted) rows.push(...(await audit(`request_id=req-delete-${id}`)).items);
    assert.deepEqual(
      rows.map((e) => [e.action, e.target.name]),
      [
        ['escalation_policy.delete', 'Gone Policy'],
        ['schedule.delete', 'Gone Rota'],
        ['user.delete', 'Gone Person'],
        ['channel.delete', 'gone-hook'],
      ],
    );
  });

  it('leaves no row for a refused change: the row commits with the change or not at all', async () => {
    const before = await h.sql`select count(*)::int as n from audit_log`;
    await expectError(await h.req('POST', '/v1/nodes', { token: writer.secret, json: { name: 'audited-1' } }), 409, 'conflict');
    await expectError(await h.req('DELETE', '/v1/channels/00000000-0000-4000-8000-00000000abcd', { token: writer.secret }), 404, 'not_found');
    await expectError(await h.req('POST', '/v1/api-keys', { token: writer.secret, json: { name: 'x', scope: 'admin' } }), 403, 'forbidden');
    assert.deepEqual(await h.sql`select count(*)::int as n from audit_log`, before);
  });

  it('records replaying and discarding a dead outbox event, naming its topic and key; both are for admins only', async () => {
    const at = h.clock.now();
    await h.sql`insert into outbox_dead (id, topic, key, payload, created_at, attempts, last_error, died_at)
                values (910001, 'test.topic', 'k-1', '{}', ${at}, 10, 'boom', ${at}), (910002, 'test.topic', 'k-2', '{}', ${at}, 10, 'boom', ${at})`;
    await expectError(await h.req('DELETE', '/v1/outbox/dead/910002', { token: writer.secret }), 403, 'forbidden');
    await expectError(await h.req('POST', '/v1/outbox/dead/910001/replay', { token: writer.secret }), 403, 'forbidden');
    assert.deepEqual(await expectJson(await h.req('POST', '/v1/outbox/dead/910001/replay', { token: ADMIN_TOKEN, headers: { 'x-request-id': 'req-replay' } }), 202), { replayed: '910001' });
    const discarded = await h.req('DELETE', '/v1/outbox/dead/910002', { token: ADMIN_TOKEN, headers: { 'x-request-id': 'req-discard' } });
    assert.deepEqual([discarded.status, await discarded.text()], [204, '']);
    for (const gone of ['910002', '910001', 'nope']) await expectError(await h.req('DELETE', `/v1/outbox/dead/${gone}`, { token: ADMIN_TOKEN }), 404, 'not_found');

    const rows = [...(await audit('request_id=req-replay')).items, ...(await audit('request_id=req-discard')).items];
    assert.deepEqual(
      rows.map((e) => [e.actor.id, e.action, e.target, e.detail]),
      [
        [BOOTSTRAP_KEY_ID, 'outbox.replay', { type: 'outbox_event', id: '910001', name: 'test.topic k-1' }, { topic: 'test.topic', key: 'k-1' }],
        [BOOTSTRAP_KEY_ID, 'outbox.discard', { type: 'outbox_event', id: '910002', name: 'test.topic k-2' }, { topic: 'test.topic', key: 'k-2' }],
      ],
    );
    assert.deepEqual((await h.sql<{ id: string }[]>`select id::text as id from outbox where id in (910001, 910002)`).map((r) => r.id), ['910001']);
    await h.sql`delete from outbox where id = 910001`;
  });

  it('refuses to discard a dead node event, whose incidents would not follow it, unless forced', async () => {
    const at = h.clock.now();
    await h.sql`insert into outbox_dead (id, topic, key, payload, created_at, attempts, last_error, died_at)
                values (910003, 'node.state_changed', 'k-3', '{}', ${at}, 10, 'boom', ${at})`;
    const refused = await expectError(await h.req('DELETE', '/v1/outbox/dead/910003', { token: ADMIN_TOKEN }), 409, 'conflict');
    assert.match(refused.message, /^Dead outbox event 910003 is a node\.state_changed: .*\?force=true/);
    await expectError(await h.req('DELETE', '/v1/outbox/dead/910003?force=maybe', { token: ADMIN_TOKEN }), 400, 'validation_failed');
    assert.equal((await h.sql`select 1 from outbox_dead where id = 910003`).length, 1, 'still parked');
    const forced = await h.req('DELETE', '/v1/outbox/dead/910003?force=true', { token: ADMIN_TOKEN, headers: { 'x-request-id': 'req-force' } });
    assert.equal(forced.status, 204);
    assert.equal((await h.sql`select 1 from outbox_dead where id = 910003`).length, 0);
    assert.deepEqual((await audit('request_id=req-force')).items.map((e) => [e.action, e.detail]), [['outbox.discard', { topic: 'node.state_changed', key: 'k-3' }]]);
  });

  it('records what people do through the console, as the key the session was opened with', async () => {
    const signIn = await h.app.request('/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
      body: new URLSearchParams({ key: ADMIN_TOKEN }).toString(),
    });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    const confirm = await (await h.app.request('/nodes/audited-1/delete', { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(confirm)?.[1];
    assert.ok(csrf, 'the delete page carries its CSRF token');
    const res = await h.app.request('/nodes/audited-1/delete', {
      method: 'POST',
      headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': 'req-console-delete' },
      body: new URLSearchParams({ _csrf: csrf, confirmed: 'yes' }).toString(),
    });
    assert.equal(res.status, 303, await res.text());
    const [entry] = (await audit('request_id=req-console-delete')).items;
    assert.deepEqual([entry?.actor, entry?.via, entry?.action, entry?.target.name], [{ kind: 'key', id: BOOTSTRAP_KEY_ID, name: 'bootstrap-admin' }, 'console', 'node.delete', 'audited-1']);
  });

  it('records an acknowledgement through a signed link as the person it names', async () => {
    const alice = await expectJson<{ id: string }>(await h.admin('POST', '/v1/users', { name: 'Alice Example', email: 'alice@example.com' }), 201);
    const node = await h.createNode('linked-node');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: node.name, category: 'node_down', severity: 'critical', title: 'linked-node is down', reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    const token = signActionLink(actionLinkKey(h.secretKey), {
      incidentId: incident!.id,
      action: 'acknowledge',
      recipient: { kind: 'user', id: alice.id },
      expiresAt: new Date(h.clock.now().getTime() + 3_600_000),
    });
    const res = await h.req('POST', `/a/${token}`, { headers: { 'x-request-id': 'req-link-ack' } });
    assert.equal(res.status, 200);
    const [entry] = (await audit('request_id=req-link-ack')).items;
    assert.deepEqual(
      [entry?.actor, entry?.via, entry?.action, entry?.target, entry?.result],
      [{ kind: 'person', id: alice.id, name: 'Alice Example' }, 'link', 'incident.acknowledge', { type: 'incident', id: incident!.id, name: 'linked-node is down' }, 'done'],
    );
    // Acknowledging again through the API keeps the first, and says so.
    await h.req('POST', `/v1/incidents/${incident!.id}/acknowledge`, { token: writer.secret, headers: { 'x-request-id': 'req-api-ack' } });
    const [again] = (await audit('request_id=req-api-ack')).items;
    assert.deepEqual([again?.action, again?.result], ['incident.acknowledge', 'unchanged']);
  });

  it('records a key revoked once as done: again, or by a revocation sent at the same time, as unchanged', async () => {
    const revocations = async (id: string) =>
      (await h.sql<{ result: string }[]>`select result from audit_log where action = 'api_key.revoke' and target_id = ${id} order by id`).map((r) => r.result);
    const revokedAt = async (id: string) => (await h.sql<{ at: Date }[]>`select revoked_at as at from api_keys where id = ${id}`)[0]!.at.toISOString();
    const once = await h.createKey('read', 'revoked-twice');
    assert.equal((await h.req('DELETE', `/v1/api-keys/${once.id}`, { token: ADMIN_TOKEN })).status, 204);
    const first = await revokedAt(once.id);
    h.clock.advance(60_000);
    assert.equal((await h.req('DELETE', `/v1/api-keys/${once.id}`, { token: ADMIN_TOKEN })).status, 204);
    assert.deepEqual(await revocations(once.id), ['done', 'unchanged']);
    assert.equal(await revokedAt(once.id), first, 'it keeps the time it was revoked');

    // Both requests have read the key while this transaction holds its row; released, they race.
    const raced = await h.createKey('read', 'revoked-at-once');
    const blocker = await holdOpen(h.db, (tx) => tx`select id from api_keys where id = ${raced.id} for no key update`);
    const both = Promise.all([0, 1].map(() => h.req('DELETE', `/v1/api-keys/${raced.id}`, { token: ADMIN_TOKEN })));
    await until('both revocations to wait on the key', async () => {
      const [row] = await h.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike ${'%api_keys%'}`;
      return row!.n >= 2;
    });
    await blocker.release();
    assert.deepEqual((await both).map((r) => r.status), [204, 204]);
    assert.deepEqual((await revocations(raced.id)).sort(), ['done', 'unchanged']);
  });

  it("records the second of two racing edits from the first one's value, for people, policies, schedules and status pages", async () => {
    const raced = async (table: string, id: string, path: string, bodies: [object, object], field: string) => {
      // Both requests have read the row while this transaction holds it; released, they race.
      const blocker = await holdOpen(h.db, (tx) => tx`select 1 from ${tx(table)} where id = ${id} for no key update`);
      const both = Promise.all(bodies.map((json) => h.req('PATCH', path, { token: writer.secret, json })));
      await until(`both edits to wait on the ${table} row`, async () => {
        const [row] = await h.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike ${`%${table}%`}`;
        return row!.n >= 2;
      });
      await blocker.release();
      assert.deepEqual((await both).map((r) => r.status), [200, 200]);
      const rows = await h.sql<{ detail: { changes: Record<string, { from: unknown; to: unknown }> } }[]>`
        select detail from audit_log where target_id = ${id} and action like '%.update' order by id`;
      const [first, second] = rows.map((r) => r.detail.changes[field]!);
      assert.deepEqual(second!.from, first!.to, `${table}: ${JSON.stringify(rows)}`);
    };
    const carol = await post('/v1/users', { name: 'Carol', email: 'carol-race@example.com' });
    await raced('users', carol.id, `/v1/users/${carol.id}`, [{ name: 'Carol A' }, { name: 'Carol B' }], 'name');
    const policy = await post('/v1/escalation-policies', { name: 'Race Policy', levels: [{ after_seconds: 0, channel_ids: [], user_ids: [carol.id] }] });
    await raced('escalation_policies', policy.id, `/v1/escalation-policies/${policy.id}`, [{ name: 'Race Policy A' }, { name: 'Race Policy B' }], 'name');
    const layers = [{ name: 'primary', user_ids: [carol.id], starts_at: '2026-01-05T09:00:00Z', rotation: 'P1W' }];
    const schedule = await post('/v1/schedules', { name: 'Race Schedule', time_zone: 'UTC', layers });
    await raced('schedules', schedule.id, `/v1/schedules/${schedule.id}`, [{ name: 'Race Schedule A' }, { name: 'Race Schedule B' }], 'name');
    const page = await post('/v1/status-pages', { slug: 'race-page', title: 'Race', components: [{ name: 'All', labels: { role: 'race' } }] });
    await raced('status_pages', page.id, `/v1/status-pages/${page.id}`, [{ title: 'Race A' }, { title: 'Race B' }], 'title');
  });

  it('records a patch setting the values a node or person already has as unchanged, and writes nothing else: a reconcile loop costs no updates', async () => {
    const node = await post('/v1/nodes', { name: 'steady-1', heartbeat_interval_seconds: 60, labels: { team: 'core' } });
    const dave = await post('/v1/users', { name: 'Dave', email: 'dave-steady@example.com' });
    const stored = async () => ({
      node: (await h.sql`select n.updated_at::text, d.due_at::text, d.wake from nodes n join node_due d on d.node_id = n.id where n.id = ${node.id}`)[0],
      user: (await h.sql`select updated_at::text from users where id = ${dave.id}`)[0],
    });
    const before = await stored();
    const shown = await expectJson(await h.req('GET', `/v1/nodes/${node.id}`, { token: writer.secret }), 200);
    h.clock.advance(60_000);
    const again = await h.req('PATCH', `/v1/nodes/${node.id}`, { token: writer.secret, json: { heartbeat_interval_seconds: 60, labels: { team: 'core' } }, headers: { 'x-request-id': 'req-steady-node' } });
    assert.deepEqual(await expectJson(again, 200), shown);
    await expectJson(await h.req('PATCH', `/v1/users/${dave.id}`, { token: writer.secret, json: { name: 'Dave' }, headers: { 'x-request-id': 'req-steady-user' } }), 200);
    assert.deepEqual(await stored(), before, 'neither updated_at nor the node\'s next judgement moved');
    const rows = [...(await audit('request_id=req-steady-node')).items, ...(await audit('request_id=req-steady-user')).items];
    assert.deepEqual(
      rows.map((e) => [e.action, e.result, e.detail]),
      [
        ['node.update', 'unchanged', { fields: ['heartbeat_interval_seconds', 'labels'], changes: {} }],
        ['user.update', 'unchanged', { fields: ['name'], changes: {} }],
      ],
    );
  });

  it('records a channel edit re-sending its secret, or its URL as shown, as unchanged, and a rename without them as the rename alone', async () => {
    const secret = 'whsec_c3RlYWR5LXNlY3JldC1mb3ItdGhlLWxvZw==';
    const hook = (await post('/v1/channels', { name: 'steady-hook', type: 'webhook', config: { url: 'https://example.com/steady?token=kept-t0ken', secret } })) as { id: string; config: { url: string } };
    const stamp = async () => (await h.sql`select updated_at::text from channels where id = ${hook.id}`)[0];
    const before = await stamp();
    h.clock.advance(60_000);
    const edit = async (json: object, requestId: string) => {
      await expectJson(await h.req('PATCH', `/v1/channels/${hook.id}`, { token: writer.secret, json, headers: { 'x-request-id': requestId } }), 200);
      return (await audit(`request_id=${requestId}`)).items.map((e) => [e.result, e.detail]);
    };
    assert.deepEqual(await edit({ config: { url: hook.config.url, secret } }, 'req-hook-same'), [['unchanged', { fields: ['config'], changes: {} }]]);
    assert.deepEqual(await stamp(), before, 'an unchanged edit writes nothing');
    assert.deepEqual(await edit({ name: 'steady-hook-2', config: { url: hook.config.url } }, 'req-hook-rename'), [['done', { fields: ['config', 'name'], changes: { name: { from: 'steady-hook', to: 'steady-hook-2' } } }]]);
  });

  it('filters by actor, action and target, pages newest first with a cursor, and is for admins only', async () => {
    const byWriter = await audit(`actor_id=${writer.id}&limit=500`);
    assert.ok(byWriter.items.length >= 5);
    assert.ok(byWriter.items.every((e) => e.actor.id === writer.id));
    const ids = byWriter.items.map((e) => BigInt(e.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => (a > b ? -1 : 1)), 'newest first');

    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const pageOf: List<AuditEntry> = await audit(`actor_id=${writer.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...pageOf.items.map((e) => e.id));
      cursor = pageOf.next_cursor;
    }
    assert.deepEqual(seen, byWriter.items.map((e) => e.id), 'the pages add up to the whole list');

    const creations = await audit('action=node.create&target_type=node');
    assert.ok(creations.items.length >= 2 && creations.items.every((e) => e.action === 'node.create'));
    const node = creations.items.find((e) => e.target.name === 'linked-node')!;
    assert.deepEqual((await audit(`target_id=${node.target.id}`)).items.map((e) => e.action), ['node.create']);
    assert.deepEqual((await audit(`since=${encodeURIComponent(new Date(h.clock.now().getTime() + 1).toISOString())}`)).items, []);

    await expectError(await h.req('GET', '/v1/audit', { token: writer.secret }), 403, 'forbidden');
    await expectError(await h.req('GET', '/v1/audit?cursor=abc', { token: ADMIN_TOKEN }), 400, 'validation_failed');
    await expectError(await h.req('GET', `/v1/audit?cursor=${Buffer.from('"99999999999999999999"').toString('base64url')}`, { token: ADMIN_TOKEN }), 400, 'validation_failed');
  });
});
