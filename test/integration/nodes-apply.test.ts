import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node, NodeWithToken } from '../../src/api/shapes.ts';
import { createSql } from '../../src/db/client.ts';
import { ADMIN_TOKEN, createHarness, expectError, expectInvalid, expectJson, type Harness } from '../helpers/app.ts';
import { holdOpen, waitsOnLock } from '../helpers/locks.ts';

// A deploy script applies the fleet as code, again and again: PUT by name creates a node once,
// then changes it only where the file changed, and a ping key may move after creation.

let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => {
  await h.close();
});

const put = (name: string, json: unknown, headers: Record<string, string> = {}) => h.req('PUT', `/v1/nodes/by-name/${encodeURIComponent(name)}`, { token: ADMIN_TOKEN, json, headers });
const patch = (ref: string, json: unknown) => h.req('PATCH', `/v1/nodes/${ref}`, { token: ADMIN_TOKEN, json });
const updatedAt = async (name: string) => (await h.sql<{ updated_at: Date }[]>`select updated_at from nodes where name = ${name}`)[0]!.updated_at.getTime();
const auditOf = (id: string) => h.sql<{ action: string; result: string; detail: { changes?: Record<string, unknown> } }[]>`
  select action, result, detail from audit_log where target_id = ${id} order by id`;

// Two keys of 22+ characters with enough different ones (pingKeyProblem), as Healthchecks' UUIDs are.
const HC_KEY = '0f3c1a9e-5b7d-4e21-9c8a-6d2b4f1e7a30';
const OTHER_KEY = 'b2e4c6a8-1d3f-4a5b-8c7d-9e0f1a2b3c4d';

