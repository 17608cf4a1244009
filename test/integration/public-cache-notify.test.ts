import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSql, type Sql } from '../../src/db/client.ts';
import { HeartbeatBuffer } from '../../src/ingest/buffer.ts';
import { PUBLIC_CHANNEL, type PageView } from '../../src/statuspages/model.ts';
import { ADMIN_TOKEN, buildApp, createHarness, expectJson, send, type Harness } from '../helpers/app.ts';
import { withPatience } from '../helpers/wait.ts';

// Two api processes' worth of state on one database: A (the harness's app) makes the changes, B
// (its own pool, its own caches) has served and kept the answers before. The clock never moves,
// so nothing B keeps ever expires: only the notice can make it forget.

const B_NAME = 'lifeline-test-other-api';

describe('public caches across api processes', () => {
  let h: Harness;
  let sqlB: Sql;
  let b: ReturnType<typeof buildApp>;
  const stops: Array<() => Promise<void>> = [];

  before(async () => {
    h = await createHarness();
    sqlB = createSql(h.db.url, { max: 4, applicationName: B_NAME });
    b = buildApp({ sql: sqlB, clock: h.clock, buffer: new HeartbeatBuffer() });
    stops.push(await h.publicChanges.listen(), await b.publicChanges.listen());
  });
  after(async () => {
    for (const stop of stops) await stop();
    await sqlB?.end({ timeout: 1 });
    await h?.close();
  });

  const getB = (path: string) => send(b.app, 'GET', path);
  const statusOf = async (path: string) => (await getB(path)).status;

  /**
   * Starts listening on B's pool for `payload` on the channel; what it returns waits until B has
   * heard it. B's one LISTEN connection tells B's caches first, so they have forgotten by then.
   */
  async function heardByB(payload: string): Promise<() => Promise<void>> {
    let heard!: () => void;
    const event = new Promise<void>((resolve) => (heard = resolve));
    const l = await sqlB.listen(PUBLIC_CHANNEL, (p) => {
      if (p !== payload) return;
      void l.unlisten();
      heard();
    });
    return () => withPatience(`B to hear "${payload}"`, event);
  }

  /** A node B has heard of: its creation's notice, arriving late, would clear what B keeps. */
  async function newNode(name: string) {
    const heard = await heardByB('pages');
    const node = await h.createNode(name);
    await heard();
    return node;
  }

  /** A page B has heard of: the creation's own notice, arriving after B has read the page, would clear what B keeps. */
  async function newPage(slug: string, nodeIds: string[]) {
    const heard = await heardByB('pages');
    const res = await h.admin('POST', '/v1/status-pages', { slug, title: slug, show_nodes: true, components: [{ name: 'Web', node_ids: nodeIds }] });
    assert.equal(res.status, 201, await res.text());
    await heard();
  }

  it('stops serving a page made private, changed or deleted in another process as the change commits', async () => {
    await newNode('web-1');
    await newNode('web-2');
    for (const slug of ['going-private', 'trimmed', 'deleted']) await newPage(slug, ['web-1', 'web-2']);
    for (const slug of ['going-private', 'trimmed', 'deleted']) assert.equal(await statusOf(`/status/${slug}.json`), 200);
    assert.equal(await statusOf('/status/going-private'), 200);

    let heard = await heardByB('pages');
    assert.equal((await h.admin('PATCH', '/v1/status-pages/going-private', { public: false })).status, 200);
    await heard();
    assert.equal(await statusOf('/status/going-private.json'), 404);
    assert.equal(await statusOf('/status/going-private'), 404);

    heard = await heardByB('pages');
    assert.equal((await h.admin('PATCH', '/v1/status-pages/trimmed', { components: [{ name: 'Web', node_ids: ['web-1'] }] })).status, 200);
    await heard();
    const trimmed = await expectJson<PageView>(await getB('/status/trimmed.json'), 200);
    assert.deepEqual(trimmed.components[0]!.nodes!.map((n) => n.name), ['web-1']);

    heard = await heardByB('pages');
    assert.equal((await h.admin('DELETE', '/v1/status-pages/deleted')).status, 204);
    await heard();
    assert.equal(await statusOf('/status/deleted.json'), 404);
  });

  it('shows a maintenance window created, and forgets one cancelled, in another process as the change commits', async () => {
    await newNode('serviced');
    await newPage('with-window', ['serviced']);
    const scheduledOnB = async () => (await expectJson<PageView>(await getB('/status/with-window.json'), 200)).scheduled;
    assert.deepEqual(await scheduledOnB(), []);

    let heard = await heardByB('pages');
    const startsAt = new Date(h.clock.now().getTime() + 86_400_000).toISOString();
    const { id } = await expectJson<{ id: string }>(await h.admin('POST', '/v1/maintenances', { node_ids: ['serviced'], starts_at: startsAt }), 201);
    await heard();
    assert.deepEqual(await scheduledOnB(), [{ components: ['Web'], from: startsAt, until: null, time_zone: null }]);

    heard = await heardByB('pages');
    assert.equal((await h.admin('DELETE', `/v1/maintenances/${id}`)).status, 200);
    await heard();
    assert.deepEqual(await scheduledOnB(), []);
  });

  it('stops serving a rotated badge id, and a deleted node on badges and pages', async () => {
    const rotated = await newNode('rotated');
    const deleted = await newNode('deleted-node');
    await newPage('with-deleted', ['rotated', 'deleted-node']);
    for (const path of [`/badge/${rotated.badge_id}.svg`, `/badge/${rotated.badge_id}.json`, `/badge/${deleted.badge_id}.json`, '/status/with-deleted.json']) {
      assert.equal(await statusOf(path), 200, path);
    }

    let heard = await heardByB('badges');
    assert.equal((await h.admin('POST', `/v1/nodes/${rotated.id}/badge`)).status, 200);
    await heard();
    assert.equal(await statusOf(`/badge/${rotated.badge_id}.svg`), 404);
    assert.equal(await statusOf(`/badge/${rotated.badge_id}.json`), 404);

    const pages = await heardByB('pages');
    const badges = await heardByB('badges');
    assert.equal((await h.admin('DELETE', `/v1/nodes/${deleted.id}`)).status, 204);
    await Promise.all([pages(), badges()]);
    assert.equal(await statusOf(`/badge/${deleted.badge_id}.json`), 404);
    const page = await expectJson<PageView>(await getB('/status/with-deleted.json'), 200);
    assert.deepEqual(page.components[0]!.nodes!.map((n) => n.name), ['rotated']);
  });

  it('forgets in the process that made a node change before it answers, heard or not', async () => {
    // C never listens, as when its LISTEN connection is down: only its own forgetting can help.
    const c = buildApp({ sql: sqlB, clock: h.clock, buffer: new HeartbeatBuffer() });
    const node = await newNode('renamed-here');
    await newNode('deleted-here');
    await newPage('edited-here', ['renamed-here', 'deleted-here']);
    const namesOnC = async () =>
      (await expectJson<PageView>(await send(c.app, 'GET', '/status/edited-here.json'), 200)).components[0]!.nodes!.map((n) => n.name);
    assert.deepEqual(await namesOnC(), ['deleted-here', 'renamed-here']);

    const renamed = await send(c.app, 'PATCH', `/v1/nodes/${node.id}`, { token: ADMIN_TOKEN, json: { name: 'renamed-there' } });
    assert.equal(renamed.status, 200, await renamed.text());
    assert.deepEqual(await namesOnC(), ['deleted-here', 'renamed-there']);

    assert.equal((await send(c.app, 'DELETE', '/v1/nodes/deleted-here', { token: ADMIN_TOKEN })).status, 204);
    assert.deepEqual(await namesOnC(), ['renamed-there']);
  });

  it('forgets everything when its LISTEN connection comes back, since notices may have been missed meanwhile', async () => {
    await newNode('quiet');
    await newPage('missed', ['quiet']);
    assert.equal(await statusOf('/status/missed.json'), 200);
    // A change whose notice B never hears, as when it commits while B's connection is down.
    await h.sql`update status_pages set public = false where slug = 'missed'`;

    let listened = 0;
    let relistened!: () => void;
    const back = new Promise<void>((resolve) => (relistened = resolve));
    // Its onlisten runs after B's caches' own, on the first listen and on every reconnect.
    const l = await sqlB.listen(PUBLIC_CHANNEL, () => {}, () => {
      if (++listened === 2) relistened();
    });
    const [conn] = await h.sql<{ pid: number }[]>`
      select pid from pg_stat_activity
      where datname = current_database() and application_name = ${B_NAME} and query ilike 'listen %'`;
    assert.ok(conn, "B's LISTEN connection");
    await h.sql`select pg_terminate_backend(${conn.pid})`;
    await withPatience('B to listen again', back);
    await l.unlisten();
    assert.equal(await statusOf('/status/missed.json'), 404);
  });
});
