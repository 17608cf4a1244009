import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openIncidents } from '../../src/incidents/store.ts';
import { ADMIN_TOKEN, createHarness, expectError, expectInvalid, type Harness } from '../helpers/app.ts';
import { createPipeline } from '../helpers/pipeline.ts';
import { readEvents } from '../helpers/sse.ts';
import { until } from '../helpers/wait.ts';

// GET /v1/events: changes committed by the evaluator and by incident writers reach a listener
// through Postgres NOTIFY, in commit order, with the rows they name.

describe('the live event stream', () => {
  let h: Harness;
  let p: ReturnType<typeof createPipeline>;
  let stopFeed: () => Promise<void>;

  before(async () => {
    h = await createHarness();
    p = createPipeline(h.db, h.clock);
    stopFeed = await h.feed.listen();
    await p.flush();
  });
  after(async () => {
    await stopFeed();
    await p.close();
    await h.close();
  });

  async function listen(path = '/v1/events', token = ADMIN_TOKEN) {
    const before = h.feed.size;
    const res = await h.req('GET', path, { token });
    if (res.status !== 200) assert.fail(`${res.status}: ${await res.text()}`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    await until('the stream to subscribe', async () => h.feed.size > before);
    return readEvents(res);
  }

  it('streams each committed transition with its node, in version order', async () => {
    const stream = await listen();
    const id = await p.addNode('ev-1');
    p.beat(id);
    await p.tick();
    p.beat(id, 'failing');
    await p.tick();
    const first = await stream.next((e) => e.event === 'node.state_changed');
    const second = await stream.next((e) => e.event === 'node.state_changed');
    assert.deepEqual(first.data, {
      node_id: id,
      node_name: 'ev-1',
      from: 'unknown',
      to: 'healthy',
      at: h.clock.now().toISOString(),
      reason: (first.data as { reason: string }).reason,
      state_version: 1,
    });
    assert.deepEqual([(second.data as { from: string }).from, (second.data as { to: string }).to, (second.data as { state_version: number }).state_version], ['healthy', 'down', 2]);
    await stream.stop();
  });

  it('streams incident changes, and only the types asked for', async () => {
    const stream = await listen('/v1/events?types=incident.changed');
    const node = await h.createNode('ev-db');
    const [incident] = await openIncidents(h.sql, [
      { nodeId: node.id, nodeName: 'ev-db', category: 'node_down', severity: 'critical', title: 'ev-db is down', reason: 'x', policyId: null, openedAt: h.clock.now() },
    ]);
    // A transition the stream must not carry, then an acknowledgement it must.
    const other = await p.addNode('ev-2');
    p.beat(other);
    await p.tick();
    const res = await h.admin('POST', `/v1/incidents/${incident!.id}/acknowledge`, { by: 'alice' });
    assert.equal(res.status, 200);
    const e = await stream.next();
    assert.equal(e.event, 'incident.changed');
    assert.deepEqual(
      (({ id, status, acknowledged_by, version }) => ({ id, status, acknowledged_by, version }))(e.data as Record<string, unknown>),
      { id: incident!.id, status: 'acknowledged', acknowledged_by: 'alice', version: 2 },
    );
    assert.deepEqual(stream.seen.map((s) => s.event), ['incident.changed']);
    await stream.stop();
  });

  it('needs read scope and takes only known types', async () => {
    await expectError(await h.req('GET', '/v1/events'), 401, 'unauthorized');
    const ingest = await h.createKey('ingest');
    await expectError(await h.req('GET', '/v1/events', { token: ingest.secret }), 403, 'forbidden');
    await expectInvalid(await h.admin('GET', '/v1/events?types=node.state_changed,node.created'), ['types.1']);
    const read = await h.createKey('read');
    const stream = await listen('/v1/events', read.secret);
    await stream.stop();
  });

  it('ends every stream when the feed closes, so a stopping server is not held open', async () => {
    const a = await listen();
    const b = await listen('/v1/events?types=node.state_changed');
    h.feed.close();
    await Promise.all([a.ended(), b.ended()]);
    assert.equal(h.feed.size, 0);
  });
});
