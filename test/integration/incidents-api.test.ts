import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Incident } from '../../src/api/shapes.ts';
import { escalate, followNodes, pageLater } from '../../src/incidents/service.ts';
import { addTimeline, openIncidents } from '../../src/incidents/store.ts';
import { insertDeliveries } from '../../src/notifications/store.ts';
import { ADMIN_TOKEN, createHarness, expectError, expectInvalid, expectJson } from '../helpers/app.ts';
import { lockWaiter } from '../helpers/db.ts';
import { holdOpen } from '../helpers/locks.ts';

describe('incidents API', () => {
  let h: Awaited<ReturnType<typeof createHarness>>;
  let nodeId: string;
  let incidentId: string;

  before(async () => {
    h = await createHarness();
    nodeId = (await h.createNode('db-1')).id;
  });
  after(async () => {
    await h.db.drop();
  });
  beforeEach(async () => {
    await h.sql`truncate incidents, outbox cascade`;
    const row = (await openIncidents(h.sql, [{
      nodeId,
      nodeName: 'db-1',
      category: 'node_down',
      severity: 'critical',
      title: 'db-1 is down',
      reason: 'no heartbeat for 90s',
      policyId: null,
      openedAt: h.clock.now(),
    }]))[0];
    incidentId = row!.id;
  });

  const incidentRow = async () => (await h.sql`select status, version from incidents where id = ${incidentId}`)[0];
  const events = async () => (await h.sql`select topic, payload from outbox order by id`).map((e) => e.topic);

  it('lists and gets incidents in the contract shape, filtered and paged', async () => {
    const list = await expectJson<{ items: Incident[]; next_cursor: string | null }>(await h.admin('GET', '/v1/incidents?status=open&node_id=' + nodeId), 200);
    assert.equal(list.items.length, 1);
    assert.equal(list.next_cursor, null);
    const one = await expectJson<Record<string, unknown>>(await h.admin('GET', `/v1/incidents/${incidentId}`), 200);
    assert.deepEqual(Object.keys(one).sort(), [
      'acknowledged_at', 'acknowledged_by', 'category', 'escalation_held', 'escalation_level', 'id', 'node_id', 'node_name', 'opened_at',
      'reason', 'resolved_at', 'resolved_by', 'severity', 'status', 'timeline', 'title', 'version',
    ]);
    assert.deepEqual([one.category, one.severity, one.status, one.version], ['node_down', 'critical', 'open', 1]);
    assert.equal(one.reason, (await h.sql<{ reason: string | null }[]>`select reason from incidents where id = ${incidentId}`)[0]!.reason);
    // The stored 0-based level: only what people read (console, message text) counts from 1.
    assert.equal(one.escalation_level, 0);
    const none = await expectJson<{ items: unknown[] }>(await h.admin('GET', '/v1/incidents?status=resolved'), 200);
    assert.equal(none.items.length, 0);
  });

  it('filters by a node name as by its id, as every node route takes either', async () => {
    const list = async (ref: string) => (await expectJson<{ items: Incident[] }>(await h.admin('GET', `/v1/incidents?node_id=${ref}`), 200)).items.map((i) => i.id);
    assert.deepEqual(await list('db-1'), [incidentId]);
    assert.deepEqual(await list(nodeId), [incidentId]);
    const other = await h.createNode('db-2');
    assert.deepEqual(await list('db-2'), []);
    await h.admin('DELETE', `/v1/nodes/${other.id}`);
    assert.equal((await expectError(await h.admin('GET', '/v1/incidents?node_id=db-2'), 404, 'not_found')).message, 'Node "db-2" was not found.');
  });

  it('resolves a node reference as the node routes do: the id before a name that looks like it, a UUID-like name to its node', async () => {
    const list = async (ref: string) => (await expectJson<{ items: Incident[] }>(await h.admin('GET', `/v1/incidents?node_id=${ref}`), 200)).items.map((i) => i.id);
    const nodeOf = async (ref: string) => (await expectJson<{ id: string }>(await h.admin('GET', `/v1/nodes/${ref}`), 200)).id;
    // Named like db-1's id, and like a UUID no node has.
    const lookalike = await h.createNode(nodeId);
    const uuidName = 'f0f0f0f0-0000-4000-8000-00000000abcd';
    const named = await h.createNode(uuidName);
    const [theirs] = await openIncidents(h.sql, [
      { nodeId: named.id, nodeName: uuidName, category: 'node_down', severity: 'critical', title: `${uuidName} is down`, reason: 'no heartbeat', policyId: null, openedAt: h.clock.now() },
    ]);
    assert.deepEqual([await nodeOf(nodeId), await list(nodeId)], [nodeId, [incidentId]]);
    assert.deepEqual([await nodeOf(nodeId.toUpperCase()), await list(nodeId.toUpperCase())], [nodeId, [incidentId]]);
    assert.deepEqual([await nodeOf(uuidName), await list(uuidName)], [named.id, [theirs!.id]]);
    assert.deepEqual([await nodeOf(lookalike.id), await list(lookalike.id)], [lookalike.id, []]);
    // A deleted node's id is still the filter for the incidents it kept.
    await h.admin('DELETE', `/v1/nodes/${named.id}`);
    assert.deepEqual(await list(named.id), [theirs!.id]);
  });

  /** An open incident of each node, db-1's from beforeEach beside them; by node name. */
  const openFor = async (nodes: { id: string; name: string }[]) => {
    const rows = await openIncidents(h.sql, nodes.map((n) => ({
      nodeId: n.id, nodeName: n.name, category: 'node_down' as const, severity: 'critical' as const, title: `${n.name} is down`, reason: 'no heartbeat', policyId: null, openedAt: h.clock.now(),
    })));
    return new Map(rows.map((r) => [r.node_name, r.id]));
  };
  let regions: { id: string; name: string }[] | undefined;
  /** Three nodes in two regions, made once: eu-db and eu-web in eu-west, us-db in us-east. */
  const regionNodes = async () =>
    (regions ??= [
      await h.createNode('eu-db', { labels: { region: 'eu-west', role: 'db' } }),
      await h.createNode('eu-web', { labels: { region: 'eu-west', role: 'web' } }),
      await h.createNode('us-db', { labels: { region: 'us-east', role: 'db' } }),
    ]);

  it("filters by the node's labels, key=value or key:value as the node list reads them, every one repeated given (AND)", async () => {
    const ids = await openFor(await regionNodes());
    const names = async (q: string) => {
      const list = await expectJson<{ items: Incident[] }>(await h.admin('GET', `/v1/incidents?${q}`), 200);
      return list.items.map((i) => i.node_name).sort();
    };
    assert.deepEqual(await names('status=open&label=region%3Deu-west'), ['eu-db', 'eu-web']);
    assert.deepEqual(await names('label=region=eu-west'), ['eu-db', 'eu-web']);
    assert.deepEqual(await names('label=region:us-east'), ['us-db']);
    assert.deepEqual(await names('label=region=eu-west&label=role=db'), ['eu-db']);
    assert.deepEqual(await names('label=role=db&label=region=eu-west&node_id=eu-db'), ['eu-db']);
    assert.deepEqual(await names('label=role=db&node_id=eu-web'), []);
    // Two values of one key: no node carries both.
    assert.deepEqual(await names('label=region=eu-west&label=region=us-east'), []);
    assert.deepEqual(await names('label=region=ap-south'), []);
    assert.deepEqual(await names('status=resolved&label=region=eu-west'), []);
    // db-1 carries no labels: only an unfiltered list has it.
    assert.deepEqual(await names('status=open'), ['db-1', 'eu-db', 'eu-web', 'us-db']);
    assert.equal(ids.size, 3);
  });

  it('refuses a malformed label filter, naming the rule it broke, as the node list and the fleet report do', async () => {
    // Each refused value is named by its place among the labels given.
    const cases = [
      ['label=region', 'label.0', /key=value or key:value/],
      ['label=region=eu-west&label=bad%20key=x', 'label.1', /label keys/],
      [`label=k=${'x'.repeat(257)}`, 'label.0', /label values/],
    ] as const;
    for (const [q, field, rule] of cases) {
      const err = await expectInvalid(await h.admin('GET', `/v1/incidents?${q}`), [field]);
      assert.match(err.details![0]!.message, rule);
      for (const path of ['/v1/nodes', '/v1/uptime']) {
        const nodes = await expectInvalid(await h.admin('GET', `${path}?${q}`), [field]);
        assert.equal(nodes.details![0]!.message, err.details![0]!.message);
      }
    }
  });

  it('acknowledges exactly the incidents a label filter listed, each as alone: its timeline entry, audit entry and event; a second call acknowledges none', async () => {
    const ids = await openFor(await regionNodes());
    const eu = (await expectJson<{ items: Incident[] }>(await h.admin('GET', '/v1/incidents?status=open&label=region=eu-west'), 200)).items.map((i) => i.id);
    assert.deepEqual(eu.sort(), [ids.get('eu-db')!, ids.get('eu-web')!].sort());
    const acked = await expectJson<{ acknowledged: string[]; count: number }>(await h.admin('POST', '/v1/incidents/acknowledge', { incident_ids: eu, by: 'alice' }), 200);
    assert.deepEqual(acked, { acknowledged: eu, count: 2 });
    const statuses = await h.sql<{ node_name: string; status: string; acknowledged_by: string | null }[]>`
      select node_name, status, acknowledged_by from incidents order by node_name`;
    assert.deepEqual(statuses.map((r) => [r.node_name, r.status, r.acknowledged_by]), [
      ['db-1', 'open', null],
      ['eu-db', 'acknowledged', 'alice'],
      ['eu-web', 'acknowledged', 'alice'],
      ['us-db', 'open', null],
    ]);
    for (const id of eu) {
      const one = await expectJson<Incident>(await h.admin('GET', `/v1/incidents/${id}`), 200);
      assert.deepEqual(one.timeline.map((e) => [e.kind, e.detail.by]), [['acknowledged', 'alice']]);
    }
    assert.deepEqual(await events(), ['incident.acknowledged', 'incident.acknowledged']);
    const audited = await h.sql<{ target_id: string; result: string }[]>`select target_id, result from audit_log where action = 'incident.acknowledge' and target_id = any(${eu}::text[])`;
    assert.deepEqual(audited.map((a) => [a.target_id, a.result]).sort(), eu.map((id) => [id, 'done']).sort());
    // Sent again (a retry, a second person): nothing left to acknowledge, nothing more told.
    assert.deepEqual(await expectJson(await h.admin('POST', '/v1/incidents/acknowledge', { incident_ids: eu }), 200), { acknowledged: [], count: 0 });
    assert.deepEqual(await events(), ['incident.acknowledged', 'incident.acknowledged']);
    // One resolved meanwhile is left as it is; the others named are acknowledged.
    await h.admin('POST', `/v1/incidents/${incidentId}/resolve`, {});
    const rest = await expectJson(await h.admin('POST', '/v1/incidents/acknowledge', { incident_ids: [incidentId, ids.get('us-db')] }), 200);
    assert.deepEqual(rest, { acknowledged: [ids.get('us-db')], count: 1 });
  });

  it('goes on past an incident deleted during a bulk acknowledgement, and takes ids in upper case as the single route does', async () => {
    const ids = await openFor(await regionNodes());
    const [a, b, c] = [ids.get('eu-db')!, ids.get('eu-web')!, ids.get('us-db')!];
    // b is deleted (its node removed with its data) by a transaction that commits once the bulk call waits on its row.
    const deleting = await holdOpen(h.db, (tx) => tx`delete from incidents where id = ${b}`);
    const call = h.admin('POST', '/v1/incidents/acknowledge', { incident_ids: [a, b.toUpperCase(), c.toUpperCase()] });
    await lockWaiter(h.sql);
    await deleting.commit();
    assert.deepEqual(await expectJson(await call, 200), { acknowledged: [a, c], count: 2 });
    const left = await h.sql<{ id: string; status: string }[]>`select id, status from incidents where id = any(${[a, b, c]}::uuid[]) order by node_name`;
    assert.deepEqual(left.map((r) => [r.id, r.status]), [[a, 'acknowledged'], [c, 'acknowledged']]);
  });

  it('refuses a list filtered by more than 20 labels', async () => {
    const q = Array.from({ length: 21 }, (_, i) => `label=k${i}=v`).join('&');
    await expectInvalid(await h.admin('GET', `/v1/incidents?${q}`), ['label']);
    await expectJson(await h.admin('GET', `/v1/incidents?${q.replace(/&label=k20=v$/, '')}`), 200);
  });

  it('refuses a bulk acknowledgement naming no incident, too many, one twice or one that does not exist, acknowledging none', async () => {
    const ids = await openFor(await regionNodes());
    const us = ids.get('us-db')!;
    const path = '/v1/incidents/acknowledge';
    await expectInvalid(await h.admin('POST', path, { incident_ids: [] }), ['incident_ids']);
    await expectInvalid(await h.admin('POST', path, {}), ['incident_ids']);
    await expectInvalid(await h.admin('POST', path, { incident_ids: [us, us] }), ['incident_ids']);
    await expectInvalid(await h.admin('POST', path, { incident_ids: Array.from({ length: 501 }, () => crypto.randomUUID()) }), ['incident_ids']);
    await expectInvalid(await h.admin('POST', path, { incident_ids: [us, 'eu-db'] }), ['incident_ids.1']);
    await expectInvalid(await h.admin('POST', path, { incident_ids: [us], label: 'region=eu-west' }), ['label']);
    await expectInvalid(await h.admin('POST', path, { incident_ids: [us], by: 'auto' }), ['by']);
    const err = await expectInvalid(await h.admin('POST', path, { incident_ids: [us, '00000000-0000-4000-8000-00000000abcd'] }), ['incident_ids.1']);
    assert.equal(err.details![0]!.message, 'is not an incident');
    const read = await h.createKey('read');
    await expectError(await h.req('POST', path, { token: read.secret, json: { incident_ids: [us] } }), 403, 'forbidden');
    assert.deepEqual((await h.sql`select status from incidents where status <> 'open'`).length, 0);
    assert.deepEqual(await events(), []);
  });

  it('acknowledges once, records who, and emits one acknowledged event', async () => {
    const res = await h.req('POST', `/v1/incidents/${incidentId}/acknowledge`, { token: ADMIN_TOKEN, json: { by: 'alice' }, headers: { 'if-match': '1' } });
    const acked = await expectJson<Incident>(res, 200);
    assert.deepEqual([acked.status, acked.acknowledged_by, acked.version], ['acknowledged', 'alice', 2]);
    assert.deepEqual(acked.timeline.map((t) => t.kind), ['acknowledged']);
    const again = await expectJson<Incident>(await h.req('POST', `/v1/incidents/${incidentId}/acknowledge`, { token: ADMIN_TOKEN }), 200);
    assert.deepEqual([again.acknowledged_by, again.version], ['alice', 2], 'the first acknowledgement stands');
    assert.deepEqual(await events(), ['incident.acknowledged']);
  });

  it('resolves with a note, then refuses to act on the resolved incident (409)', async () => {
    const resolved = await expectJson<Incident>(await h.admin('POST', `/v1/incidents/${incidentId}/resolve`, { by: 'bob', note: 'rebooted' }), 200);
    assert.deepEqual([resolved.status, resolved.resolved_by], ['resolved', 'bob']);
    assert.deepEqual(resolved.timeline.at(-1), { ...resolved.timeline.at(-1)!, kind: 'resolved', detail: { by: 'bob', note: 'rebooted' } });
    // Who resolved it and when, as the console says it: a key by its name, anyone else as recorded.
    const saying = `The incident was already resolved by bob at ${resolved.resolved_at}.`;
    // The same as fields, each `value` as the incident reads, so a client need not parse the sentence.
    const details = [
      { field: 'resolved_by', message: 'bob', value: 'bob' },
      { field: 'resolved_at', message: resolved.resolved_at, value: resolved.resolved_at },
    ];
    for (const action of ['resolve', 'acknowledge']) {
      const err = await expectError(await h.admin('POST', `/v1/incidents/${incidentId}/${action}`, {}), 409, 'conflict');
      assert.deepEqual([err.message, err.details], [saying, details], action);
    }
    assert.deepEqual(await events(), ['incident.resolved']);
  });

  it('takes notes on an open, acknowledged and resolved incident, in order in its timeline, audited, paging nobody and leaving its version', async () => {
    const note = (json: unknown) => h.admin('POST', `/v1/incidents/${incidentId}/notes`, json);
    const first = await expectJson<Record<string, unknown>>(await note({ note: 'restarting db-3', by: 'alice' }), 201);
    assert.deepEqual(first, { at: h.clock.now().toISOString(), kind: 'note', detail: { by: 'alice', note: 'restarting db-3' } });
    assert.deepEqual(await incidentRow(), { status: 'open', version: 1 }, 'a note is not a change an If-Match guards against');
    assert.deepEqual(await events(), [], 'a note pages nobody');
    await expectJson(await h.admin('POST', `/v1/incidents/${incidentId}/acknowledge`, { by: 'alice' }), 200);
    h.clock.advance(1_000);
    await expectJson(await note({ note: 'vendor ticket #123\nthey are on it' }), 201);
    await expectJson(await h.admin('POST', `/v1/incidents/${incidentId}/resolve`, { by: 'bob' }), 200);
    // Post-incident: the review's findings go on the record too. Same clock: kept in the order written.
    const last = await expectJson<{ detail: { by: string } }>(await note({ note: '<script>alert(1)</script> disk was full' }), 201);
    assert.match(last.detail.by, /^api-key:/, 'by defaults to the caller, as acknowledging does');
    const one = await expectJson<Incident>(await h.admin('GET', `/v1/incidents/${incidentId}`), 200);
    assert.deepEqual(
      one.timeline.map((t) => [t.kind, t.detail.note]),
      [['note', 'restarting db-3'], ['acknowledged', undefined], ['note', 'vendor ticket #123\nthey are on it'], ['resolved', undefined], ['note', '<script>alert(1)</script> disk was full']],
    );
    assert.deepEqual(await incidentRow(), { status: 'resolved', version: 3 });
    assert.deepEqual(await events(), ['incident.acknowledged', 'incident.resolved'], 'no event for any note');
    assert.equal((await h.sql`select count(*)::int as n from deliveries`)[0]!.n, 0);
    const audited = await h.sql<{ target_id: string; target_name: string; detail: unknown }[]>`
      select target_id, target_name, detail from audit_log where action = 'incident.note' and target_id = ${incidentId} order by id`;
    assert.deepEqual(audited.map((a) => [a.target_id, a.target_name, a.detail]), [
      [incidentId, 'db-1 is down', { by: 'alice' }],
      [incidentId, 'db-1 is down', { by: last.detail.by }],
      [incidentId, 'db-1 is down', { by: last.detail.by }],
    ]);
  });

  it('refuses a note that is missing, blank, not text, too long or not JSON, and one for no incident, writing nothing', async () => {
    const path = `/v1/incidents/${incidentId}/notes`;
    const refused = (res: () => Promise<Response>) => h.rejected(res);
    for (const json of [{}, { note: '' }, { note: ' \n\t ' }, { note: 5 }, { note: null }, { note: 'x'.repeat(2001) }]) {
      await expectInvalid(await refused(() => h.admin('POST', path, json)), ['note']);
    }
    await expectInvalid(await refused(() => h.admin('POST', path, { note: 'ok', by: 'auto', color: 'red' })), ['by', 'color']);
    await expectInvalid(await refused(() => h.admin('POST', path, { note: 'a\u0000b' })), ['note']);
    // As `by` is refused them: "abc\u202Egnp.exe" reads "abcexe.png" in the timeline.
    for (const bidi of ['abc\u202Egnp.exe', 'a\u2066b']) await expectInvalid(await refused(() => h.admin('POST', path, { note: bidi })), ['note']);
    await expectError(await refused(() => h.req('POST', path, { token: ADMIN_TOKEN, body: '{"note":', headers: { 'content-type': 'application/json' } })), 400, 'invalid_json');
    await expectError(await refused(() => h.admin('POST', '/v1/incidents/00000000-0000-4000-8000-00000000abcd/notes', { note: 'x' })), 404, 'not_found');
    await expectError(await refused(() => h.admin('POST', '/v1/incidents/not-an-id/notes', { note: 'x' })), 404, 'not_found');
    const read = await h.createKey('read');
    await expectError(await h.req('POST', path, { token: read.secret, json: { note: 'x' } }), 403, 'forbidden');
    // 2,000 characters is the resolve note's limit, and a note's.
    await expectJson(await h.admin('POST', path, { note: 'x'.repeat(2000) }), 201);
    assert.equal((await h.sql`select count(*)::int as n from incident_timeline where kind = 'note'`)[0]!.n, 1);
    assert.equal((await h.sql`select count(*)::int as n from audit_log where action = 'incident.note' and target_id = ${incidentId}`)[0]!.n, 1);
  });

  it('refuses a note past 1,000 on one incident with 409, writing nothing, while its other entries do not count', async () => {
    const path = `/v1/incidents/${incidentId}/notes`;
    const at = h.clock.now();
    await addTimeline(h.sql, Array.from({ length: 999 }, (_, i) => ({ incident_id: incidentId, at, kind: 'note', detail: { by: 'alice', note: `n${i}` } })));
    await addTimeline(h.sql, [{ incident_id: incidentId, at, kind: 'acknowledged', detail: { by: 'alice' } }]);
    await expectJson(await h.admin('POST', path, { note: 'the thousandth' }), 201);
    const refused = await expectError(await h.rejected(() => h.admin('POST', path, { note: 'one more' })), 409, 'conflict');
    assert.match(refused.message, /1,?000 notes/);
    assert.equal((await h.sql`select count(*)::int as n from incident_timeline where incident_id = ${incidentId} and kind = 'note'`)[0]!.n, 1000);
    assert.equal((await h.sql`select count(*)::int as n from audit_log where action = 'incident.note' and target_id = ${incidentId}`)[0]!.n, 1);
  });

  it('stamps notes and acknowledgements after the latest entry written under the lock, not after a delivery on a clock ahead, and at most 60 s ahead', async () => {
    const path = `/v1/incidents/${incidentId}/notes`;
    const now = h.clock.now().getTime();
    const at = (ms: number) => new Date(now + ms).toISOString();
    // A delivery recorded by a notifier whose clock runs an hour ahead: written without the incident's lock.
    await addTimeline(h.sql, [{ incident_id: incidentId, at: new Date(now + 3_600_000), kind: 'notified', detail: { event: 'opened' } }]);
    const note = await expectJson<{ at: string }>(await h.admin('POST', path, { note: 'restarting db-3' }), 201);
    assert.equal(note.at, at(0), 'not an hour in the future');
    // An escalation whose worker read a clock 20 s ahead, under the lock: what follows reads after it.
    await addTimeline(h.sql, [{ incident_id: incidentId, at: new Date(now + 20_000), kind: 'escalated', detail: { level: 1, step: 1 } }]);
    h.clock.advance(1_000);
    const acked = await expectJson<{ acknowledged_at: string }>(await h.admin('POST', `/v1/incidents/${incidentId}/acknowledge`, { by: 'alice' }), 200);
    assert.equal(acked.acknowledged_at, at(20_000));
    const one = await expectJson<Incident>(await h.admin('GET', `/v1/incidents/${incidentId}`), 200);
    assert.equal(one.timeline.find((t) => t.kind === 'acknowledged')!.at, acked.acknowledged_at, 'the acknowledgement and its entry are one instant');
    assert.deepEqual(one.timeline.map((t) => t.kind), ['note', 'escalated', 'acknowledged', 'notified']);
    // A locked entry from a clock far ahead moves a stamp at most 60 s past now.
    await addTimeline(h.sql, [{ incident_id: incidentId, at: new Date(now + 7_200_000), kind: 'escalated', detail: { level: 2, step: 2 } }]);
    const capped = await expectJson<{ at: string }>(await h.admin('POST', path, { note: 'vendor ticket #123' }), 201);
    assert.equal(capped.at, at(1_000 + 60_000));
  });

  it('stamps an escalation after a note written under the lock from a clock ahead, not after a delivery', async () => {
    const zoe = await expectJson<{ id: string }>(await h.admin('POST', '/v1/users', { name: 'Zoe', email: 'zoe@example.com' }), 201);
    const policy = await expectJson<{ id: string }>(await h.admin('POST', '/v1/escalation-policies', { name: 'Zoe twice', levels: [{ after_seconds: 0, user_ids: [zoe.id] }, { after_seconds: 60, user_ids: [zoe.id] }] }), 201);
    const node = await h.createNode('esc-1', { escalation_policy_id: policy.id });
    const down = h.clock.now();
    await h.sql.begin(async (tx) => pageLater(tx, (await followNodes(tx, [{ nodeId: node.id, nodeName: node.name, from: 'healthy', to: 'down', at: down, reason: 'no heartbeat' }], down, true)).pages, down));
    const [incident] = await h.sql<{ id: string }[]>`select id from incidents where node_id = ${node.id}`;
    const fires = down.getTime() + 61_000;
    await addTimeline(h.sql, [
      { incident_id: incident!.id, at: new Date(fires + 30_000), kind: 'note', detail: { by: 'alice', note: 'on it' } },
      { incident_id: incident!.id, at: new Date(fires + 3_600_000), kind: 'notified', detail: { event: 'opened' } },
    ]);
    await h.sql.begin((tx) => escalate(tx, [{ incidentId: incident!.id, step: 1, atOnce: false }], new Date(fires), true));
    const [escalated] = await h.sql<{ at: Date }[]>`select at from incident_timeline where incident_id = ${incident!.id} and kind = 'escalated'`;
    assert.equal(escalated!.at.toISOString(), new Date(fires + 30_000).toISOString());
  });

  it('answers a stale If-Match with 412 and changes nothing', async () => {
    const res = await h.req('POST', `/v1/incidents/${incidentId}/resolve`, { token: ADMIN_TOKEN, json: {}, headers: { 'if-match': '"7"' } });
    await expectError(res, 412, 'precondition_failed');
    assert.deepEqual(await incidentRow(), { status: 'open', version: 1 });
    assert.deepEqual(await events(), []);
  });

  it('takes If-Match: * as any current version (RFC 9110), on acknowledge and on resolve', async () => {
    const any = { token: ADMIN_TOKEN, json: {}, headers: { 'if-match': '*' } };
    const acked = await expectJson<Incident>(await h.req('POST', `/v1/incidents/${incidentId}/acknowledge`, any), 200);
    assert.deepEqual([acked.status, acked.version], ['acknowledged', 2]);
    const resolved = await expectJson<Incident>(await h.req('POST', `/v1/incidents/${incidentId}/resolve`, any), 200);
    assert.equal(resolved.status, 'resolved');
  });

  it('names in a 412 the change the If-Match missed: an escalation, then an acknowledgement', async () => {
    const at = h.clock.advance(300_000);
    // Level 2 paged, as an escalation step writes it.
    await h.sql`update incidents set escalation_step = 1, escalation_level = 1, version = 2 where id = ${incidentId}`;
    await addTimeline(h.sql, [{ incident_id: incidentId, at, kind: 'escalated', detail: { level: 1, step: 1, channel_ids: [], users: [] } }]);
    const stale = { token: ADMIN_TOKEN, json: {}, headers: { 'if-match': '1' } };
    const err = await expectError(await h.req('POST', `/v1/incidents/${incidentId}/acknowledge`, stale), 412, 'precondition_failed');
    assert.equal(err.message, `The incident is at version 2, not 1; its latest change: escalated to level 2 at ${at.toISOString()}.`);
    await expectJson(await h.admin('POST', `/v1/incidents/${incidentId}/acknowledge`, { by: 'alice' }), 200);
    const after = await expectError(await h.req('POST', `/v1/incidents/${incidentId}/resolve`, stale), 412, 'precondition_failed');
    assert.equal(after.message, `The incident is at version 3, not 1; its latest change: acknowledged by alice at ${at.toISOString()}.`);
    assert.deepEqual(await incidentRow(), { status: 'acknowledged', version: 3 });
  });

  it('lists a timeline in the order things happened, an entry written late but stamped early in its place', async () => {
    const t0 = h.clock.now();
    const later = new Date(t0.getTime() + 2_000);
    await addTimeline(h.sql, [
      { incident_id: incidentId, at: t0, kind: 'acknowledged', detail: { by: 'alice' } },
      { incident_id: incidentId, at: later, kind: 'delivery_sent', detail: {} },
    ]);
    // Written when the next level's timer fired, stamped with the acknowledgement that stopped it.
    await addTimeline(h.sql, [{ incident_id: incidentId, at: t0, kind: 'escalation_stopped', detail: { step: 1, reason: 'acknowledged', by: 'alice' } }]);
    const one = await expectJson<Incident>(await h.admin('GET', `/v1/incidents/${incidentId}`), 200);
    assert.deepEqual(one.timeline.map((t) => t.kind), ['acknowledged', 'escalation_stopped', 'delivery_sent']);
  });

  it('rejects bad input on every incident route without changing anything', async () => {
    const path = `/v1/incidents/${incidentId}`;
    await expectInvalid(await h.req('POST', `${path}/acknowledge`, { token: ADMIN_TOKEN, json: {}, headers: { 'if-match': 'yesterday' } }), ['If-Match']);
    await expectInvalid(await h.admin('POST', `${path}/acknowledge`, { by: 5 }), ['by']);
    // The engine's own markers, which messages show as "Lifeline" or "key <name>": no caller may claim them.
    for (const by of ['auto', ' node_deleted', 'api-key:00000000-0000-4000-8000-000000000001', 'node:web-1']) {
      const err = await expectInvalid(await h.admin('POST', `${path}/acknowledge`, { by }), ['by']);
      assert.match(err.details![0]!.message, /kept for the engine/);
      await expectInvalid(await h.admin('POST', `${path}/resolve`, { by, note: 'x' }), ['by']);
    }
    // One answer names every problem: the unknown field beside the bad known ones.
    await expectInvalid(await h.admin('POST', `${path}/resolve`, { by: '', note: 'x'.repeat(2001), color: 'red' }), ['by', 'color', 'note']);
    await expectInvalid(await h.admin('POST', `${path}/resolve`, { note: 'x'.repeat(2001) }), ['note']);
    await expectError(await h.req('POST', `${path}/resolve`, { token: ADMIN_TOKEN, body: '{"by":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    await expectError(await h.req('POST', `${path}/resolve`, { token: ADMIN_TOKEN, body: 'by=me', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    await expectInvalid(await h.admin('GET', '/v1/incidents?status=closed'), ['status']);
    await expectInvalid(await h.admin('GET', '/v1/incidents?node_id=db%201'), ['node_id']);
    await expectInvalid(await h.admin('GET', '/v1/incidents?cursor=bogus'), ['cursor']);
    await expectError(await h.admin('GET', '/v1/incidents/00000000-0000-4000-8000-00000000abcd'), 404, 'not_found');
    await expectError(await h.admin('POST', '/v1/incidents/not-an-id/resolve', {}), 404, 'not_found');
    await expectError(await h.admin('GET', '/v1/incidents/not-an-id/deliveries'), 404, 'not_found');
    await expectError(await h.req('GET', '/v1/incidents'), 401, 'unauthorized');
    const read = await h.createKey('read');
    await expectError(await h.req('POST', `${path}/acknowledge`, { token: read.secret, json: {} }), 403, 'forbidden');
    const ingest = await h.createKey('ingest');
    await expectError(await h.req('GET', '/v1/incidents', { token: ingest.secret }), 403, 'forbidden');
    assert.deepEqual(await incidentRow(), { status: 'open', version: 1 });
    assert.deepEqual(await events(), []);
  });

  it('lists deliveries with their status', async () => {
    const channel = '00000000-0000-4000-8000-0000000000c1';
    await insertDeliveries(h.sql, [{ incidentId, event: 'opened', eventKey: 'opened', channelId: channel, channelType: 'webhook', occurredAt: h.clock.now() }], h.clock.now());
    const body = await expectJson<{ items: Array<Record<string, unknown>> }>(await h.admin('GET', `/v1/incidents/${incidentId}/deliveries`), 200);
    assert.deepEqual(body.items.map((d) => [d.channel_id, d.event, d.status, d.attempts, d.last_error, d.sent_at]), [[channel, 'opened', 'pending', 0, null, null]]);
  });
});