describe('PUT /v1/nodes/by-name/{name}', () => {
  it('creates with a token once, then answers unchanged writing nothing, then applies a change', async () => {
    const spec = { labels: { role: 'web' }, heartbeat_interval_seconds: 10, failures_for_down: 2 };
    const first = await put('apply-web-1', spec);
    assert.equal(first.headers.get('lifeline-outcome'), 'created');
    const created = await expectJson<NodeWithToken>(first, 201);
    assert.match(created.token, /^lln_/);
    assert.deepEqual([created.labels, created.heartbeat_interval_seconds, created.failures_for_down, created.grace_seconds], [{ role: 'web' }, 10, 2, 0]);

    const stamp = await updatedAt('apply-web-1');
    const again = await put('apply-web-1', spec);
    assert.equal(again.headers.get('lifeline-outcome'), 'unchanged');
    assert.equal(again.headers.get('etag'), `"${stamp}"`);
    const same = await expectJson<Node & { token?: string }>(again, 200);
    assert.equal(same.token, undefined, 'a token only on creation');
    assert.equal(await updatedAt('apply-web-1'), stamp, 'settings as they are write nothing');

    // A PUT is the whole state: the failures left out go back to 3, the labels are replaced.
    const changed = await put('apply-web-1', { labels: { role: 'api' }, heartbeat_interval_seconds: 10 });
    assert.equal(changed.headers.get('lifeline-outcome'), 'updated');
    const now = await expectJson<Node>(changed, 200);
    assert.deepEqual([now.labels, now.failures_for_down, now.ping_key], [{ role: 'api' }, 3, created.ping_key]);
    assert.notEqual(await updatedAt('apply-web-1'), stamp);
    // A reconcile loop's unchanged PUTs leave no audit row (500 nodes a minute would be 720,000 a
    // day); a PATCH that changes nothing is still recorded as unchanged.
    assert.equal((await put('apply-web-1', { labels: { role: 'api' }, heartbeat_interval_seconds: 10 })).headers.get('lifeline-outcome'), 'unchanged');
    assert.equal((await patch(created.id, { heartbeat_interval_seconds: 10 })).status, 200);
    assert.deepEqual(
      (await auditOf(created.id)).map((r) => [r.action, r.result]),
      [
        ['node.create', 'done'],
        ['node.update', 'done'],
        ['node.update', 'unchanged'],
      ],
    );

    // A schedule replaces the interval; left out again, the job is a heartbeat node of the default interval.
    const job = await expectJson<Node>(await put('apply-web-1', { schedule: { cron: '0 3 * * *' } }), 200);
    assert.deepEqual(job.schedule, { cron: '0 3 * * *', time_zone: 'UTC', grace_seconds: 300, max_run_seconds: null });
    assert.equal((await put('apply-web-1', { schedule: { cron: '0 3 * * *' } })).headers.get('lifeline-outcome'), 'unchanged');
    const back = await expectJson<Node>(await put('apply-web-1', {}), 200);
    assert.deepEqual([back.schedule, back.heartbeat_interval_seconds, back.labels], [null, 30, {}]);
  });

  it('makes one node of two first applies at once: the other applies over it', async () => {
    const both = await Promise.all([put('apply-race', { grace_seconds: 7 }), put('apply-race', { grace_seconds: 7 })]);
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 201]);
    assert.equal((await h.sql`select 1 from nodes where name = 'apply-race' and grace_seconds = 7`).length, 1);
  });

  it('reads a policy id in capitals as the same id: re-sent, it is unchanged', async () => {
    const channel = await expectJson<{ id: string }>(await h.req('POST', '/v1/channels', { token: ADMIN_TOKEN, json: { name: 'apply-mail', type: 'email', config: { to: ['ops@example.com'] } } }), 201);
    const policy = await expectJson<{ id: string }>(
      await h.req('POST', '/v1/escalation-policies', { token: ADMIN_TOKEN, json: { name: 'apply-policy', levels: [{ after_seconds: 0, channel_ids: [channel.id] }] } }),
      201,
    );
    const spec = { escalation_policy_id: policy.id.toUpperCase() };
    assert.equal((await expectJson<Node>(await put('apply-paged', spec), 201)).escalation_policy_id, policy.id);
    assert.equal((await put('apply-paged', spec)).headers.get('lifeline-outcome'), 'unchanged');
  });

  it('honours If-Match: a stale version is 412, and none at all is 412 for a node that does not exist', async () => {
    const res = await put('apply-etag', {});
    assert.equal(res.status, 201);
    const read = res.headers.get('etag')!;
    assert.equal((await put('apply-etag', { grace_seconds: 5 }, { 'if-match': read })).status, 200);
    await expectError(await put('apply-etag', { grace_seconds: 9 }, { 'if-match': read }), 412, 'precondition_failed');
    assert.equal((await h.sql`select 1 from nodes where name = 'apply-etag' and grace_seconds = 5`).length, 1, 'the stale write changed nothing');
    await expectError(await put('apply-never', {}, { 'if-match': '*' }), 412, 'precondition_failed');
    assert.equal((await h.sql`select 1 from nodes where name = 'apply-never'`).length, 0, 'nothing created');
  });

  it('refuses hostile input as POST does, in the error shape', async () => {
    await expectInvalid(await put('a'.repeat(129), {}), ['name']);
    await expectInvalid(await put('bad name!', {}), ['name']);
    await expectInvalid(await put('apply-bad', { name: 'other' }), ['name']);
    await expectInvalid(await put('apply-bad', { heartbeat_interval_seconds: 0, labels: { 'bad key': 'x' } }), ['heartbeat_interval_seconds', 'labels.bad key']);
    await expectInvalid(await put('apply-bad', { schedule: { cron: '0 3 * * *' }, heartbeat_interval_seconds: 60 }), ['heartbeat_interval_seconds']);
    await expectInvalid(await put('apply-bad', { ping_key: 'aaaaaaaaaaaaaaaaaaaaaaaaaa' }), ['ping_key']);
    await expectInvalid(await put('apply-bad', {}, { 'if-match': 'yesterday' }), ['If-Match']);
    assert.equal((await h.sql`select 1 from nodes where name = 'apply-bad'`).length, 0);
  });
});

