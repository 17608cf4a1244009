import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Node, NodeWithToken } from '../../src/api/shapes.ts';
import { createSql, type Sql, type Tx } from '../../src/db/client.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { PingKeys } from '../../src/ingest/ping-keys.ts';
import { PING_KEY_CHANNEL } from '../../src/nodes/store.ts';
import { ADMIN_TOKEN, buildApp, createHarness, expectJson, send, type Harness } from '../helpers/app.ts';
import { afterQuery, holdOpen, waitsOnLock } from '../helpers/locks.ts';
import { withPatience } from '../helpers/wait.ts';

// A ping key moved to another node must stop reaching the old one everywhere before another node
// is given it: a `/fail` on the old key would otherwise mark the wrong job down. Two api processes'
// worth of state on one database: A (the harness's app) makes the changes, B (its own pool, its
// own caches) serves the pings. The clock never moves, so only a notice can make B forget.

// Keys of 22+ characters with enough different ones (pingKeyProblem).
const K1 = '0f3c1a9e-5b7d-4e21-9c8a-6d2b4f1e7a30';
const K2 = 'b2e4c6a8-1d3f-4a5b-8c7d-9e0f1a2b3c4d';
const K3 = 'c7d9e1f3-2a4b-4c6d-8e0f-1a3b5c7d9e2f';

let h: Harness;
let sqlB: Sql;
let b: ReturnType<typeof buildApp>;
let bufferB: HeartbeatBuffer;
const stops: Array<() => Promise<void>> = [];

before(async () => {
  h = await createHarness();
  sqlB = createSql(h.db.url, { max: 4, applicationName: 'lifeline-test-other-api' });
  bufferB = new HeartbeatBuffer();
  b = buildApp({ sql: sqlB, clock: h.clock, buffer: bufferB });
  // Only B listens: A forgets what it changed itself (the last test shows it does so without a notice).
  stops.push(await b.ingestor.listen());
});
after(async () => {
  for (const stop of stops) await stop();
  await sqlB?.end({ timeout: 1 });
  await h?.close();
});

const put = (name: string, json: unknown) => h.req('PUT', `/v1/nodes/by-name/${name}`, { token: ADMIN_TOKEN, json });
const JOB = { schedule: { cron: '0 3 * * *' } };

/** Starts listening on B's pool; what it returns waits until B has heard a ping key change. */
async function heardByB(): Promise<() => Promise<void>> {
  let heard!: () => void;
  const event = new Promise<void>((resolve) => (heard = resolve));
  const l = await sqlB.listen(PING_KEY_CHANNEL, () => {
    void l.unlisten();
    heard();
  });
  return () => withPatience('B to hear a ping key change', event);
}

/** Runs `change` on A and waits until B has heard of it. */
async function onA<T>(change: () => Promise<T>): Promise<T> {
  const heard = await heardByB();
  const done = await change();
  await heard();
  return done;
}

/** Which node B's ping of `path` reached, by what B buffered; undefined for a 404. */
async function pingedOnB(path: string): Promise<string | undefined> {
  const res = await send(b.app, 'GET', path);
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200, await res.text());
  const pings = bufferB.takePings();
  bufferB.take();
  assert.equal(pings.length, 1);
  return pings[0]!.nodeId;
}

describe('a ping key moved in one process', () => {
  it('stops reaching its old node in another as the move commits, so a node given it next gets its pings', async () => {
    const jobA = await onA(async () => expectJson<NodeWithToken>(await put('job-a', { ...JOB, ping_key: K1 }), 201));
    assert.equal(await pingedOnB(`/ping/${K1}`), jobA.id, 'B now remembers K1 as job-a');

    await onA(async () => assert.equal((await put('job-a', { ...JOB, ping_key: K2 })).headers.get('lifeline-outcome'), 'updated'));
    assert.equal(await pingedOnB(`/ping/${K1}`), undefined, 'the old key is 404 on B');
    assert.equal(await pingedOnB(`/ping/${K2}`), jobA.id);

    // B now remembers K1 as unknown: the node created with it must get its pings at once.
    const jobB = await onA(async () => expectJson<NodeWithToken>(await put('job-b', { ...JOB, ping_key: K1 }), 201));
    assert.equal(await pingedOnB(`/ping/${K1}/fail`), jobB.id, 'the failure is job-b’s, not job-a’s');

    // Rotated, and deleted: the same.
    await onA(async () => assert.equal((await h.admin('POST', `/v1/nodes/${jobB.id}/ping-key`)).status, 200));
    assert.equal(await pingedOnB(`/ping/${K1}`), undefined, 'a rotated key is 404 on B');
    await onA(async () => assert.equal((await h.admin('DELETE', `/v1/nodes/${jobA.id}`)).status, 204));
    assert.equal(await pingedOnB(`/ping/${K2}`), undefined, "a deleted node's key is 404 on B");
  });
});

describe("a ping key cache's lookup", () => {
  it('is not kept when the key was forgotten while it ran: it may have read the row as it was', async () => {
    const node = await h.createNode('in-flight', { ...JOB, ping_key: K3 });
    const moved = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
    // What a process does when the move commits while its lookup of the old key is under way.
    const keys: PingKeys = new PingKeys(
      afterQuery(h.sql as unknown as Tx, 1, async () => {
        await h.sql`update nodes set ping_key = ${moved} where id = ${node.id}`;
        keys.forget(K3);
      }) as unknown as Sql,
    );
    assert.equal(await keys.nodeId(K3), node.id, 'the lookup read the row before the move');
    assert.equal(await keys.nodeId(K3), null, 'and its answer was not kept');
  });
});

describe('a PATCH moving a ping key', () => {
  it('forgets the key the node had when its row was locked, not the one read before', async () => {
    const node = await h.createNode('patched-key', JOB);
    const between = 'd1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a';
    const last = 'e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9';
    // The PATCH reads the node, then waits on node_due while another change moves the key to `between`.
    const due = await holdOpen(h.db, (tx) => tx`select 1 from node_due where node_id = ${node.id} for no key update`);
    const move = await holdOpen(h.db, (tx) => tx`update nodes set ping_key = ${between} where id = ${node.id}`);
    let finished = false;
    const patching = h.admin('PATCH', `/v1/nodes/${node.id}`, { ping_key: last }).finally(() => (finished = true));
    await waitsOnLock(h.db, 'lifeline-test', () => finished);
    await move.commit();
    // A ping of the key as it now is, remembered by this process before the PATCH moves it on.
    assert.equal((await h.req('GET', `/ping/${between}`)).status, 200);
    await due.release();
    assert.equal((await expectJson<Node>(await patching, 200)).ping_key, last);
    assert.equal((await h.req('GET', `/ping/${between}`)).status, 404, 'the key moved away from answers 404 at once');
  });
});
