import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentialOf, fingerprintOf } from '../../src/idempotency/model.ts';
import { ADMIN_TOKEN, createHarness, expectError, expectJson, type Harness } from '../helpers/app.ts';

// Idempotency-Key on POST and PATCH: a retry gets the first answer and nothing is done twice.

let h: Harness;
let writer: { id: string; secret: string };

before(async () => {
  h = await createHarness();
  writer = await h.createKey('write', 'retrying-client');
});
after(() => h.close());

const post = (path: string, json: unknown, key: string, token = writer.secret) => h.req('POST', path, { token, json, headers: { 'idempotency-key': key } });
const nodesNamed = async (name: string) => (await h.sql`select count(*)::int as n from nodes where name = ${name}`)[0]!.n as number;
const auditRows = async (action: string, name: string) =>
  (await h.sql`select count(*)::int as n from audit_log where action = ${action} and target_name = ${name}`)[0]!.n as number;

describe('idempotent retries', () => {
  it('answers a retried POST /v1/nodes with the first answer, token included, and creates one node', async () => {
    const first = await post('/v1/nodes', { name: 'retry-1' }, 'key-retry-1');
    const body = await expectJson<{ id: string; token: string }>(first, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const again = await post('/v1/nodes', { name: 'retry-1' }, 'key-retry-1');
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.match(again.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await again.json(), body, 'the same node and the same token');
    assert.equal(await nodesNamed('retry-1'), 1);
    assert.equal(await auditRows('node.create', 'retry-1'), 1, 'acted once');
    // The token works: it is the one the node has.
    assert.equal((await h.req('POST', '/v1/heartbeats', { token: body.token, json: {} })).status, 202);
  });

  it('keeps stored answers sealed: no token in the table', async () => {
    const body = await expectJson<{ token: string }>(await post('/v1/nodes', { name: 'retry-sealed' }, 'key-sealed'), 201);
    const [row] = await h.sql<{ answer: string }[]>`select answer from idempotency_keys where key = 'key-sealed'`;
    assert.ok(row?.answer.startsWith('v2.'), 'sealed');
    assert.ok(!row!.answer.includes(body.token) && !row!.answer.includes(body.token.slice(4)), 'the token is not stored in clear');
  });

  it('lets concurrent retries act once: one answer acts, the others replay it or are told to retry', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => post('/v1/nodes', { name: 'retry-concurrent' }, 'key-concurrent')));
    const acted = answers.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === null);
    assert.equal(acted.length, 1, 'exactly one request acted');
    const node = (await acted[0]!.json()) as { id: string; token: string };
    for (const r of answers.filter((a) => a !== acted[0])) {
      if (r.status === 201) {
        assert.equal(r.headers.get('idempotent-replayed'), 'true');
        assert.deepEqual(await r.json(), node);
      } else {
        assert.equal(r.headers.get('retry-after'), '1');
        await expectError(r, 409, 'conflict');
      }
    }
    assert.equal(await nodesNamed('retry-concurrent'), 1);
    // Once the first has answered, a retry gets its answer.
    assert.deepEqual(await (await post('/v1/nodes', { name: 'retry-concurrent' }, 'key-concurrent')).json(), node);
  });

  it('refuses a key reused for another body or path with 422, changing nothing', async () => {
    await expectJson(await post('/v1/nodes', { name: 'retry-2' }, 'key-reused'), 201);
    const other = await h.rejected(() => post('/v1/nodes', { name: 'retry-3' }, 'key-reused'));
    await expectError(other, 422, 'idempotency_key_reused');
    await expectError(await h.rejected(() => post('/v1/channels', { name: 'x', type: 'email', config: { to: ['a@example.com'] } }, 'key-reused')), 422, 'idempotency_key_reused');
    assert.equal(await nodesNamed('retry-3'), 0);
  });

  it("keeps each credential's keys apart", async () => {
    await expectJson(await post('/v1/nodes', { name: 'retry-4' }, 'key-shared'), 201);
    // The same key and body from another credential is another request: it acts (and finds the name taken).
    await expectError(await post('/v1/nodes', { name: 'retry-4' }, 'key-shared', ADMIN_TOKEN), 409, 'conflict');
  });

  it('gives the key up when the first request fails, so its corrected retry acts', async () => {
    await expectError(await h.rejected(() => post('/v1/nodes', { name: 'bad name!' }, 'key-failed')), 400, 'validation_failed');
    const [row] = await h.sql`select 1 from idempotency_keys where key = 'key-failed'`;
    assert.equal(row, undefined, 'no row kept for a refused request');
    await expectJson(await post('/v1/nodes', { name: 'retry-5' }, 'key-failed'), 201);
  });

  it('lets a retry act when the first died in flight, or after 24 h, and prunes keys past 24 h', async () => {
    const body = JSON.stringify({ name: 'retry-abandoned' });
    const k = { credential: credentialOf({ kind: 'key', keyId: writer.id, keyName: 'retrying-client', scope: 'write' }), key: 'key-abandoned' };
    const fingerprint = fingerprintOf('POST', '/v1/nodes', body);
    await h.sql`insert into idempotency_keys (credential, key, fingerprint, created_at)
                values (${k.credential}, ${k.key}, ${fingerprint}, ${new Date(h.clock.now().getTime() - 60_000)})`;
    await expectError(await post('/v1/nodes', { name: 'retry-abandoned' }, 'key-abandoned'), 409, 'conflict');
    await h.sql`update idempotency_keys set created_at = ${new Date(h.clock.now().getTime() - 6 * 60_000)} where key = ${k.key}`;
    await expectJson(await post('/v1/nodes', { name: 'retry-abandoned' }, 'key-abandoned'), 201);

    const firstKey = await expectJson<{ secret: string }>(await post('/v1/api-keys', { name: 'daily', scope: 'read' }, 'key-daily', ADMIN_TOKEN), 201);
    h.clock.advance(24 * 3_600_000 + 1);
    const nextDay = await expectJson<{ secret: string }>(await post('/v1/api-keys', { name: 'daily', scope: 'read' }, 'key-daily', ADMIN_TOKEN), 201);
    assert.notEqual(nextDay.secret, firstKey.secret, 'a key older than 24 h no longer replays');
    const [left] = await h.sql<{ n: number }[]>`select count(*)::int as n from idempotency_keys`;
    assert.equal(left!.n, 1, 'everything older than 24 h was pruned; the new claim is kept');
  });

  it('refuses a key that is not 1-255 visible ASCII characters', async () => {
    for (const bad of ['', 'x'.repeat(256), 'two words', 'é']) {
      const res = await h.rejected(() => post('/v1/nodes', { name: 'retry-bad-key' }, bad));
      const err = await expectError(res, 400, 'validation_failed');
      assert.deepEqual(err.details?.map((d) => d.field), ['Idempotency-Key']);
    }
  });

  it('replays PATCH too, and leaves GET and DELETE alone', async () => {
    const patch = () => h.req('PATCH', '/v1/nodes/retry-1', { token: writer.secret, json: { grace_seconds: 7 }, headers: { 'idempotency-key': 'key-patch' } });
    const first = await patch();
    await expectJson(first, 200);
    const replayed = await patch();
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    // The body is at the version the first answer named: the replay names it too, for an If-Match.
    assert.match(first.headers.get('etag') ?? '', /^"\d+"$/);
    assert.equal(replayed.headers.get('etag'), first.headers.get('etag'));
    assert.equal((await h.sql`select count(*)::int as n from audit_log where action = 'node.update'`)[0]!.n, 1, 'changed once');
    const get = await h.req('GET', '/v1/nodes/retry-1', { token: writer.secret, headers: { 'idempotency-key': 'é' } });
    assert.equal(get.status, 200, 'GET ignores the header');
  });
});