describe('a ping key changed after creation', () => {
  it('moves the ping URL (PATCH and PUT), refuses a taken key with 409, and is audited only as changed', async () => {
    const job = await expectJson<NodeWithToken>(await put('apply-job', { schedule: { cron: '*/5 * * * *' } }), 201);
    assert.equal((await h.req('GET', `/ping/${HC_KEY}`)).status, 404, 'remembered as unknown before the move');

    const moved = await expectJson<Node>(await patch(job.id, { ping_key: HC_KEY }), 200);
    assert.equal(moved.ping_key, HC_KEY);
    assert.equal((await h.req('GET', `/ping/${job.ping_key}`)).status, 404, 'the old URL stops at once');
    assert.equal((await h.req('GET', `/ping/${HC_KEY}`)).status, 200, 'the new URL works at once');

    // Through the PUT, keeping the same key is unchanged; another one moves it again.
    assert.equal((await put('apply-job', { schedule: { cron: '*/5 * * * *' }, ping_key: HC_KEY })).headers.get('lifeline-outcome'), 'unchanged');
    assert.equal((await put('apply-job', { schedule: { cron: '*/5 * * * *' }, ping_key: OTHER_KEY })).headers.get('lifeline-outcome'), 'updated');
    assert.equal((await h.req('GET', `/ping/${HC_KEY}`)).status, 404);
    assert.equal((await h.req('GET', `/ping/${OTHER_KEY}`)).status, 200);

    // Another node may not take it, by either door: 409, and nothing changed.
    const other = await h.createNode('apply-other');
    const taken = await expectError(await patch(other.id, { ping_key: OTHER_KEY }), 409, 'conflict');
    assert.doesNotMatch(taken.message, new RegExp(OTHER_KEY), 'the key is not repeated');
    await expectError(await put('apply-other', { ping_key: OTHER_KEY }), 409, 'conflict');
    await expectInvalid(await patch(other.id, { ping_key: 'short' }), ['ping_key']);
    assert.equal((await h.req('GET', `/ping/${OTHER_KEY}`)).status, 200, 'still the job');

    const changes = (await auditOf(job.id)).filter((r) => r.result === 'done' && r.action === 'node.update').map((r) => r.detail.changes);
    assert.deepEqual(changes, [{ ping_key: 'changed' }, { ping_key: 'changed' }]);
    const logged = JSON.stringify(await h.sql`select * from audit_log`);
    assert.ok(!logged.includes(HC_KEY) && !logged.includes(OTHER_KEY), 'no ping key in the log');
  });
});

describe('a PUT or PATCH meeting a DELETE or a rename', () => {
  /** `request` started, once it waits on a lock another transaction holds on its node (its answer wrapped, not awaited). */
  async function waiting(request: Promise<Response>): Promise<{ answer: Promise<Response> }> {
    let finished = false;
    const answer = request.finally(() => (finished = true));
    await waitsOnLock(h.db, 'lifeline-test', () => finished);
    return { answer };
  }

  it('creates the node when the one it found is deleted before its row is locked', async () => {
    const old = await h.createNode('apply-deleted');
    const deleting = await holdOpen(h.db, (tx) => tx`delete from nodes where id = ${old.id}`);
    const applying = await waiting(put('apply-deleted', { grace_seconds: 11 }));
    await deleting.commit();
    const res = await applying.answer;
    assert.equal(res.headers.get('lifeline-outcome'), 'created');
    const made = await expectJson<NodeWithToken>(res, 201);
    assert.notEqual(made.id, old.id);
    assert.equal(made.grace_seconds, 11);
  });

  it('leaves a node renamed before its row is locked as it is, and creates one of the name', async () => {
    const old = await h.createNode('apply-renamed');
    const renaming = await holdOpen(h.db, (tx) => tx`update nodes set name = 'apply-renamed-away' where id = ${old.id}`);
    const applying = await waiting(put('apply-renamed', { grace_seconds: 12 }));
    await renaming.commit();
    const made = await expectJson<NodeWithToken>(await applying.answer, 201);
    assert.notEqual(made.id, old.id);
    const [away] = await h.sql<{ grace_seconds: number }[]>`select grace_seconds from nodes where id = ${old.id}`;
    assert.equal(away!.grace_seconds, 0, 'the renamed node was not changed');
  });

  it('deletes a node an edit holds, after the edit, without a deadlock: both lock node_due first', async () => {
    const node = await h.createNode('delete-vs-edit');
    // An edit's two locks (lockEditable), with the DELETE let in between them.
    const editor = createSql(h.db.url, { dedicated: true, applicationName: 'lifeline-test-editor' });
    let locked!: () => void;
    const dueLocked = new Promise<void>((r) => (locked = r));
    let goOn!: () => void;
    const deleteWaits = new Promise<void>((r) => (goOn = r));
    const edit = editor.begin(async (tx) => {
      await tx`select 1 from node_due where node_id = ${node.id} for no key update`;
      locked();
      await deleteWaits;
      return tx`select name from nodes where id = ${node.id} for no key update`;
    });
    try {
      await dueLocked;
      const deleting = await waiting(h.admin('DELETE', `/v1/nodes/${node.id}`));
      goOn();
      assert.deepEqual([...(await edit)], [{ name: 'delete-vs-edit' }], 'the edit got its node');
      assert.equal((await deleting.answer).status, 204);
    } finally {
      await editor.end({ timeout: 1 });
    }
  });
});
