import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { openIncidents } from '../../src/incidents/store.ts';
import { LIVE_CHANNEL } from '../../src/live/model.ts';
import { createLogger } from '../../src/logger.ts';
import { ADMIN_TOKEN, createHarness, expectError, expectInvalid, type Harness } from '../helpers/app.ts';
import { createPipeline } from '../helpers/pipeline.ts';
import { readEvents } from '../helpers/sse.ts';
import { until, withPatience } from '../helpers/wait.ts';

// GET /v1/events: changes committed by the evaluator and by incident writers reach a listener
// through Postgres NOTIFY, in commit order, with the rows they name.

describe('the live event stream', () => {
  let h: Harness;
  let p: ReturnType<typeof createPipeline>;
  let stopFeed: () => Promise<void>;
  let stopIdentity: () => Promise<void>;

  let logged = '';

  before(async () => {
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged += chunk.toString('utf8');
        done();
      },
    });
    h = await createHarness({ log: createLogger('warn', out) });
    p = createPipeline(h.db, h.clock);
    stopFeed = await h.feed.listen();
    stopIdentity = await h.identity.listen();
    await p.flush();
  });
  after(async () => {
    await stopIdentity();
    await stopFeed();
    await p.close();
    await h.close();
  });

  async function listen(path = '/v1/events', token: string | { cookie: string } = ADMIN_TOKEN) {
    const before = h.feed.size;
    const res = await h.req('GET', path, typeof token === 'string' ? { token } : { headers: token });
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

  it("streams a node's new reason while it stays down, after its transition, and only to those who ask for it", async () => {
    const all = await listen();
    const transitions = await listen('/v1/events?types=node.state_changed');
    const id = await p.addNode('ev-reason');
    const failing = async (check: string) => {
      h.clock.set(new Date(h.clock.now().getTime() + 1000));
      p.beat(id, 'failing', { [check]: { status: 'fail' } });
      await p.tick();
    };
    await failing('disk');
    await failing('memory');
    const down = await all.next((e) => (e.data as { node_id?: string }).node_id === id);
    assert.deepEqual([down.event, (down.data as { to: string }).to, (down.data as { reason: string }).reason], ['node.state_changed', 'down', 'agent reported failing (failing checks: disk)']);
    const renamed = await all.next((e) => (e.data as { node_id?: string }).node_id === id);
    assert.deepEqual(renamed, {
      event: 'node.reason_changed',
      data: { node_id: id, node_name: 'ev-reason', state: 'down', reason: 'agent reported failing (failing checks: memory)', state_version: 1 },
    });
    // Back to healthy: the narrow stream carries the two transitions and nothing between them.
    h.clock.set(new Date(h.clock.now().getTime() + 1000));
    p.beat(id);
    await p.tick();
    await transitions.next((e) => (e.data as { node_id: string; to: string }).node_id === id && (e.data as { to: string }).to === 'healthy');
    assert.deepEqual(
      transitions.seen.filter((e) => (e.data as { node_id: string }).node_id === id).map((e) => [e.event, (e.data as { to: string }).to]),
      [
        ['node.state_changed', 'down'],
        ['node.state_changed', 'healthy'],
      ],
    );
    await all.stop();
    await transitions.stop();
  });

  it('reads a reason notice once per node and version, and warns once of notices it cannot read', async () => {
    const stream = await listen('/v1/events?types=node.reason_changed');
    const down = async (name: string) => {
      const id = await p.addNode(name);
      p.beat(id, 'failing', { disk: { status: 'fail' } });
      await p.tick();
      const [row] = await h.sql<{ version: number }[]>`select version from node_health where node_id = ${id}`;
      return `${id}:${row!.version}`;
    };
    const twice = await down('ev-twice');
    const marker = await down('ev-marker');
    const notify = (payload: string) => h.sql`select pg_notify(${LIVE_CHANNEL}, ${payload})`;
    await notify(`r${twice},${twice}`);
    // A later release's kinds of notice, then one this reads: every notice before it was heard.
    await notify('x-a-later-kind');
    await notify('x-another');
    await notify(`r${marker}`);
    await stream.next((e) => (e.data as { node_id: string }).node_id === marker.split(':')[0]);
    assert.deepEqual(
      stream.seen.map((e) => (e.data as { node_id: string }).node_id),
      [twice.split(':')[0], marker.split(':')[0]],
      'the node named twice once',
    );
    assert.equal(logged.split('\n').filter((l) => l.includes('this version cannot read')).length, 1, logged);
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
    const unknown = await expectInvalid(await h.admin('GET', '/v1/events?types=node.state_changed,node.created,incident.opened'), ['types']);
    assert.equal(unknown.details![0]!.message, '"node.created", "incident.opened" are not event types: must be a comma list of node.state_changed, node.reason_changed, incident.changed');
    // A filter the stream does not read subscribed to every event: the widest answer to a typo.
    const typo = await expectInvalid(await h.admin('GET', '/v1/events?type=incident.changed'), ['type']);
    assert.equal(typo.details![0]!.message, 'is not a known field');
    const read = await h.createKey('read');
    const stream = await listen('/v1/events', read.secret);
    await stream.stop();
  });

  it('has open streams check again on a key revocation, not on a node token rotation', async () => {
    // Each stream's re-check is a watcher of the identity cache; count how often they are woken.
    let checks = 0;
    const unwatch = h.identity.watch(() => void (checks += 1));
    const stranger = await h.createKey('read', 'revoked after a rotation');
    const revoked = await listen('/v1/events', stranger.secret);
    const node = await h.createNode('ev-rotated');
    assert.equal((await h.admin('POST', `/v1/nodes/${node.id}/token`)).status, 200);
    assert.equal((await h.admin('DELETE', `/v1/api-keys/${stranger.id}`)).status, 204);
    // Notices on one channel arrive in commit order: once the revocation's ended the stream, the
    // rotation's was heard too.
    await withPatience('the revoked key\'s stream to end', revoked.ended());
    unwatch();
    assert.equal(checks, 1);
  });

  /** A console session's cookie, and its CSRF token as its pages hand it out. */
  async function signIn(key: string) {
    const res = await h.req('POST', '/sign-in', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' }, body: `key=${encodeURIComponent(key)}` });
    assert.equal(res.status, 303, await res.text());
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    const page = await (await h.req('GET', '/', { headers: { cookie } })).text();
    return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? assert.fail('no token on the page') };
  }

  /**
   * A transition that `watching` sees. Committed right after whatever should end another stream:
   * its notice is heard after that one's, so that stream holds it until its re-check ends it, and a
   * stream left open would carry it.
   */
  async function transitionSeenBy(watching: Awaited<ReturnType<typeof listen>>, name: string) {
    const id = await p.addNode(name);
    p.beat(id);
    await p.tick();
    await watching.next((e) => e.event === 'node.state_changed' && (e.data as { node_name: string }).node_name === name);
  }

  it('ends a stream when its key is revoked, and carries nothing after', async () => {
    const key = await h.createKey('read', 'revoked while listening');
    const admin = await listen();
    const revoked = await listen('/v1/events', key.secret);
    assert.equal((await h.admin('DELETE', `/v1/api-keys/${key.id}`)).status, 204);
    await transitionSeenBy(admin, 'ev-after-revoke');
    await withPatience('the revoked key\'s stream to end', revoked.ended());
    assert.deepEqual(revoked.seen, []);
    await admin.stop();
  });

  it('ends a console page\'s stream when its session signs out, and only that one', async () => {
    const admin = await listen();
    const kept = await signIn(ADMIN_TOKEN);
    const leaving = await signIn(ADMIN_TOKEN);
    const stays = await listen('/v1/events', { cookie: kept.cookie });
    const ends = await listen('/v1/events', { cookie: leaving.cookie });
    const out = await h.req('POST', '/sign-out', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', cookie: leaving.cookie }, body: `_csrf=${leaving.csrf}` });
    assert.equal(out.status, 303);
    await transitionSeenBy(admin, 'ev-after-sign-out');
    await withPatience('the signed-out session\'s stream to end', ends.ended());
    await stays.next((e) => (e.data as { node_name?: string }).node_name === 'ev-after-sign-out');
    assert.deepEqual(ends.seen, []);
    await Promise.all([admin.stop(), stays.stop()]);
  });

  it('ends a session\'s stream once the session has idled out, at the next check', async () => {
    const admin = await listen();
    const { cookie } = await signIn(ADMIN_TOKEN);
    const idle = await listen('/v1/events', { cookie });
    // 12 hours without use: the open stream is not use. Any identity change makes every stream
    // check again (as the keepalive does every 20 s); a revoked stranger key is one.
    h.clock.advance(12 * 3_600_000 + 1000);
    const stranger = await h.createKey('read', 'a stranger');
    assert.equal((await h.admin('DELETE', `/v1/api-keys/${stranger.id}`)).status, 204);
    await transitionSeenBy(admin, 'ev-after-idle');
    await withPatience('the idle session\'s stream to end', idle.ended());
    assert.deepEqual(idle.seen, []);
    await admin.stop();
  });

  it('ends every stream when the feed closes, so a stopping server is not held open', async () => {
    const a = await listen();
    const b = await listen('/v1/events?types=node.state_changed');
    h.feed.close();
    await Promise.all([a.ended(), b.ended()]);
    assert.equal(h.feed.size, 0);
  });
});
